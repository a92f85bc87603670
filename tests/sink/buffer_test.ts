/**
 * The sink's partition buffer (objects by start offset, flush size, rotate,
 * replay after a rebalance, adoption of an uncommitted object) and the local
 * bucket (whole-object replace, reading an object back).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { objectBody, parseObjectKey, recordsIn } from "../../src/core/bucket_layout.ts";
import { PartitionBuffer } from "../../src/sink/buffer.ts";
import { LocalBucket, openBucket, TEMP_DIR } from "../../src/sink/storage.ts";

Deno.test("PartitionBuffer: full objects named by start offset, commit = next offset", () => {
  const buffer = new PartitionBuffer("0123456789ab.geo", 2, 3);
  assert.equal(buffer.add(10, { ind: 1 }), undefined);
  assert.equal(buffer.add(11, { ind: 2 }), undefined);
  const full = buffer.add(12, { ind: 3 })!;
  assert.equal(full.key, "topics/0123456789ab.geo/partition=2/0123456789ab.geo+2+0000000010.json");
  assert.deepEqual(parseObjectKey(full.key), {
    topic: "0123456789ab.geo",
    partition: 2,
    startOffset: 10,
  });
  assert.equal(full.body, '{"ind":1}\n{"ind":2}\n{"ind":3}\n');
  assert.equal(full.commitOffset, 13);
  assert.equal(buffer.size, 0);
});

Deno.test("PartitionBuffer: rotate after the interval with no record; a replay restarts the buffer", () => {
  const buffer = new PartitionBuffer("t", 0, 100);
  buffer.add(0, "a", 1_000);
  buffer.add(1, "b", 1_100);
  assert.equal(buffer.rotateDue(500, 1_500), false);
  assert.equal(buffer.rotateDue(500, 1_600), true);
  assert.equal(buffer.rotateDue(0, 99_999), false, "0 disables rotation");
  // The consumer is sent back to offset 0 (a rebalance): the same records come again.
  buffer.add(0, "a", 1_700);
  assert.equal(buffer.nextOffset, 1);
  buffer.add(1, "b");
  const partial = buffer.take()!;
  assert.equal(partial.startOffset, 0);
  assert.equal(partial.records, 2);
  assert.equal(partial.commitOffset, 2);
  assert.equal(buffer.take(), undefined);
  assert.throws(() => new PartitionBuffer("t", 0, 0), /flush size 0/);
});

Deno.test("LocalBucket: an object of the same key is replaced whole; no temp file is left", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bucket = await openBucket(dir);
    assert.ok(bucket instanceof LocalBucket);
    const key = "topics/t/partition=0/t+0+0000000000.json";
    await bucket.put(key, "1\n2\n");
    await bucket.put(key, "1\n2\n3\n");
    assert.equal(await Deno.readTextFile(join(dir, key)), "1\n2\n3\n");
    assert.deepEqual([...Deno.readDirSync(join(dir, TEMP_DIR))], []);
    await assert.rejects(openBucket("s3://name/with/path"), /must be s3:\/\/name/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("PartitionBuffer: a pinned object is cut at its pinned size, never by rotation", () => {
  const buffer = new PartitionBuffer("t", 0, 3);
  buffer.pinObject(10, 5);
  for (let offset = 10; offset < 14; offset++) {
    assert.equal(buffer.add(offset, offset, 1_000), undefined, `offset ${offset}`);
  }
  assert.equal(buffer.rotateDue(100, 60_000), false, "a pinned object waits for all its records");
  const again = buffer.add(14, 14, 1_000)!;
  assert.equal(again.startOffset, 10);
  assert.equal(again.records, 5);
  assert.equal(again.commitOffset, 15);
  // The pin is used up: the next object is cut on the flush size again.
  buffer.add(15, 15);
  buffer.add(16, 16);
  assert.equal(buffer.add(17, 17)?.records, 3);
});

Deno.test("PartitionBuffer: a pin for another start offset does not apply", () => {
  const buffer = new PartitionBuffer("t", 0, 2);
  buffer.pinObject(10, 5);
  buffer.add(20, "a");
  assert.equal(buffer.add(21, "b")?.records, 2);
});

Deno.test("PartitionBuffer: adoption looks up only a start it did not cut to, and rewrites the object found byte for byte", () => {
  // An owner killed before its commit left the 3 records at offset 5, cut by its own rotation.
  const earlier = new PartitionBuffer("t", 0, 100);
  for (let offset = 5; offset < 8; offset++) earlier.add(offset, { offset });
  const left = earlier.take()!;

  // The next owner starts at the committed offset 5 with a larger flush size and its own clock.
  const buffer = new PartitionBuffer("t", 0, 4);
  assert.equal(buffer.startsUnknown(5), true, "a partition's first start is looked up");
  buffer.pinObject(5, recordsIn(left.body));
  assert.equal(buffer.startsUnknown(5), false, "a pinned start needs no lookup");
  assert.equal(buffer.add(5, { offset: 5 }, 1_000), undefined);
  assert.equal(buffer.startsUnknown(6), false, "a record that continues the buffer");
  assert.equal(buffer.add(6, { offset: 6 }, 1_000), undefined);
  assert.equal(buffer.rotateDue(10, 60_000), false, "an adopted object waits for its records");
  const adopted = buffer.add(7, { offset: 7 }, 1_000)!;
  assert.equal(adopted.key, left.key);
  assert.equal(adopted.body, left.body);
  assert.equal(adopted.commitOffset, 8);

  assert.equal(buffer.startsUnknown(8), false, "the object after one it cut is new");
  buffer.add(8, { offset: 8 });
  assert.equal(buffer.startsUnknown(5), true, "sent back (a rejoin): the start is looked up");
  assert.equal(buffer.startsUnknown(20), true);
});

Deno.test("recordsIn: an object's records are its lines", () => {
  assert.equal(recordsIn(objectBody([{ a: 1 }, "x\ny", 3])), 3);
  assert.equal(recordsIn(""), 0);
});

Deno.test("LocalBucket.get: the object's body, or undefined when there is none", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bucket = await openBucket(dir);
    const key = "topics/t/partition=0/t+0+0000000000.json";
    assert.equal(await bucket.get(key), undefined);
    await bucket.put(key, "1\n2\n");
    assert.equal(await bucket.get(key), "1\n2\n");
    await Deno.writeTextFile(join(dir, "topics/t/partition=0/t+0+0000000002.json"), "");
    assert.equal(await bucket.get("topics/t/partition=0/t+0+0000000002.json"), "");
    await Deno.writeTextFile(join(dir, "topics/u"), "");
    assert.equal(await bucket.get("topics/u/partition=0/u+0+0000000000.json"), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
