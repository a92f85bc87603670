/**
 * The three RDS tables of the original system, in one place: their names,
 * their index column and their columns in the order the original produced
 * them. Every other module derives topic, stream and table names from here.
 * The columns themselves are read from `notebooks/sql/manifest.json`
 * (`raw_columns`), the one list: the Databricks notebooks' Spark schemas,
 * which cannot import TypeScript, read it too.
 *
 * @example
 * ```ts
 * import { TABLES } from "./tables.ts";
 * TABLES.geo.columns; // ["ind", "timestamp", "latitude", "longitude", "country"]
 * ```
 */

import manifest from "../../notebooks/sql/manifest.json" with { type: "json" };

/** The short name of a table, used in topic, stream and table names. */
export type TableKind = "pin" | "geo" | "user";

/** Every table kind, in the order the original sent them. */
export const TABLE_KINDS: readonly TableKind[] = ["pin", "geo", "user"];

/** The shape of one RDS table. */
export interface TableSpec {
  readonly kind: TableKind;
  /** The table's name in the `pinterest_data` database. */
  readonly table: string;
  /** The column that aligns rows across the three tables. */
  readonly indexColumn: string;
  /** Columns in the order the original's records carried them. */
  readonly columns: readonly string[];
  /** Columns of type DATETIME, sent as ISO 8601 text. */
  readonly datetimeColumns: readonly string[];
}

/** The three tables, keyed by kind. */
export const TABLES: Readonly<Record<TableKind, TableSpec>> = {
  pin: {
    kind: "pin",
    table: "pinterest_data",
    indexColumn: "index",
    columns: manifest.raw_columns.pin,
    datetimeColumns: [],
  },
  geo: {
    kind: "geo",
    table: "geolocation_data",
    indexColumn: "ind",
    columns: manifest.raw_columns.geo,
    datetimeColumns: ["timestamp"],
  },
  user: {
    kind: "user",
    table: "user_data",
    indexColumn: "ind",
    columns: manifest.raw_columns.user,
    datetimeColumns: ["date_joined"],
  },
};

/** Parses a table kind, naming the bad value. */
export function parseTableKind(value: string): TableKind {
  if ((TABLE_KINDS as readonly string[]).includes(value)) return value as TableKind;
  throw new Error(`unknown table kind "${value}" (expected one of ${TABLE_KINDS.join(", ")})`);
}
