/**
 * Writes the generated tables as NDJSON files, `<dir>/<kind>.ndjson`: one
 * JSON object per line, the table's columns in order, as the database holds
 * the row. Lines are encoded straight into one reused 4 MiB buffer, so memory
 * stays flat however many rows; each file is written under a `.partial` name
 * and renamed when complete, so a file that exists is whole. With `jobs` > 1
 * the tables are written at once, one worker each (the output is the same).
 *
 * @example
 * ```ts
 * import { writeNdjson } from "./ndjson_writer.ts";
 * const files = await writeNdjson("out/data", { rows: 100, seed: 1 });
 * files.map((file) => file.rows); // [100, 100, 100]
 * ```
 */
import { TABLE_KINDS, type TableKind } from "../../src/core/tables.ts";
import { type DatasetOptions, generateRows, validateDatasetOptions } from "./generate.ts";

/** One NDJSON file written. */
export interface NdjsonFile {
  kind: TableKind;
  path: string;
  rows: number;
  bytes: number;
}

/** Called now and then while rows are produced: rows done of `total` in table `kind`. */
export type ProgressCallback = (kind: TableKind, rows: number, total: number) => void;

/** Options of `writeNdjson`. */
export interface WriteOptions {
  /** Reports rows written, per table, about every 4 MiB. */
  onProgress?: ProgressCallback;
  /** Which tables (default all three, in order). */
  kinds?: readonly TableKind[];
  /** How many tables to write at once: 1 writes them in turn in this thread (default 1). */
  jobs?: number;
}

const CHUNK_BYTES = 4 << 20;

/**
 * Writes `<dir>/<kind>.ndjson` for each table. Returns the files in `kinds` order.
 *
 * @example
 * ```ts
 * await writeNdjson("out/data", { rows: 10_000_000, seed: 100 }, { jobs: 2 });
 * ```
 */
export async function writeNdjson(
  dir: string,
  options: DatasetOptions,
  { onProgress, kinds = TABLE_KINDS, jobs = 1 }: WriteOptions = {},
): Promise<NdjsonFile[]> {
  validateDatasetOptions(options);
  if (!Number.isSafeInteger(jobs) || jobs < 1) {
    throw new RangeError(`jobs must be a whole number of at least 1, got ${jobs}`);
  }
  await Deno.mkdir(dir, { recursive: true });
  const pathOf = (kind: TableKind) => `${dir}/${kind}.ndjson`;
  if (jobs === 1) {
    const files: NdjsonFile[] = [];
    for (const kind of kinds) files.push(await writeTable(pathOf(kind), kind, options, onProgress));
    return files;
  }
  // A small pool: at most `jobs` workers at once, tables started in order. The first failure
  // stops the others and starts no more; it is thrown only once every worker has ended, so
  // nothing still writes into `dir` after the rejection.
  const files = new Array<NdjsonFile>(kinds.length);
  const running = new Set<WorkerWrite>();
  let failure: { error: unknown } | undefined;
  let next = 0;
  const lane = async (): Promise<void> => {
    while (!failure && next < kinds.length) {
      const i = next++;
      const write = writeTableInWorker(pathOf(kinds[i]), kinds[i], options, onProgress);
      running.add(write);
      try {
        files[i] = await write.done;
      } catch (error) {
        if (!failure) {
          failure = { error };
          for (const other of running) other.stop();
        }
      } finally {
        running.delete(write);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, kinds.length) }, lane));
  if (failure) throw failure.error;
  return files;
}

/**
 * Writes one table's NDJSON file in this thread.
 *
 * @example
 * ```ts
 * await writeTable("out/geo.ndjson", "geo", { rows: 100, seed: 1 }); // { kind: "geo", rows: 100, ... }
 * ```
 *
 * An aborted `signal` stops it at the next 4 MiB written: the `.partial` file is removed and
 * the abort reason thrown.
 */
export async function writeTable(
  path: string,
  kind: TableKind,
  options: DatasetOptions,
  onProgress?: ProgressCallback,
  signal?: AbortSignal,
): Promise<NdjsonFile> {
  const partial = `${path}.partial`;
  const file = await Deno.open(partial, { write: true, create: true, truncate: true });
  const encoder = new TextEncoder();
  const buffer = new Uint8Array(CHUNK_BYTES);
  let used = 0;
  let bytes = 0;
  let rows = 0;
  const flush = async (): Promise<void> => {
    for (let done = 0; done < used;) done += await file.write(buffer.subarray(done, used));
    bytes += used;
    used = 0;
  };
  try {
    for (const row of generateRows(kind, options)) {
      const line = JSON.stringify(row) + "\n";
      // A UTF-16 unit never takes more than 3 bytes in UTF-8.
      if (used + line.length * 3 > buffer.length) {
        await flush();
        signal?.throwIfAborted();
        onProgress?.(kind, rows, options.rows);
      }
      used += encoder.encodeInto(line, buffer.subarray(used)).written;
      rows++;
    }
    await flush();
  } catch (error) {
    file.close();
    await Deno.remove(partial).catch(() => {});
    throw error;
  }
  file.close();
  await Deno.rename(partial, path);
  onProgress?.(kind, rows, options.rows);
  return { kind, path, rows, bytes };
}

/** Messages from `ndjson_worker.ts`. */
export type WorkerMessage =
  | { type: "progress"; rows: number }
  | { type: "done"; file: NdjsonFile }
  | { type: "error"; message: string };

/** Messages to `ndjson_worker.ts`: a table to write, or stop writing it. */
export type WorkerRequest =
  | { type: "write"; path: string; kind: TableKind; options: DatasetOptions }
  | { type: "stop" };

/** A table being written by a worker: `done` settles once the worker has ended. */
interface WorkerWrite {
  done: Promise<NdjsonFile>;
  /** Asks the worker to stop; `done` then rejects once it has removed its `.partial` file. */
  stop(): void;
}

function writeTableInWorker(
  path: string,
  kind: TableKind,
  options: DatasetOptions,
  onProgress?: ProgressCallback,
): WorkerWrite {
  const worker = new Worker(new URL("./ndjson_worker.ts", import.meta.url).href, {
    type: "module",
  });
  const post = (request: WorkerRequest) => worker.postMessage(request);
  const done = new Promise<NdjsonFile>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<WorkerMessage>) => {
      const message = event.data;
      if (message.type === "progress") onProgress?.(kind, message.rows, options.rows);
      else if (message.type === "done") resolve(message.file);
      else reject(new Error(`writing ${path}: ${message.message}`));
    };
    worker.onerror = (event) => {
      event.preventDefault();
      reject(new Error(`writing ${path}: ${event.message}`));
    };
    post({ type: "write", path, kind, options });
  }).finally(() => worker.terminate());
  return { done, stop: () => post({ type: "stop" }) };
}
