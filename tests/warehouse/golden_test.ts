/**
 * The golden test: a hand-made dataset (tests/fixtures/golden_records.json,
 * eleven posts plus one exact duplicate per table) whose answers were worked
 * out by hand, run through the shared SQL in DuckDB. It covers every
 * placeholder, every follower_count form, ties in q1, the age group
 * boundaries (17/18, 24/25, 35/36, 50/51), the year boundaries (2017/2018 and
 * 2022/2023 for q2; 2014/2015 and 2020/2021 for q6-q8), a user who posted
 * twice, and duplicates. The parity test proves Spark gives the same rows.
 * Each answer's expected rows, and why, are in the file beside its SQL:
 * `notebooks/sql/marts/<name>.expected.json`.
 *
 * The posts, by hand (fc = follower_count as cleaned):
 *
 * | ind | category | fc         | poster     | country | geo year | user      | age | joined |
 * | --- | -------- | ---------- | ---------- | ------- | -------- | --------- | --- | ------ |
 * | 1   | travel   | 0          | Ann Poster | France  | 2017     | Ann Lee   | 17  | 2014   |
 * | 2   | travel   | 892        | Bob Poster | France  | 2018     | Bob Ray   | 18  | 2015   |
 * | 3   | art      | 51000      | Cat Poster | France  | 2018     | Cat Fox   | 24  | 2015   |
 * | 4   | art      | 1200       | Dan Poster | France  | 2022     | Dan Ng    | 25  | 2016   |
 * | 5   | beauty   | 1000000    | Eve Poster | Germany | 2023     | Eve Orr   | 35  | 2020   |
 * | 6   | beauty   | 2500000    | Fay Poster | Germany | 2019     | Fay Poe   | 36  | 2021   |
 * | 7   | travel   | 3000000000 | Gus Poster | Chile   | 2019     | Gus Quinn | 50  | 2020   |
 * | 8   | art      | NULL       | NULL       | Chile   | 2022     | Hal Roe   | 51  | 2017   |
 * | 9   | NULL     | 1000000    | Ivy Poster | Chile   | 2020     | Ivy Sun   | 60  | 2018   |
 * | 10  | travel   | 1200       | Jon Poster | Germany | 2019     | Jon Tate  | 24  | 2016   |
 * | 11  | travel   | 892        | Bob Poster | France  | 2018     | Bob Ray   | 18  | 2015   |
 */
import assert from "node:assert/strict";
import {
  type DuckDb,
  openDuckDb,
  QUERIES,
  registerRawFromRecords,
  runCleaning,
  runQualityChecks,
  runQueries,
  SQL_DIR,
} from "../../src/warehouse/duckdb_runner.ts";
import type { SourceRecord } from "../../src/core/records.ts";
import { TABLE_KINDS, type TableKind } from "../../src/core/tables.ts";

const GOLDEN_PATH = "tests/fixtures/golden_records.json";
const GOLDEN: Record<TableKind, SourceRecord[]> = JSON.parse(
  await Deno.readTextFile(new URL(`../../${GOLDEN_PATH}`, import.meta.url)),
);

/**
 * A mart's hand-worked answer, in the file beside it (`marts/<name>.expected.json`), as a dbt
 * unit test gives it: the input (`given`, the records above), why the rows are what they are,
 * and the rows expected, in order.
 */
interface ExpectedAnswer {
  given: string;
  why: string;
  expect: { columns: string[]; rows: unknown[][] };
}

async function readExpected(martFile: string): Promise<ExpectedAnswer> {
  const file = martFile.replace(/\.sql$/, ".expected.json");
  return JSON.parse(await Deno.readTextFile(new URL(file, SQL_DIR)));
}

async function withGolden(
  records: Record<TableKind, SourceRecord[]>,
  body: (db: DuckDb) => Promise<void>,
): Promise<void> {
  const db = await openDuckDb();
  try {
    for (const kind of TABLE_KINDS) await registerRawFromRecords(db, kind, records[kind]);
    await body(db);
  } finally {
    db.close();
  }
}

Deno.test("golden: cleaning turns placeholders to NULL, parses every follower form, drops duplicates", async () => {
  await withGolden(GOLDEN, async (db) => {
    assert.deepEqual(await runCleaning(db), {
      pin: { rowsIn: 12, rowsOut: 11 },
      geo: { rowsIn: 12, rowsOut: 11 },
      user: { rowsIn: 12, rowsOut: 11 },
    });
    const pin = await db.query("SELECT * FROM pin ORDER BY ind");
    assert.deepEqual(pin.columns, [
      "ind",
      "unique_id",
      "title",
      "description",
      "follower_count",
      "poster_name",
      "tag_list",
      "is_image_or_video",
      "image_src",
      "save_location",
      "category",
      "downloaded",
    ]);
    const column = (name: string) => pin.rows.map((row) => row[pin.columns.indexOf(name)]);
    assert.deepEqual(column("ind"), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    // "0", "892", "51k", "1.2k", "1M", "2.5M", "3B", "User Info Error", "1M", "1.2k", "892"
    assert.deepEqual(column("follower_count"), [
      0,
      892,
      51000,
      1200,
      1000000,
      2500000,
      3000000000,
      null,
      1000000,
      1200,
      892,
    ]);
    assert.deepEqual(column("title").slice(0, 2), [null, "Packing list"]);
    assert.deepEqual(column("description").slice(0, 4), [
      "Road trip ideas",
      null,
      null,
      "Pencil sketch",
    ]);
    assert.equal(column("tag_list")[3], null);
    assert.equal(column("image_src")[4], null);
    assert.equal(column("poster_name")[7], null);
    assert.equal(column("category")[8], null);
    assert.deepEqual(column("save_location").slice(0, 5), [
      "/data/travel",
      "/data/travel",
      "/data/art",
      "/data/art",
      "/data/beauty",
    ]);
    assert.deepEqual(column("downloaded").slice(0, 3), [1, 0, 1]);

    const geo = await db.query("SELECT * FROM geo WHERE ind IN (1, 3, 4) ORDER BY ind");
    assert.deepEqual(geo.columns, ["ind", "country", "coordinates", "timestamp"]);
    assert.deepEqual(geo.rows, [
      [1, "France", [48.8566, 2.3522], "2017-12-31T23:59:59"],
      [3, "France", [-90, 180], "2018-06-01T10:00:00"],
      [4, "France", [90, -180], "2022-12-31T23:59:59"],
    ]);
    const user = await db.query("SELECT * FROM user WHERE ind IN (1, 4, 11) ORDER BY ind");
    assert.deepEqual(user.columns, ["ind", "user_name", "age", "date_joined"]);
    assert.deepEqual(user.rows, [
      [1, "Ann Lee", 17, "2014-12-31T23:59:59"],
      [4, "Dan Ng", 25, "2016-03-03T03:03:03"],
      [11, "Bob Ray", 18, "2015-01-01T00:00:00"],
    ]);
  });
});

Deno.test("golden: every query's answer, worked out by hand", async () => {
  await withGolden(GOLDEN, async (db) => {
    await runCleaning(db);
    const answers = await runQueries(db);
    assert.deepEqual(answers.map((answer) => answer.name), QUERIES.map((query) => query.name));
    for (const answer of answers) {
      const expected = await readExpected(answer.file);
      assert.equal(expected.given, GOLDEN_PATH, `${answer.name}: given`);
      assert.deepEqual(answer.columns, expected.expect.columns, `${answer.name} columns`);
      assert.deepEqual(answer.rows, expected.expect.rows, `${answer.name} rows`);
    }
  });
});

Deno.test("golden: every quality check passes and counts NULLs by reason", async () => {
  await withGolden(GOLDEN, async (db) => {
    await runCleaning(db);
    const checks = await runQualityChecks(db);
    assert.deepEqual(checks.filter((check) => !check.passed), []);
    const detail = Object.fromEntries(checks.map((check) => [check.name, check.detail]));
    assert.equal(
      detail["row counts pin"],
      "12 rows in, 1 exact duplicates removed, 11 rows out",
    );
    // Counted before de-duplication: ind 2 (twice) and ind 3 hold description placeholders.
    assert.equal(
      detail["null reasons pin.description"],
      "missing 0, placeholder 3, unparseable 0, unexplained 0",
    );
    assert.equal(
      detail["null reasons pin.follower_count"],
      "missing 0, placeholder 1, unparseable 0, unexplained 0",
    );
    assert.equal(
      detail["null reasons pin.category"],
      "missing 1, placeholder 0, unparseable 0, unexplained 0",
    );
    for (const column of ["title", "tag_list", "image_src", "poster_name"]) {
      assert.equal(
        detail[`null reasons pin.${column}`],
        "missing 0, placeholder 1, unparseable 0, unexplained 0",
        column,
      );
    }
  });
});

Deno.test("golden: unparseable values are counted, not silently NULL", async () => {
  const records = structuredClone(GOLDEN);
  records.pin[0].follower_count = "abc";
  records.pin[3].follower_count = "1.2345k"; // more decimals than k has zeros
  records.geo[0].latitude = "north";
  records.geo[1].timestamp = "2020-02-30T00:00:00";
  records.user[0].age = "forty";
  records.user[1].age = 200;
  await withGolden(records, async (db) => {
    await runCleaning(db);
    const failed = Object.fromEntries(
      (await runQualityChecks(db)).filter((check) => !check.passed).map((
        check,
      ) => [check.name, `${check.failures}: ${check.detail}`]),
    );
    assert.deepEqual(failed, {
      "null reasons pin.follower_count":
        '2: missing 0, placeholder 1, unparseable 2, unexplained 0, e.g. "1.2345k"',
      "null reasons geo.latitude":
        '1: missing 0, placeholder 0, unparseable 1, unexplained 0, e.g. "north"',
      "null reasons geo.timestamp":
        '1: missing 0, placeholder 0, unparseable 1, unexplained 0, e.g. "2020-02-30T00:00:00"',
      "null reasons user.age":
        '1: missing 0, placeholder 0, unparseable 1, unexplained 0, e.g. "forty"',
      "user.age in 0..130": "1: 1 ages outside 0..130",
    });
  });
});

Deno.test("golden: an unknown field keeps its record and is named as schema drift", async () => {
  const plain = async (records: typeof GOLDEN) => {
    let out: { tables: unknown[]; checks: Record<string, string> } = { tables: [], checks: {} };
    await withGolden(records, async (db) => {
      await runCleaning(db);
      const tables = [];
      for (const kind of ["pin", "geo", "user"]) {
        tables.push((await db.query(`SELECT * FROM ${kind} ORDER BY ind`)).rows);
      }
      const checks = await runQualityChecks(db);
      assert.ok(checks.every((check) => check.passed), "schema drift warns, it does not fail");
      out = {
        tables,
        checks: Object.fromEntries(checks.map((check) => [check.name, check.detail])),
      };
    });
    return out;
  };
  const records = structuredClone(GOLDEN) as Record<string, Record<string, unknown>[]>;
  records.pin[0].source_app = "ios";
  records.pin[4].source_app = null;
  records.geo[2].extra = { nested: true };
  const drifted = await plain(records as typeof GOLDEN);
  const golden = await plain(GOLDEN);
  assert.deepEqual(drifted.tables, golden.tables, "the records are kept, the fields ignored");
  const drift = (checks: Record<string, string>) =>
    Object.entries(checks).filter(([name]) => name.startsWith("schema drift"));
  assert.deepEqual(drift(drifted.checks), [
    ["schema drift geo.extra", "1 records carry it, kept without it"],
    ["schema drift pin.source_app", "2 records carry it, kept without it"],
  ]);
  assert.deepEqual(drift(golden.checks), [
    ["schema drift", "no record carries a field beyond the columns of its table"],
  ]);
});
