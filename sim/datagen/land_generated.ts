/**
 * Lands generated tables in a bucket directory as the sink would (see
 * `../land_bucket.ts`): each table's rows are generated, turned into the
 * producers' records and written as objects. Large datasets go to one
 * worker per table, so that the tables are made on several cores at once,
 * as `ndjson_writer.ts` does; small ones stay in this thread, where a
 * worker's start-up would cost more than it saves, unless the caller has
 * other work for this thread meanwhile (then one worker lands them all).
 * The objects are the same either way.
 *
 * @example
 * ```ts
 * import { landGenerated } from "./land_generated.ts";
 * await landGenerated("out/bucket", (kind) => `0123456789ab.${kind}`, { rows: 100, seed: 1 });
 * ```
 */
import { TABLE_KINDS, type TableKind, TABLES } from "../../src/core/tables.ts";
import { allFinished } from "../../src/util/all_finished.ts";
import { type Landed, landRecords } from "../land_bucket.ts";
import { type DatasetOptions, generateRows, validateDatasetOptions } from "./generate.ts";

/** From this many rows per table on, each table is landed by a worker of its own. */
export const WORKER_MIN_ROWS = 100_000;

/** What a land worker is asked to do. */
export interface LandJob {
  bucketDir: string;
  topic: string;
  kind: TableKind;
  dataset: DatasetOptions;
  flushSize: number;
}

/**
 * Messages from `land_worker.ts`: records landed so far (now and then), then what each of its
 * jobs landed, in the jobs' order.
 */
export type LandWorkerMessage =
  | { type: "progress"; records: number }
  | { type: "table"; job: number; landed: Landed }
  | { type: "done"; landed: Landed[] }
  | { type: "error"; message: string };

/**
 * The records of generated table `kind`, in position order: what `toRecord` makes of each row.
 * The generator already builds each row's columns in the table's order, so only the DATETIMEs
 * change (`2020-08-28 03:52:47` to `2020-08-28T03:52:47`), in the fresh row itself: no second
 * object per row, no check of columns the generator always fills.
 */
export function* generatedRecords(kind: TableKind, dataset: DatasetOptions): Generator<unknown> {
  const datetimes = TABLES[kind].datetimeColumns;
  for (const row of generateRows(kind, dataset)) {
    for (const column of datetimes) row[column] = (row[column] as string).replace(" ", "T");
    yield row;
  }
}

/** Lands one generated table in this thread; `onObject` hears the table's records so far. */
export function landTable(job: LandJob, onObject?: (records: number) => void): Promise<Landed> {
  return landRecords(job.bucketDir, job.topic, generatedRecords(job.kind, job.dataset), {
    flushSize: job.flushSize,
    onObject,
  });
}

/** Whom `landTables` tells as it goes. */
export interface LandListeners {
  /** The records landed so far over all the jobs, after each object. */
  onRecords?: (records: number) => void;
  /** Job `job` (its index) has landed all its objects. */
  onTable?: (job: number, landed: Landed) => void;
}

/** Lands generated tables one after another in this thread. */
export async function landTables(
  jobs: readonly LandJob[],
  { onRecords, onTable }: LandListeners = {},
): Promise<Landed[]> {
  const landed: Landed[] = [];
  let before = 0;
  for (const job of jobs) {
    const table = await landTable(job, onRecords && ((records) => onRecords(before + records)));
    before += table.records;
    onTable?.(landed.length, table);
    landed.push(table);
  }
  return landed;
}

/** Workers `landGenerated` uses unless told: one per table from `WORKER_MIN_ROWS` rows on. */
export function defaultLandWorkers(rows: number): number {
  return rows >= WORKER_MIN_ROWS ? TABLE_KINDS.length : 0;
}

/** How `landGenerated` lands. */
export interface LandGeneratedOptions {
  /** Records per object (default 1000). */
  flushSize?: number;
  /** Workers sharing the tables: 0, all in this thread (default `defaultLandWorkers`). */
  workers?: number;
  /** Hears the records landed so far over every table, now and then (several times a second). */
  onRecords?: (records: number) => void;
  /** Hears that a table has landed all its objects (its folder is complete). */
  onTable?: (kind: TableKind, landed: Landed) => void;
  /**
   * The tables, in the order one worker (or this thread) lands them: the default, TABLE_KINDS.
   * A caller that reads each table as it lands may put the small ones first.
   */
  kinds?: readonly TableKind[];
}

/**
 * Lands every table of the generated dataset, topic `topicOf(kind)`, `flushSize` records per
 * object, with `workers` workers sharing the tables.
 */
export async function landGenerated(
  bucketDir: string,
  topicOf: (kind: TableKind) => string,
  dataset: DatasetOptions,
  {
    flushSize = 1000,
    workers = defaultLandWorkers(dataset.rows),
    onRecords,
    onTable,
    kinds = TABLE_KINDS,
  }: LandGeneratedOptions = {},
): Promise<Record<TableKind, Landed>> {
  validateDatasetOptions(dataset);
  const jobs: LandJob[] = kinds.map((kind) => ({
    bucketDir,
    topic: topicOf(kind),
    kind,
    dataset,
    flushSize,
  }));
  const lanes = Math.min(Math.max(0, Math.floor(workers)), jobs.length);
  const landed = new Map<LandJob, Landed>();
  if (lanes === 0) {
    const tables = await landTables(jobs, {
      onRecords,
      onTable: onTable && ((job, table) => onTable(jobs[job].kind, table)),
    });
    tables.forEach((result, i) => landed.set(jobs[i], result));
  } else {
    const shares = Array.from(
      { length: lanes },
      (_, lane) => jobs.filter((_, i) => i % lanes === lane),
    );
    const sofar = shares.map(() => 0);
    const heard = onRecords &&
      ((lane: number, records: number) => {
        sofar[lane] = records;
        onRecords(sofar.reduce((sum, n) => sum + n, 0));
      });
    // Every worker stops before a failure is passed on: the caller may then remove the folder.
    await allFinished(shares.map(async (share, lane) => {
      const results = await landInWorker(share, {
        onRecords: heard && ((records) => heard(lane, records)),
        onTable: onTable && ((job, table) => onTable(share[job].kind, table)),
      });
      results.forEach((result, i) => landed.set(share[i], result));
    }));
  }
  // In TABLE_KINDS order, whatever the order of landing.
  return Object.fromEntries(
    TABLE_KINDS.flatMap((kind) => {
      const job = jobs.find((candidate) => candidate.kind === kind);
      return job ? [[kind, landed.get(job)!]] : [];
    }),
  ) as Record<TableKind, Landed>;
}

function landInWorker(jobs: LandJob[], { onRecords, onTable }: LandListeners): Promise<Landed[]> {
  const worker = new Worker(new URL("./land_worker.ts", import.meta.url).href, { type: "module" });
  const topics = jobs.map((job) => job.topic).join(", ");
  return new Promise<Landed[]>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<LandWorkerMessage>) => {
      const message = event.data;
      if (message.type === "progress") onRecords?.(message.records);
      else if (message.type === "table") onTable?.(message.job, message.landed);
      else if (message.type === "done") resolve(message.landed);
      else reject(new Error(`landing ${topics}: ${message.message}`));
    };
    worker.onerror = (event) => {
      event.preventDefault();
      reject(new Error(`landing ${topics}: ${event.message}`));
    };
    worker.postMessage(jobs);
  }).finally(() => worker.terminate());
}
