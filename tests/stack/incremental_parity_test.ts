/**
 * Incremental parity: the batch notebook itself (notebooks/batch_notebook.py, cell by cell, on local
 * PySpark with Delta) and the DuckDB incremental runner (src/warehouse/incremental.ts) run day by day
 * over the same growing bucket. Two days: the second delivers a first-day object again, repeats
 * first-day records, brings a first-day object late, and malformed lines of every quarantine reason
 * (truncated JSON, bytes that are not UTF-8, an empty line, an array, a string, an object with none
 * of the table's fields) and a record with an unknown field. They must agree on each day's answers,
 * on the day that fails for too many bad lines (and its message), on the bronze counts, the
 * quarantine rows and silver. One Spark session runs every day. Needs `.cache/venv-spark` and Java
 * 17, as parity_test.ts does.
 */
import assert from "node:assert/strict";
import { openDuckDb, QUERIES, type ResultTable } from "../../src/warehouse/duckdb_runner.ts";
import { runIncremental } from "../../src/warehouse/incremental.ts";
import { TABLE_KINDS, type TableKind } from "../../src/core/tables.ts";
import { ROOT_URL as ROOT } from "../support/processes.ts";
import { buildDays, MALFORMED, writeDay } from "../warehouse/incremental/days.ts";

const PYTHON = new URL(".cache/venv-spark/bin/python", ROOT).pathname;
const DRIVER = new URL("tests/warehouse/parity/run_spark_incremental.py", ROOT).pathname;
const ID = "0123456789ab";

interface SparkOut {
  days: { shown: ResultTable[]; error: string | null }[];
  bronze: Record<TableKind, number>;
  quarantine: ResultTable;
  silver: Record<TableKind, ResultTable>;
}

function sorted(rows: unknown[][]): string[] {
  return rows.map((row) => JSON.stringify(row)).sort();
}

/** Rows equal, numbers within 1e-9 (the medians), in order. */
function assertSameAnswer(where: string, spark: ResultTable, duck: ResultTable): void {
  assert.deepEqual(duck.columns, spark.columns, `${where}: columns`);
  assert.equal(duck.rows.length, spark.rows.length, `${where}: row count`);
  spark.rows.forEach((row, i) =>
    row.forEach((value, j) => {
      const other = duck.rows[i][j];
      if (typeof value === "number" && typeof other === "number") {
        assert.ok(Math.abs(value - other) <= 1e-9 * Math.max(1, Math.abs(value)), where);
      } else assert.deepEqual(other, value, `${where}: row ${i}`);
    })
  );
}

Deno.test("the batch notebook and the DuckDB runner agree, run by run, bad lines included", async () => {
  const work = await Deno.makeTempDir({ prefix: "pinpipe_incremental_parity_" });
  try {
    const days = buildDays(2, 12, 4, { bad: true });
    const dayDirs: string[] = [];
    const duck: Awaited<ReturnType<typeof runIncremental>>[] = [];
    for (const [d, objects] of days.entries()) {
      dayDirs.push(`${work}/days/${d + 1}`);
      await writeDay(dayDirs[d], objects);
      await writeDay(`${work}/duck_bucket`, objects);
      duck.push(await runIncremental(`${work}/state.duckdb`, `${work}/duck_bucket`, ID));
    }
    const spec = {
      notebook: new URL("notebooks/batch_notebook.py", ROOT).pathname,
      work: `${work}/spark`,
      ivy: new URL(".cache/ivy", ROOT).pathname,
      id: ID,
      bucket: `${work}/spark_bucket`,
      days: dayDirs,
      max_bad_records: 0,
    };
    await Deno.writeTextFile(`${work}/spec.json`, JSON.stringify(spec));
    const { code, stdout, stderr } = await new Deno.Command(PYTHON, {
      args: [DRIVER, `${work}/spec.json`, `${work}/spark.json`],
      env: { TZ: "UTC", PYSPARK_PYTHON: PYTHON },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    assert.equal(
      code,
      0,
      (decoder.decode(stdout) + decoder.decode(stderr)).split("\n").slice(-40).join("\n"),
    );
    const spark = JSON.parse(await Deno.readTextFile(`${work}/spark.json`)) as SparkOut;

    for (const [d, run] of duck.entries()) {
      const shown = spark.days[d].shown.slice(-QUERIES.length);
      run.answers.forEach((answer, i) =>
        assertSameAnswer(`day ${d + 1}: ${answer.name}`, shown[i], answer)
      );
      // Day 2 brings the malformed lines: both fail it, after writing everything.
      const failed = run.checks.filter((check) => !check.passed).map((check) => check.name);
      assert.deepEqual(
        failed,
        d === 1 ? ["quarantine within max_bad_records"] : [],
        `day ${d + 1}`,
      );
      if (d === 1) {
        const detail = run.checks.find((check) => !check.passed)!.detail;
        assert.ok(spark.days[d].error?.includes(detail), `day ${d + 1}: ${spark.days[d].error}`);
      } else assert.equal(spark.days[d].error, null);
    }

    const db = await openDuckDb(`${work}/state.duckdb`);
    try {
      for (const kind of TABLE_KINDS) {
        const bronze = Number((await db.query(`SELECT count(*) FROM bronze_${kind}`)).rows[0][0]);
        assert.equal(spark.bronze[kind], bronze, `bronze_${kind}`);
        const silver = await db.query(`SELECT * EXCLUDE (_row_hash, _run_id) FROM silver_${kind}`);
        assert.deepEqual(spark.silver[kind].columns, silver.columns);
        assert.deepEqual(sorted(spark.silver[kind].rows), sorted(silver.rows), `silver_${kind}`);
      }
      const quarantine = await db.query(
        "SELECT kind, object, line, raw_text, reason FROM quarantine",
      );
      assert.deepEqual(spark.quarantine.columns, quarantine.columns);
      assert.deepEqual(sorted(spark.quarantine.rows), sorted(quarantine.rows));
      assert.equal(quarantine.rows.length, MALFORMED.length);
    } finally {
      db.close();
    }
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});
