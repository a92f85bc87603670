import assert from "node:assert/strict";
import { join } from "node:path";
import { generatedRecords, landGenerated } from "../../../sim/datagen/land_generated.ts";
import { generateRows } from "../../../sim/datagen/generate.ts";
import { toRecord } from "../../../src/core/records.ts";
import { TABLE_KINDS } from "../../../src/core/tables.ts";

async function tree(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) Object.assign(files, await tree(path));
    else files[path.slice(path.indexOf("/topics/"))] = await Deno.readTextFile(path);
  }
  return files;
}

Deno.test("landGenerated writes the same objects in 1, 2 or 3 workers as in this thread", async () => {
  const work = await Deno.makeTempDir();
  try {
    const dataset = { rows: 2500, seed: 7 };
    const topicOf = (kind: string) => `aaaaaaaaaaaa.${kind}`;
    const here = await landGenerated(`${work}/here`, topicOf, dataset, {
      flushSize: 1000,
      workers: 0,
    });
    for (const kind of TABLE_KINDS) assert.deepEqual(here[kind], { objects: 3, records: 2500 });
    const objects = await tree(`${work}/here`);
    assert.equal(Object.keys(objects).length, 9);
    for (const workers of [1, 2, 3]) {
      const there = await landGenerated(`${work}/there-${workers}`, topicOf, dataset, {
        flushSize: 1000,
        workers,
      });
      assert.deepEqual(there, here, `${workers} workers`);
      assert.deepEqual(await tree(`${work}/there-${workers}`), objects, `${workers} workers`);
    }
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});

Deno.test("generatedRecords: byte for byte what toRecord makes of each generated row", () => {
  for (const seed of [100, 7]) {
    const dataset = { rows: 3000, seed };
    for (const kind of TABLE_KINDS) {
      const expected = [...generateRows(kind, dataset)].map((row) =>
        JSON.stringify(toRecord(kind, row))
      );
      const got = [...generatedRecords(kind, dataset)].map((record) => JSON.stringify(record));
      assert.deepEqual(got, expected, `${kind}, seed ${seed}`);
    }
  }
});

Deno.test("landGenerated lands the tables in the order asked and tells each as it lands", async () => {
  const work = await Deno.makeTempDir();
  try {
    const dataset = { rows: 1200, seed: 3 };
    const topicOf = (kind: string) => `aaaaaaaaaaaa.${kind}`;
    const plain = await landGenerated(`${work}/plain`, topicOf, dataset, { workers: 0 });
    for (const workers of [0, 1]) {
      const told: string[] = [];
      const records: number[] = [];
      const landed = await landGenerated(`${work}/ordered-${workers}`, topicOf, dataset, {
        workers,
        kinds: ["geo", "user", "pin"],
        onTable: (kind, table) => told.push(`${kind} ${table.records}`),
        onRecords: (n) => records.push(n),
      });
      assert.deepEqual(told, ["geo 1200", "user 1200", "pin 1200"], `${workers} workers`);
      assert.deepEqual(Object.keys(landed), ["pin", "geo", "user"]);
      assert.deepEqual(landed, plain);
      assert.deepEqual(await tree(`${work}/ordered-${workers}`), await tree(`${work}/plain`));
      if (workers === 0) assert.deepEqual(records, [1000, 1200, 2200, 2400, 3400, 3600]);
    }
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});
