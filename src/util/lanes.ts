/**
 * Works through items with a few calls in flight at once, in order: each
 * lane takes the next item when its last one is done. After one call fails
 * no lane takes another item, and the first failure rejects. The Kinesis
 * targets keep their PutRecords calls and API requests in flight this way.
 *
 * @example
 * ```ts
 * import { inLanes } from "./lanes.ts";
 * await inLanes([1, 2, 3], 2, async (n) => console.log(n));
 * ```
 */

/** Runs `work` on every item, at most `lanes` at a time; rejects with the first failure. */
export async function inLanes<T>(
  items: readonly T[],
  lanes: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let stopped = false;
  const lane = async () => {
    while (next < items.length && !stopped) {
      try {
        await work(items[next++]);
      } catch (error) {
        stopped = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(lanes, items.length) }, lane));
}
