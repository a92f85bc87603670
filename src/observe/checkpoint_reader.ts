/**
 * The acknowledged stage: what a producer's checkpoint says the target
 * acknowledged for one table (`src/transfer/checkpoint.ts`), read as the
 * producer wrote it. Only sequential runs have a per-table checkpoint.
 *
 * @example
 * ```ts
 * import { readAcknowledged } from "./checkpoint_reader.ts";
 * await readAcknowledged(".local/state", "0123456789ab", "kafka", "pin");
 * // { lastIndex: 10999, acknowledged: 11000, positions: { ends: { "0": 11000 } }, updatedAt: "..." }
 * ```
 */
import type { TableKind } from "../core/tables.ts";
import { CheckpointStore } from "../transfer/checkpoint.ts";

/** One table's checkpoint, as the ledger needs it. */
export interface Acknowledged {
  /** The last index whose rows were all acknowledged. */
  lastIndex: number;
  /** Rows acknowledged over all runs. */
  acknowledged: number;
  /** The target's own positions: Kafka `{ ends: { partition: offset } }`, Kinesis `{ shardId: seq }`. */
  positions: unknown;
  updatedAt: string;
}

/** The checkpoint of `kind` for `target` (`kafka`, `kinesis`), or undefined when none was written. */
export async function readAcknowledged(
  stateDir: string,
  id: string,
  target: "kafka" | "kinesis",
  kind: TableKind,
): Promise<Acknowledged | undefined> {
  const store = new CheckpointStore(stateDir, id, target);
  const saved = await store.load(store.sequentialFile(kind));
  if (!saved) return undefined;
  return {
    lastIndex: saved.lastIndex ?? -1,
    acknowledged: saved.acknowledged[kind] ?? 0,
    positions: saved.positions?.[kind],
    updatedAt: saved.updatedAt,
  };
}
