/**
 * Parity: every shared SQL file (staging, intermediate, marts, checks) gives the same
 * rows on Spark (PySpark 3.5, local mode, what Databricks runs) and on DuckDB
 * (what the simulator runs), over the same bucket objects. Three inputs: the
 * hand-made golden records, 2000 generated rows, and records full of edge
 * cases. The batch notebook also runs, cell by cell, over the golden records
 * and must display the same answers, and the streaming notebook's logic
 * (notebooks/pinpipe_stream.py) streams the golden records, with repeats,
 * into Delta tables that must equal DuckDB's cleaned tables. One Spark
 * session runs everything (its start-up is the slow part).
 *
 * Needs the venv `.cache/venv-spark` (tests/warehouse/parity/requirements.txt: pyspark 3.5.7, delta-spark
 * 3.2.1) and Java 17; Delta's jars are fetched from Maven Central into .cache/ivy on first use.
 */
import assert from "node:assert/strict";
import { objectBody, objectKey } from "../../src/core/bucket_layout.ts";
import {
  CHECK_FILES,
  CLEANING_STEPS,
  INTERMEDIATE_VIEWS,
  openDuckDb,
  QUERIES,
  registerRawFromBucket,
  type ResultTable,
  runCleaning,
  runQueries,
  runSqlFile,
  SQL_DIR,
} from "../../src/warehouse/duckdb_runner.ts";
import { generateRows } from "../../sim/datagen/generate.ts";
import { topicName } from "../../src/core/names.ts";
import { type SourceRecord, toRecord } from "../../src/core/records.ts";
import { TABLE_KINDS, type TableKind } from "../../src/core/tables.ts";
import { ROOT_URL as ROOT } from "../support/processes.ts";
import { edgeRecords } from "../warehouse/parity/edge_records.ts";
import { assertSameTable, kinesisRow, runSpark } from "../warehouse/parity/spark.ts";

const ID = "0123456789ab";

interface SparkCase {
  tables: Record<string, ResultTable>;
  intermediate: Record<string, ResultTable>;
  queries: Record<string, ResultTable>;
  checks: Record<string, ResultTable>;
}

/** Writes records as the sink does: objects of `perObject` records under partition=0. */
async function writeBucket(
  dir: string,
  records: Record<TableKind, readonly SourceRecord[]>,
  perObject: number,
): Promise<void> {
  for (const kind of TABLE_KINDS) {
    const all = records[kind];
    for (let start = 0; start < all.length; start += perObject) {
      const path = `${dir}/${objectKey(topicName(ID, kind), 0, start)}`;
      await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
      await Deno.writeTextFile(path, objectBody(all.slice(start, start + perObject)));
    }
  }
}

/**
 * Kinesis-like rows for the stream part: round 1 sends the first 8 golden records of each kind,
 * round 2 the rest, round 3 re-sends round 1 three hours later (beyond the dedupe watermark, so
 * only the MERGE into the table can keep them out). Files of 2 rows: several micro-batches.
 */
async function writeStreamRounds(
  dir: string,
  golden: Record<TableKind, SourceRecord[]>,
): Promise<string[]> {
  const rounds: [number, number, number][] = [[0, 8, 0], [8, 12, 3600], [0, 8, 3 * 3600]];
  const dirs: string[] = [];
  for (const [r, [from, to, offsetSeconds]] of rounds.entries()) {
    const roundDir = `${dir}/round${r + 1}`;
    dirs.push(roundDir);
    for (const kind of TABLE_KINDS) {
      await Deno.mkdir(`${roundDir}/${kind}`, { recursive: true });
      const rows = golden[kind].slice(from, to).map((record, i) =>
        kinesisRow(
          `streaming-${ID}-${kind}`,
          String(r * 1000 + from + i).padStart(20, "0"),
          new TextEncoder().encode(JSON.stringify(record)),
          new Date(Date.UTC(2026, 0, 1) + (offsetSeconds + i) * 1000),
        )
      );
      for (let start = 0; start < rows.length; start += 2) {
        const name = `${String(start).padStart(4, "0")}.json`;
        await Deno.writeTextFile(
          `${roundDir}/${kind}/${name}`,
          objectBody(rows.slice(start, start + 2)),
        );
      }
    }
  }
  return dirs;
}

Deno.test("every SQL file gives the same rows on Spark and DuckDB", async (t) => {
  const work = await Deno.makeTempDir({ prefix: "pinpipe_parity_" });
  try {
    const golden = JSON.parse(
      await Deno.readTextFile(new URL("../fixtures/golden_records.json", import.meta.url)),
    );
    const generated = {} as Record<TableKind, SourceRecord[]>;
    for (const kind of TABLE_KINDS) {
      generated[kind] = [...generateRows(kind, { rows: 2000, seed: 7 })].map((row) =>
        toRecord(kind, row)
      );
    }
    const cases: [string, Record<TableKind, readonly SourceRecord[]>, number][] = [
      ["golden", golden, 5],
      ["generated", generated, 500],
      ["edge", edgeRecords(), 7],
    ];
    // The edge records again with ANSI mode on, the default of recent Databricks runtimes.
    const ansiCases = ["edge"];
    for (const [name, records, perObject] of cases) {
      await writeBucket(`${work}/${name}`, records, perObject);
    }
    const spec = {
      sql_dir: SQL_DIR.pathname,
      cases: [
        ...cases.map(([name]) => ({ name, bucket: `${work}/${name}`, id: ID, ansi: false })),
        ...ansiCases.map((name) => ({
          name: `${name}_ansi`,
          bucket: `${work}/${name}`,
          id: ID,
          ansi: true,
        })),
      ],
      // The batch notebook itself, cell by cell, over the golden bucket.
      notebook: {
        path: new URL("notebooks/batch_notebook.py", ROOT).pathname,
        widgets: { pipeline_id: ID, bucket: `${work}/golden`, partition: "0" },
      },
      // The streaming notebook's logic (pinpipe_stream.py) into Delta tables.
      stream: {
        work: `${work}/stream`,
        id: ID,
        rounds: await writeStreamRounds(`${work}/stream/rounds`, golden),
        ivy: new URL(".cache/ivy", ROOT).pathname,
      },
    };
    await Deno.writeTextFile(`${work}/spec.json`, JSON.stringify(spec));
    await runSpark(`${work}/spec.json`, `${work}/spark.json`);
    const spark = JSON.parse(await Deno.readTextFile(`${work}/spark.json`)) as {
      cases: Record<string, SparkCase>;
      notebook: ResultTable[];
      stream: { counts: Record<TableKind, number>[]; tables: Record<TableKind, ResultTable> };
    };

    const steps = [
      ...cases.map(([name]) => [name, name]),
      ...ansiCases.map((name) => [`${name}_ansi`, name]),
    ];
    for (const [name, input] of steps) {
      await t.step(name, async () => {
        const expected = spark.cases[name];
        const db = await openDuckDb();
        try {
          await registerRawFromBucket(db, `${work}/${input}`, ID);
          const counts = await runCleaning(db);
          for (const step of CLEANING_STEPS) {
            for (const table of [`${step.kind}_parsed`, step.kind]) {
              assertSameTable(
                `${name}: ${table}`,
                expected.tables[table],
                await db.query(`SELECT * FROM ${table}`),
                { ordered: false },
              );
            }
            assert.equal(counts[step.kind].rowsOut, expected.tables[step.kind].rows.length);
          }
          const answers = await runQueries(db);
          for (const view of INTERMEDIATE_VIEWS) {
            assertSameTable(
              `${name}: ${view.file}`,
              expected.intermediate[view.name],
              await db.query(`SELECT * FROM ${view.name}`),
              { ordered: false },
            );
          }
          assert.equal(answers.length, QUERIES.length);
          for (const answer of answers) {
            assertSameTable(`${name}: ${answer.file}`, expected.queries[answer.name], answer, {
              ordered: true,
            });
          }
          for (const file of CHECK_FILES) {
            assertSameTable(`${name}: ${file}`, expected.checks[file], await runSqlFile(db, file), {
              ordered: true,
            });
          }
        } finally {
          db.close();
        }
      });
    }
    await t.step("batch notebook displays the same answers", async () => {
      // It displays 20 cleaned pin rows, the three check tables, then the answers in order.
      assert.equal(spark.notebook.length, 1 + CHECK_FILES.length + QUERIES.length);
      const db = await openDuckDb();
      try {
        await registerRawFromBucket(db, `${work}/golden`, ID);
        await runCleaning(db);
        const answers = await runQueries(db);
        const shown = spark.notebook.slice(-QUERIES.length);
        answers.forEach((answer, i) =>
          assertSameTable(`notebook: ${answer.name}`, shown[i], answer, { ordered: true })
        );
      } finally {
        db.close();
      }
    });
    await t.step(
      "streaming logic: Delta tables hold the cleaned rows, repeats add nothing",
      async () => {
        // Round 1: pin ind 1, 2, 2 (repeat), 3..7; geo 1, 2, 3, 3 (repeat), 4..7; user 1..4, 4, 5..7.
        const counts = (n: number) => ({ pin: n, geo: n, user: n });
        assert.deepEqual(spark.stream.counts, [counts(7), counts(11), counts(11)]);
        const db = await openDuckDb();
        try {
          await registerRawFromBucket(db, `${work}/golden`, ID);
          await runCleaning(db);
          for (const kind of TABLE_KINDS) {
            assertSameTable(
              `stream: ${ID}_${kind}_table`,
              spark.stream.tables[kind],
              await db.query(`SELECT * FROM ${kind}`),
              { ordered: false },
            );
          }
        } finally {
          db.close();
        }
      },
    );
    // The inputs are not trivial: the generated answers have rows, the edge case finds bad values.
    assert.ok(spark.cases.generated.queries.q1_top_category_by_country.rows.length > 10);
    const edgeFailures = Object.values(spark.cases.edge.checks).flatMap((table) =>
      table.rows.filter((row) => Number(row[1]) > 0)
    );
    assert.ok(edgeFailures.length >= 5, `edge case should fail several checks`);
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});
