/** The PutRecords batching: service limits, and errors that name the record. */
import assert from "node:assert/strict";
import {
  checkEntry,
  entrySize,
  fittingPrefix,
  KINESIS_LIMITS,
  type KinesisEntry,
  planBatches,
} from "../../src/kinesis/batches.ts";

const entry = (bytes: number, key = "1", label = `row ${key}`): KinesisEntry => ({
  data: new Uint8Array(bytes),
  partitionKey: key,
  label,
});

Deno.test("batches hold at most 500 records, in order", () => {
  const entries = Array.from({ length: 1_234 }, (_, i) => entry(10, String(i)));
  const batches = planBatches(entries);
  assert.deepEqual(batches.map((b) => b.length), [500, 500, 234]);
  assert.deepEqual(batches.flat(), entries);
});

Deno.test("batches honour a smaller --put-records and never exceed 500", () => {
  const entries = Array.from({ length: 1_000 }, (_, i) => entry(10, String(i)));
  assert.deepEqual(planBatches(entries, 300).map((b) => b.length), [300, 300, 300, 100]);
  assert.deepEqual(planBatches(entries, 9_999).map((b) => b.length), [500, 500]);
});

Deno.test("batches stay under 5 MiB counting data and partition keys", () => {
  // 900 KiB records: 5 fit under 5 MiB, a sixth would not.
  const entries = Array.from({ length: 12 }, (_, i) => entry(900 * 1024, String(i)));
  const batches = planBatches(entries);
  assert.deepEqual(batches.map((b) => b.length), [5, 5, 2]);
  for (const batch of batches) {
    const bytes = batch.reduce((sum, e) => sum + entrySize(e), 0);
    assert.ok(bytes <= KINESIS_LIMITS.bytesPerCall, `${bytes} bytes in one call`);
  }
});

Deno.test("a record over 1 MiB with its key is refused, naming it", () => {
  const exact = entry(KINESIS_LIMITS.bytesPerRecord - 2, "42");
  checkEntry(exact); // data + "42" is exactly 1 MiB: allowed
  assert.throws(
    () =>
      planBatches([entry(10, "1"), entry(KINESIS_LIMITS.bytesPerRecord - 1, "42", "pin row 42")]),
    /pin row 42: 1048577 bytes with its partition key, over the Kinesis limit of 1048576/,
  );
});

Deno.test("fittingPrefix: the entries before the first refused one, and why it is refused", () => {
  const small = [entry(10, "1"), entry(10, "2")];
  const huge = entry(KINESIS_LIMITS.bytesPerRecord, "3", "pin row 3");
  const { fitting, refused } = fittingPrefix([...small, huge, entry(10, "4")]);
  assert.deepEqual(fitting, small);
  assert.match(
    refused!,
    /^pin row 3: 1048577 bytes with its partition key, over the Kinesis limit/,
  );
  assert.deepEqual(fittingPrefix(small), { fitting: small });
  assert.deepEqual(fittingPrefix([huge]).fitting, []);
});

Deno.test("partition keys must have 1 to 256 characters", () => {
  assert.throws(() => checkEntry(entry(1, "", "geo row 7")), /geo row 7: partition key of 0/);
  assert.throws(() => checkEntry(entry(1, "k".repeat(257))), /257 characters/);
  checkEntry(entry(1, "k".repeat(256)));
});
