/**
 * Where the consumer starts on shards without a checkpoint: TRIM_HORIZON
 * reads what the stream already holds; LATEST only what arrives after it
 * started; and a checkpoint, once there, wins over both.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../src/core/config.ts";
import { EXIT_CODES } from "../../src/core/errors.ts";
import { outgoing } from "../../src/core/records.ts";
import { kinesisClient } from "../../src/kinesis/client.ts";
import { KinesisTarget } from "../../src/kinesis/target.ts";
import { SdkTransport } from "../../src/kinesis/sdk_transport.ts";
import { TABLE_KINDS } from "../../src/core/tables.ts";
import { parseConsumerOptions } from "../../src/consumer/consume_command.ts";
import { runConsumer } from "../../src/consumer/consumer.ts";
import { deleteStreams } from "../support/kinesis.ts";
import { randomId } from "../support/processes.ts";

Deno.test({
  name: "--from latest skips what the stream held before; a checkpoint wins over --from",
  async fn() {
    const id = randomId();
    const config = loadConfig({ _: [], id });
    const client = kinesisClient(config.kinesis);
    const target = new KinesisTarget({
      transport: new SdkTransport(config.kinesis),
      id,
      shards: 1,
      log: () => {},
    });
    const dir = await Deno.makeTempDir({ prefix: "pinpipe_consumer_start_" });
    const user = (ind: number) =>
      outgoing("user", ind, {
        ind,
        first_name: "A",
        last_name: `B${ind}`,
        age: 30,
        date_joined: "2016-01-02T03:04:05",
      });
    /** One consumer run with a client of its own, as a new process would have. */
    const consume = async (db: string, from: string, idle = "1000", onPoll?: () => void) => {
      const own = kinesisClient(config.kinesis);
      try {
        return await runConsumer(
          config,
          parseConsumerOptions({ _: [], db, from, "idle-exit-ms": idle }, id),
          { client: own, log: () => {}, onPoll },
        );
      } finally {
        own.destroy();
      }
    };
    try {
      await target.prepare(TABLE_KINDS);
      await target.send("user", [1, 2, 3, 4, 5].map(user));

      // Send 6 and 7 once the consumer has polled, so holds its LATEST iterators.
      let polled!: () => void;
      const firstPoll = new Promise<void>((resolve) => polled = resolve);
      const latest = consume(`${dir}/latest.duckdb`, "latest", "2000", () => polled());
      await firstPoll;
      await target.send("user", [6, 7].map(user));
      const fromLatest = await latest;
      assert.equal(fromLatest.records, 2);
      assert.equal(fromLatest.appended.user, 2);

      const fromStart = await consume(`${dir}/start.duckdb`, "trim_horizon");
      assert.equal(fromStart.appended.user, 7);

      // Same database again with --from latest: its checkpoint says where to go on.
      await target.send("user", [8].map(user));
      const again = await consume(`${dir}/start.duckdb`, "latest");
      assert.equal(again.records, 1);
      assert.equal(again.appended.user, 1);
    } finally {
      await target.close();
      await deleteStreams(client, id);
      client.destroy();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "SIGTERM stops the consumer after its micro-batch in hand: exit 130 and a summary",
  async fn() {
    const id = randomId();
    const config = loadConfig({ _: [], id });
    const client = kinesisClient(config.kinesis);
    const target = new KinesisTarget({
      transport: new SdkTransport(config.kinesis),
      id,
      shards: 1,
      log: () => {},
    });
    const dir = await Deno.makeTempDir({ prefix: "pinpipe_consumer_sigterm_" });
    try {
      await target.prepare(TABLE_KINDS);
      await target.send(
        "geo",
        Array.from({ length: 30 }, (_, i) =>
          outgoing("geo", i, {
            ind: i,
            timestamp: "2020-01-01T00:00:00",
            latitude: 1,
            longitude: 2,
            country: "Chad",
          })),
      );
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "main.ts", "consume", "--id", id, "--db", `${dir}/c.duckdb`],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const stderr = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
      let text = "";
      while (!/micro-batch 1:/.test(text)) {
        const { value, done } = await stderr.read();
        if (done) break;
        text += value;
      }
      child.kill("SIGTERM");
      const [status, stdout] = await Promise.all([
        child.status,
        new Response(child.stdout).text(),
        (async () => {
          while (!(await stderr.read()).done) { /* drain */ }
        })(),
      ]);
      assert.equal(status.code, EXIT_CODES.interrupted, text);
      assert.match(stdout, /consumed 30 record\(s\) in 1 micro-batch\(es\).*geo \+30/);
    } finally {
      await target.close();
      await deleteStreams(client, id);
      client.destroy();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
