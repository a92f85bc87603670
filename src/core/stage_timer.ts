/**
 * Times the stages of a run, one after another: `lap(name)` records the
 * milliseconds since the previous lap (or since the timer began) under
 * `name` in `timings`, which the commands print and return.
 *
 * @example
 * ```ts
 * import { stageTimer } from "./stage_timer.ts";
 * const { timings, lap } = stageTimer();
 * lap("read"); // timings.read: the milliseconds the read took
 * ```
 */
export function stageTimer(): { timings: Record<string, number>; lap(name: string): void } {
  const timings: Record<string, number> = {};
  let started = performance.now();
  return {
    timings,
    lap(name: string): void {
      const now = performance.now();
      timings[name] = Math.round(now - started);
      started = now;
    },
  };
}
