/**
 * Every shard of a stream, open and closed, over all of ListShards' pages:
 * the one listing the producer's resume check, the consumer, the ledger
 * and the chaos run's resharding all read.
 *
 * @example
 * ```ts
 * import { kinesisClient } from "./client.ts";
 * import { listShards } from "./list_shards.ts";
 * const client = kinesisClient({ region: "us-east-1", endpoint: "http://127.0.0.1:14567" });
 * (await listShards(client, "streaming-0123456789ab-pin")).length; // 2
 * ```
 */
import { type KinesisClient, ListShardsCommand, type Shard } from "@aws-sdk/client-kinesis";

export async function listShards(client: KinesisClient, stream: string): Promise<Shard[]> {
  const shards: Shard[] = [];
  let token: string | undefined;
  do {
    // A page after the first names only its token: the stream is in it.
    const page = await client.send(
      new ListShardsCommand(token ? { NextToken: token } : { StreamName: stream }),
    );
    shards.push(...page.Shards ?? []);
    token = page.NextToken;
  } while (token);
  return shards;
}
