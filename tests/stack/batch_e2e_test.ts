/**
 * End to end against the local stack: MariaDB (the seeded tables) to Kafka
 * with `deno task batch`, Kafka to a bucket directory with `deno task sink`,
 * with crashes. The source tables hold about 1% exact copies of the
 * previous row (same index, same fields), so "11,000 distinct records" is
 * checked as: exactly one bucket record per source row (each topic's
 * offsets 0..N-1 in objects that neither overlap nor leave gaps), and the
 * multiset of bucket records equals the multiset of records built from the
 * source rows.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Checkpoint } from "../../src/transfer/checkpoint.ts";
import type { TransferSummary } from "../../src/transfer/driver.ts";
import { deleteTopics, endOffsets } from "../support/kafka.ts";
import { finish, randomId, readJson, runMain, spawnMain, waitFor } from "../support/processes.ts";
import { multiset, readBucket } from "../support/bucket.ts";
import { sourceRecords } from "../support/source.ts";
import { TABLE_KINDS } from "../../src/core/tables.ts";
import { topicName } from "../../src/core/names.ts";

/** Rows acknowledged so far by the run of `id` (sum over tables), from its checkpoints. */
function acknowledgedRows(state: string, id: string): number {
  return TABLE_KINDS.reduce((sum, kind) => {
    const saved = readJson<Checkpoint>(join(state, id, "kafka", `sequential-${kind}.json`));
    return sum + (saved?.acknowledged[kind] ?? 0);
  }, 0);
}

Deno.test({
  name:
    "batch + sink: producer SIGKILLed twice and resumed, sink SIGKILLed once and resumed: one bucket record per source row",
  fn: async () => {
    const id = randomId();
    const state = await Deno.makeTempDir({ prefix: "pinpipe-state-" });
    const bucket = await Deno.makeTempDir({ prefix: "pinpipe-bucket-" });
    const expected = Object.fromEntries(
      await Promise.all(TABLE_KINDS.map(async (kind) => [kind, await sourceRecords(kind)])),
    );
    const rows = expected.pin.length;
    assert.ok(rows >= 5_000, `the seeded tables should hold thousands of rows, found ${rows}`);
    for (const kind of TABLE_KINDS) assert.equal(expected[kind].length, rows);
    const total = rows * TABLE_KINDS.length;
    // Throttled so each kill lands mid-run: about 3 s per table at this rate.
    const batch = ["batch", "--id", id, "--state-dir", state, "--rate", "4000", "--quiet"];
    const sinkArgs = ["sink", "--id", id, "--bucket", bucket, "--flush-size", "500"];
    let sink: Deno.ChildProcess | undefined;
    try {
      // Crash 1: kill the producer a fifth of the way through.
      let producer = spawnMain(batch);
      await waitFor(
        "a fifth of the rows acknowledged",
        () => acknowledgedRows(state, id) >= total / 5,
      );
      producer.kill("SIGKILL");
      await finish(producer);
      const afterFirst = acknowledgedRows(state, id);
      assert.ok(afterFirst < total, "the first kill must land before the end");
      const geoFile = join(state, id, "kafka", "sequential-geo.json");
      const oldGeoCheckpoint = await Deno.readTextFile(geoFile);

      // The sink starts, writes some objects, and is killed too.
      sink = spawnMain([...sinkArgs, "--rotate-ms", "200", "--quiet"]);
      await waitFor(
        "the sink to write objects",
        async () => (await readBucket(bucket, topicName(id, "pin"))).length >= 2,
      );

      // Crash 2: resume the producer, kill it again past the middle.
      producer = spawnMain(batch);
      await waitFor("more than half acknowledged", () => acknowledgedRows(state, id) > total / 2);
      producer.kill("SIGKILL");
      await finish(producer);
      assert.ok(acknowledgedRows(state, id) < total, "the second kill must land before the end");
      sink.kill("SIGKILL");
      await finish(sink);
      sink = undefined;

      // As if the last geo acknowledgements had come just before the crash, unrecorded:
      // the topic now holds geo records past the checkpoint, which must not be sent twice.
      await Deno.writeTextFile(geoFile, oldGeoCheckpoint);

      // Resume to the end.
      const last = await runMain([...batch.filter((arg) => arg !== "--quiet"), "--json"]);
      assert.equal(last.code, 0, last.stderr);
      // kafkajs's idle request queue no longer warns (src/kafka/idle_request_queue.ts).
      assert.doesNotMatch(last.stderr, /Warning/);
      const summary = JSON.parse(last.stdout) as TransferSummary;
      assert.ok(summary.tables.geo!.alreadyDelivered > 0, "geo records past the old checkpoint");
      for (const kind of TABLE_KINDS) {
        const counts = summary.tables[kind]!;
        assert.ok(counts.read < rows, `${kind}: the last run resumed, read ${counts.read}`);
        assert.equal(counts.failed, 0);
      }
      // Kafka holds each row exactly once.
      const ends = await endOffsets(id);
      for (const kind of TABLE_KINDS) assert.deepEqual(ends[topicName(id, kind)], [rows]);

      // The sink, restarted, finishes; then the bucket is checked.
      const drained = await runMain([...sinkArgs, "--rotate-ms", "300", "--exit-at-end", "--json"]);
      assert.equal(drained.code, 0, drained.stderr);
      assert.doesNotMatch(drained.stderr, /Warning/);
      for (const kind of TABLE_KINDS) {
        const topic = topicName(id, kind);
        const objects = await readBucket(bucket, topic);
        let next = 0;
        for (const object of objects) {
          assert.equal(object.partition, 0);
          assert.equal(object.startOffset, next, `${object.key}: no gap, no overlap`);
          assert.ok(object.records.length <= 500, `${object.key}: at most flush-size records`);
          next += object.records.length;
        }
        assert.equal(next, rows, `${topic}: one record per source row`);
        const records = objects.flatMap((object) => object.records);
        assert.deepEqual(multiset(records), multiset(expected[kind]), `${topic}: same records`);
      }
    } finally {
      if (sink) {
        sink.kill("SIGKILL");
        await finish(sink).catch(() => {});
      }
      await deleteTopics(id);
      await Deno.remove(state, { recursive: true });
      await Deno.remove(bucket, { recursive: true });
    }
  },
});
