/**
 * `deno task sim`: the offline simulator. It takes rows (generated, read
 * from MySQL, or already in a bucket), turns each into the record the
 * producers send, lands the records in the bucket layout the S3 sink writes,
 * reads them back with DuckDB's JSON reader as Databricks reads them, runs
 * the notebooks' cleaning and query SQL, checks data quality, prints the
 * answers and writes an HTML report. A failed check exits non-zero.
 *
 * @example
 * ```ts
 * import { main } from "./sim_command.ts";
 * await main(["--rows", "2000", "--quiet"]); // 0 when every check passes
 * ```
 */
import { join } from "node:path";
import { choiceFlag, type Flags, intFlag, stringFlag } from "../src/core/cli.ts";
import { type Command, runCommand } from "../src/core/command.ts";
import { isDiskFull, UsageError } from "../src/core/errors.ts";
import { stageTimer } from "../src/core/stage_timer.ts";
import {
  progressWanted,
  type Stage,
  type StageProgress,
  stageProgress,
} from "../src/core/stage_progress.ts";
import { requireBucketDir, requireWritableFile } from "../src/core/preflight.ts";
import { loadConfig, type PipelineConfig } from "../src/core/config.ts";
import { bucketName, topicName } from "../src/core/names.ts";
import { isS3Location, s3BucketName } from "../src/util/s3_location.ts";
import { allFinished } from "../src/util/all_finished.ts";
import { type Row, toRecord } from "../src/core/records.ts";
import { TABLE_KINDS, type TableKind } from "../src/core/tables.ts";
import type {
  CheckResult,
  CleaningCount,
  DuckDb,
  QueryAnswer,
} from "../src/warehouse/duckdb_runner.ts";
import type { IncrementalRun } from "../src/warehouse/incremental.ts";
import { recordsPresentChecks } from "../src/warehouse/records_present.ts";
import { type DatasetOptions, DEFAULT_DATASET } from "./datagen/generate.ts";
import { defaultLandWorkers, landGenerated, WORKER_MIN_ROWS } from "./datagen/land_generated.ts";
import { landRecords } from "./land_bucket.ts";
import { claimOutDir, type OutDir, writeError } from "./out_dir.ts";
import { textTable } from "./text_table.ts";

const SOURCES = ["generate", "mysql", "bucket"] as const;
type SourceKind = typeof SOURCES[number];

const USAGE = `Usage: deno task sim [flags]

Replays the pipeline's data offline: rows -> the producers' records -> the S3 sink's bucket
layout -> DuckDB's JSON reader -> notebooks/sql cleaning and queries -> checks and a report.
No server is needed with the default source.

Flags:
  --from SOURCE     generate (default) | mysql (the RDS tables) | bucket (what the sink wrote)
  --bucket DIR|s3://B  with --from bucket: the bucket directory, or an S3 bucket read through the
                    AWS SDK (the credential chain)     (default: the configured bucket)
  --s3-endpoint URL with --bucket s3://B: an S3-compatible endpoint (default: AWS)
  --rows N          rows per table to generate                        (default ${DEFAULT_DATASET.rows})
  --seed S          generator seed                                    (default ${DEFAULT_DATASET.seed})
  --flush-size N    records per bucket object, as the sink's flush.size (default 1000)
  --out DIR         where the bucket copy and the report go           (default out/sim)
  --incremental     with --from bucket: read only the objects no earlier run read, as the daily
                    Databricks run does: malformed lines go to quarantine, new rows merge into
                    silver, the answers come from all of silver (state in --state)
  --state FILE      with --incremental: the DuckDB file keeping objects read, bronze, silver and
                    quarantine                                        (default out/sim/state.duckdb)
  --max-bad-records N  with --incremental: more quarantined lines than N fail a check (default 0)
  --json            print the answers, checks and counts as JSON on stdout (text goes to stderr)
  --json-out FILE   also write that JSON to FILE
  --max-rows N      answer rows printed per query                      (default 15)
  --quiet           print only the summary
  --help`;

/** What one simulator run produced. */
export interface SimResult {
  source: string;
  bucketDir: string;
  cleaned: Record<TableKind, CleaningCount>;
  answers: QueryAnswer[];
  checks: CheckResult[];
  reportPath: string;
  timings: Record<string, number>;
  /** With --incremental: what the run added, and the quarantine. */
  incremental?: IncrementalSummary;
}

/** What an incremental run added and what waits in quarantine, as the report and --json show it. */
export type IncrementalSummary = Omit<IncrementalRun, "answers" | "checks" | "cleaned"> & {
  statePath: string;
};

/** Options of one run, parsed from flags. */
export interface SimOptions {
  from: SourceKind;
  dataset: DatasetOptions;
  flushSize: number;
  outDir: string;
  bucketDir?: string;
  /** With an `s3://` bucketDir: an S3-compatible endpoint instead of AWS. */
  s3Endpoint?: string;
  /** Print the JSON on stdout (and the text on stderr). */
  json: boolean;
  /** Also write the JSON to this file. */
  jsonPath?: string;
  maxRows: number;
  quiet: boolean;
  /** With --incremental: the state file, and the quarantine's limit. */
  incremental?: { statePath: string; maxBadRecords: number };
}

function parseOptions(flags: Flags): SimOptions {
  const from = choiceFlag(flags, "from", SOURCES, "generate");
  if (flags.bucket !== undefined && from !== "bucket") {
    throw new UsageError("--bucket goes with --from bucket (the other sources write their own)");
  }
  const bucket = stringFlag(flags, "bucket");
  const s3Endpoint = stringFlag(flags, "s3-endpoint");
  if (bucket !== undefined && isS3Location(bucket)) {
    try {
      s3BucketName(bucket);
    } catch (error) {
      throw new UsageError(`--bucket: ${(error as Error).message}`);
    }
  }
  if (s3Endpoint !== undefined && !(bucket !== undefined && isS3Location(bucket))) {
    throw new UsageError("--s3-endpoint goes with --bucket s3://B");
  }
  if (flags.incremental === true && from !== "bucket") {
    throw new UsageError("--incremental goes with --from bucket (a bucket that grows day by day)");
  }
  for (const flag of ["state", "max-bad-records"]) {
    if (flags[flag] !== undefined && flags.incremental !== true) {
      throw new UsageError(`--${flag} goes with --incremental`);
    }
  }
  return {
    from,
    dataset: {
      rows: intFlag(flags, "rows", DEFAULT_DATASET.rows, { min: 1, max: 2_147_483_647 }),
      seed: intFlag(flags, "seed", DEFAULT_DATASET.seed),
    },
    flushSize: intFlag(flags, "flush-size", 1000, { min: 1 }),
    outDir: stringFlag(flags, "out", "out/sim"),
    bucketDir: bucket,
    s3Endpoint,
    json: flags.json === true,
    jsonPath: stringFlag(flags, "json-out"),
    maxRows: intFlag(flags, "max-rows", 15, { min: 0 }),
    quiet: flags.quiet === true,
    incremental: flags.incremental === true
      ? {
        statePath: stringFlag(flags, "state", "out/sim/state.duckdb"),
        maxBadRecords: intFlag(flags, "max-bad-records", 0, { min: 0 }),
      }
      : undefined,
  };
}

/** Rows of one table from MySQL, in index order. */
async function* sourceRows(kind: TableKind, config: PipelineConfig): AsyncGenerator<Row> {
  const { openSource } = await import("../src/source/rds_reader.ts");
  const source = await openSource(config.mysql);
  try {
    yield* source.rowsAfter(kind, Number.MIN_SAFE_INTEGER);
  } finally {
    await source.close();
  }
}

async function* records(rows: AsyncIterable<Row>, kind: TableKind) {
  for await (const row of rows) yield toRecord(kind, row);
}

/**
 * Copies the pipeline's topics from `s3://name` to `<out>/bucket/<name>` (the same keys and
 * bytes) and returns that folder, which DuckDB then reads as it reads any bucket folder.
 */
async function fromS3(
  location: string,
  options: SimOptions,
  config: PipelineConfig,
  out: OutDir,
  progress: (line: string) => void,
): Promise<string> {
  const { copyS3Objects } = await import("./s3_bucket_reader.ts");
  const bucket = s3BucketName(location);
  const relative = join("bucket", bucket);
  const toDir = await out.stage(relative);
  await copyS3Objects({
    bucket,
    prefixes: TABLE_KINDS.map((kind) => `topics/${topicName(config.id, kind)}/`),
    toDir,
    region: config.aws.region,
    endpoint: options.s3Endpoint,
    progress,
  }).catch((error) => {
    throw isDiskFull(error) ? writeError(options.outDir, error) : error;
  });
  await out.publish(relative);
  return join(options.outDir, relative);
}

/** `loading`, marked handled until it is awaited, so that a failure ends the run where it is used. */
function preload<T>(loading: Promise<T>): Promise<T> {
  loading.catch(() => {});
  return loading;
}

/**
 * Runs the simulator once, writing only below `options.outDir`, which it claims for the run
 * (`out_dir.ts`); throws on any error, returns the answers and checks.
 */
export async function simulate(
  options: SimOptions,
  config: PipelineConfig,
  progress: (line: string) => void = () => {},
  stages: StageProgress = stageProgress("sim", false),
): Promise<SimResult> {
  const out = await claimOutDir(options.outDir);
  try {
    return await simulateIn(out, options, config, progress, stages);
  } finally {
    await out.release();
  }
}

/** Writes the run's report in staging, then moves it into place; returns where it is. */
async function publishReport(
  out: OutDir,
  input: Parameters<typeof import("./report/report.ts").writeReport>[1],
): Promise<string> {
  const { writeReport } = await import("./report/report.ts");
  const staged = await out.stage("report");
  await writeReport(staged, input).catch((error) => {
    throw isDiskFull(error) ? writeError(out.path, error) : error;
  });
  await out.publish("report");
  return join(out.path, "report", "index.html");
}

async function simulateIn(
  out: OutDir,
  options: SimOptions,
  config: PipelineConfig,
  progress: (line: string) => void,
  stages: StageProgress,
): Promise<SimResult> {
  const engine = new Engine();
  try {
    return await simulateWith(out, options, config, progress, stages, engine);
  } finally {
    await engine.close();
  }
}

/**
 * What the run loads and opens once, when first asked for: DuckDB's runner (its library takes a
 * tenth of a second to load, in which this thread does nothing else), its database, and the
 * report's module and chart library. `start()` sets all of it going, after the landing has
 * started: while the tables land in a worker, this thread loads and opens.
 */
class Engine {
  #runner?: Promise<Warehouse>;
  #db?: Promise<DuckDb>;
  #report?: Promise<unknown>;

  start(): void {
    this.db();
    this.report();
  }

  runner(): Promise<Warehouse> {
    return this.#runner ??= preload(import("../src/warehouse/duckdb_runner.ts"));
  }

  db(): Promise<DuckDb> {
    return this.#db ??= preload(this.runner().then(({ openDuckDb }) => openDuckDb()));
  }

  report(): Promise<unknown> {
    return this.#report ??= preload(
      import("./report/report.ts").then(({ prepareReport }) => prepareReport()),
    );
  }

  async close(): Promise<void> {
    await this.#db?.then((db) => db.close(), () => {});
  }
}

type Warehouse = typeof import("../src/warehouse/duckdb_runner.ts");

/** The tables read and cleaned, where they were read from, and how long each stage took. */
interface ReadTables {
  bucketDir: string;
  source: string;
  cleaned: Record<TableKind, CleaningCount>;
  timings: Record<string, number>;
}

/** Generated tables land smallest first, so that DuckDB starts on them while pin lands. */
const LAND_ORDER: readonly TableKind[] = ["geo", "user", "pin"];

async function simulateWith(
  out: OutDir,
  options: SimOptions,
  config: PipelineConfig,
  progress: (line: string) => void,
  stages: StageProgress,
  engine: Engine,
): Promise<SimResult> {
  if (options.incremental) {
    return await simulateIncremental(out, options, config, progress, stages, engine);
  }
  const { source, bucketDir, cleaned, timings: before } = options.from === "bucket"
    ? await readBucket(out, options, config, progress, stages, engine)
    : options.from === "generate"
    ? await landAndReadGenerated(out, options, config, stages, engine)
    : await landAndReadMysql(out, options, config, stages, engine);
  const db = await engine.db();
  const { runQualityChecks, runQueries } = await engine.runner();
  const { timings, lap } = stageTimer();
  stages.stage("queries");
  const answers = await runQueries(db);
  lap("queries");
  stages.stage("checks");
  const checks = [
    ...recordsPresentChecks(
      Object.fromEntries(TABLE_KINDS.map((kind) => [kind, cleaned[kind].rowsIn])) as Record<
        TableKind,
        number
      >,
    ),
    ...await runQualityChecks(db),
  ];
  lap("checks");
  stages.stage("report");
  await engine.report();
  const reportPath = await publishReport(out, {
    title: `pinpipe simulation, pipeline ${config.id}`,
    generatedAt: new Date().toISOString(),
    source,
    answers,
    checks,
    cleaned,
  });
  lap("report");
  return {
    source,
    bucketDir,
    cleaned,
    answers,
    checks,
    reportPath,
    timings: { ...before, ...timings },
  };
}

/** The bucket's location (a directory, or an S3 bucket copied to one first) and its source line. */
async function bucketLocation(
  out: OutDir,
  options: SimOptions,
  config: PipelineConfig,
  progress: (line: string) => void,
  stages: StageProgress,
  lap: (name: string) => void,
): Promise<{ bucketDir: string; source: string }> {
  const location = options.bucketDir ?? config.bucket;
  const source = `bucket ${location}`;
  if (!isS3Location(location)) return { bucketDir: location, source };
  stages.stage("download", location);
  const bucketDir = await fromS3(location, options, config, out, progress);
  lap("download");
  return { bucketDir, source };
}

/** `--from bucket --incremental`: the incremental runner over the bucket, then the report. */
async function simulateIncremental(
  out: OutDir,
  options: SimOptions,
  config: PipelineConfig,
  progress: (line: string) => void,
  stages: StageProgress,
  engine: Engine,
): Promise<SimResult> {
  engine.report();
  const { timings, lap } = stageTimer();
  const { bucketDir, source } = await bucketLocation(out, options, config, progress, stages, lap);
  const { statePath, maxBadRecords } = options.incremental!;
  stages.stage("incremental", `state ${statePath}`);
  const { runIncremental } = await import("../src/warehouse/incremental.ts");
  const { answers, checks, cleaned, ...run } = await runIncremental(
    statePath,
    bucketDir,
    config.id,
    { maxBadRecords },
  );
  lap("incremental");
  const incremental = { ...run, statePath };
  stages.stage("report");
  await engine.report();
  const reportPath = await publishReport(out, {
    title: `pinpipe simulation, pipeline ${config.id}, incremental run ${run.runId}`,
    generatedAt: new Date().toISOString(),
    source: `${source}, state ${statePath}`,
    answers,
    checks,
    cleaned,
    incremental: incrementalReport(incremental),
  });
  lap("report");
  return { source, bucketDir, cleaned, answers, checks, reportPath, timings, incremental };
}

/** `--from bucket`: reads every topic, then cleans every table. */
async function readBucket(
  out: OutDir,
  options: SimOptions,
  config: PipelineConfig,
  progress: (line: string) => void,
  stages: StageProgress,
  engine: Engine,
): Promise<ReadTables> {
  engine.start();
  const { timings, lap } = stageTimer();
  const { bucketDir, source } = await bucketLocation(out, options, config, progress, stages, lap);
  const cleaned = await readAndClean(engine, stages, lap, bucketDir, config.id);
  return { bucketDir, source, cleaned, timings };
}

/**
 * Reads the landed bucket into DuckDB and cleans it, timing each. `landed`, each table's records
 * when known, sizes DuckDB's threads before the read; otherwise the read's counts do.
 */
async function readAndClean(
  engine: Engine,
  stages: StageProgress,
  lap: (name: string) => void,
  bucketDir: string,
  id: string,
  landed?: number[],
): Promise<ReadTables["cleaned"]> {
  const { fitThreads, rawCounts, registerRawFromBucket, runCleaning } = await engine.runner();
  const db = await engine.db();
  if (landed) await fitThreads(db, Math.max(...landed));
  const read = stages.stage("read", bucketDir);
  await registerRawFromBucket(db, bucketDir, id);
  const counts = landed ?? Object.values(await rawCounts(db));
  read.done(counts.reduce((sum, n) => sum + n, 0), "records");
  lap("read");
  if (!landed) await fitThreads(db, Math.max(...counts));
  stages.stage("clean");
  const cleaned = await runCleaning(db);
  lap("clean");
  return cleaned;
}

/** `--from mysql`: lands the tables as the sink would, then reads and cleans them. */
async function landAndReadMysql(
  out: OutDir,
  options: SimOptions,
  config: PipelineConfig,
  stages: StageProgress,
  engine: Engine,
): Promise<ReadTables> {
  engine.start();
  const { timings, lap } = stageTimer();
  const source = `MySQL ${config.mysql.host}:${config.mysql.port}/${config.mysql.database}`;
  const relative = join("bucket", bucketName(config.id));
  const staged = await out.stage(relative);
  const land = stages.stage("land", `from ${source}, ${options.flushSize} per object`);
  const sofar = TABLE_KINDS.map(() => 0);
  const tables = await allFinished(
    TABLE_KINDS.map((kind, i) =>
      landRecords(staged, topicName(config.id, kind), records(sourceRows(kind, config), kind), {
        flushSize: options.flushSize,
        onObject: (records) => {
          sofar[i] = records;
          land.rows(sofar.reduce((sum, n) => sum + n, 0));
        },
      })
    ),
  ).catch((error) => {
    throw isDiskFull(error) ? writeError(options.outDir, error) : error;
  });
  land.done(tables.reduce((sum, table) => sum + table.records, 0), "records");
  // Complete: only now does it replace the earlier run's copy.
  await out.publish(relative);
  const bucketDir = join(options.outDir, relative);
  lap("land");
  const landed = tables.map((table) => table.records);
  const cleaned = await readAndClean(engine, stages, lap, bucketDir, config.id, landed);
  return { bucketDir, source, cleaned, timings };
}

/**
 * `--from generate`: lands the generated tables in a worker and meanwhile reads and cleans each
 * in DuckDB as soon as its objects are all written, from the staging folder (large tables: a
 * worker each, read once all have landed); the bucket is published once all are landed and read.
 * Timings: `land` until the last object is written, `read` and `clean` the time spent in each,
 * which overlap the landing.
 */
async function landAndReadGenerated(
  out: OutDir,
  options: SimOptions,
  config: PipelineConfig,
  stages: StageProgress,
  engine: Engine,
): Promise<ReadTables> {
  const { rows, seed } = options.dataset;
  const source = `generated ${rows} rows per table, seed ${seed}`;
  const relative = join("bucket", bucketName(config.id));
  const staged = await out.stage(relative);
  const timings: Record<string, number> = {};
  const started = performance.now();
  const land = stages.stage(
    "land",
    `${TABLE_KINDS.length} x ${rows.toLocaleString("en")} rows, ${options.flushSize} per object`,
  );
  const landed = new Map(LAND_ORDER.map((kind) => [kind, Promise.withResolvers<void>()]));
  const landing = landGenerated(staged, (kind) => topicName(config.id, kind), options.dataset, {
    flushSize: options.flushSize,
    // At least one worker: this thread loads DuckDB meanwhile, then reads what has landed.
    workers: Math.max(1, defaultLandWorkers(rows)),
    kinds: LAND_ORDER,
    onRecords: (records) => land.rows(records, TABLE_KINDS.length * rows),
    onTable: (kind) => landed.get(kind)!.resolve(),
  }).then((tables) => {
    timings.land = Math.round(performance.now() - started);
    land.done(Object.values(tables).reduce((sum, table) => sum + table.records, 0), "records");
  }, (error) => {
    // A full disk (the worker's message says so); any other failure keeps its own words.
    const failure = isDiskFull(error) ? writeError(options.outDir, error) : error;
    for (const { reject } of landed.values()) reject(failure);
    throw failure;
  });
  for (const { promise } of landed.values()) preload(promise);
  // From WORKER_MIN_ROWS on, a worker per table takes both cores already: DuckDB would only take
  // turns with them (one round at 1,000,000 rows was slower so), and reads once all have landed.
  const allLanded = preload(Promise.all([...landed.values()].map(({ promise }) => promise)));
  const asTheyLand = rows < WORKER_MIN_ROWS;
  // The worker is on its way: now this thread loads DuckDB (blocking it a while) and opens it.
  engine.start();
  const cleaned = {} as Record<TableKind, CleaningCount>;
  const reading = (async () => {
    const { cleanKind, fitThreads, registerRawFromTopic } = await engine.runner();
    const db = await engine.db();
    await fitThreads(db, rows);
    let read: Stage | undefined;
    timings.read = 0;
    timings.clean = 0;
    for (const kind of LAND_ORDER) {
      await (asTheyLand ? landed.get(kind)!.promise : allLanded);
      read ??= stages.stage(
        "read and clean",
        asTheyLand ? `each table as it lands: ${LAND_ORDER.join(", ")}` : "every table landed",
      );
      let at = performance.now();
      await registerRawFromTopic(db, staged, config.id, kind);
      timings.read += performance.now() - at;
      at = performance.now();
      cleaned[kind] = await cleanKind(db, kind);
      timings.clean += performance.now() - at;
    }
    read?.done(TABLE_KINDS.length * rows, "records");
    timings.read = Math.round(timings.read);
    timings.clean = Math.round(timings.clean);
  })();
  // Both finish before a failure is passed on: the staging folder is removed after.
  await allFinished([landing, reading]);
  // Complete: only now does it replace the earlier run's copy.
  await out.publish(relative);
  return {
    bucketDir: join(options.outDir, relative),
    source,
    cleaned: Object.fromEntries(TABLE_KINDS.map((kind) => [kind, cleaned[kind]])) as Record<
      TableKind,
      CleaningCount
    >,
    timings: { land: timings.land, read: timings.read, clean: timings.clean },
  };
}

/** The report's section for an incremental run: what it added, and the quarantine. */
function incrementalReport(run: IncrementalSummary) {
  return {
    runId: run.runId,
    added: run.added,
    skippedObjects: run.skippedObjects,
    silverRows: run.silverRows,
    quarantine: run.quarantine,
    quarantineTotal: run.quarantineTotal,
    drift: run.drift,
  };
}

/**
 * An incremental run's figures under one name each, as `--json` prints them: what this run added
 * (`thisRun`), the rows the checks looked at (`checkedSinceLastPass`: this run's and those of runs
 * since the last that passed, in and out of cleaning), and `silverTotal`, all of silver after it.
 */
export function incrementalJson(
  run: IncrementalSummary,
  checked: Record<TableKind, CleaningCount>,
) {
  const { added, silverRows, ...rest } = run;
  return { ...rest, thisRun: added, checkedSinceLastPass: checked, silverTotal: silverRows };
}

/** The incremental run's lines of the text summary, in the words of `incrementalJson`'s names. */
export function incrementalLines(
  run: IncrementalSummary,
  checked: Record<TableKind, CleaningCount>,
): string[] {
  const lines = [
    `incremental run ${run.runId} (state ${run.statePath}): ${run.skippedObjects} objects read before, skipped`,
    ...TABLE_KINDS.map((kind) => {
      const a = run.added[kind];
      return `  this run, ${kind}: ${a.objects} new objects, ${a.bronze} records to bronze, ` +
        `${a.quarantined} lines to quarantine, ${a.silver} rows to silver; silver total ${
          run.silverRows[kind]
        }`;
    }),
    "checked since the last run that passed: " + TABLE_KINDS.map((kind) => {
      const { rowsIn, rowsOut } = checked[kind];
      return `${kind} ${rowsIn} in, ${rowsOut} out`;
    }).join("; "),
  ];
  const reasons = Object.entries(run.quarantine.byReason).filter(([, n]) => n > 0)
    .map(([reason, n]) => `${reason} ${n}`);
  lines.push(
    `quarantine: ${run.quarantine.count} lines since the last run that passed` +
      (reasons.length > 0 ? ` (${reasons.join(", ")})` : "") + `, ${run.quarantineTotal} in all`,
  );
  for (const e of run.quarantine.examples) {
    lines.push(
      `  ${e.object} line ${e.line} (${e.reason}): ${JSON.stringify(e.rawText.slice(0, 80))}`,
    );
  }
  return lines;
}

function printResult(
  result: SimResult,
  options: SimOptions,
  print: (line?: string) => void,
): void {
  if (!options.quiet) {
    for (const answer of result.answers) {
      print(`\n== ${answer.title} (${answer.name}, ${answer.rows.length} rows)`);
      print(textTable(answer.columns, answer.rows, { maxRows: options.maxRows }));
    }
    print();
  }
  print(`source: ${result.source}`);
  if (result.incremental) {
    for (const line of incrementalLines(result.incremental, result.cleaned)) print(line);
  } else {
    print(
      "cleaned: " + TABLE_KINDS.map((kind) => {
        const { rowsIn, rowsOut } = result.cleaned[kind];
        return `${kind} ${rowsIn} in, ${rowsOut} out (${rowsIn - rowsOut} duplicates dropped)`;
      }).join("; "),
    );
  }
  const failed = result.checks.filter((check) => !check.passed);
  for (const check of options.quiet ? failed : result.checks) {
    print(`${check.passed ? "PASS" : "FAIL"}  ${check.name}: ${check.detail}`);
  }
  print(
    `checks: ${result.checks.length - failed.length} passed, ${failed.length} failed`,
  );
  print(`report: ${result.reportPath}`);
  print(
    "timings (ms): " +
      Object.entries(result.timings).map(([name, ms]) => `${name} ${ms}`).join(", "),
  );
}

/**
 * The answers, checks and counts as the JSON `--json` prints. An incremental run has no
 * `cleaned`: its figures are `incremental`'s, each named for what it counts.
 */
function resultJson({ answers, checks, cleaned, source, incremental }: SimResult): string {
  const counts = incremental ? { incremental: incrementalJson(incremental, cleaned) } : { cleaned };
  return JSON.stringify({ source, ...counts, checks, answers }, null, 2);
}

/** `deno task sim`. */
export const COMMAND: Command = {
  name: "sim",
  usage: USAGE,
  flags: {
    from: { type: "string" },
    bucket: { type: "string" },
    "s3-endpoint": { type: "string" },
    rows: { type: "string" },
    seed: { type: "string" },
    "flush-size": { type: "string" },
    out: { type: "string" },
    json: { type: "boolean" },
    "json-out": { type: "string" },
    "max-rows": { type: "string" },
    quiet: { type: "boolean" },
    incremental: { type: "boolean" },
    state: { type: "string" },
    "max-bad-records": { type: "string" },
  },
  connections: ["id", "mysql"],
  exits: {
    1: "a check failed; another run holds --out; other failure",
    3: "the database (--from mysql)",
    4: "the bucket (--from bucket)",
  },
  async run(flags) {
    const options = parseOptions(flags);
    const config = loadConfig(flags);
    // The paths given, checked before the run rather than after it.
    const location = options.bucketDir ?? config.bucket;
    if (options.from === "bucket" && !isS3Location(location)) await requireBucketDir(location);
    if (options.jsonPath) await requireWritableFile(options.jsonPath, "--json-out");
    // With --json, stdout carries only the JSON.
    const print = options.json ? console.error : console.log;
    const result = await simulate(
      options,
      config,
      options.quiet ? undefined : print,
      stageProgress("sim", progressWanted(options.quiet)),
    );
    printResult(result, options, print);
    if (options.jsonPath) {
      await Deno.writeTextFile(options.jsonPath, resultJson(result) + "\n");
      print(`json: ${options.jsonPath}`);
    }
    if (options.json) console.log(resultJson(result));
    return result.checks.every((check) => check.passed) ? 0 : 1;
  },
};

/** `deno task sim`: 0 when every check passes, 1 when one fails. */
export function main(args: string[]): Promise<number> {
  return runCommand(COMMAND, args);
}
