/**
 * A worker that writes one table's NDJSON file for `ndjson_writer.ts`, so
 * the three tables can be generated on several cores at once. Receives
 * `{ type: "write", path, kind, options }`, answers with progress, then `done` or
 * `error`; `{ type: "stop" }` ends the write early (its `.partial` file removed).
 *
 * @example
 * ```ts
 * const worker = new Worker(new URL("./ndjson_worker.ts", import.meta.url).href, { type: "module" });
 * worker.postMessage({ type: "write", path: "out/pin.ndjson", kind: "pin", options: { rows: 100, seed: 1 } });
 * ```
 */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import { type WorkerMessage, type WorkerRequest, writeTable } from "./ndjson_writer.ts";

const send = (message: WorkerMessage): void => self.postMessage(message);
const stopping = new AbortController();

self.onmessage = async (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  if (request.type === "stop") {
    stopping.abort(new Error("stopped: another table failed"));
    return;
  }
  const { path, kind, options } = request;
  try {
    const file = await writeTable(
      path,
      kind,
      options,
      (_kind, rows) => send({ type: "progress", rows }),
      stopping.signal,
    );
    send({ type: "done", file });
  } catch (error) {
    send({ type: "error", message: error instanceof Error ? error.message : String(error) });
  }
};
