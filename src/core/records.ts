/**
 * Turns an RDS row into the JSON record the original emulation sent: the
 * table's columns in order, numbers as numbers, DATETIME values as ISO 8601
 * text without milliseconds or zone (`2020-08-28T03:52:47`), as Python's
 * `isoformat()` printed them. The batch producer, the stream producer and
 * the simulator all build records here, so all three send the same bytes.
 *
 * @example
 * ```ts
 * import { toRecord } from "./records.ts";
 * toRecord("user", { ind: 1, first_name: "A", last_name: "B", age: 30, date_joined: "2016-01-02 03:04:05" });
 * // { ind: 1, first_name: "A", last_name: "B", age: 30, date_joined: "2016-01-02T03:04:05" }
 * ```
 */
import { type TableKind, TABLES } from "./tables.ts";

/** A row as the database returns it (DATETIMEs as the database's own text). */
export type Row = Record<string, string | number | null>;

/** One record as sent to Kafka or Kinesis. */
export type SourceRecord = Record<string, string | number | null>;

const DATETIME_TEXT = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})$/;

/** Converts database DATETIME text (`2020-08-28 03:52:47`) to ISO 8601. */
export function isoDatetime(value: string, where: string): string {
  const match = DATETIME_TEXT.exec(value);
  if (!match) throw new Error(`${where}: "${value}" is not a DATETIME (YYYY-MM-DD HH:MM:SS)`);
  return `${match[1]}T${match[2]}`;
}

/**
 * Builds the record for a row of table `kind`. A missing column is an error
 * naming the table, the column and the row's index, never a silent null.
 */
export function toRecord(kind: TableKind, row: Row): SourceRecord {
  const spec = TABLES[kind];
  const record: SourceRecord = {};
  for (const column of spec.columns) {
    if (!(column in row)) {
      throw new Error(
        `${spec.table} row ${row[spec.indexColumn] ?? "?"}: column "${column}" is missing`,
      );
    }
    const value = row[column];
    record[column] = value !== null && spec.datetimeColumns.includes(column)
      ? isoDatetime(String(value), `${spec.table}.${column} row ${row[spec.indexColumn]}`)
      : value;
  }
  return record;
}

/** The record's index value, used as the Kafka key and default partition key. */
export function recordIndex(kind: TableKind, record: SourceRecord): number {
  return Number(record[TABLES[kind].indexColumn]);
}

/** One record on its way out: its table, its row index, the record, and its key. */
export interface OutgoingRecord {
  kind: TableKind;
  /** The row's index value (`index` or `ind`). */
  index: number;
  record: SourceRecord;
  /** Message key / partition key: `String(index)` by default. */
  key: string;
}

/** Builds the outgoing record for a row's record; the key is the index by default. */
export function outgoing(
  kind: TableKind,
  index: number,
  record: SourceRecord,
  key = String(index),
): OutgoingRecord {
  return { kind, index, record, key };
}
