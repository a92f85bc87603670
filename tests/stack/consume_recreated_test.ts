/**
 * The streams deleted and created again under the consumer (what a
 * kinesalite restart does, as it keeps streams in memory), on the shared
 * kinesalite with a random id, never restarting it: a consumer started on
 * the old checkpoints, and one running while it happens, each say so in
 * one line and read the new stream from TRIM_HORIZON (rows already in the
 * table dropped as duplicates); a stream that does not come back ends the
 * consumer with exit 4 within --wait-streams-ms, not a hang.
 */
import assert from "node:assert/strict";
import { DeleteStreamCommand, type KinesisClient } from "@aws-sdk/client-kinesis";
import { loadConfig, type PipelineConfig } from "../../src/core/config.ts";
import { EXIT_CODES } from "../../src/core/errors.ts";
import { streamName } from "../../src/core/names.ts";
import { TABLE_KINDS } from "../../src/core/tables.ts";
import { parseConsumerOptions } from "../../src/consumer/consume_command.ts";
import { runConsumer } from "../../src/consumer/consumer.ts";
import { kinesisClient } from "../../src/kinesis/client.ts";
import { KinesisTarget } from "../../src/kinesis/target.ts";
import { SdkTransport } from "../../src/kinesis/sdk_transport.ts";
import { outgoing } from "../../src/core/records.ts";
import { sleep } from "../../src/util/retry.ts";
import { consumerTables } from "../support/cleaned_tables.ts";
import { deleteStreams } from "../support/kinesis.ts";
import { randomId, runMain, spawnMain, waitFor } from "../support/processes.ts";

const user = (ind: number) =>
  outgoing("user", ind, {
    ind,
    first_name: "A",
    last_name: `B${ind}`,
    age: 30,
    date_joined: "2016-01-02T03:04:05",
  });

/** Creates the three streams (if missing) and puts users `inds` into the user stream. */
async function sendUsers(config: PipelineConfig, inds: number[]): Promise<void> {
  const target = new KinesisTarget({
    transport: new SdkTransport(config.kinesis),
    id: config.id,
    shards: 1,
    log: () => {},
  });
  try {
    await target.prepare(TABLE_KINDS);
    await target.send("user", inds.map(user));
  } finally {
    await target.close();
  }
}

/**
 * Deletes the user stream and creates it again a little over a second
 * later (kinesalite's sequence numbers carry their shard's creation second).
 */
async function recreateUserStream(config: PipelineConfig, client: KinesisClient, inds: number[]) {
  await client.send(new DeleteStreamCommand({ StreamName: streamName(config.id, "user") }));
  await sleep(1_200);
  await sendUsers(config, inds);
}

const RECREATED =
  /^stream streaming-[0-9a-f]{12}-user was recreated: its checkpointed shards are gone; reading it again from TRIM_HORIZON/m;

Deno.test("consume after the streams were recreated: one line, the new stream from its start, duplicates dropped", async () => {
  const id = randomId();
  const config = loadConfig({ _: [], id });
  const client = kinesisClient(config.kinesis);
  const dir = await Deno.makeTempDir({ prefix: "pinpipe_recreated_" });
  const db = `${dir}/c.duckdb`;
  try {
    await sendUsers(config, [1, 2, 3, 4, 5]);
    const first = await runMain(["consume", "--id", id, "--db", db, "--idle-exit-ms", "1000"]);
    assert.equal(first.code, 0, first.stderr);

    // 4 and 5 again (as a producer started over would send them), then 6..8.
    await recreateUserStream(config, client, [4, 5, 6, 7, 8]);
    const second = await runMain(["consume", "--id", id, "--db", db, "--idle-exit-ms", "1000"]);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stderr.match(new RegExp(RECREATED.source, "gm"))?.length, 1, second.stderr);
    assert.match(second.stdout, /consumed 5 record\(s\).*user \+3 \(2 dup\)/);

    const got = await consumerTables(db, id);
    assert.equal(got.tables.user.length, 8);
    assert.equal(got.checkpoints, 1, "the old stream's checkpoint replaced by the new one's");

    // And a third run has nothing to say and nothing to read.
    const third = await runMain(["consume", "--id", id, "--db", db, "--idle-exit-ms", "1000"]);
    assert.equal(third.code, 0, third.stderr);
    assert.doesNotMatch(third.stderr, RECREATED);
    assert.match(third.stdout, /consumed 0 record\(s\)/);
  } finally {
    await deleteStreams(client, id);
    client.destroy();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the streams recreated while the consumer runs: it says so and goes on with the new stream", async () => {
  const id = randomId();
  const config = loadConfig({ _: [], id });
  const client = kinesisClient(config.kinesis);
  const dir = await Deno.makeTempDir({ prefix: "pinpipe_recreated_live_" });
  const db = `${dir}/c.duckdb`;
  const notices: string[] = [];
  const stop = new AbortController();
  let appended = 0;
  try {
    await sendUsers(config, [1, 2, 3]);
    const running = runConsumer(
      config,
      parseConsumerOptions({ _: [], db, "poll-ms": "100", "wait-streams-ms": "30000" }, id),
      {
        signal: stop.signal,
        log: () => {},
        warn: (line) => notices.push(line),
        onCommit: (result) => appended += result.appended.user,
      },
    );
    await waitFor("the first rows", () => appended === 3, 30_000);
    await recreateUserStream(config, client, [3, 4, 5]);
    await waitFor("the new stream's rows", () => appended === 5, 60_000);
    stop.abort();
    const summary = await running;
    assert.equal(summary.appended.user, 5);
    assert.equal(summary.duplicates.user, 1);
    assert.equal(notices.filter((line) => RECREATED.test(line)).length, 1, notices.join("\n"));
    const got = await consumerTables(db, id);
    assert.equal(got.tables.user.length, 5);
  } finally {
    stop.abort();
    await deleteStreams(client, id);
    client.destroy();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a stream deleted and not created again ends the consumer: exit 4 within --wait-streams-ms", async () => {
  const id = randomId();
  const config = loadConfig({ _: [], id });
  const client = kinesisClient(config.kinesis);
  const dir = await Deno.makeTempDir({ prefix: "pinpipe_recreated_gone_" });
  try {
    await sendUsers(config, [1, 2]);
    const child = spawnMain([
      "consume",
      "--id",
      id,
      "--db",
      `${dir}/c.duckdb`,
      "--wait-streams-ms",
      "2000",
    ]);
    // All of stderr, and a signal once the first micro-batch is in.
    let stderr = "";
    let committed!: () => void;
    const firstBatch = new Promise<void>((resolve) => committed = resolve);
    const reading = (async () => {
      for await (const text of child.stderr.pipeThrough(new TextDecoderStream())) {
        stderr += text;
        if (/micro-batch 1:/.test(stderr)) committed();
      }
      committed();
    })();
    await firstBatch;
    await deleteStreams(client, id);
    const deletedAt = performance.now();
    const [status] = await Promise.all([child.status, child.stdout.cancel(), reading]);
    const seconds = (performance.now() - deletedAt) / 1000;
    assert.equal(status.code, EXIT_CODES.target, stderr);
    assert.match(
      stderr.trim().split("\n").at(-1)!,
      /^pinpipe consume: stream streaming-[0-9a-f]{12}-(pin|geo|user) was deleted and not created again within 2 s$/,
    );
    assert.ok(seconds < 45, `took ${seconds.toFixed(1)} s`);
  } finally {
    await deleteStreams(client, id);
    client.destroy();
    await Deno.remove(dir, { recursive: true });
  }
});
