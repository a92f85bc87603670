/**
 * Incremental batch runs over a bucket that only grows, in DuckDB, with the
 * semantics of the Databricks batch notebook (notebooks/pinpipe_incremental.py):
 *
 * - only objects not seen before are read (the state's `objects` table plays
 *   the part of Spark's file-source checkpoint: an object delivered again
 *   under the same key is skipped);
 * - each line of a new object becomes a bronze row (every field as text, its
 *   object, line, unknown fields and ingest time) or a quarantine row (object,
 *   line, raw text, reason: `quarantine.ts`); nothing fails, nothing vanishes;
 * - the run's bronze rows are cleaned by the very SQL files of the one-shot
 *   run, checked, and merged into silver on a row hash, so an exact
 *   duplicate, within the run or across runs, is kept once. The checks judge
 *   the records and quarantined lines since the last run that passed (this
 *   run's, unless an earlier one failed): a run retried after a failure
 *   fails again, until the data is fixed or `maxBadRecords` lets it through;
 * - gold, the answers, is computed from all of silver.
 *
 * Bronze, quarantine, silver and the seen objects live in one DuckDB file (the
 * state), written in one transaction per run: a run that dies leaves the state
 * as the run before left it. The work of a run happens in memory.
 *
 * @example
 * ```ts
 * import { runIncremental } from "./incremental.ts";
 * const run = await runIncremental("out/state.duckdb", ".local/bucket/user-0123456789ab-bucket", "0123456789ab");
 * run.added.pin; // { objects: 11, bronze: 11000, quarantined: 0, silver: 10890 }
 * ```
 */
import { relative } from "node:path";
import { topicName } from "../core/names.ts";
import { TABLE_KINDS, type TableKind } from "../core/tables.ts";
import {
  CHECK_FILES,
  type CheckResult,
  type CleaningCount,
  cleanKind,
  type DuckDb,
  listObjects,
  openDuckDb,
  type QueryAnswer,
  RAW_COLUMNS,
  runQualityChecks,
  runQueries,
} from "./duckdb_runner.ts";
import {
  QUARANTINE_REASONS,
  type QuarantinedLine,
  type QuarantineReason,
  type RecordLine,
  splitObject,
} from "./quarantine.ts";
import { stageTimer } from "../core/stage_timer.ts";
import { dbFileError } from "./file_errors.ts";
import { incrementalRecordsChecks, type IncrementalTableCounts } from "./records_present.ts";

/** What one run added to one table. */
export interface AddedCounts {
  /** New objects read. */
  objects: number;
  /** Records (lines that are records) added to bronze. */
  bronze: number;
  /** Lines sent to quarantine. */
  quarantined: number;
  /** Rows added to silver (new cleaned rows, exact duplicates of silver left out). */
  silver: number;
}

/** A quarantined line and its table. */
export interface QuarantineExample extends QuarantinedLine {
  kind: TableKind;
}

/** Quarantined lines not yet let through by a run that passed: how many, per reason, examples. */
export interface PendingQuarantine {
  count: number;
  /** Every reason, 0 included, in the order of `QUARANTINE_REASONS`. */
  byReason: Record<string, number>;
  /** The first `EXAMPLES`, by table, object and line. */
  examples: QuarantineExample[];
}

/** Unknown fields seen in this run's records of one table: how many records, which fields. */
export interface SchemaDrift {
  records: number;
  fields: string[];
}

/** What one incremental run did, and the answers over all of silver after it. */
export interface IncrementalRun {
  runId: number;
  added: Record<TableKind, AddedCounts>;
  /** Objects found that earlier runs had read already. */
  skippedObjects: number;
  /** Rows in silver after the run, per table. */
  silverRows: Record<TableKind, number>;
  /** The lines quarantined since the last run that passed, this run's included. */
  quarantine: PendingQuarantine;
  /** Lines in quarantine over every run. */
  quarantineTotal: number;
  drift: Record<TableKind, SchemaDrift>;
  /** The run's bronze rows in and cleaned rows out, per table (what the one-shot run calls cleaned). */
  cleaned: Record<TableKind, CleaningCount>;
  /** The data-quality checks (schema drift included) over the pending rows, then the quarantine check. */
  checks: CheckResult[];
  /** The answers over all of silver. */
  answers: QueryAnswer[];
  /** Milliseconds per phase: open, stage, clean_check, commit, gold. */
  timings: Record<string, number>;
}

/** Options of one run. */
export interface IncrementalOptions {
  /** More quarantined lines than this in one run fail the quarantine check (the run still writes all). */
  maxBadRecords?: number;
  /** The ingest time to record (default: now). */
  now?: Date;
}

/** How many quarantined lines a run reports by name. */
export const EXAMPLES = 5;

/** Bronze's columns after the record's fields. */
const BRONZE_META = "_object VARCHAR, _line INTEGER, _unknown_fields VARCHAR, " +
  "_ingested_at TIMESTAMP, _run_id INTEGER";

/** Creates the state's tables when missing (silver is created by the first run, from the cleaned columns). */
async function ensureState(db: DuckDb): Promise<void> {
  const statements = [
    "CREATE TABLE IF NOT EXISTS state.runs (run_id INTEGER, started_at TIMESTAMP, objects INTEGER, " +
    "passed BOOLEAN)",
    "CREATE TABLE IF NOT EXISTS state.objects (kind VARCHAR, object VARCHAR, run_id INTEGER)",
    "CREATE TABLE IF NOT EXISTS state.quarantine (kind VARCHAR, object VARCHAR, line INTEGER, " +
    "raw_text VARCHAR, reason VARCHAR, ingested_at TIMESTAMP, run_id INTEGER)",
    ...TABLE_KINDS.map((kind) =>
      `CREATE TABLE IF NOT EXISTS state.bronze_${kind} (${
        RAW_COLUMNS[kind].map((column) => `${quote(column)} VARCHAR`).join(", ")
      }, ${BRONZE_META})`
    ),
  ];
  for (const sql of statements) await db.connection.run(sql);
}

/**
 * Runs once over `bucketDir` (objects `topics/<id>.<kind>/partition=*\/*.json`),
 * keeping state in the DuckDB file `statePath` (made if missing).
 */
export async function runIncremental(
  statePath: string,
  bucketDir: string,
  id: string,
  { maxBadRecords = 0, now = new Date() }: IncrementalOptions = {},
): Promise<IncrementalRun> {
  const { timings, lap } = stageTimer();
  const db = await openDuckDb();
  const staged: string[] = [];
  try {
    await db.connection.run(`ATTACH ${literal(statePath)} AS state`);
    await ensureState(db);
    lap("open");
    const runId = Number(
      (await db.query("SELECT coalesce(max(run_id), 0) + 1 FROM state.runs"))
        .rows[0][0],
    );
    const ingestedAt = now.toISOString().replace("Z", "");
    // Records and lines since the last run that passed are pending: checked again, so a run
    // retried after a failure fails again until the cause is fixed or max_bad_records allows it.
    const lastPassed = Number(
      (await db.query("SELECT coalesce(max(run_id) FILTER (WHERE passed), 0) FROM state.runs"))
        .rows[0][0],
    );

    // Stage: this run's records and quarantined lines, in memory.
    const added = {} as Record<TableKind, AddedCounts>;
    const quarantined: QuarantineExample[] = [];
    const newObjects: { kind: TableKind; object: string }[] = [];
    const textObjects = {} as Record<TableKind, string[]>;
    let skippedObjects = 0;
    const emptyObjects = {} as Record<TableKind, number>;
    for (const kind of TABLE_KINDS) {
      emptyObjects[kind] = 0;
      const topicDir = `${bucketDir}/topics/${topicName(id, kind)}`;
      const seen = new Set(
        (await db.query(`SELECT object FROM state.objects WHERE kind = '${kind}'`)).rows.map((
          row,
        ) => String(row[0])),
      );
      const records: RecordLine[] = [];
      textObjects[kind] = [];
      let objects = 0;
      for (const path of await listObjects(topicDir)) {
        const key = relative(bucketDir, path);
        if (seen.has(key)) {
          skippedObjects++;
          continue;
        }
        const bytes = await Deno.readFile(path);
        if (bytes.length === 0) {
          // Not marked read: a record in it later is read then (records_present.ts fails the run).
          emptyObjects[kind]++;
          continue;
        }
        objects++;
        newObjects.push({ kind, object: key });
        if (isUtf8(bytes)) {
          // The common case: DuckDB splits and sorts the lines itself, much faster.
          textObjects[kind].push(path);
          continue;
        }
        const split = splitObject(kind, key, bytes);
        records.push(...split.records);
        for (const line of split.quarantined) quarantined.push({ kind, ...line });
      }
      staged.push(await stageRecords(db, kind, records, ingestedAt, runId));
      added[kind] = { objects, bronze: 0, quarantined: 0, silver: 0 };
    }
    staged.push(await stageQuarantine(db, quarantined, ingestedAt, runId));
    for (const kind of TABLE_KINDS) {
      await stageTextObjects(db, kind, bucketDir, textObjects[kind], ingestedAt, runId);
      added[kind].bronze = await count(db, `batch_${kind}`);
      added[kind].quarantined = await count(db, `batch_quarantine WHERE kind = '${kind}'`);
    }

    lap("stage");
    // Clean and check this run's records with the one-shot run's SQL.
    const cleaned = {} as Record<TableKind, CleaningCount>;
    for (const kind of TABLE_KINDS) {
      const fields = RAW_COLUMNS[kind].map(quote).join(", ");
      await db.connection.run(
        `CREATE OR REPLACE TABLE raw_${kind} AS SELECT ${fields} FROM batch_${kind} ` +
          `UNION ALL SELECT ${fields} FROM state.bronze_${kind} WHERE _run_id > ${lastPassed}`,
      );
      // The fields those records carry beyond the table's, as checks/schema_drift.sql reads them.
      await db.connection.run(
        `CREATE OR REPLACE TABLE raw_${kind}_unknown_fields AS SELECT field, count(*) AS records ` +
          `FROM (SELECT unnest(string_split(_unknown_fields, ',')) AS field FROM (` +
          `SELECT _unknown_fields FROM batch_${kind} UNION ALL SELECT _unknown_fields ` +
          `FROM state.bronze_${kind} WHERE _run_id > ${lastPassed}) AS u ` +
          `WHERE _unknown_fields IS NOT NULL) AS f GROUP BY field`,
      );
      cleaned[kind] = await cleanKind(db, kind);
      await db.connection.run(
        `CREATE OR REPLACE TABLE batch_silver_${kind} AS ` +
          `SELECT c.*, md5_number(to_json(c)) AS _row_hash, ${runId} AS _run_id FROM ${kind} AS c`,
      );
    }
    const checks = await runQualityChecks(db);
    if (!CHECK_FILES.includes(SCHEMA_DRIFT_FILE)) checks.push(...await driftChecks(db));
    const drift = await schemaDrift(db);
    const quarantine = await pendingQuarantine(db, lastPassed);
    checks.push(quarantineCheck(quarantine, maxBadRecords));
    const tableCounts = {} as Record<TableKind, IncrementalTableCounts>;
    for (const kind of TABLE_KINDS) {
      tableCounts[kind] = {
        newObjects: added[kind].objects,
        emptyObjects: emptyObjects[kind],
        silverBefore: await silverCount(db, kind),
        cleaned: cleaned[kind].rowsOut,
      };
    }
    checks.unshift(...incrementalRecordsChecks(tableCounts));
    const passed = checks.every((check) => check.passed);

    lap("clean_check");
    // Commit: bronze, quarantine, seen objects and the new silver rows, all or nothing.
    await db.connection.run("BEGIN TRANSACTION");
    try {
      for (const kind of TABLE_KINDS) {
        await db.connection.run(`INSERT INTO state.bronze_${kind} SELECT * FROM batch_${kind}`);
        await db.connection.run(
          `CREATE TABLE IF NOT EXISTS state.silver_${kind} AS ` +
            `SELECT * FROM batch_silver_${kind} LIMIT 0`,
        );
        const inserted = await db.query(
          `INSERT INTO state.silver_${kind} SELECT * FROM batch_silver_${kind} ` +
            `WHERE _row_hash NOT IN (SELECT _row_hash FROM state.silver_${kind})`,
        );
        added[kind].silver = Number(inserted.rows[0]?.[0] ?? 0);
      }
      await db.connection.run("INSERT INTO state.quarantine SELECT * FROM batch_quarantine");
      if (newObjects.length > 0) {
        await db.connection.run(
          `INSERT INTO state.objects VALUES ${
            newObjects.map(({ kind, object }) => `('${kind}', ${literal(object)}, ${runId})`)
              .join(", ")
          }`,
        );
      }
      await db.connection.run(
        `INSERT INTO state.runs VALUES (${runId}, TIMESTAMP '${ingestedAt}', ` +
          `${newObjects.length}, ${passed})`,
      );
      await db.connection.run("COMMIT");
    } catch (error) {
      // After a failed write DuckDB may have ended the transaction itself: the cause is `error`.
      await db.connection.run("ROLLBACK").catch(() => {});
      throw error;
    }

    lap("commit");
    // Gold: the answers over all of silver.
    const silverRows = {} as Record<TableKind, number>;
    for (const kind of TABLE_KINDS) {
      await db.connection.run(`DROP TABLE ${kind}`);
      await db.connection.run(
        `CREATE VIEW ${kind} AS SELECT * EXCLUDE (_row_hash, _run_id) FROM state.silver_${kind}`,
      );
      silverRows[kind] = Number((await db.query(`SELECT count(*) FROM ${kind}`)).rows[0][0]);
    }
    const answers = await runQueries(db);
    lap("gold");

    const quarantineTotal = Number(
      (await db.query("SELECT count(*) FROM state.quarantine")).rows[0][0],
    );
    return {
      runId,
      added,
      skippedObjects,
      silverRows,
      quarantine,
      quarantineTotal,
      drift,
      cleaned,
      checks,
      answers,
      timings,
    };
  } catch (error) {
    throw dbFileError(error, "the state", statePath);
  } finally {
    db.close();
    for (const file of staged) await Deno.remove(file).catch(() => {});
  }
}

/**
 * Makes the in-memory table `batch_<kind>` (bronze's columns) from the run's record lines: written
 * to a temporary NDJSON file, each field read as text by DuckDB's JSON functions, as the one-shot
 * run's `read_json` with text columns reads it.
 */
async function stageRecords(
  db: DuckDb,
  kind: TableKind,
  records: readonly RecordLine[],
  ingestedAt: string,
  runId: number,
): Promise<string> {
  const file = await Deno.makeTempFile({ prefix: `pinpipe_bronze_${kind}_`, suffix: ".json" });
  await Deno.writeTextFile(
    file,
    records.map((r) => JSON.stringify({ o: r.object, l: r.line, u: r.unknownFields, t: r.text }))
      .join("\n") + "\n",
  );
  const columns = RAW_COLUMNS[kind];
  const paths = columns.map((column) => literal(`$.${quote(column)}`)).join(", ");
  const fields = columns.map((column, i) => `v[${i + 1}] AS ${quote(column)}`).join(", ");
  await db.connection.run(
    `CREATE OR REPLACE TABLE batch_${kind} (${
      columns.map((column) => `${quote(column)} VARCHAR`).join(", ")
    }, ${BRONZE_META})`,
  );
  if (records.length > 0) {
    await db.connection.run(
      `INSERT INTO batch_${kind} SELECT ${fields}, o, l, u, TIMESTAMP '${ingestedAt}', ${runId} ` +
        `FROM (SELECT json_extract_string(t, [${paths}]) AS v, o, l, u FROM read_json(` +
        `${literal(file)}, format = 'newline_delimited', ` +
        `columns = {o: 'VARCHAR', l: 'INTEGER', u: 'VARCHAR', t: 'VARCHAR'}))`,
    );
  }
  return file;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function isUtf8(bytes: Uint8Array): boolean {
  try {
    utf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

async function count(db: DuckDb, from: string): Promise<number> {
  return Number((await db.query(`SELECT count(*) FROM ${from}`)).rows[0][0]);
}

/**
 * Adds the lines of objects that are UTF-8 text to `batch_<kind>` and `batch_quarantine`, split
 * and sorted by DuckDB with the rules of `quarantine.ts` (which handles objects that are not UTF-8
 * text, line by line): white space only is `empty_line`, invalid JSON `not_json`, JSON but not an
 * object `not_an_object`, an object with none of the table's fields `no_expected_fields`.
 */
async function stageTextObjects(
  db: DuckDb,
  kind: TableKind,
  bucketDir: string,
  paths: readonly string[],
  ingestedAt: string,
  runId: number,
): Promise<void> {
  if (paths.length === 0) return;
  const columns = RAW_COLUMNS[kind];
  const expected = `[${columns.map(literal).join(", ")}]`;
  const jsonPaths = columns.map((column) => literal(`$.${quote(column)}`)).join(", ");
  const fields = columns.map((column, i) => `v[${i + 1}] AS ${quote(column)}`).join(", ");
  const prefix = bucketDir.replace(/\/+$/, "") + "/";
  await db.connection.run(
    `CREATE OR REPLACE TEMP TABLE lines_${kind} AS ` +
      `WITH files AS (SELECT substr(filename, ${prefix.length + 1}) AS o, ` +
      `string_split(content, chr(10)) AS parts FROM read_text([${
        paths.map(literal).join(", ")
      }])), ` +
      "split AS (SELECT o, unnest(generate_series(1, len(parts))) AS l, unnest(parts) AS t, " +
      "len(parts) AS n FROM files) " +
      "SELECT o, l, t, CASE " +
      "WHEN regexp_full_match(t, '[ \t\r]*') THEN 'empty_line' " +
      "WHEN NOT json_valid(t) THEN 'not_json' " +
      "WHEN json_type(t) <> 'OBJECT' THEN 'not_an_object' " +
      `WHEN NOT list_has_any(json_keys(t), ${expected}) THEN 'no_expected_fields' END AS reason ` +
      // The newline that ends the last line makes no line of its own.
      "FROM split WHERE NOT (l = n AND t = '')",
  );
  await db.connection.run(
    `INSERT INTO batch_${kind} SELECT ${fields}, o, l, ` +
      `nullif(array_to_string(list_sort(list_distinct(list_filter(json_keys(t), ` +
      `k -> NOT list_contains(${expected}, k)))), ','), ''), ` +
      `TIMESTAMP '${ingestedAt}', ${runId} ` +
      `FROM (SELECT json_extract_string(t, [${jsonPaths}]) AS v, o, l, t ` +
      `FROM lines_${kind} WHERE reason IS NULL)`,
  );
  await db.connection.run(
    `INSERT INTO batch_quarantine SELECT '${kind}', o, l, t, reason, TIMESTAMP '${ingestedAt}', ` +
      `${runId} FROM lines_${kind} WHERE reason IS NOT NULL`,
  );
  await db.connection.run(`DROP TABLE lines_${kind}`);
}

/** Makes the in-memory table `batch_quarantine` (the state's quarantine columns) from the run's lines. */
async function stageQuarantine(
  db: DuckDb,
  lines: readonly QuarantineExample[],
  ingestedAt: string,
  runId: number,
): Promise<string> {
  const file = await Deno.makeTempFile({ prefix: "pinpipe_quarantine_", suffix: ".json" });
  await Deno.writeTextFile(
    file,
    lines.map((q) =>
      JSON.stringify({ k: q.kind, o: q.object, l: q.line, t: q.rawText, r: q.reason })
    ).join("\n") + "\n",
  );
  await db.connection.run(
    "CREATE OR REPLACE TABLE batch_quarantine (kind VARCHAR, object VARCHAR, line INTEGER, " +
      "raw_text VARCHAR, reason VARCHAR, ingested_at TIMESTAMP, run_id INTEGER)",
  );
  if (lines.length > 0) {
    await db.connection.run(
      `INSERT INTO batch_quarantine SELECT k, o, l, t, r, TIMESTAMP '${ingestedAt}', ${runId} ` +
        `FROM read_json(${literal(file)}, format = 'newline_delimited', ` +
        `columns = {k: 'VARCHAR', o: 'VARCHAR', l: 'INTEGER', t: 'VARCHAR', r: 'VARCHAR'})`,
    );
  }
  return file;
}

/** The run's records with unknown fields, per table: how many, and the fields' names. */
async function schemaDrift(db: DuckDb): Promise<Record<TableKind, SchemaDrift>> {
  const drift = {} as Record<TableKind, SchemaDrift>;
  for (const kind of TABLE_KINDS) {
    const { rows } = await db.query(
      `SELECT count(*), list_sort(list_distinct(flatten(list(string_split(_unknown_fields, ',')))))` +
        ` FROM batch_${kind} WHERE _unknown_fields IS NOT NULL`,
    );
    drift[kind] = {
      records: Number(rows[0][0]),
      fields: (rows[0][1] as string[] | null) ?? [],
    };
  }
  return drift;
}

/** The quarantined lines of runs after `lastPassed` and of this run (`batch_quarantine`). */
async function pendingQuarantine(db: DuckDb, lastPassed: number): Promise<PendingQuarantine> {
  const pending = "(SELECT kind, object, line, raw_text, reason FROM batch_quarantine UNION ALL " +
    `SELECT kind, object, line, raw_text, reason FROM state.quarantine WHERE run_id > ${lastPassed})`;
  const counts = new Map(
    (await db.query(`SELECT reason, count(*) FROM ${pending} GROUP BY reason`)).rows.map((
      row,
    ) => [String(row[0]), Number(row[1])]),
  );
  const byReason = Object.fromEntries(
    QUARANTINE_REASONS.map((reason) => [reason, counts.get(reason) ?? 0]),
  );
  const examples = (await db.query(
    `SELECT kind, object, line, raw_text, reason FROM ${pending} ORDER BY kind, object, line ` +
      `LIMIT ${EXAMPLES}`,
  )).rows.map(([kind, object, line, rawText, reason]) => ({
    kind: kind as TableKind,
    object: String(object),
    line: Number(line),
    rawText: String(rawText),
    reason: reason as QuarantineReason,
  }));
  return {
    count: [...counts.values()].reduce((a, b) => a + b, 0),
    byReason,
    examples,
  };
}

/**
 * Fails when more than `max` lines wait in quarantine since the last run that passed; the detail
 * counts them by reason, with examples. The notebook words it the same (pinpipe_incremental.py).
 */
export function quarantineCheck(quarantine: PendingQuarantine, max: number): CheckResult {
  const reasons = Object.entries(quarantine.byReason).filter(([, n]) => n > 0).map(([r, n]) =>
    `${r} ${n}`
  );
  const shown = quarantine.examples.map((e) =>
    `${e.object} line ${e.line} (${e.reason}): ${JSON.stringify(e.rawText.slice(0, 60))}`
  );
  const failures = quarantine.count > max ? quarantine.count : 0;
  return {
    name: "quarantine within max_bad_records",
    passed: failures === 0,
    failures,
    detail: `${quarantine.count} lines quarantined since the last run that passed (max ${max})` +
      (reasons.length > 0 ? `: ${reasons.join(", ")}` : "") +
      (shown.length > 0 ? `; e.g. ${shown.join("; ")}` : ""),
  };
}

/** The check that names unknown fields (schema drift): they are ignored and never fail a run. */
const SCHEMA_DRIFT_FILE = "checks/schema_drift.sql";

/**
 * The schema drift check's rows where the manifest does not list `checks/schema_drift.sql` yet:
 * the same names and words, from the same `raw_<kind>_unknown_fields` tables.
 */
async function driftChecks(db: DuckDb): Promise<CheckResult[]> {
  const { rows } = await db.query(
    TABLE_KINDS.map((kind) =>
      `SELECT '${kind}' AS t, field, records FROM raw_${kind}_unknown_fields`
    ).join(" UNION ALL ") + " ORDER BY 1, 2",
  );
  const checks = rows.map(([kind, field, records]) => ({
    name: `schema drift ${kind}.${field}`,
    passed: true,
    failures: 0,
    detail: `${records} records carry it, kept without it`,
  })).sort((a, b) => a.name < b.name ? -1 : 1);
  if (checks.length > 0) return checks;
  return [{
    name: "schema drift",
    passed: true,
    failures: 0,
    detail: "no record carries a field beyond its table's columns",
  }];
}

/** Rows in `state.silver_<kind>`, 0 before the first run made it. */
async function silverCount(db: DuckDb, kind: TableKind): Promise<number> {
  const { rows } = await db.query(
    "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'state' " +
      `AND schema_name = 'main' AND table_name = 'silver_${kind}'`,
  );
  return Number(rows[0][0]) === 0 ? 0 : await count(db, `state.silver_${kind}`);
}

function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
