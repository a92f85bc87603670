/**
 * What the ledger reports about one stage of one table: how many records it
 * holds, how many its upstream has that it has not yet, and how old the
 * oldest of those is, where that can be known. A stage that could not be
 * read carries the reason instead of numbers, so one server down never
 * hides the others.
 *
 * @example
 * ```ts
 * import { unreadable } from "./stage.ts";
 * unreadable("topic", "Kafka broker unreachable at 127.0.0.1:19092");
 * // { stage: "topic", count: null, behind: null, oldestAgeMs: null, error: "Kafka broker ..." }
 * ```
 */

/** The stages of the batch path, in the order records pass them. */
export const BATCH_STAGES = ["source", "acknowledged", "topic", "committed", "bucket"] as const;
/** The stages of the stream path, in the order records pass them. */
export const STREAM_STAGES = ["source", "acknowledged", "consumed", "cleaned"] as const;

/** The name of a stage of either path, or of the warehouse behind the bucket. */
export type StageName =
  | (typeof BATCH_STAGES)[number]
  | (typeof STREAM_STAGES)[number]
  | "bronze"
  | "silver";

/** One partition's or one shard's part of a stage. */
export interface StagePart {
  /** The partition number or the shard id. */
  name: string;
  count: number | null;
  behind: number | null;
  /** Kinesis: the consumer's sequence number; Kafka: the committed offset. */
  position?: string | null;
  /** Kinesis: how far behind the stream's tip the consumer is, in ms (MillisBehindLatest). */
  millisBehindTip?: number | null;
}

/** One stage of one table. */
export interface StageReading {
  stage: StageName;
  /** Records this stage holds or has passed; null when unreadable. */
  count: number | null;
  /** Records the stage before has that this one has not yet; 0 is caught up; null unknown. */
  behind: number | null;
  /** Age of the oldest record not yet past this stage, in ms, where obtainable. */
  oldestAgeMs: number | null;
  /** Why the stage could not be read. */
  error?: string;
  /** What the count means where it differs from the upstream's on purpose (duplicates dropped). */
  note?: string;
  parts?: StagePart[];
}

/** A stage that could not be read, and why. */
export function unreadable(stage: StageName, error: string): StageReading {
  return { stage, count: null, behind: null, oldestAgeMs: null, error };
}

/** A readable stage. */
export function reading(
  stage: StageName,
  count: number,
  behind: number | null,
  extra: Partial<StageReading> = {},
): StageReading {
  return { stage, count, behind, oldestAgeMs: null, ...extra };
}

/** An error's message on one line. */
export function reason(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0];
}
