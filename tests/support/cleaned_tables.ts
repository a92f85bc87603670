/**
 * The cleaned tables the stream tests compare: the batch path's cleaning of
 * a set of source records (the reference), and what the consumer wrote to
 * its DuckDB file, each table as sorted row texts.
 *
 * @example
 * ```ts
 * import { batchCleaning, consumerTables } from "./cleaned_tables.ts";
 * const expected = await batchCleaning({ pin: [], geo: [], user: [] });
 * const got = await consumerTables("/tmp/stream.duckdb", "0123456789ab");
 * ```
 */
import { cleanTableName } from "../../src/core/names.ts";
import type { SourceRecord } from "../../src/core/records.ts";
import { TABLE_KINDS, type TableKind } from "../../src/core/tables.ts";
import {
  openDuckDb,
  registerRawFromRecords,
  runCleaning,
} from "../../src/warehouse/duckdb_runner.ts";

/** A row as canonical text, for comparing tables as multisets. */
const canonical = (row: unknown[]): string => JSON.stringify(row);

/**
 * The batch path's cleaning (the DuckDB runner's `runCleaning` over every
 * record at once) of `records`: each cleaned table as sorted row texts.
 */
export async function batchCleaning(
  records: Record<TableKind, SourceRecord[]>,
): Promise<Record<TableKind, string[]>> {
  const db = await openDuckDb();
  try {
    for (const kind of TABLE_KINDS) await registerRawFromRecords(db, kind, records[kind]);
    await runCleaning(db);
    const out = {} as Record<TableKind, string[]>;
    for (const kind of TABLE_KINDS) {
      out[kind] = (await db.query(`SELECT * FROM ${kind}`)).rows.map(canonical).sort();
    }
    return out;
  } finally {
    db.close();
  }
}

/** A record the consumer could not clean, as its rejects table keeps it. */
export interface Reject {
  stream: string;
  shard_id: string;
  sequence_number: string;
  /** A name of notebooks/sql/quarantine_reasons.json. */
  reason: string;
  detail: string;
  data: string;
}

/** Records kept without a field their table does not have, per stream and field. */
export interface DriftTotal {
  stream: string;
  field: string;
  records: number;
}

/** What the consumer of pipeline `id` wrote to its DuckDB file. */
export interface ConsumerTables {
  /** Each cleaned table as sorted row texts. */
  tables: Record<TableKind, string[]>;
  /** De-duplication keys kept per table. */
  keys: Record<TableKind, number>;
  rejects: Reject[];
  /** The schema drift table, summed per stream and field. */
  drift: DriftTotal[];
  /** Shard checkpoints saved. */
  checkpoints: number;
}

/** The consumer's tables in the DuckDB file at `path`, with its keys, rejects and checkpoints. */
export async function consumerTables(path: string, id: string): Promise<ConsumerTables> {
  const db = await openDuckDb(path);
  try {
    const tables = {} as Record<TableKind, string[]>;
    const keys = {} as Record<TableKind, number>;
    for (const kind of TABLE_KINDS) {
      tables[kind] = (await db.query(`SELECT * FROM "${cleanTableName(id, kind)}"`)).rows
        .map(canonical).sort();
      keys[kind] = Number(
        (await db.query(`SELECT count(*) FROM "${id}_seen_keys" WHERE kind = '${kind}'`))
          .rows[0][0],
      );
    }
    const rejected = await db.query(
      `SELECT stream, shard_id, sequence_number, reason, detail, data FROM "${id}_rejects"`,
    );
    const rejects = rejected.rows.map((row) =>
      Object.fromEntries(rejected.columns.map((column, i) => [column, String(row[i])]))
    ) as unknown as Reject[];
    const checkpoints = Number(
      (await db.query(`SELECT count(*) FROM "${id}_stream_checkpoints"`)).rows[0][0],
    );
    const drift = (await db.query(
      `SELECT stream, field, sum(records) FROM "${id}_schema_drift" ` +
        `GROUP BY stream, field ORDER BY stream, field`,
    )).rows.map(([stream, field, records]) => ({
      stream: String(stream),
      field: String(field),
      records: Number(records),
    }));
    return { tables, keys, rejects, drift, checkpoints };
  } finally {
    db.close();
  }
}
