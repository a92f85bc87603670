/**
 * What a ledger says about the pipeline as a whole: the first stage still
 * behind its upstream, and the exit code `status` ends with (0 caught up,
 * 1 a gap, 3 the database down, 4 a target down).
 *
 * @example
 * ```ts
 * import { firstGap, ledgerExitCode } from "./gaps.ts";
 * // const gap = firstGap(ledger); // { path: "batch", kind: "pin", stage: "committed", behind: 5000, ... }
 * ```
 */
import { EXIT_CODES } from "../core/errors.ts";
import { TABLE_KINDS, type TableKind } from "../core/tables.ts";
import type { Ledger } from "./ledger.ts";
import type { StageName } from "./stage.ts";

/** A stage behind the one before it. */
export interface Gap {
  path: "batch" | "stream";
  kind: TableKind;
  stage: StageName;
  /** The stage before it. */
  upstream: StageName;
  behind: number;
  oldestAgeMs: number | null;
}

/** The first stage of a started path, table by table in order, that is behind. */
export function firstGap(ledger: Ledger): Gap | undefined {
  for (const path of ["batch", "stream"] as const) {
    if (!ledger[path].started) continue;
    for (const kind of TABLE_KINDS) {
      const stages = ledger[path].tables[kind];
      for (let i = 1; i < stages.length; i++) {
        const { stage, behind, oldestAgeMs } = stages[i];
        if (behind !== null && behind > 0) {
          return { path, kind, stage, upstream: stages[i - 1].stage, behind, oldestAgeMs };
        }
      }
    }
  }
  return undefined;
}

/** An age for people: `850 ms`, `12 s`, `4 min`, `3 h`. */
export function formatAge(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 3_600_000)} h`;
}

/** One line naming a gap. */
export function gapText(gap: Gap): string {
  const age = gap.oldestAgeMs === null ? "" : `, the oldest ${formatAge(gap.oldestAgeMs)} old`;
  return `${gap.path} ${gap.kind}: ${gap.stage} is ${gap.behind} record(s) behind ${gap.upstream}${age}`;
}

/** The server that failed first, by exit code: the database (3) before a target (4). */
export function downServer(ledger: Ledger): Ledger["servers"][number] | undefined {
  const down = ledger.servers.filter((server) => server.up === false);
  return down.find((s) => s.exitCode === EXIT_CODES.source) ??
    down.find((s) => s.exitCode === EXIT_CODES.target) ?? down[0];
}

/** 3 database down, 4 a target down, 1 another failure or a gap, 0 every stage caught up. */
export function ledgerExitCode(ledger: Ledger): number {
  const down = downServer(ledger);
  if (down) return down.exitCode ?? EXIT_CODES.failure;
  return firstGap(ledger) ? EXIT_CODES.failure : 0;
}
