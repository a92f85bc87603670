/**
 * Resharding while records flow: `stream` puts pin rows into a two-shard
 * stream while the consumer runs; the test splits a shard, then merges one
 * of its children with its neighbour. Every record is read once (the
 * consumer's count equals the stream's), the cleaned table equals the batch
 * cleaning of what was sent, and no child shard is read before its parents
 * are read to their end.
 */
import assert from "node:assert/strict";
import {
  CreateStreamCommand,
  type KinesisClient,
  ListShardsCommand,
  type Shard,
} from "@aws-sdk/client-kinesis";
import { mergeShards, openShards, splitShard } from "../../chaos/reshard.ts";
import { loadConfig, type PipelineConfig } from "../../src/core/config.ts";
import { streamName } from "../../src/core/names.ts";
import { TABLE_KINDS } from "../../src/core/tables.ts";
import { parseConsumerOptions } from "../../src/consumer/consume_command.ts";
import { runConsumer } from "../../src/consumer/consumer.ts";
import type { ShardRead } from "../../src/consumer/shards.ts";
import { kinesisClient } from "../../src/kinesis/client.ts";
import { sleep } from "../../src/util/retry.ts";
import { batchCleaning, consumerTables } from "../support/cleaned_tables.ts";
import { deleteStreams, readStream } from "../support/kinesis.ts";
import { randomId, spawnMain, waitFor } from "../support/processes.ts";

const ROWS = 3_000;

async function shardsOf(client: KinesisClient, stream: string): Promise<Shard[]> {
  return (await client.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
}

/** Poll number and shard of every read, in reading order. */
type Reads = { poll: number; read: ShardRead }[];

/**
 * A consumer run on `db`, recording what each poll read into `reads`: until
 * `signal` aborts, or (without one) until 4 s pass with nothing new.
 */
function consume(
  config: PipelineConfig,
  db: string,
  reads: Reads,
  { limit = "10000", signal }: { limit?: string; signal?: AbortSignal } = {},
) {
  let polls = 0;
  return runConsumer(
    config,
    parseConsumerOptions(
      { _: [], db, "idle-exit-ms": signal ? "0" : "4000", "poll-ms": "100", limit },
      config.id,
    ),
    {
      signal,
      log: () => {},
      onPoll: (round) => {
        polls++;
        for (const read of round) reads.push({ poll: polls, read });
      },
    },
  );
}

/** No read of a parent shard after (or in the same poll as) the first read of its child. */
function assertParentsFirst(shards: readonly Shard[], reads: Reads): void {
  const byShard = new Map<string, number[]>();
  for (const { poll, read } of reads) {
    byShard.set(read.shardId, [...byShard.get(read.shardId) ?? [], poll]);
  }
  for (const shard of shards) {
    const parents = [shard.ParentShardId, shard.AdjacentParentShardId].filter(Boolean);
    if (parents.length === 0) continue;
    const childPolls = byShard.get(shard.ShardId!) ?? [];
    assert.ok(childPolls.length > 0, `child ${shard.ShardId} was read`);
    for (const parent of parents) {
      const parentPolls = byShard.get(parent!) ?? [];
      assert.ok(parentPolls.length > 0, `parent ${parent} was read`);
      assert.ok(
        Math.max(...parentPolls) < Math.min(...childPolls),
        `${shard.ShardId} read at poll ${Math.min(...childPolls)}, parent ${parent} until ${
          Math.max(...parentPolls)
        }`,
      );
    }
  }
}

Deno.test("split and merge while stream sends and the consumer reads: each record once, parents first", async () => {
  const id = randomId();
  const config = loadConfig({ _: [], id });
  const client = kinesisClient(config.kinesis);
  const stream = streamName(id, "pin");
  const dir = await Deno.makeTempDir({ prefix: "pinpipe_reshard_" });
  const db = `${dir}/c.duckdb`;
  const reads: Reads = [];
  // The first consumer stops once it has read every record (however slowly the producer starts).
  const stop = new AbortController();
  try {
    for (const kind of TABLE_KINDS) {
      await client.send(
        new CreateStreamCommand({ StreamName: streamName(id, kind), ShardCount: 2 }),
      );
    }
    const consumer = consume(config, db, reads, { signal: stop.signal });
    const producer = spawnMain([
      "stream",
      "--id",
      id,
      "--tables",
      "pin",
      "--limit",
      String(ROWS),
      "--rate",
      "300",
      "--batch-size",
      "100",
      "--state-dir",
      dir,
      "--quiet",
    ]);
    const produced = producer.output();
    const count = () => reads.reduce((n, { read }) => n + read.records.length, 0);

    // Split shard 0 at its hash range's middle once the consumer has read from it.
    await waitFor("the first records read", () => count() >= 300, 120_000);
    const [first] = await shardsOf(client, stream);
    await splitShard(client, stream, first);
    // Merge the split's upper child with its neighbour, shard 1, once more records flowed.
    await waitFor("more records read", () => count() >= 1_200, 120_000);
    await sleep(200);
    const open = await openShards(client, stream);
    assert.equal(open.length, 3, "two children of the split and shard 1");
    await mergeShards(client, stream, open[1], open[2]);

    const { code, stderr } = await produced;
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    await waitFor("every record read", () => count() >= ROWS, 120_000);
    await sleep(1_000); // a record read twice would show in the count
    stop.abort();
    const summary = await consumer;

    const shards = await shardsOf(client, stream);
    assert.equal(shards.length, 5, "2 shards, 2 split children, 1 merged child");
    const sent = await readStream(client, stream);
    assert.equal(sent.length, ROWS);
    assert.equal(summary.records, ROWS, "every record read exactly once");

    assertParentsFirst(shards, reads);
    // A consumer started after the reshard lists parents and children at once: still parents first.
    const later: Reads = [];
    const again = await consume(config, `${dir}/later.duckdb`, later, { limit: "400" });
    assert.equal(again.records, ROWS);
    assertParentsFirst(shards, later);

    const expected = await batchCleaning({
      pin: sent.map((text) => JSON.parse(text)),
      geo: [],
      user: [],
    });
    const got = await consumerTables(db, id);
    assert.deepEqual(got.tables.pin, expected.pin);
    assert.equal(got.checkpoints, 5, "one checkpoint per shard read");
  } finally {
    stop.abort();
    await deleteStreams(client, id);
    client.destroy();
    await Deno.remove(dir, { recursive: true });
  }
});
