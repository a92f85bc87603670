/**
 * A DuckDB file that could not be written (its disk full) as the one line a
 * command ends with, naming the file: DuckDB's own words say only "No space
 * left on device", sometimes over several lines, and a rollback failing after
 * it would hide even that.
 *
 * @example
 * ```ts
 * import { dbFileError } from "./file_errors.ts";
 * try {
 *   // ... work on the file
 * } catch (error) {
 *   throw dbFileError(error, "the state", "out/sim/state.duckdb");
 * }
 * ```
 */
import { CliError, isDiskFull } from "../core/errors.ts";

/** `error` as one line naming `what` (`the state`) at `path` if the disk was full; else `error`. */
export function dbFileError(error: unknown, what: string, path: string): unknown {
  if (!isDiskFull(error)) return error;
  const first = String((error as Error)?.message ?? error).split("\n")[0];
  return new CliError(`could not write ${what} ${path}: ${first}`);
}
