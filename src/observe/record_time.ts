/**
 * When the record at an offset was written (its Kafka timestamp), found
 * without reading it: ListOffsets by timestamp answers the first offset at
 * or after a time, so the record's time is the latest time whose answer is
 * still at or before its offset. A search back from now in doubling steps,
 * then halving, to within 5% of the record's age (at least 200 ms), takes
 * about a dozen small requests; answers are kept per topic, partition and
 * offset, so a stage that stays behind costs nothing more.
 *
 * @example
 * ```ts
 * import { recordTime } from "./record_time.ts";
 * // const at = await recordTime((t) => admin.fetchTopicOffsetsByTimestamp(topic, t), 0, 5000);
 * ```
 */

/** The first offset at or after a time, per partition (kafkajs `fetchTopicOffsetsByTimestamp`). */
export type OffsetsAt = (timestamp: number) => Promise<{ partition: number; offset: string }[]>;

/** Precision: this fraction of the age, and never finer than `MIN_STEP_MS`. */
const RELATIVE_PRECISION = 0.05;
const MIN_STEP_MS = 200;
/** Older than this is reported as this old. */
const MAX_AGE_MS = 30 * 24 * 3600_000;

/**
 * The time (epoch ms) the record at `offset` of `partition` was written, to
 * within 5% of its age; `now` when it is younger than the precision.
 */
export async function recordTime(
  offsetsAt: OffsetsAt,
  partition: number,
  offset: number,
  now = Date.now(),
): Promise<number> {
  const firstAt = async (time: number) => {
    const answer = (await offsetsAt(time)).find((p) => p.partition === partition);
    return Number(answer?.offset ?? Infinity);
  };
  // Step back until the record was written at `lo` or later (its time is before `hi`).
  let hi = now;
  let back = 1000;
  let lo = now - back;
  while ((await firstAt(lo)) > offset) {
    hi = lo;
    if (back >= MAX_AGE_MS) return now - MAX_AGE_MS;
    back *= 2;
    lo = now - back;
  }
  // Now firstAt(lo) <= offset < firstAt(hi): the record was written in [lo, hi).
  while (hi - lo > Math.max(MIN_STEP_MS, (now - hi) * RELATIVE_PRECISION)) {
    const mid = Math.floor((lo + hi) / 2);
    if ((await firstAt(mid)) <= offset) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** Record times kept by topic, partition and offset (a record's time never changes). */
export class RecordTimes {
  #known = new Map<string, number>();

  async get(topic: string, partition: number, offset: number, offsetsAt: OffsetsAt) {
    const key = `${topic}\u0000${partition}\u0000${offset}`;
    const known = this.#known.get(key);
    if (known !== undefined) return known;
    const time = await recordTime(offsetsAt, partition, offset);
    if (this.#known.size > 10_000) this.#known.clear();
    this.#known.set(key, time);
    return time;
  }
}
