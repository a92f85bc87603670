/**
 * A worker that lands generated tables for `land_generated.ts`, so that the
 * tables are generated and written on other cores than the caller's. Receives
 * a list of `LandJob`s, lands them in order, tells `progress` (records so
 * far) now and then and `table` as each job's objects are all written, and
 * answers `done` with what each wrote, or `error`.
 *
 * @example
 * ```ts
 * const worker = new Worker(new URL("./land_worker.ts", import.meta.url).href, { type: "module" });
 * worker.postMessage([{ bucketDir: "out/bucket", topic: "0123456789ab.geo", kind: "geo", dataset: { rows: 100, seed: 1 }, flushSize: 1000 }]);
 * ```
 */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import { type LandJob, landTables, type LandWorkerMessage } from "./land_generated.ts";

const send = (message: LandWorkerMessage): void => self.postMessage(message);

/** Records landed so far are told at most this often: enough for a progress line each second. */
const PROGRESS_EVERY_MS = 250;

self.onmessage = async (event: MessageEvent<LandJob[]>) => {
  let told = performance.now();
  const progress = (records: number) => {
    const now = performance.now();
    if (now - told < PROGRESS_EVERY_MS) return;
    told = now;
    send({ type: "progress", records });
  };
  try {
    const landed = await landTables(event.data, {
      onRecords: progress,
      onTable: (job, table) => send({ type: "table", job, landed: table }),
    });
    send({ type: "done", landed });
  } catch (error) {
    send({ type: "error", message: error instanceof Error ? error.message : String(error) });
  }
};
