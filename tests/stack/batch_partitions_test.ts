/**
 * Resume on a topic of several partitions: records written past the
 * checkpoint before a crash are counted per partition from the offsets
 * alone and not sent again, so each row is in Kafka once, and the sink
 * writes each partition's objects from offset 0 without gaps or overlaps.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Checkpoint } from "../../src/transfer/checkpoint.ts";
import type { TransferSummary } from "../../src/transfer/driver.ts";
import { deleteTopics, endOffsets } from "../support/kafka.ts";
import { finish, randomId, readJson, runMain, spawnMain, waitFor } from "../support/processes.ts";
import { multiset, readBucket } from "../support/bucket.ts";
import { sourceRecords } from "../support/source.ts";
import { topicName } from "../../src/core/names.ts";

Deno.test({
  name:
    "batch --partitions 3: a crash with acknowledgements past the checkpoint, resumed: each row once",
  fn: async () => {
    const id = randomId();
    const state = await Deno.makeTempDir({ prefix: "pinpipe-state-" });
    const bucket = await Deno.makeTempDir({ prefix: "pinpipe-bucket-" });
    const file = join(state, id, "kafka", "sequential-geo.json");
    const acknowledged = () => readJson<Checkpoint>(file)?.acknowledged.geo ?? 0;
    const args = [
      "batch",
      "--id",
      id,
      "--state-dir",
      state,
      "--tables",
      "geo",
      "--partitions",
      "3",
    ];
    try {
      const expected = await sourceRecords("geo");
      let producer = spawnMain([...args, "--rate", "3000", "--quiet"]);
      await waitFor("a third acknowledged", () => acknowledged() > expected.length / 3);
      const early = await Deno.readTextFile(file);
      await waitFor("two thirds acknowledged", () => acknowledged() > (expected.length * 2) / 3);
      producer.kill("SIGKILL");
      await finish(producer);
      // As if the acknowledgements after `early` had never been recorded.
      await Deno.writeTextFile(file, early);
      producer = spawnMain([...args, "--json", "--quiet"]);
      const result = await finish(producer);
      assert.equal(result.code, 0, result.stderr);
      const summary = JSON.parse(result.stdout) as TransferSummary;
      assert.ok(summary.tables.geo!.alreadyDelivered > expected.length / 4);
      const ends = (await endOffsets(id, undefined, ["geo"]))[topicName(id, "geo")];
      assert.equal(ends.length, 3);
      assert.ok(ends.every((end) => end > 0), "records spread over the partitions");
      assert.equal(ends.reduce((a, b) => a + b, 0), expected.length, "each row once in Kafka");

      const sink = await runMain([
        "sink",
        "--id",
        id,
        "--tables",
        "geo",
        "--bucket",
        bucket,
        "--flush-size",
        "700",
        "--rotate-ms",
        "200",
        "--exit-at-end",
        "--quiet",
      ]);
      assert.equal(sink.code, 0, sink.stderr);
      const objects = await readBucket(bucket, topicName(id, "geo"));
      for (let partition = 0; partition < 3; partition++) {
        let next = 0;
        for (const object of objects.filter((o) => o.partition === partition)) {
          assert.equal(object.startOffset, next, object.key);
          next += object.records.length;
        }
        assert.equal(next, ends[partition]);
      }
      assert.deepEqual(multiset(objects.flatMap((o) => o.records)), multiset(expected));
    } finally {
      await deleteTopics(id);
      await Deno.remove(state, { recursive: true });
      await Deno.remove(bucket, { recursive: true });
    }
  },
});
