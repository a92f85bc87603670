import assert from "node:assert/strict";
import {
  defaultMemoryLimit,
  isoFromMicros,
  openDuckDb,
  RAW_COLUMNS,
  registerRawFromBucket,
  registerRawFromRecords,
  runCleaning,
} from "../../src/warehouse/duckdb_runner.ts";
import { objectBody, objectKey } from "../../src/core/bucket_layout.ts";
import { TABLE_KINDS, TABLES } from "../../src/core/tables.ts";

Deno.test("the manifest's raw columns are the tables' columns, in order", () => {
  for (const kind of TABLE_KINDS) assert.deepEqual(RAW_COLUMNS[kind], TABLES[kind].columns);
});

Deno.test("the default memory limit is half the machine's memory, at most 6 GiB", () => {
  assert.equal(defaultMemoryLimit(8 * 1024 ** 3), "4096MiB");
  assert.equal(defaultMemoryLimit(24 * 1024 ** 3), "6144MiB");
  assert.equal(defaultMemoryLimit(3 * 1024 ** 3 + 1), "1536MiB");
});

Deno.test("two databases open at once spill to directories of their own, removed when each closes", async () => {
  const first = await openDuckDb();
  const second = await openDuckDb(":memory:", { memoryLimit: "64MiB" });
  const spillOf = async (db: typeof first) =>
    String((await db.query("SELECT current_setting('temp_directory')")).rows[0][0]);
  const [a, b] = [await spillOf(first), await spillOf(second)];
  assert.notEqual(a, b);
  assert.equal(
    (await second.query("SELECT current_setting('memory_limit')")).rows[0][0],
    "64.0 MiB",
  );
  second.close();
  await assert.rejects(Deno.stat(b), Deno.errors.NotFound);
  assert.ok((await Deno.stat(a)).isDirectory);
  first.close();
  await assert.rejects(Deno.stat(a), Deno.errors.NotFound);
});

Deno.test("isoFromMicros prints whole seconds plainly, fractions to the microsecond", () => {
  assert.equal(isoFromMicros(1598586767000000n), "2020-08-28T03:52:47");
  assert.equal(isoFromMicros(1598586767500000n), "2020-08-28T03:52:47.500000");
  assert.equal(isoFromMicros(-1n), "1969-12-31T23:59:59.999999");
});

Deno.test("registerRawFromBucket reads every partition's objects, fields as text", async () => {
  const dir = await Deno.makeTempDir();
  const db = await openDuckDb();
  try {
    const id = "0123456789ab";
    const write = async (kind: string, partition: number, offset: number, records: unknown[]) => {
      const path = `${dir}/${objectKey(`${id}.${kind}`, partition, offset)}`;
      await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
      await Deno.writeTextFile(path, objectBody(records));
    };
    await write("pin", 0, 0, [{ index: 1, follower_count: "1k", extra: "ignored" }]);
    await write("pin", 1, 5, [{ index: 2.5, follower_count: 7 }]);
    await write("geo", 0, 0, [{ ind: 1, latitude: -0.5, timestamp: "2020-01-01T00:00:00" }]);
    await write("user", 0, 0, [{ ind: 1, age: 30 }]);
    await registerRawFromBucket(db, dir, id);
    const pin = await db.query("SELECT index, follower_count, title FROM raw_pin ORDER BY 1");
    assert.deepEqual(pin.rows, [["1", "1k", null], ["2.5", "7", null]]);
    const geo = await db.query("SELECT latitude, timestamp FROM raw_geo");
    assert.deepEqual(geo.rows, [["-0.5", "2020-01-01T00:00:00"]]);
    await assert.rejects(
      () => registerRawFromBucket(db, dir, "ffffffffffff"),
      /no pin objects in .*topics\/ffffffffffff\.pin\/partition=\*\//,
    );
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a malformed line in the bucket is an error naming its object and line", async () => {
  const dir = await Deno.makeTempDir();
  const db = await openDuckDb();
  try {
    const id = "0123456789ab";
    for (const kind of TABLE_KINDS) {
      const path = `${dir}/${objectKey(`${id}.${kind}`, 0, 0)}`;
      await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
      await Deno.writeTextFile(path, kind === "geo" ? '{"ind": 1}\n{"ind": 2,\n' : '{"ind": 1}\n');
    }
    await assert.rejects(
      () => registerRawFromBucket(db, dir, id),
      /topics\/0123456789ab\.geo\/partition=0\/0123456789ab\.geo\+0\+0000000000\.json line 2: not JSON/,
    );
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a malformed JSON line is an error naming the table, not a lost record", async () => {
  const file = await Deno.makeTempFile({ suffix: ".json" });
  const db = await openDuckDb();
  try {
    await Deno.writeTextFile(file, '{"ind": 1}\n{"ind": 2,\n');
    await assert.rejects(
      () => registerRawFromRecords(db, "user", file),
      (error: Error) => error.message.startsWith(`reading user records from ${file}:`),
    );
  } finally {
    db.close();
    await Deno.remove(file);
  }
});

Deno.test("empty input gives empty cleaned tables, not an error", async () => {
  const db = await openDuckDb();
  try {
    for (const kind of TABLE_KINDS) await registerRawFromRecords(db, kind, []);
    assert.deepEqual(await runCleaning(db), {
      pin: { rowsIn: 0, rowsOut: 0 },
      geo: { rowsIn: 0, rowsOut: 0 },
      user: { rowsIn: 0, rowsOut: 0 },
    });
  } finally {
    db.close();
  }
});
