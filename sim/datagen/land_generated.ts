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
import { toRecord } from "../../src/core/records.ts";
import { TABLE_KINDS, type TableKind } from "../../src/core/tables.ts";
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

/** Messages from `land_worker.ts`: what each of its jobs landed, in the jobs' order. */
export type LandWorkerMessage =
  | { type: "done"; landed: Landed[] }
  | { type: "error"; message: string };

/** The records of generated table `kind`, in position order. */
export function* generatedRecords(kind: TableKind, dataset: DatasetOptions): Generator<unknown> {
  for (const row of generateRows(kind, dataset)) yield toRecord(kind, row);
}

/** Lands one generated table in this thread. */
export function landTable(job: LandJob): Promise<Landed> {
  return landRecords(job.bucketDir, job.topic, generatedRecords(job.kind, job.dataset), {
    flushSize: job.flushSize,
  });
}

/** Lands generated tables one after another in this thread. */
export async function landTables(jobs: readonly LandJob[]): Promise<Landed[]> {
  const landed: Landed[] = [];
  for (const job of jobs) landed.push(await landTable(job));
  return landed;
}

/** Workers `landGenerated` uses unless told: one per table from `WORKER_MIN_ROWS` rows on. */
export function defaultLandWorkers(rows: number): number {
  return rows >= WORKER_MIN_ROWS ? TABLE_KINDS.length : 0;
}

/**
 * Lands every table of the generated dataset, topic `topicOf(kind)`, `flushSize` records per
 * object, with `workers` workers sharing the tables (0: all in this thread; default
 * `defaultLandWorkers`).
 */
export async function landGenerated(
  bucketDir: string,
  topicOf: (kind: TableKind) => string,
  dataset: DatasetOptions,
  { flushSize = 1000, workers = defaultLandWorkers(dataset.rows) } = {},
): Promise<Record<TableKind, Landed>> {
  validateDatasetOptions(dataset);
  const jobs: LandJob[] = TABLE_KINDS.map((kind) => ({
    bucketDir,
    topic: topicOf(kind),
    kind,
    dataset,
    flushSize,
  }));
  const lanes = Math.min(Math.max(0, Math.floor(workers)), jobs.length);
  const landed = new Map<LandJob, Landed>();
  if (lanes === 0) {
    (await landTables(jobs)).forEach((result, i) => landed.set(jobs[i], result));
  } else {
    const shares = Array.from(
      { length: lanes },
      (_, lane) => jobs.filter((_, i) => i % lanes === lane),
    );
    // Every worker stops before a failure is passed on: the caller may then remove the folder.
    await allFinished(shares.map(async (share) => {
      (await landInWorker(share)).forEach((result, i) => landed.set(share[i], result));
    }));
  }
  return Object.fromEntries(jobs.map((job) => [job.kind, landed.get(job)!])) as Record<
    TableKind,
    Landed
  >;
}

function landInWorker(jobs: LandJob[]): Promise<Landed[]> {
  const worker = new Worker(new URL("./land_worker.ts", import.meta.url).href, { type: "module" });
  const topics = jobs.map((job) => job.topic).join(", ");
  return new Promise<Landed[]>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<LandWorkerMessage>) => {
      const message = event.data;
      if (message.type === "done") resolve(message.landed);
      else reject(new Error(`landing ${topics}: ${message.message}`));
    };
    worker.onerror = (event) => {
      event.preventDefault();
      reject(new Error(`landing ${topics}: ${event.message}`));
    };
    worker.postMessage(jobs);
  }).finally(() => worker.terminate());
}
