/**
 * The consumed stage of the stream path, per shard: the consumer's
 * committed sequence number against the producer's last acknowledged one,
 * and, only for a shard where they differ, what waits after the consumer's
 * position: one GetRecords call from there gives how many (up to the
 * producer's position, and at most the call's limit), the oldest one's
 * arrival time and MillisBehindLatest. A shard where both agree costs no
 * read, so watching a caught-up stream takes nothing from the shards' read
 * limits (5 calls and 2 MB a second on AWS) the consumer needs; `watch`
 * looks with a smaller limit than `status`, as it looks every second.
 *
 * @example
 * ```ts
 * import { readShards } from "./shard_reader.ts";
 * import { kinesisClient } from "../kinesis/client.ts";
 * import { loadConfig } from "../core/config.ts";
 * const client = kinesisClient(loadConfig({ _: [] }).kinesis);
 * await readShards(client, "streaming-0123456789ab-pin", new Map(), {});
 * // [{ shardId: "shardId-000000000000", consumer: null, producer: null, pending: 0, ... }]
 * ```
 */
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  type Shard,
} from "@aws-sdk/client-kinesis";
import { TargetError } from "../core/errors.ts";
import { describeKinesisError } from "../kinesis/errors.ts";
import { listShards } from "../kinesis/list_shards.ts";

/** Most records one look past the consumer's position reads (GetRecords' own maximum). */
export const PEEK_LIMIT = 10_000;

/** One shard, as the ledger sees it. */
export interface ShardState {
  shardId: string;
  /** The consumer's committed sequence number, or null before its first commit. */
  consumer: string | null;
  /** The producer's last acknowledged sequence number on this shard, or null. */
  producer: string | null;
  /**
   * Records after the consumer's position up to the producer's (so counted
   * against the same checkpoint as the acknowledged stage), at most the
   * look's limit; `more` says there are others.
   */
  pending: number;
  more: boolean;
  /** The oldest pending record's age, in ms. */
  oldestAgeMs: number | null;
  /** MillisBehindLatest of the look, 0 when caught up. */
  millisBehindTip: number;
}

/** What waits after `after` (or from the shard's start) on one shard. */
async function peek(
  client: KinesisClient,
  stream: string,
  shardId: string,
  after: string | null,
  upTo: string,
  limit: number,
  now: number,
): Promise<Pick<ShardState, "pending" | "more" | "oldestAgeMs" | "millisBehindTip">> {
  const { ShardIterator } = await client.send(
    new GetShardIteratorCommand({
      StreamName: stream,
      ShardId: shardId,
      ...(after
        ? { ShardIteratorType: "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber: after }
        : { ShardIteratorType: "TRIM_HORIZON" }),
    }),
  );
  const page = await client.send(
    new GetRecordsCommand({ ShardIterator, Limit: limit }),
  );
  const read = page.Records ?? [];
  const last = BigInt(upTo);
  const records = read.filter((record) => BigInt(record.SequenceNumber!) <= last);
  const arrival = records[0]?.ApproximateArrivalTimestamp;
  return {
    pending: records.length,
    more: records.length === limit,
    oldestAgeMs: arrival ? Math.max(0, now - arrival.getTime()) : null,
    millisBehindTip: page.MillisBehindLatest ?? 0,
  };
}

/**
 * Every shard of `stream` with the consumer's and the producer's positions
 * (`consumer`: `stream/shardId` to sequence number; `producer`: shardId to
 * sequence number); undefined when the stream does not exist.
 */
export async function readShards(
  client: KinesisClient,
  stream: string,
  consumer: ReadonlyMap<string, string>,
  producer: Readonly<Record<string, string>>,
  { limit = PEEK_LIMIT, now = Date.now() }: { limit?: number; now?: number } = {},
): Promise<ShardState[] | undefined> {
  try {
    let shards: Shard[];
    try {
      shards = await listShards(client, stream);
    } catch (error) {
      if ((error as { name?: string }).name === "ResourceNotFoundException") return undefined;
      throw error;
    }
    return await Promise.all(shards.map(async ({ ShardId }) => {
      const shardId = ShardId!;
      const position = consumer.get(`${stream}/${shardId}`) ?? null;
      const acknowledged = producer[shardId] ?? null;
      // A shard the producer sent nothing to has nothing of its to wait for.
      const caughtUp = acknowledged === null ||
        (position !== null && BigInt(position) >= BigInt(acknowledged));
      const waiting = caughtUp
        ? { pending: 0, more: false, oldestAgeMs: null, millisBehindTip: 0 }
        : await peek(client, stream, shardId, position, acknowledged, limit, now);
      return { shardId, consumer: position, producer: acknowledged, ...waiting };
    }));
  } catch (error) {
    throw new TargetError(`Kinesis stream ${stream}: ${describeKinesisError(error)}`);
  }
}
