/**
 * Stage lines for a person watching a long run: each stage named as it
 * starts, and for stages that move rows, how many and how fast, at most once
 * a second while they run and once when they end. Only on a terminal and
 * without `--quiet` (`progressWanted`): a pipe or a log file gets nothing
 * extra, so what scripts read stays as it was.
 *
 * @example
 * ```ts
 * import { progressWanted, stageProgress } from "./stage_progress.ts";
 * const progress = stageProgress("sim", progressWanted(false));
 * const land = progress.stage("land", "3 x 11,000 rows"); // "sim: land (3 x 11,000 rows)"
 * land.rows(33_000, 99_000); // at most once a second: "sim: land 33,000 of 99,000 rows, ..."
 * land.done(99_000);         // "sim: land done: 99,000 rows in 0.40 s, 247,500 rows/s"
 * ```
 */

/** Whether stage lines are printed: on a terminal (stderr), unless asked to be quiet. */
export function progressWanted(quiet: boolean, terminal = Deno.stderr.isTerminal()): boolean {
  return !quiet && terminal;
}

/** One stage of a run, as it goes: its rows so far, then all it moved. */
export interface Stage {
  /** Rows moved so far (of `total`, when known); printed at most once a second. */
  rows(done: number, total?: number): void;
  /** The stage moved `rows` `what` in all: printed with the time it took and the rate. */
  done(rows: number, what?: string): void;
}

/** Prints a run's stages; nothing at all when not enabled. */
export interface StageProgress {
  readonly enabled: boolean;
  /** A stage begins (`label: name (detail)`); stages may overlap, each keeps its own clock. */
  stage(name: string, detail?: string): Stage;
}

/** Numbers as the other summaries print them: 1,234,567. */
function count(n: number): string {
  return Math.round(n).toLocaleString("en");
}

/**
 * Stage lines for `label` (e.g. "sim") written with `write` (default: a line on stderr), or
 * none when `enabled` is false. `now` is for tests.
 */
export function stageProgress(
  label: string,
  enabled: boolean,
  write: (line: string) => void = (line) => console.error(line),
  now: () => number = () => performance.now(),
): StageProgress {
  const rate = (rows: number, since: number) =>
    `${count(rows / (Math.max(now() - since, 1) / 1000))} rows/s`;
  return {
    enabled,
    stage(name, detail) {
      const started = now();
      let told = started;
      if (enabled) write(`${label}: ${name}${detail ? ` (${detail})` : ""}`);
      return {
        rows(done, total) {
          if (!enabled || now() - told < 1000) return;
          told = now();
          const of = total === undefined ? "" : ` of ${count(total)}`;
          write(`${label}: ${name} ${count(done)}${of} rows, ${rate(done, started)}`);
        },
        done(rows, what = "rows") {
          if (!enabled) return;
          const seconds = (now() - started) / 1000;
          write(
            `${label}: ${name} done: ${count(rows)} ${what} in ${seconds.toFixed(2)} s, ${
              rate(rows, started)
            }`,
          );
        },
      };
    },
  };
}
