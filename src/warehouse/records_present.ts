/**
 * No rows is not a pass. Every SQL check counts what is wrong among the
 * rows, so a source that yielded none (empty objects, as an upload gone
 * wrong leaves them; a wrong prefix; an empty table) passed them all with
 * empty answers. These checks fail such a run by name. They live in the
 * runner, not in `notebooks/sql/checks/`, because the incremental rule
 * needs what a check file cannot see: the state of earlier runs.
 *
 * - One-shot (`sim`): a table with no records fails.
 * - Incremental (`sim --incremental`): a day without new objects is
 *   legitimate (the bucket only grows when the pipeline ran) and passes,
 *   saying so. A table fails when silver would still be empty after the
 *   run (no run ever yielded a row of it), or when a new object of it is
 *   empty (0 bytes, as an upload gone wrong leaves it). An empty object is
 *   not marked read, so each run fails on it again until it holds records,
 *   and then reads them once.
 *
 * @example
 * ```ts
 * import { recordsPresentChecks } from "./records_present.ts";
 * const checks = recordsPresentChecks({ pin: 0, geo: 5, user: 5 });
 * checks[0].passed; // false: "no pin records ..."
 * ```
 */
import type { TableKind } from "../core/tables.ts";
import type { CheckResult } from "./duckdb_runner.ts";

/** The checks' names begin so, then the table. */
export const RECORDS_PRESENT = "records present";

const EMPTY_CAUSES = "empty objects, a wrong bucket or prefix, or an empty table";

/** One check per table of the one-shot run: fails where `records[kind]` is 0. */
export function recordsPresentChecks(records: Record<TableKind, number>): CheckResult[] {
  return Object.entries(records).map(([kind, count]) => ({
    name: `${RECORDS_PRESENT} ${kind}`,
    passed: count > 0,
    failures: count > 0 ? 0 : 1,
    detail: count > 0
      ? `${count} records`
      : `no ${kind} records: the source yielded none (${EMPTY_CAUSES}); the other checks ` +
        "pass on nothing",
  }));
}

/** What an incremental run saw of one table. */
export interface IncrementalTableCounts {
  /** New objects read by this run (empty ones not included). */
  newObjects: number;
  /** New objects of 0 bytes, left unread. */
  emptyObjects: number;
  /** Rows in silver before this run. */
  silverBefore: number;
  /** Cleaned rows of this run (before the merge drops those silver holds). */
  cleaned: number;
}

/** One check per table of an incremental run (see the module's rules). */
export function incrementalRecordsChecks(
  counts: Record<TableKind, IncrementalTableCounts>,
): CheckResult[] {
  return Object.entries(counts).map(([kind, c]) => {
    const name = `${RECORDS_PRESENT} ${kind}`;
    const fail = (detail: string) => ({ name, passed: false, failures: 1, detail });
    const pass = (detail: string) => ({ name, passed: true, failures: 0, detail });
    if (c.emptyObjects > 0) {
      return fail(
        `${c.emptyObjects} new ${kind} objects are empty (0 bytes, as an upload gone wrong ` +
          "leaves them): left unread until they hold records",
      );
    }
    if (c.silverBefore === 0 && c.cleaned === 0) {
      return fail(
        `no ${kind} rows: no run has yielded one, silver is empty (${EMPTY_CAUSES}); ` +
          "the other checks pass on nothing",
      );
    }
    if (c.newObjects === 0) {
      return pass(
        `no new ${kind} objects since the last run: nothing added, ${c.silverBefore} rows in ` +
          "silver from earlier runs",
      );
    }
    return pass(`${c.newObjects} new objects, ${c.silverBefore} rows in silver before`);
  });
}
