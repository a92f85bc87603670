/**
 * What a stream holds after known positions: the producer's resume check.
 * A checkpoint stores, per shard, the highest sequence number Kinesis had
 * acknowledged when it was written; after a crash, the records beyond those
 * positions are the ones sent but not checkpointed, and the producer skips
 * them instead of sending them twice (`heldRecordsFilter`).
 *
 * @example
 * ```ts
 * import { kinesisClient } from "./client.ts";
 * import { readTail } from "./tail.ts";
 * const client = kinesisClient({ region: "us-east-1", endpoint: "http://127.0.0.1:14567" });
 * const tail = await readTail(client, "streaming-0123456789ab-pin", { "shardId-000000000000": "4968..." });
 * tail.length; // records after the position
 * ```
 */
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
} from "@aws-sdk/client-kinesis";
import { listShards } from "./list_shards.ts";

/** Per shard id, the highest acknowledged sequence number (decimal text). */
export type ShardPositions = Record<string, string>;

/** Keeps the larger of two sequence numbers (decimal text of up to 128 bits). */
export function laterSequence(a: string | undefined, b: string): string {
  return a === undefined || BigInt(b) > BigInt(a) ? b : a;
}

/** Checks that `value` is a `ShardPositions` as a checkpoint stores it. */
export function isShardPositions(value: unknown): value is ShardPositions {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === "string" && /^\d+$/.test(v));
}

/** A record read beyond a checkpoint's position: its shard, sequence number and UTF-8 text. */
export interface TailRecord {
  shard: string;
  sequence: string;
  text: string;
}

/**
 * Every record of `stream` after `positions`, shard by shard, each shard's
 * in sequence order. A shard without a position is read from the records
 * that arrived at or after `since`, or from its start when `since` is not
 * given: positions only grow, so a shard the checkpoint does not name (a
 * child of a reshard, one no acknowledged record hashed to) holds nothing
 * acknowledged before it, only what calls wrote after it.
 */
export async function readTail(
  client: KinesisClient,
  stream: string,
  positions: ShardPositions,
  since?: Date,
): Promise<TailRecord[]> {
  const shards = await listShards(client, stream);
  const decoder = new TextDecoder();
  const tail: TailRecord[] = [];
  for (const { ShardId: shard } of shards) {
    const after = positions[shard!];
    let iterator = (await client.send(
      new GetShardIteratorCommand(
        after === undefined
          ? since === undefined
            ? { StreamName: stream, ShardId: shard, ShardIteratorType: "TRIM_HORIZON" }
            : {
              StreamName: stream,
              ShardId: shard,
              ShardIteratorType: "AT_TIMESTAMP",
              Timestamp: since,
            }
          : {
            StreamName: stream,
            ShardId: shard,
            ShardIteratorType: "AFTER_SEQUENCE_NUMBER",
            StartingSequenceNumber: after,
          },
      ),
    )).ShardIterator;
    while (iterator) {
      const answer = await client.send(
        new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }),
      );
      const records = answer.Records ?? [];
      for (const record of records) {
        tail.push({
          shard: shard!,
          sequence: record.SequenceNumber!,
          text: decoder.decode(record.Data),
        });
      }
      // Caught up: an empty page with nothing behind it.
      if (records.length === 0 && !answer.MillisBehindLatest) break;
      iterator = answer.NextShardIterator;
    }
  }
  return tail;
}

/**
 * The resume filter over what a stream held beyond the checkpoint: answers
 * true for a record whose text is among `held`, once per copy. `positions`
 * (the checkpoint's, which the caller then keeps as its own) moves, per
 * shard, only across the held records the filter has passed over and every
 * one before them: a checkpoint taken while held records are still ahead
 * must not cover them, or a rerun from it would not find them and would
 * send them again.
 */
export function heldRecordsFilter(
  held: readonly TailRecord[],
  positions: ShardPositions,
): (text: string) => boolean {
  const copies = new Map<string, { shard: string; at: number }[]>();
  const shards = new Map<string, { sequences: string[]; passed: boolean[]; next: number }>();
  for (const { shard, sequence, text } of held) {
    let inShard = shards.get(shard);
    if (!inShard) shards.set(shard, inShard = { sequences: [], passed: [], next: 0 });
    inShard.sequences.push(sequence);
    inShard.passed.push(false);
    const ofText = copies.get(text) ?? [];
    ofText.push({ shard, at: inShard.sequences.length - 1 });
    copies.set(text, ofText);
  }
  return (text) => {
    const copy = copies.get(text)?.shift();
    if (!copy) return false;
    const inShard = shards.get(copy.shard)!;
    inShard.passed[copy.at] = true;
    while (inShard.next < inShard.sequences.length && inShard.passed[inShard.next]) {
      positions[copy.shard] = laterSequence(
        positions[copy.shard],
        inShard.sequences[inShard.next++],
      );
    }
    return true;
  };
}
