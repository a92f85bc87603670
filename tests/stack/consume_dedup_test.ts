/**
 * The consumer's de-duplication with bounded state, against kinesalite:
 * records sent twice (a producer retry, a replay) are appended once while
 * their keys are kept; the key table never holds more than its cap, and
 * keys older than the retention are pruned.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../src/core/config.ts";
import { outgoing } from "../../src/core/records.ts";
import { kinesisClient } from "../../src/kinesis/client.ts";
import { sleep } from "../../src/util/retry.ts";
import { KinesisTarget } from "../../src/kinesis/target.ts";
import { SdkTransport } from "../../src/kinesis/sdk_transport.ts";
import { TABLE_KINDS } from "../../src/core/tables.ts";
import { parseConsumerOptions } from "../../src/consumer/consume_command.ts";
import { runConsumer } from "../../src/consumer/consumer.ts";
import { consumerTables } from "../support/cleaned_tables.ts";
import { deleteStreams } from "../support/kinesis.ts";
import { randomId } from "../support/processes.ts";
import { sourceRecords } from "../support/source.ts";

async function setUp() {
  const id = randomId();
  const config = loadConfig({ _: [], id });
  const target = new KinesisTarget({
    transport: new SdkTransport(config.kinesis),
    id,
    shards: 1,
    log: () => {},
  });
  await target.prepare(TABLE_KINDS);
  const user = await sourceRecords("user", { limit: 300 });
  const send = (from: number, to: number) =>
    target.send("user", user.slice(from, to).map((r) => outgoing("user", Number(r.ind), r)));
  const dir = await Deno.makeTempDir({ prefix: "pinpipe_consumer_dedup_" });
  const client = kinesisClient(config.kinesis);
  /** One consumer run with a client of its own, as a new process would have. */
  const consume = async (flags: Record<string, string>) => {
    const own = kinesisClient(config.kinesis);
    try {
      return await runConsumer(
        config,
        parseConsumerOptions(
          { _: [], db: `${dir}/c.duckdb`, "idle-exit-ms": "1000", ...flags },
          id,
        ),
        { client: own, log: () => {} },
      );
    } finally {
      own.destroy();
    }
  };
  const tearDown = async () => {
    await target.close();
    await deleteStreams(client, id);
    client.destroy();
    await Deno.remove(dir, { recursive: true });
  };
  return {
    id,
    dir,
    send,
    consume,
    tearDown,
    /** Distinct records among the source rows `from` to `to`: what the cleaning keeps. */
    distinct: (from = 0, to = 300) =>
      new Set(user.slice(from, to).map((r) => JSON.stringify(r))).size,
  };
}

Deno.test({
  name: "records sent twice are appended once while their keys are kept",
  async fn() {
    const t = await setUp();
    try {
      await t.send(0, 300);
      await t.send(100, 300); // a replay of the last 200
      const first = await t.consume({});
      assert.equal(first.records, 500);
      assert.equal(first.appended.user, t.distinct());
      await t.send(0, 50); // later, once more
      const second = await t.consume({});
      assert.equal(second.records, 50);
      assert.equal(second.appended.user, 0);
      assert.equal(second.duplicates.user, 50);
      const got = await consumerTables(`${t.dir}/c.duckdb`, t.id);
      assert.equal(got.tables.user.length, t.distinct());
      assert.equal(new Set(got.tables.user).size, t.distinct(), "no row twice");
    } finally {
      await t.tearDown();
    }
  },
});

Deno.test({
  name: "the key table stays within its cap and its retention",
  async fn() {
    const t = await setUp();
    try {
      await t.send(0, 150);
      await t.consume({ "dedup-max-keys": "100", limit: "50" });
      let got = await consumerTables(`${t.dir}/c.duckdb`, t.id);
      assert.equal(got.keys.user, 100, "at most 100 keys");
      assert.equal(got.tables.user.length, t.distinct(0, 150), "all rows appended");

      // Retention of 1 s (by arrival time): keys of records that arrived
      // 2 s before the newest are pruned.
      await sleep(2_000);
      await t.send(150, 160);
      await t.consume({ "dedup-hours": String(1 / 3600) });
      got = await consumerTables(`${t.dir}/c.duckdb`, t.id);
      assert.equal(got.keys.user, t.distinct(150, 160), "only the recent keys are kept");
      assert.equal(got.tables.user.length, t.distinct(0, 160));
    } finally {
      await t.tearDown();
    }
  },
});
