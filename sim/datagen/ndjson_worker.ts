/**
 * A worker that writes one table's NDJSON file for `ndjson_writer.ts`, so
 * the three tables can be generated on several cores at once. Receives
 * `{ path, kind, options }`, answers with progress, then `done` or `error`.
 *
 * @example
 * ```ts
 * const worker = new Worker(new URL("./ndjson_worker.ts", import.meta.url).href, { type: "module" });
 * worker.postMessage({ path: "out/pin.ndjson", kind: "pin", options: { rows: 100, seed: 1 } });
 * ```
 */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import type { TableKind } from "../../src/core/tables.ts";
import type { DatasetOptions } from "./generate.ts";
import { type WorkerMessage, writeTable } from "./ndjson_writer.ts";

const send = (message: WorkerMessage): void => self.postMessage(message);

self.onmessage = async (
  event: MessageEvent<{ path: string; kind: TableKind; options: DatasetOptions }>,
) => {
  const { path, kind, options } = event.data;
  try {
    const file = await writeTable(
      path,
      kind,
      options,
      (_kind, rows) => send({ type: "progress", rows }),
    );
    send({ type: "done", file });
  } catch (error) {
    send({ type: "error", message: error instanceof Error ? error.message : String(error) });
  }
};
