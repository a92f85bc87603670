import assert from "node:assert/strict";
import { join } from "node:path";
import { landGenerated } from "../../../sim/datagen/land_generated.ts";
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
