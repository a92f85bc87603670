/**
 * The PutRecords batching and retry timing: service limits, errors that
 * name the record, jittered backoff bounds, and the pacer's slow-down.
 */
import assert from "node:assert/strict";
import {
  checkEntry,
  entrySize,
  KINESIS_LIMITS,
  type KinesisEntry,
  planBatches,
} from "../../src/kinesis/batches.ts";
import { backoffDelay, Pacer } from "../../src/kinesis/retry.ts";
import { classifyKinesisError, toKinesisEntry } from "../../src/kinesis/target.ts";
import { outgoing } from "../../src/transfer/target.ts";

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

Deno.test("partition keys must have 1 to 256 characters", () => {
  assert.throws(() => checkEntry(entry(1, "", "geo row 7")), /geo row 7: partition key of 0/);
  assert.throws(() => checkEntry(entry(1, "k".repeat(257))), /257 characters/);
  checkEntry(entry(1, "k".repeat(256)));
});

Deno.test("backoff grows exponentially with full jitter, capped", () => {
  const options = { baseMs: 50, capMs: 1_000 };
  assert.equal(backoffDelay(1, options, () => 0.999999), 100);
  assert.equal(backoffDelay(3, options, () => 0.5), 200);
  assert.equal(backoffDelay(10, options, () => 0.999999), 1_000);
  assert.equal(backoffDelay(4, options, () => 0), 0);
  for (let attempt = 1; attempt < 12; attempt++) {
    const delay = backoffDelay(attempt, options);
    assert.ok(delay >= 0 && delay <= Math.min(1_000, 50 * 2 ** attempt));
  }
});

Deno.test("the pacer slows down on throttling and recovers on success", () => {
  const pacer = new Pacer(50, 400);
  assert.equal(pacer.delayMs, 0);
  pacer.throttled();
  assert.equal(pacer.delayMs, 50);
  pacer.throttled();
  pacer.throttled();
  pacer.throttled();
  assert.equal(pacer.delayMs, 400); // capped
  assert.equal(pacer.throttles, 4);
  pacer.succeeded();
  assert.equal(pacer.delayMs, 300);
  for (let i = 0; i < 20; i++) pacer.succeeded();
  assert.equal(pacer.delayMs, 0);
});

Deno.test("SDK errors are classified: throttling, transient, fatal", () => {
  const named = (name: string, status?: number) =>
    Object.assign(new Error("x"), { name, $metadata: { httpStatusCode: status } });
  assert.equal(
    classifyKinesisError(named("ProvisionedThroughputExceededException", 400)),
    "throttle",
  );
  assert.equal(classifyKinesisError(named("LimitExceededException", 400)), "throttle");
  assert.equal(classifyKinesisError(named("InternalFailure", 500)), "transient");
  assert.equal(
    classifyKinesisError(Object.assign(new Error("refused"), { code: "ECONNREFUSED" })),
    "transient",
  );
  assert.equal(classifyKinesisError(named("ResourceNotFoundException", 400)), "fatal");
  assert.equal(classifyKinesisError(named("ValidationException", 400)), "fatal");
});

Deno.test("partition keys: the row index by default, a random uuid as an option", () => {
  const record = outgoing("user", 42, { ind: 42 });
  const byIndex = toKinesisEntry("user", record, "index");
  assert.equal(byIndex.partitionKey, "42");
  assert.equal(byIndex.label, "user row 42");
  assert.equal(new TextDecoder().decode(byIndex.data), '{"ind":42}');
  const a = toKinesisEntry("user", record, "uuid").partitionKey;
  const b = toKinesisEntry("user", record, "uuid").partitionKey;
  assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.notEqual(a, b);
});
