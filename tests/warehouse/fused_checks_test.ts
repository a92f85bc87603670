/**
 * checks/null_reasons.sql counts every column's reasons in one pass over each parsed table
 * (count_if); it gave the same rows as the unfused file it replaced, which scanned each table
 * once per column (kept in fixtures/ for this test), on data full of NULLs, placeholders,
 * unparseable values and fields the tables do not have, on generated data, and with a table
 * empty.
 */
import assert from "node:assert/strict";
import { generateRows } from "../../sim/datagen/generate.ts";
import { type SourceRecord, toRecord } from "../../src/core/records.ts";
import { TABLE_KINDS, type TableKind } from "../../src/core/tables.ts";
import { toDuckDb } from "../../src/warehouse/dialect.ts";
import {
  type DuckDb,
  openDuckDb,
  registerRawFromRecords,
  type ResultTable,
  runCleaning,
  runSqlFile,
} from "../../src/warehouse/duckdb_runner.ts";
import { edgeRecords } from "./parity/edge_records.ts";

const UNFUSED = new URL("./fixtures/null_reasons_unfused.sql", import.meta.url);

async function bothChecks(
  records: Record<TableKind, SourceRecord[]>,
): Promise<{ fused: ResultTable; unfused: ResultTable }> {
  const db: DuckDb = await openDuckDb();
  try {
    for (const kind of TABLE_KINDS) await registerRawFromRecords(db, kind, records[kind]);
    await runCleaning(db);
    const fused = await runSqlFile(db, "checks/null_reasons.sql");
    const unfused = await db.query(toDuckDb(await Deno.readTextFile(UNFUSED)));
    return { fused, unfused };
  } finally {
    db.close();
  }
}

/** The number after `label` in each row's detail ("missing 3, placeholder 0, ..."), summed. */
function total(table: ResultTable, label: string): number {
  const detail = table.columns.indexOf("detail");
  return table.rows.reduce(
    (sum, row) => sum + Number(new RegExp(`${label} (\\d+)`).exec(String(row[detail]))![1]),
    0,
  );
}

Deno.test("fused null_reasons: the unfused file's rows on edge-case records", async () => {
  const { fused, unfused } = await bothChecks(edgeRecords());
  assert.deepEqual(fused, unfused);
  assert.equal(fused.rows.length, 22, "a row per column of the three parsed tables");
  // The data exercises every reason, so equal rows mean equal counts, not equal zeros.
  for (const label of ["missing", "placeholder", "unparseable"]) {
    assert.ok(total(fused, label) > 0, `some ${label} values`);
  }
  const failures = fused.columns.indexOf("failures");
  assert.ok(fused.rows.some((row) => Number(row[failures]) > 0), "some columns fail");
  assert.ok(fused.rows.some((row) => String(row).includes('e.g. "')), "an example is shown");
});

Deno.test("fused null_reasons: the unfused file's rows on generated rows with bad values", async () => {
  const dataset = { rows: 1500, seed: 11 };
  const records = Object.fromEntries(TABLE_KINDS.map((kind) => [
    kind,
    [...generateRows(kind, dataset)].map((row) => toRecord(kind, row)),
  ])) as Record<TableKind, SourceRecord[]>;
  records.pin[4].follower_count = "lots";
  records.geo[9].latitude = "north";
  delete records.user[2].age;
  const { fused, unfused } = await bothChecks(records);
  assert.deepEqual(fused, unfused);
  assert.ok(total(fused, "placeholder") > 0 && total(fused, "unparseable") === 2);
  assert.equal(total(fused, "missing"), 1);
});

Deno.test("fused null_reasons: an empty table gives no rows, as before", async () => {
  const records = edgeRecords();
  records.geo = [];
  const { fused, unfused } = await bothChecks(records);
  assert.deepEqual(fused, unfused);
  assert.equal(fused.rows.length, 17, "pin's 12 columns and user's 5");
});
