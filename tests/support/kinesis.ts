/**
 * The pipeline's streams in kinesalite, for the stream and consume tests:
 * reading a whole stream back, and deleting a test's streams afterwards.
 *
 * @example
 * ```ts
 * import { deleteStreams, readStream } from "./kinesis.ts";
 * import { kinesisClient } from "../../src/kinesis/client.ts";
 * const client = kinesisClient({ region: "us-east-1", endpoint: "http://127.0.0.1:14567" });
 * const texts = await readStream(client, "streaming-0123456789ab-geo");
 * await deleteStreams(client, "0123456789ab");
 * client.destroy();
 * ```
 */
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from "@aws-sdk/client-kinesis";
import { loadConfig, LOCAL_PORTS } from "../../src/core/config.ts";
// Shared with the benchmarks, so kept beside the local stack.
export { deleteStreams } from "../../infra/local/stack_admin.ts";

/** The local kinesalite endpoint: the one `infra.sh local with` exports, else the default. */
export const KINESALITE = loadConfig({ _: [] }).kinesis.endpoint ??
  `http://127.0.0.1:${LOCAL_PORTS.kinesis}`;

/** Every record of `stream`, all shards, from TRIM_HORIZON, as text. */
export async function readStream(client: KinesisClient, stream: string): Promise<string[]> {
  const { Shards = [] } = await client.send(new ListShardsCommand({ StreamName: stream }));
  const texts: string[] = [];
  const decoder = new TextDecoder();
  for (const shard of Shards) {
    let iterator = (await client.send(
      new GetShardIteratorCommand({
        StreamName: stream,
        ShardId: shard.ShardId,
        ShardIteratorType: "TRIM_HORIZON",
      }),
    )).ShardIterator;
    while (iterator) {
      const answer = await client.send(
        new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }),
      );
      for (const record of answer.Records ?? []) texts.push(decoder.decode(record.Data));
      if ((answer.Records ?? []).length === 0 && !(answer.MillisBehindLatest ?? 0)) break;
      iterator = answer.NextShardIterator;
    }
  }
  return texts;
}
