/**
 * What to send again after PutRecords calls that got no answer. Kinesis has
 * no idempotent put: a call whose connection was reset, or that timed out,
 * may have been written whole, in part or not at all, and sending it again
 * blindly writes twice what had landed. Instead, once every call of a send
 * has settled, the stream is read after the positions the send started from:
 * what it holds there, less what calls did acknowledge, is what the
 * unanswered calls wrote; only the rest goes again.
 *
 * @example
 * ```ts
 * import { stillMissing } from "./unanswered.ts";
 * const unanswered = [{ text: "a" }, { text: "b" }];
 * stillMissing(unanswered, ["c"], ["c", "a"]); // [{ text: "b" }]
 * ```
 */

/**
 * The `unanswered` entries the stream does not hold: `tail` (every record
 * after the send's starting positions) less `acknowledged` (those calls
 * answered for) is counted off, text by text, in order. A text found fewer
 * times than unanswered entries carry it leaves the rest missing, so an entry
 * is never taken for landed on another's copy: at worst it goes twice, never
 * is it lost.
 */
export function stillMissing<T extends { text: string }>(
  unanswered: readonly T[],
  acknowledged: readonly string[],
  tail: readonly string[],
): T[] {
  const landed = new Map<string, number>();
  for (const text of tail) landed.set(text, (landed.get(text) ?? 0) + 1);
  for (const text of acknowledged) landed.set(text, (landed.get(text) ?? 0) - 1);
  const missing: T[] = [];
  for (const entry of unanswered) {
    const left = landed.get(entry.text) ?? 0;
    if (left > 0) landed.set(entry.text, left - 1);
    else missing.push(entry);
  }
  return missing;
}
