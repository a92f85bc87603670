import assert from "node:assert/strict";
import { join } from "node:path";
import { objectBody, objectKey } from "../../src/core/bucket_layout.ts";
import { lineCount, openBucketReader } from "../../src/observe/bucket_reader.ts";
import { LocalBucket } from "../../src/sink/storage.ts";

const records = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ index: from + i }));

Deno.test("lineCount: newline-ended lines, and a last line without its newline", () => {
  assert.equal(lineCount(""), 0);
  assert.equal(lineCount('{"a":1}\n{"a":2}\n'), 2);
  assert.equal(lineCount('{"a":1}\n{"a":2}'), 2);
});

Deno.test("bucket reader: records per partition from the object names and the last object's lines", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pinpipe-ledger-bucket-" });
  try {
    const bucket = new LocalBucket(dir);
    const topic = "0123456789ab.pin";
    await bucket.put(objectKey(topic, 0, 0), objectBody(records(500)));
    await bucket.put(objectKey(topic, 0, 500), objectBody(records(500, 500)));
    await bucket.put(objectKey(topic, 0, 1000), objectBody(records(123, 1000)));
    await bucket.put(objectKey(topic, 1, 0), objectBody(records(10)));
    // Not the sink's: ignored.
    await Deno.writeTextFile(join(dir, "topics", topic, "partition=0", "notes.txt"), "x\n");
    // Another topic: not counted.
    await bucket.put(objectKey("0123456789ab.geo", 0, 0), objectBody(records(7)));

    const reader = await openBucketReader(dir);
    assert.deepEqual(await reader.records(topic), new Map([[0, 1123], [1, 10]]));
    // The last object replaced whole, longer: counted again.
    await bucket.put(objectKey(topic, 0, 1000), objectBody(records(400, 1000)));
    assert.deepEqual(await reader.records(topic), new Map([[0, 1400], [1, 10]]));
    // A topic nothing was written for yet.
    assert.deepEqual(await reader.records("0123456789ab.user"), new Map());
    // Only the last object of each partition is read: the offsets in the names count the others.
    await bucket.put(objectKey(topic, 0, 0), "one line in place of 500\n");
    assert.deepEqual(await reader.records(topic), new Map([[0, 1400], [1, 10]]));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bucket reader: a settled partition folder is listed again only once its time changes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pinpipe-ledger-bucket-" });
  try {
    const bucket = new LocalBucket(dir);
    const topic = "0123456789ab.geo";
    const folder = join(dir, "topics", topic, "partition=0");
    await bucket.put(objectKey(topic, 0, 0), objectBody(records(300)));
    // Settled: last changed a minute ago.
    const settled = new Date(Date.now() - 60_000);
    await Deno.utime(folder, settled, settled);
    const reader = await openBucketReader(dir);
    assert.deepEqual(await reader.records(topic), new Map([[0, 300]]));
    // An object written in with the folder's time put back: the folder is not listed again.
    await bucket.put(objectKey(topic, 0, 300), objectBody(records(50, 300)));
    await Deno.utime(folder, settled, settled);
    assert.deepEqual(await reader.records(topic), new Map([[0, 300]]));
    // The folder's time changed, as any put changes it: listed again, the new object counted.
    await Deno.utime(folder, new Date(), new Date());
    assert.deepEqual(await reader.records(topic), new Map([[0, 350]]));
    // The last object replaced in a folder kept as it was: its new lines are counted still.
    await Deno.utime(folder, settled, settled);
    assert.deepEqual(await reader.records(topic), new Map([[0, 350]]));
    await bucket.put(objectKey(topic, 0, 300), objectBody(records(80, 300)));
    await Deno.utime(folder, settled, settled);
    assert.deepEqual(await reader.records(topic), new Map([[0, 380]]));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bucket reader: a bucket that cannot be listed is a target error naming it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pinpipe-ledger-bucket-" });
  try {
    await Deno.mkdir(join(dir, "topics", "t"), { recursive: true });
    await Deno.writeTextFile(join(dir, "topics", "t", "partition=0"), "not a folder");
    const reader = await openBucketReader(dir);
    await assert.rejects(() => reader.records("t"), (error: Error & { exitCode?: number }) => {
      assert.equal(error.exitCode, 4);
      assert.match(error.message, new RegExp(`bucket ${dir}`));
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
