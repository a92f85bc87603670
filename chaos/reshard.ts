/**
 * Resharding a Kinesis stream while records flow, as an operator does when
 * traffic changes: split an open shard at the middle of its hash range, or
 * merge two adjacent open shards. (kinesalite has no UpdateShardCount, the
 * API that does a round of these at once.) The stream is waited on until
 * it is ACTIVE again.
 *
 * @example
 * ```ts
 * import { reshard } from "./reshard.ts";
 * import { kinesisClient } from "../src/kinesis/client.ts";
 * const client = kinesisClient({ region: "us-east-1", endpoint: "http://127.0.0.1:32007" });
 * console.log(await reshard(client, "streaming-c4a0500000c3-pin", 0.3));
 * ```
 */
import {
  DescribeStreamSummaryCommand,
  type KinesisClient,
  MergeShardsCommand,
  type Shard,
  SplitShardCommand,
} from "@aws-sdk/client-kinesis";
import { listShards } from "../src/kinesis/list_shards.ts";
import { pollUntil } from "../src/util/retry.ts";

/** Open shards at most before a reshard merges rather than splits. */
const MOST_OPEN = 4;

/** The open shards of `stream` (no ending sequence number), in hash key order. */
export async function openShards(client: KinesisClient, stream: string): Promise<Shard[]> {
  const shards = await listShards(client, stream);
  return shards.filter((shard) => !shard.SequenceNumberRange?.EndingSequenceNumber)
    .sort((a, b) => compare(a.HashKeyRange!.StartingHashKey!, b.HashKeyRange!.StartingHashKey!));
}

const compare = (a: string, b: string) =>
  BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0;

async function untilActive(client: KinesisClient, stream: string): Promise<void> {
  const active = await pollUntil(async () => {
    const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
    return summary.StreamDescriptionSummary?.StreamStatus === "ACTIVE";
  }, { everyMs: 200, timeoutMs: 20_000 });
  if (!active) throw new Error(`${stream} not ACTIVE 20 s after resharding`);
}

/** Splits `shard` at the middle of its hash key range (the stream is UPDATING after). */
export async function splitShard(
  client: KinesisClient,
  stream: string,
  shard: Shard,
): Promise<void> {
  const { StartingHashKey, EndingHashKey } = shard.HashKeyRange!;
  const middle = (BigInt(StartingHashKey!) + BigInt(EndingHashKey!)) / 2n;
  await client.send(
    new SplitShardCommand({
      StreamName: stream,
      ShardToSplit: shard.ShardId,
      NewStartingHashKey: String(middle),
    }),
  );
}

/** Merges the adjacent open shards `a` and `b` (the stream is UPDATING after). */
export async function mergeShards(
  client: KinesisClient,
  stream: string,
  a: Shard,
  b: Shard,
): Promise<void> {
  await client.send(
    new MergeShardsCommand({
      StreamName: stream,
      ShardToMerge: a.ShardId,
      AdjacentShardToMerge: b.ShardId,
    }),
  );
}

/**
 * Splits or merges one shard of `stream` (`pick` in [0, 1) chooses which);
 * returns what it did, in a few words.
 */
export async function reshard(
  client: KinesisClient,
  stream: string,
  pick: number,
): Promise<string> {
  await untilActive(client, stream);
  const open = await openShards(client, stream);
  const split = open.length < 2 || (open.length < MOST_OPEN && pick < 0.6);
  if (split) {
    const shard = open[Math.floor(pick * open.length) % open.length];
    await splitShard(client, stream, shard);
    await untilActive(client, stream);
    return `split ${shard.ShardId} (${open.length} open shards before)`;
  }
  const first = Math.floor(pick * (open.length - 1)) % (open.length - 1);
  const [a, b] = [open[first], open[first + 1]];
  await mergeShards(client, stream, a, b);
  await untilActive(client, stream);
  return `merged ${a.ShardId} and ${b.ShardId} (${open.length} open shards before)`;
}
