/**
 * Reading a DuckDB file another process is writing, without touching its
 * lock. A process that opens a DuckDB file for writing (the stream consumer
 * for its whole run, the incremental runner for its run) holds a lock that
 * makes DuckDB refuse any other process even a read-only open; and a
 * read-only open by the ledger would in turn stop that writer from starting.
 * So the ledger never opens the file: it copies the file and its WAL (plain
 * reads, no lock) into a temporary folder and opens the copy. The copy is
 * kept only if the main file did not change while it was taken (the WAL is
 * copied first; the main file changes only at a checkpoint), which makes it
 * the state a crash at the moment the WAL was copied would leave: one DuckDB
 * itself recovers from.
 *
 * @example
 * ```ts
 * import { withDuckDbCopy } from "./duckdb_copy.ts";
 * const tables = await withDuckDbCopy("out/0123456789ab_stream.duckdb", (db) => db.query("SHOW TABLES"));
 * ```
 */
import { join } from "node:path";
import { CliError } from "../core/errors.ts";
import { type DuckDb, openDuckDb } from "../warehouse/duckdb_runner.ts";

/** How many times a copy is taken again when the file changed under it. */
const COPY_ATTEMPTS = 5;

/** The file's identity: size, modification time and inode, or undefined when it does not exist. */
async function fileVersion(path: string): Promise<string | undefined> {
  try {
    const info = await Deno.stat(path);
    return `${info.size}:${info.mtime?.getTime()}:${info.ino}`;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** Copies `path` and its WAL to `copy`, again while the main file changes; false when absent. */
async function copyStable(path: string, copy: string): Promise<boolean> {
  for (let attempt = 0; attempt < COPY_ATTEMPTS; attempt++) {
    const before = await fileVersion(path);
    if (before === undefined) return false;
    await Deno.remove(`${copy}.wal`).catch(() => {});
    await Deno.copyFile(`${path}.wal`, `${copy}.wal`).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
    await Deno.copyFile(path, copy);
    if (await fileVersion(path) === before) return true;
  }
  throw new CliError(`the DuckDB file ${path} kept changing while being copied`);
}

/** Runs `use` on a copy of the DuckDB file at `path`; undefined when there is no such file. */
export async function withDuckDbCopy<T>(
  path: string,
  use: (db: DuckDb) => Promise<T>,
): Promise<T | undefined> {
  const dir = await Deno.makeTempDir({ prefix: "pinpipe-ledger-" });
  try {
    const copy = join(dir, "copy.duckdb");
    if (!(await copyStable(path, copy))) return undefined;
    const db = await openDuckDb(copy, { memoryLimit: "256MB" });
    try {
      return await use(db);
    } finally {
      db.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
