/**
 * Incremental runs (src/warehouse/incremental.ts) against the one-shot run: after each of K daily
 * runs over a growing bucket (objects delivered again, records repeated across days, late objects
 * for an earlier day, malformed lines), silver and the answers equal a full recompute over every
 * object so far; a day run again adds nothing; every malformed line is in quarantine with its
 * reason, and the quarantine check fails above max_bad_records only.
 */
import assert from "node:assert/strict";
import {
  openDuckDb,
  type QueryAnswer,
  registerRawFromBucket,
  runCleaning,
  runQueries,
} from "../../src/warehouse/duckdb_runner.ts";
import { runIncremental } from "../../src/warehouse/incremental.ts";
import { TABLE_KINDS, type TableKind } from "../../src/core/tables.ts";
import { buildDays, MALFORMED, writeDay } from "./incremental/days.ts";

const ID = "0123456789ab";

/** The one-shot run over the bucket: cleaned tables (sorted rows) and answers. */
async function fullRecompute(bucket: string) {
  const db = await openDuckDb();
  try {
    await registerRawFromBucket(db, bucket, ID);
    await runCleaning(db);
    const tables = {} as Record<TableKind, string[]>;
    for (const kind of TABLE_KINDS) {
      tables[kind] = await sortedRows(db.query(`SELECT * FROM ${kind}`));
    }
    return { tables, answers: await runQueries(db) };
  } finally {
    db.close();
  }
}

async function silver(statePath: string) {
  const db = await openDuckDb(statePath);
  try {
    const tables = {} as Record<TableKind, string[]>;
    for (const kind of TABLE_KINDS) {
      tables[kind] = await sortedRows(
        db.query(`SELECT * EXCLUDE (_row_hash, _run_id) FROM silver_${kind}`),
      );
    }
    return tables;
  } finally {
    db.close();
  }
}

async function sortedRows(result: Promise<{ rows: unknown[][] }>): Promise<string[]> {
  return (await result).rows.map((row) => JSON.stringify(row)).sort();
}

function plainAnswers(answers: QueryAnswer[]) {
  return answers.map(({ name, columns, rows }) => ({ name, columns, rows }));
}

Deno.test("K incremental runs equal a full recompute, day by day; a day run again adds nothing", async () => {
  const work = await Deno.makeTempDir({ prefix: "pinpipe_incremental_" });
  try {
    const days = buildDays(4, 120, 40, { bad: true });
    const state = `${work}/state.duckdb`;
    let quarantined = 0;
    for (const [d, objects] of days.entries()) {
      await writeDay(`${work}/bucket`, objects);
      await writeDay(`${work}/clean`, objects, true);
      const run = await runIncremental(state, `${work}/bucket`, ID, { maxBadRecords: 10 });
      const expected = await fullRecompute(`${work}/clean`);
      assert.deepEqual(await silver(state), expected.tables, `day ${d + 1}: silver`);
      assert.deepEqual(plainAnswers(run.answers), plainAnswers(expected.answers), `day ${d + 1}`);
      assert.ok(run.checks.every((check) => check.passed), `day ${d + 1}: checks pass`);
      quarantined += TABLE_KINDS.reduce((n, kind) => n + run.added[kind].quarantined, 0);
      if (d >= 1) assert.ok(run.skippedObjects > 0, `day ${d + 1}: objects seen before skipped`);

      const again = await runIncremental(state, `${work}/bucket`, ID);
      for (const kind of TABLE_KINDS) {
        assert.deepEqual(again.added[kind], { objects: 0, bronze: 0, quarantined: 0, silver: 0 });
      }
      assert.deepEqual(plainAnswers(again.answers), plainAnswers(expected.answers));
    }
    assert.equal(quarantined, MALFORMED.length);
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});

Deno.test("malformed lines go to quarantine with their reason; max_bad_records decides the check", async () => {
  const work = await Deno.makeTempDir({ prefix: "pinpipe_quarantine_" });
  try {
    const days = buildDays(2, 30, 10, { bad: true });
    await writeDay(`${work}/bucket`, days[0]);
    await writeDay(`${work}/bucket`, days[1]);
    const strict = await runIncremental(`${work}/a.duckdb`, `${work}/bucket`, ID);
    const check = strict.checks.find((c) => c.name === "quarantine within max_bad_records")!;
    assert.equal(check.passed, false);
    assert.equal(check.failures, MALFORMED.length);
    assert.match(
      check.detail,
      /^6 lines quarantined since the last run that passed \(max 0\): invalid_utf8 1, empty_line 1, not_json 1, not_an_object 2, no_expected_fields 1; e\.g\. topics\/0123456789ab\.geo\/partition=0\/0123456789ab\.geo\+0\+\d{10}\.json line 2 \(not_json\): "\{\\"ind\\": 5, \\"country\\": \\"Fr"; .* line 3 \(empty_line\): ""; /,
    );
    assert.deepEqual(strict.quarantine.byReason, {
      invalid_utf8: 1,
      empty_line: 1,
      not_json: 1,
      not_an_object: 2,
      no_expected_fields: 1,
    });
    // Everything was written all the same: bronze has every good line, quarantine every bad one.
    const db = await openDuckDb(`${work}/a.duckdb`);
    try {
      const rows = (await db.query(
        "SELECT kind, line, reason, raw_text FROM quarantine ORDER BY object, line",
      )).rows;
      assert.deepEqual(rows.map((r) => r[2]), [
        "not_json",
        "empty_line",
        "not_an_object",
        "not_an_object",
        "no_expected_fields",
        "invalid_utf8",
      ]);
      assert.deepEqual(rows.map((r) => r[1]), [2, 3, 4, 5, 6, 2]);
      assert.deepEqual(rows.map((r) => r[3]).slice(0, 5), [
        '{"ind": 5, "country": "Fr',
        "",
        "[1, 2, 3]",
        '"just text"',
        '{"colour": "red", "size": 3}',
      ]);
      assert.equal(rows[5][3], btoa(String.fromCharCode(...MALFORMED[1].text as Uint8Array)));
      // Each geo object once (one is delivered twice), its good lines each a bronze row.
      const objects = new Map(days.flat().filter((o) => o.kind === "geo").map((o) => [o.key, o]));
      const expected = [...objects.values()].reduce(
        (n, object) => n + object.lines.filter((l) => !l.bad).length,
        0,
      );
      const bronze = Number((await db.query("SELECT count(*) FROM bronze_geo")).rows[0][0]);
      assert.equal(bronze, expected);
    } finally {
      db.close();
    }
    const drift = strict.checks.find((c) => c.name === "schema drift pin.utm_source")!;
    assert.deepEqual(drift, {
      name: "schema drift pin.utm_source",
      passed: true,
      failures: 0,
      detail: "1 records carry it, kept without it",
    });

    const lenient = await runIncremental(`${work}/b.duckdb`, `${work}/bucket`, ID, {
      maxBadRecords: 6,
    });
    assert.ok(lenient.checks.every((c) => c.passed));

    // A retry reads nothing new and still fails: the lines wait until a run lets them through.
    const retry = await runIncremental(`${work}/a.duckdb`, `${work}/bucket`, ID);
    assert.equal(retry.added.geo.quarantined, 0);
    assert.equal(retry.checks.find((c) => !c.passed)?.failures, MALFORMED.length);
    const allowed = await runIncremental(`${work}/a.duckdb`, `${work}/bucket`, ID, {
      maxBadRecords: 6,
    });
    assert.ok(allowed.checks.every((c) => c.passed));
    const after = await runIncremental(`${work}/a.duckdb`, `${work}/bucket`, ID);
    assert.ok(after.checks.every((c) => c.passed));
    assert.equal(after.quarantine.count, 0);
    assert.equal(after.quarantineTotal, MALFORMED.length);
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});
