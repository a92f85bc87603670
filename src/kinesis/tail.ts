/**
 * What a stream holds after known positions: the producer's resume check.
 * A checkpoint stores, per shard, the highest sequence number Kinesis had
 * acknowledged when it was written; after a crash, the records beyond those
 * positions are the ones sent but not checkpointed, and the producer skips
 * them instead of sending them twice.
 *
 * @example
 * ```ts
 * import { kinesisClient } from "./client.ts";
 * import { readTail } from "./tail.ts";
 * const client = kinesisClient({ region: "us-east-1", endpoint: "http://127.0.0.1:14567" });
 * const tail = await readTail(client, "streaming-0123456789ab-pin", { "shardId-000000000000": "4968..." });
 * tail.texts.length; // records after the position
 * ```
 */
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  type Shard,
} from "@aws-sdk/client-kinesis";

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

/**
 * Every record of `stream` after `positions`, as UTF-8 text, and the last
 * sequence number per shard. Shards without a position are not read (what
 * they hold may predate the checkpoint).
 */
export async function readTail(
  client: KinesisClient,
  stream: string,
  positions: ShardPositions,
): Promise<{ texts: string[]; last: ShardPositions }> {
  const shards: Shard[] = [];
  let token: string | undefined;
  do {
    const answer = await client.send(
      new ListShardsCommand(token ? { NextToken: token } : { StreamName: stream }),
    );
    shards.push(...answer.Shards ?? []);
    token = answer.NextToken;
  } while (token);
  const decoder = new TextDecoder();
  const texts: string[] = [];
  const last: ShardPositions = { ...positions };
  for (const shard of shards) {
    const after = positions[shard.ShardId!];
    if (after === undefined) continue;
    let iterator = (await client.send(
      new GetShardIteratorCommand({
        StreamName: stream,
        ShardId: shard.ShardId,
        ShardIteratorType: "AFTER_SEQUENCE_NUMBER",
        StartingSequenceNumber: after,
      }),
    )).ShardIterator;
    while (iterator) {
      const answer = await client.send(
        new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }),
      );
      const records = answer.Records ?? [];
      for (const record of records) {
        texts.push(decoder.decode(record.Data));
        last[shard.ShardId!] = laterSequence(last[shard.ShardId!], record.SequenceNumber!);
      }
      // Caught up: an empty page with nothing behind it.
      if (records.length === 0 && !answer.MillisBehindLatest) break;
      iterator = answer.NextShardIterator;
    }
  }
  return { texts, last };
}
