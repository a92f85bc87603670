/**
 * Runs the notebooks' SQL files (`notebooks/sql/`, listed in its
 * `manifest.json`) in DuckDB, exactly as the Databricks notebooks run them in
 * Spark, after the one small translation in `dialect.ts`. The files are in
 * layers, as dbt's jaffle-shop lays out its models:
 *
 * 1. raw views: `raw_pin`, `raw_geo`, `raw_user`, one row per JSON record,
 *    every field read as text (as the notebooks read them with all-string
 *    schemas), from the bucket's objects or from records in memory;
 * 2. staging (`staging/`): `<kind>_parsed` (one typed row per record, with a
 *    status per column) and the cleaned `pin`, `geo`, `user` tables;
 * 3. intermediate (`intermediate/`): views the answers share (the pin-geo and
 *    pin-user joins, the age groups, the users), each named as its file;
 * 4. marts (`marts/`): the answers; and the data-quality checks (`checks/`).
 *
 * Values come back as plain JS: integers as numbers (as text beyond 2^53),
 * timestamps as ISO 8601 text without zone (`2020-08-28T03:52:47`), arrays
 * as arrays.
 *
 * @example
 * ```ts
 * import { openDuckDb, registerRawFromBucket, runCleaning, runQueries, runQualityChecks } from "./duckdb_runner.ts";
 * const db = await openDuckDb();
 * try {
 *   await registerRawFromBucket(db, ".local/bucket/user-0123456789ab-bucket", "0123456789ab");
 *   const counts = await runCleaning(db); // { pin: { rowsIn: 11000, rowsOut: 10800 }, ... }
 *   const answers = await runQueries(db); // [{ name: "q1_top_category_by_country", columns, rows }, ...]
 *   const failed = (await runQualityChecks(db)).filter((check) => !check.passed);
 * } finally {
 *   db.close();
 * }
 * ```
 */
import {
  type DuckDBConnection,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBInstance,
  DuckDBListValue,
  DuckDBTimestampValue,
  type DuckDBValue,
} from "@duckdb/node-api";
import { listTopicFolder, objectBody } from "../core/bucket_layout.ts";
import { toDuckDb } from "./dialect.ts";
import manifest from "../../notebooks/sql/manifest.json" with { type: "json" };
import { topicName } from "../core/names.ts";
import type { SourceRecord } from "../core/records.ts";
import { TABLE_KINDS, type TableKind } from "../core/tables.ts";

/** The folder holding the SQL files and their manifest. */
export const SQL_DIR: URL = new URL("../../notebooks/sql/", import.meta.url);

/**
 * One staging step: `parse` makes `<kind>_parsed` from `raw_<kind>`, `clean` makes `<kind>`.
 * Paths are relative to `SQL_DIR`, e.g. `staging/parse_pin.sql`.
 */
export interface CleaningStep {
  readonly kind: TableKind;
  readonly parse: string;
  readonly clean: string;
}

/** One query file and what it answers. */
export interface QuerySpec {
  /** The file name without `.sql`, e.g. `q1_top_category_by_country`. */
  readonly name: string;
  /** A short human title, e.g. "Most popular category in each country". */
  readonly title: string;
  /** Relative to `SQL_DIR`, e.g. `marts/q1_top_category_by_country.sql`. */
  readonly file: string;
}

/** One intermediate view: `file` makes the view `name`, which later views and the marts read. */
export interface IntermediateView {
  readonly name: string;
  /** Relative to `SQL_DIR`, e.g. `intermediate/age_groups.sql`. */
  readonly file: string;
}

/** The staging (cleaning) steps, in the order they run. */
export const CLEANING_STEPS: readonly CleaningStep[] = manifest.staging as CleaningStep[];

/** The intermediate views, in the order they are made (each reads only those before it). */
export const INTERMEDIATE_VIEWS: readonly IntermediateView[] = manifest.intermediate;

/** The marts (the answers' query files), in the order they run. */
export const QUERIES: readonly QuerySpec[] = manifest.marts;

/** The data-quality SQL files; each returns rows of (check_name, failures, detail). */
export const CHECK_FILES: readonly string[] = manifest.checks;

/** The raw records' fields per kind: the manifest's `raw_columns`, the list `TABLES` and Spark's schemas read too. */
export const RAW_COLUMNS: Readonly<Record<TableKind, readonly string[]>> = manifest.raw_columns;

/** A table of plain values. */
export interface ResultTable {
  columns: string[];
  rows: unknown[][];
}

/** One query's answer. */
export interface QueryAnswer extends ResultTable {
  name: string;
  title: string;
  file: string;
}

/** One data-quality check: passed when `failures` is 0. */
export interface CheckResult {
  name: string;
  passed: boolean;
  failures: number;
  detail: string;
}

/** Rows in (raw records) and rows out (cleaned, exact duplicates dropped) of one table. */
export interface CleaningCount {
  rowsIn: number;
  rowsOut: number;
}

/** An open DuckDB database and its one connection. */
export interface DuckDb {
  readonly connection: DuckDBConnection;
  /** Runs one statement and returns its result as plain values. */
  query(sql: string): Promise<ResultTable>;
  /** Closes the connection and the database. */
  close(): void;
}

/** The most DuckDB takes by default on any machine: room under 8 GiB for the rest of the process. */
const MEMORY_LIMIT_CAP = 6 * 1024 ** 3;

/**
 * DuckDB's memory limit unless PINPIPE_DUCKDB_MEMORY says otherwise: half the machine's memory, at
 * most 6 GiB. Beyond it DuckDB spills to disk: a higher limit spills less and runs large inputs
 * faster but takes more of the machine; a lower one leaves room for other work and writes more.
 */
export function defaultMemoryLimit(totalBytes = Deno.systemMemoryInfo().total): string {
  return `${Math.floor(Math.min(totalBytes / 2, MEMORY_LIMIT_CAP) / 1024 ** 2)}MiB`;
}

/**
 * Opens DuckDB (in memory unless `path` names a file), in UTC, ready for
 * the other functions here. Memory is capped (`memoryLimit`, else the
 * PINPIPE_DUCKDB_MEMORY variable, else {@link defaultMemoryLimit}) and larger
 * work spills to a temporary directory of this database's own (two runs at
 * once never share one), removed when it closes.
 */
export async function openDuckDb(
  path = ":memory:",
  { memoryLimit = Deno.env.get("PINPIPE_DUCKDB_MEMORY") ?? defaultMemoryLimit() } = {},
): Promise<DuckDb> {
  const spill = await Deno.makeTempDir({ prefix: "pinpipe_duckdb_spill_" });
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(path, {
      memory_limit: memoryLimit,
      temp_directory: spill,
    });
  } catch (error) {
    await Deno.remove(spill, { recursive: true }).catch(() => {});
    throw error;
  }
  const connection = await instance.connect();
  const db: DuckDb = {
    connection,
    async query(sql: string): Promise<ResultTable> {
      const reader = await connection.runAndReadAll(sql);
      return {
        columns: reader.columnNames(),
        rows: reader.getRows().map((row) => row.map(toPlain)),
      };
    },
    close(): void {
      connection.closeSync();
      instance.closeSync();
      try {
        Deno.removeSync(spill, { recursive: true });
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
    },
  };
  // Timestamps in the records carry no zone; both engines must read them as UTC.
  await connection.run("SET TimeZone = 'UTC'");
  return db;
}

const _sqlCache = new Map<string, string>();

/** Reads one SQL file of `SQL_DIR`, translated for DuckDB. */
export async function loadSql(file: string): Promise<string> {
  let sql = _sqlCache.get(file);
  if (sql === undefined) {
    const text = await Deno.readTextFile(new URL(file, SQL_DIR));
    try {
      sql = toDuckDb(text);
    } catch (error) {
      throw new Error(`notebooks/sql/${file}: ${(error as Error).message}`);
    }
    _sqlCache.set(file, sql);
  }
  return sql;
}

/** The `read_json` call that reads NDJSON files as Databricks does: records, every field text. */
function _readJson(kind: TableKind, files: string[]): string {
  const columns = RAW_COLUMNS[kind].map((column) => `${_quote(column)}: 'VARCHAR'`).join(", ");
  const list = files.map(_literal).join(", ");
  return `read_json([${list}], format = 'newline_delimited', records = true, ` +
    `hive_partitioning = false, columns = {${columns}})`;
}

async function _createRaw(db: DuckDb, kind: TableKind, files: string[], where: string) {
  try {
    await db.connection.run(
      `CREATE OR REPLACE TABLE raw_${kind} AS SELECT * FROM ${_readJson(kind, files)}`,
    );
    await _createUnknownFields(db, kind, files);
  } catch (error) {
    throw new Error(`reading ${kind} records from ${where}: ${(error as Error).message}`);
  }
}

/**
 * Makes `raw_<kind>_unknown_fields` (field, records): the fields the records
 * carry beyond the table's columns, which the raw table leaves out (schema
 * drift, named by checks/schema_drift.sql). With no files, it is empty.
 */
async function _createUnknownFields(db: DuckDb, kind: TableKind, files: string[]) {
  const table = `raw_${kind}_unknown_fields`;
  if (files.length === 0) {
    await db.connection.run(`CREATE OR REPLACE TABLE ${table} (field VARCHAR, records BIGINT)`);
    return;
  }
  const known = RAW_COLUMNS[kind].map(_literal).join(", ");
  await db.connection.run(
    `CREATE OR REPLACE TABLE ${table} AS SELECT field, count(*) AS records FROM (` +
      `SELECT unnest(json_keys(json)) AS field FROM read_json_objects(` +
      `[${files.map(_literal).join(", ")}], format = 'newline_delimited', ` +
      `hive_partitioning = false)) AS k WHERE field NOT IN (${known}) GROUP BY field`,
  );
}

/**
 * Makes `raw_pin`, `raw_geo` and `raw_user` from the bucket's objects
 * `topics/<id>.<kind>/partition=*\/*.json`, every partition. The tables keep
 * no row order: nothing reads them in order, and DuckDB reads them a third
 * faster when free to insert rows as its threads finish them.
 * A topic with no object is an error naming the folder (an empty answer
 * would look fine); a malformed line is an error naming its object and line.
 */
export async function registerRawFromBucket(
  db: DuckDb,
  bucketDir: string,
  id: string,
): Promise<void> {
  await _withoutInsertionOrder(db, async () => {
    for (const kind of TABLE_KINDS) await _registerRawFromTopic(db, bucketDir, id, kind);
  });
}

/**
 * Makes `raw_<kind>` (and `raw_<kind>_unknown_fields`) from topic `<id>.<kind>`'s objects alone,
 * as `registerRawFromBucket` makes each: so that a table can be read as soon as it has landed.
 */
export async function registerRawFromTopic(
  db: DuckDb,
  bucketDir: string,
  id: string,
  kind: TableKind,
): Promise<void> {
  await _withoutInsertionOrder(db, () => _registerRawFromTopic(db, bucketDir, id, kind));
}

/** The rows of one DuckDB row group: the unit it splits a table's scans into among its threads. */
export const ROW_GROUP_ROWS = 122_880;

/**
 * Sets the threads DuckDB works with for tables of at most `rowsPerTable` rows: one when they
 * fit in a row group ({@link ROW_GROUP_ROWS}), which DuckDB scans on one thread anyway, else as
 * opened (one per core). With so little data a second thread only adds hand-offs: at the
 * default 11,000 rows it took a third more CPU and was slower on a busy machine. One thread also
 * leaves the other core to whatever runs beside it (the simulator's landing).
 */
export async function fitThreads(db: DuckDb, rowsPerTable: number): Promise<void> {
  if (rowsPerTable < ROW_GROUP_ROWS) await db.connection.run("SET threads = 1");
}

/** Makes `raw_<kind>` from one topic's objects (see `registerRawFromBucket`). */
async function _registerRawFromTopic(db: DuckDb, bucketDir: string, id: string, kind: TableKind) {
  const topicDir = `${bucketDir}/topics/${topicName(id, kind)}`;
  const objects = await listObjects(topicDir);
  if (objects.length === 0) throw new Error(`no ${kind} objects in ${topicDir}/partition=*/`);
  if (objects.length <= _DIRECT_READ_MAX_OBJECTS || await _largeObjects(objects)) {
    await _createRaw(db, kind, objects, topicDir).catch(async (error) => {
      throw (await _findMalformed(objects)) ?? error;
    });
    return;
  }
  // The sink writes one object per record (flush.size=1): DuckDB opening 11,000 files costs
  // seconds each thousand, so many objects are joined into one NDJSON file first, byte for byte.
  const file = await Deno.makeTempFile({ prefix: `pinpipe_raw_${kind}_`, suffix: ".json" });
  try {
    await _concatObjects(objects, file);
    try {
      await _createRaw(db, kind, [file], topicDir);
    } catch (error) {
      throw (await _findMalformed(objects)) ?? error;
    }
  } finally {
    await Deno.remove(file);
  }
}

/** Up to this many objects DuckDB reads directly; more are joined into one file first... */
const _DIRECT_READ_MAX_OBJECTS = 256;

/** ...unless they are this large on average: then opening each costs little beside its parse. */
const _DIRECT_READ_MIN_AVERAGE_BYTES = 64 * 1024;

/** Whether `objects` (a sample of 16 or so, spread over the list) are large on average. */
async function _largeObjects(objects: readonly string[]): Promise<boolean> {
  const step = Math.max(1, Math.floor(objects.length / 16));
  const sample = objects.filter((_, index) => index % step === 0);
  const sizes = await Promise.all(sample.map(async (object) => (await Deno.stat(object)).size));
  return sizes.reduce((sum, size) => sum + size, 0) / sizes.length >=
    _DIRECT_READ_MIN_AVERAGE_BYTES;
}

/** The `.json` objects of every `partition=*` folder under `topicDir`, sorted; none if absent. */
export async function listObjects(topicDir: string): Promise<string[]> {
  return (await listTopicFolder(topicDir))
    .filter((file) => file.startsWith("partition=") && file.endsWith(".json"))
    .map((file) => `${topicDir}/${file}`);
}

async function _concatObjects(objects: readonly string[], target: string): Promise<void> {
  const out = await Deno.open(target, { write: true, truncate: true });
  try {
    const newline = new Uint8Array([10]);
    for (let start = 0; start < objects.length; start += 64) {
      const chunk = await Promise.all(
        objects.slice(start, start + 64).map((f) => Deno.readFile(f)),
      );
      for (const bytes of chunk) {
        await _writeAll(out, bytes);
        if (bytes.length > 0 && bytes[bytes.length - 1] !== 10) await _writeAll(out, newline);
      }
    }
  } finally {
    out.close();
  }
}

async function _writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await file.write(bytes.subarray(written));
}

/** The first object line that is not a JSON object, as an error naming object and line. */
async function _findMalformed(objects: readonly string[]): Promise<Error | undefined> {
  for (const object of objects) {
    const lines = (await Deno.readTextFile(object)).split("\n");
    for (let i = 0; i < lines.length; i++) {
      if (lines[i].trim() === "") continue;
      let value: unknown;
      try {
        value = JSON.parse(lines[i]);
      } catch (error) {
        return new Error(`${object} line ${i + 1}: not JSON (${(error as Error).message})`);
      }
      if (value === null || typeof value !== "object" || Array.isArray(value)) {
        return new Error(`${object} line ${i + 1}: not a JSON object: ${lines[i].slice(0, 80)}`);
      }
    }
  }
  return undefined;
}

/**
 * Makes `raw_<kind>` from records in memory (written to a temporary NDJSON
 * file so that the same JSON reader reads them) or from NDJSON file paths.
 */
export async function registerRawFromRecords(
  db: DuckDb,
  kind: TableKind,
  records: readonly SourceRecord[] | string | readonly string[],
): Promise<void> {
  if (typeof records === "string" || (records.length > 0 && typeof records[0] === "string")) {
    const files = typeof records === "string" ? [records] : [...records as readonly string[]];
    await _createRaw(db, kind, files, files.join(", "));
    return;
  }
  const file = await Deno.makeTempFile({ prefix: `pinpipe_raw_${kind}_`, suffix: ".json" });
  try {
    await Deno.writeTextFile(file, objectBody(records as readonly SourceRecord[]));
    if (records.length === 0) {
      // read_json cannot infer from an empty file; an empty table with the columns will do.
      const columns = RAW_COLUMNS[kind].map((column) => `${_quote(column)} VARCHAR`).join(", ");
      await db.connection.run(`CREATE OR REPLACE TABLE raw_${kind} (${columns})`);
      await _createUnknownFields(db, kind, []);
    } else {
      await _createRaw(db, kind, [file], `${records.length} ${kind} records`);
    }
  } finally {
    await Deno.remove(file);
  }
}

/**
 * Runs the cleaning SQL: `<kind>_parsed`, then the cleaned `<kind>` table,
 * for pin, geo and user. Needs the three raw tables.
 */
export async function runCleaning(db: DuckDb): Promise<Record<TableKind, CleaningCount>> {
  const counts = {} as Record<TableKind, CleaningCount>;
  for (const step of CLEANING_STEPS) counts[step.kind] = await cleanKind(db, step.kind);
  return counts;
}

/**
 * Cleans one kind only (`raw_<kind>` to `<kind>_parsed` and `<kind>`), as the
 * streaming notebook does per micro-batch of one stream.
 */
export async function cleanKind(db: DuckDb, kind: TableKind): Promise<CleaningCount> {
  const step = CLEANING_STEPS.find((candidate) => candidate.kind === kind);
  if (!step) throw new Error(`no cleaning step for kind "${kind}" in the manifest`);
  await _withoutInsertionOrder(db, async () => {
    await _createTable(db, `${kind}_parsed`, step.parse);
    await _createTable(db, kind, step.clean);
  });
  const { rows } = await db.query(
    `SELECT (SELECT count(*) FROM raw_${kind}), (SELECT count(*) FROM ${kind})`,
  );
  return { rowsIn: Number(rows[0][0]), rowsOut: Number(rows[0][1]) };
}

/** The records of each raw table (`raw_pin`, `raw_geo`, `raw_user`). */
export async function rawCounts(db: DuckDb): Promise<Record<TableKind, number>> {
  const { rows } = await db.query(
    `SELECT ${TABLE_KINDS.map((kind) => `(SELECT count(*) FROM raw_${kind})`).join(", ")}`,
  );
  return Object.fromEntries(TABLE_KINDS.map((kind, i) => [kind, Number(rows[0][i])])) as Record<
    TableKind,
    number
  >;
}

/**
 * Makes (or remakes) the intermediate views over the cleaned tables. Views, not tables: each
 * answer reads them as it read its own CTEs before, and they follow the tables they read.
 */
export async function buildIntermediate(db: DuckDb): Promise<void> {
  for (const view of INTERMEDIATE_VIEWS) {
    const sql = await loadSql(view.file);
    try {
      await db.connection.run(`CREATE OR REPLACE VIEW ${view.name} AS ${sql}`);
    } catch (error) {
      throw new Error(`notebooks/sql/${view.file}: ${(error as Error).message}`);
    }
  }
}

/**
 * Runs every mart, in the manifest's order, over the intermediate results made once for all of
 * them: as temporary tables, which DuckDB computes once, where views would be computed again by
 * each mart that reads them (the SQL files stay the same; Spark reads them as views). The
 * temporary tables are dropped afterwards, and the intermediate views made, as before.
 */
export async function runQueries(db: DuckDb): Promise<QueryAnswer[]> {
  await _dropIntermediate(db);
  try {
    await _withoutInsertionOrder(db, async () => {
      for (const view of INTERMEDIATE_VIEWS) {
        await _create(db, `CREATE TEMP TABLE ${view.name} AS`, view.file);
      }
    });
    const answers: QueryAnswer[] = [];
    for (const spec of QUERIES) {
      answers.push({ ...spec, ...await _runFile(db, spec.file) });
    }
    return answers;
  } finally {
    for (const view of [...INTERMEDIATE_VIEWS].reverse()) {
      await db.connection.run(`DROP TABLE IF EXISTS temp.main.${view.name}`);
    }
    await buildIntermediate(db);
  }
}

/** Drops the intermediate views, so that temporary tables of the same names may be made. */
async function _dropIntermediate(db: DuckDb): Promise<void> {
  for (const view of [...INTERMEDIATE_VIEWS].reverse()) {
    await db.connection.run(`DROP VIEW IF EXISTS ${view.name}`);
  }
}

/**
 * Runs `work` with DuckDB free to write rows in any order: tables have none, and every answer
 * and check orders its rows itself, so only the work's cost changes (DuckDB keeps order by
 * default, which costs it time and memory on every table it makes).
 */
async function _withoutInsertionOrder(db: DuckDb, work: () => Promise<void>): Promise<void> {
  const { rows } = await db.query("SELECT current_setting('preserve_insertion_order')");
  await db.connection.run("SET preserve_insertion_order = false");
  try {
    await work();
  } finally {
    await db.connection.run(`SET preserve_insertion_order = ${rows[0][0] ? "true" : "false"}`);
  }
}

/** Runs every check file; one result per row, named by its `check_name`. */
export async function runQualityChecks(db: DuckDb): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const file of CHECK_FILES) {
    const { columns, rows } = await _runFile(db, file);
    const [name, failures, detail] = ["check_name", "failures", "detail"].map((column) => {
      const index = columns.indexOf(column);
      if (index === -1) throw new Error(`notebooks/sql/${file}: no column ${column}`);
      return index;
    });
    for (const row of rows) {
      const count = Number(row[failures]);
      results.push({
        name: String(row[name]),
        passed: count === 0,
        failures: count,
        detail: String(row[detail]),
      });
    }
  }
  return results;
}

/** Runs one SQL file of `SQL_DIR` and returns its rows. */
export async function runSqlFile(db: DuckDb, file: string): Promise<ResultTable> {
  return await _runFile(db, file);
}

async function _runFile(db: DuckDb, file: string): Promise<ResultTable> {
  const sql = await loadSql(file);
  try {
    return await db.query(sql);
  } catch (error) {
    throw new Error(`notebooks/sql/${file}: ${(error as Error).message}`);
  }
}

async function _createTable(db: DuckDb, table: string, file: string): Promise<void> {
  await _create(db, `CREATE OR REPLACE TABLE ${table} AS`, file);
}

/** Runs `create` (e.g. `CREATE TEMP TABLE x AS`) followed by one SQL file's query. */
async function _create(db: DuckDb, create: string, file: string): Promise<void> {
  const sql = await loadSql(file);
  try {
    await db.connection.run(`${create} ${sql}`);
  } catch (error) {
    throw new Error(`notebooks/sql/${file}: ${(error as Error).message}`);
  }
}

/**
 * One DuckDB value as plain JS: integers as numbers (text beyond 2^53),
 * timestamps as `YYYY-MM-DDTHH:MM:SS[.ffffff]`, dates as `YYYY-MM-DD`,
 * decimals as numbers, lists as arrays.
 */
export function toPlain(value: DuckDBValue): unknown {
  if (value === null || typeof value !== "object") {
    if (typeof value === "bigint") {
      return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(value)
        : value.toString();
    }
    return value;
  }
  if (value instanceof DuckDBTimestampValue) return isoFromMicros(value.micros);
  if (value instanceof DuckDBListValue) return value.items.map(toPlain);
  if (value instanceof DuckDBDecimalValue) return value.toDouble();
  if (value instanceof DuckDBDateValue) return value.toString();
  return String(value);
}

/** Microseconds since 1970 as `YYYY-MM-DDTHH:MM:SS`, plus `.ffffff` when not whole seconds. */
export function isoFromMicros(micros: bigint): string {
  const million = 1_000_000n;
  const fraction = ((micros % million) + million) % million;
  const seconds = (micros - fraction) / million;
  const text = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  return fraction === 0n ? text : `${text}.${fraction.toString().padStart(6, "0")}`;
}

function _quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function _literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
