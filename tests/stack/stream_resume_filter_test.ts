/**
 * The producer's resume check against kinesalite: records acknowledged
 * after the checkpoint's shard positions are found in the stream and
 * skipped once per copy; the rest are sent.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../src/core/config.ts";
import { outgoing } from "../../src/core/records.ts";
import { kinesisClient } from "../../src/kinesis/client.ts";
import { KinesisTarget } from "../../src/kinesis/target.ts";
import { SdkTransport } from "../../src/kinesis/sdk_transport.ts";
import { laterSequence } from "../../src/kinesis/tail.ts";
import { openShards, splitShard } from "../../chaos/reshard.ts";
import { deleteStreams } from "../support/kinesis.ts";
import { pollUntil } from "../../src/util/retry.ts";
import { randomId } from "../support/processes.ts";

const geo = (ind: number, country = "Chad") =>
  outgoing("geo", ind, {
    ind,
    timestamp: "2020-01-01T00:00:00",
    latitude: 1,
    longitude: 2,
    country,
  });

Deno.test("later sequence numbers compare as 128-bit numbers, not text", () => {
  assert.equal(laterSequence(undefined, "5"), "5");
  assert.equal(laterSequence("9", "10"), "10");
  assert.equal(
    laterSequence("49680515450035432629674528454475470618082680328125677570", "5"),
    "49680515450035432629674528454475470618082680328125677570",
  );
});

Deno.test({
  name: "records sent after the checkpoint are skipped on resume, once per copy",
  async fn() {
    const id = randomId();
    const config = loadConfig({ _: [], id });
    const client = kinesisClient(config.kinesis);
    try {
      const first = new KinesisTarget({
        transport: new SdkTransport(config.kinesis),
        id,
        shards: 2,
        log: () => {},
      });
      await first.prepare(["geo"]);
      await first.send("geo", Array.from({ length: 40 }, (_, i) => geo(i + 1)));
      const checkpoint = JSON.parse(JSON.stringify(first.position("geo")));
      assert.equal(Object.keys(checkpoint).length, 2, "both shards have a position");
      // Sent and acknowledged, but the process "dies" before the checkpoint: 41, 42 and a copy of 42.
      await first.send("geo", [geo(41), geo(42), geo(42)]);
      await first.close();

      const second = new KinesisTarget({
        transport: new SdkTransport(config.kinesis),
        id,
        shards: 2,
        log: () => {},
      });
      const filter = await second.resumeFilter("geo", checkpoint);
      assert.ok(filter);
      const resumed = [geo(41), geo(42), geo(42), geo(42), geo(43), geo(41, "Peru")];
      assert.deepEqual(resumed.map(filter), [true, true, true, false, false, false]);
      // Its position moved past what it found, so a second crash would not read it again.
      const moved = second.position("geo");
      for (const [shard, sequence] of Object.entries(checkpoint)) {
        assert.ok(BigInt(moved[shard]) >= BigInt(sequence as string));
      }
      assert.equal(await second.resumeFilter("geo", {}), undefined);
      assert.equal(await second.resumeFilter("geo", { bad: "x" }), undefined);
      await second.close();
    } finally {
      await deleteStreams(client, id);
      client.destroy();
    }
  },
});

Deno.test({
  name: "a resume's position covers only the held records it passed, not all it found",
  async fn() {
    const id = randomId();
    const config = loadConfig({ _: [], id });
    const client = kinesisClient(config.kinesis);
    const target = () =>
      new KinesisTarget({
        transport: new SdkTransport(config.kinesis),
        id,
        shards: 2,
        log: () => {},
      });
    const rows = (from: number, to: number) =>
      Array.from({ length: to - from + 1 }, (_, i) => geo(from + i));
    try {
      const first = target();
      await first.prepare(["geo"]);
      await first.send("geo", rows(1, 40));
      const stale = first.position("geo");
      // Two batches' worth acknowledged, their checkpoints lost.
      await first.send("geo", rows(41, 80));
      await first.close();

      // A rerun stops after rows 41 to 50, all found in the stream, and checkpoints there.
      const second = target();
      const filter = (await second.resumeFilter("geo", stale))!;
      assert.ok(rows(41, 50).every(filter));
      const checkpoint = second.position("geo");
      await second.close();

      // The next rerun still finds 51 to 80, and only those: none is sent again, none skipped.
      const third = target();
      const next = (await third.resumeFilter("geo", checkpoint))!;
      assert.ok(next, "records still held after the checkpoint");
      assert.deepEqual(rows(41, 50).map(next), Array(10).fill(false));
      assert.deepEqual(rows(51, 80).map(next), Array(30).fill(true));
      await third.close();
    } finally {
      await deleteStreams(client, id);
      client.destroy();
    }
  },
});

Deno.test({
  name: "records sent to a reshard's children after the checkpoint are found on resume",
  async fn() {
    const id = randomId();
    const config = loadConfig({ _: [], id });
    const client = kinesisClient(config.kinesis);
    const target = () =>
      new KinesisTarget({
        transport: new SdkTransport(config.kinesis),
        id,
        shards: 1,
        log: () => {},
      });
    const rows = (from: number, to: number) =>
      Array.from({ length: to - from + 1 }, (_, i) => geo(from + i));
    try {
      const first = target();
      await first.prepare(["geo"]);
      await first.send("geo", rows(1, 20));
      const checkpoint = first.position("geo");
      // The only shard is split after the checkpoint: what follows lands in its two children.
      const stream = first.destination("geo");
      const [parent] = await openShards(client, stream);
      await splitShard(client, stream, parent);
      assert.ok(
        await pollUntil(async () => (await openShards(client, stream)).length === 2, {
          everyMs: 100,
          timeoutMs: 20_000,
        }),
        "the split's children are open",
      );
      await first.send("geo", rows(21, 60));
      const children = Object.keys(first.position("geo")).filter((s) => !(s in checkpoint));
      assert.equal(children.length, 2, "both children took records");
      await first.close();

      // The rerun from the checkpoint names only the parent; each row sent after it is found once.
      const second = target();
      const filter = (await second.resumeFilter("geo", checkpoint))!;
      assert.ok(filter);
      assert.deepEqual(rows(1, 20).map(filter), Array(20).fill(false));
      assert.deepEqual(rows(21, 60).map(filter), Array(40).fill(true));
      assert.deepEqual(rows(61, 62).map(filter), [false, false]);
      await second.close();
    } finally {
      await deleteStreams(client, id);
      client.destroy();
    }
  },
});
