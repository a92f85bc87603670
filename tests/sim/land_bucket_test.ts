import assert from "node:assert/strict";
import { join } from "node:path";
import { landRecords } from "../../sim/land_bucket.ts";

Deno.test("landRecords writes the sink's objects: one per flush, named by start offset", async () => {
  const bucket = await Deno.makeTempDir();
  try {
    const records = Array.from({ length: 2500 }, (_, i) => ({ ind: i, title: `t"${i}` }));
    assert.deepEqual(await landRecords(bucket, "aaaaaaaaaaaa.pin", records, { flushSize: 1000 }), {
      objects: 3,
      records: 2500,
    });
    const folder = join(bucket, "topics/aaaaaaaaaaaa.pin/partition=0");
    const names = [...Deno.readDirSync(folder)].map((entry) => entry.name).sort();
    assert.deepEqual(names, [
      "aaaaaaaaaaaa.pin+0+0000000000.json",
      "aaaaaaaaaaaa.pin+0+0000001000.json",
      "aaaaaaaaaaaa.pin+0+0000002000.json",
    ]);
    const last = Deno.readTextFileSync(join(folder, names[2])).split("\n");
    assert.equal(last.length, 501); // 500 records, each line ending in a newline
    assert.deepEqual(JSON.parse(last[0]), { ind: 2000, title: 't"2000' });

    // A shorter rerun replaces the partition: no object of the earlier run lingers.
    await landRecords(bucket, "aaaaaaaaaaaa.pin", records.slice(0, 10), { flushSize: 1000 });
    assert.deepEqual([...Deno.readDirSync(folder)].map((entry) => entry.name), [
      "aaaaaaaaaaaa.pin+0+0000000000.json",
    ]);
    await assert.rejects(landRecords(bucket, "x", [], { flushSize: 0 }), /flush size must be/);
  } finally {
    await Deno.remove(bucket, { recursive: true });
  }
});
