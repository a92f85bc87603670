/**
 * A worker that lands generated tables for `land_generated.ts`, so that the
 * tables are generated and written on other cores than the caller's. Receives
 * a list of `LandJob`s, lands them in order, answers `done` with what each
 * wrote, or `error`.
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

self.onmessage = async (event: MessageEvent<LandJob[]>) => {
  try {
    send({ type: "done", landed: await landTables(event.data) });
  } catch (error) {
    send({ type: "error", message: error instanceof Error ? error.message : String(error) });
  }
};
