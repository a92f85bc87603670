/**
 * `Promise.all` that waits for every promise to settle before it rejects
 * with the first failure: when the tasks write below one folder, the caller
 * may clean it up only once none of them is still writing.
 *
 * @example
 * ```ts
 * import { allFinished } from "./all_finished.ts";
 * const [a, b] = await allFinished([Promise.resolve(1), Promise.resolve(2)]);
 * ```
 */

/** The values of `promises` in order, once all settled; else the first rejection's reason. */
export async function allFinished<T>(promises: readonly Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((result) => result.status === "rejected");
  if (failed) throw failed.reason;
  return settled.map((result) => (result as PromiseFulfilledResult<T>).value);
}
