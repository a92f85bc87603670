/**
 * Sinks scale out in one consumer group, as MSK Connect runs several tasks:
 * members join, and are killed with SIGKILL, while `batch` sends to
 * 3-partition topics. No rebalance ends a sink; at the end every source row
 * is in the bucket exactly once, and each partition's objects tile its
 * offsets from 0 to the end offset with no gap and no overlap.
 */
import assert from "node:assert/strict";
import { topicName } from "../../src/core/names.ts";
import { TABLE_KINDS } from "../../src/core/tables.ts";
import { countObjects, multiset, readBucket } from "../support/bucket.ts";
import { deleteTopics, endOffsets } from "../support/kafka.ts";
import { finish, randomId, spawnMain, waitFor } from "../support/processes.ts";
import { sourceRecords } from "../support/source.ts";

/** A child process and whether it has exited. */
function watched(child: Deno.ChildProcess) {
  const state = { child, exited: false, result: finish(child) };
  state.result.then(() => state.exited = true);
  return state;
}

Deno.test({
  name: "sink: members join and are killed while batch sends; each row once, objects tile offsets",
  fn: async () => {
    const id = randomId();
    const state = await Deno.makeTempDir({ prefix: "pinpipe-state-" });
    const bucket = await Deno.makeTempDir({ prefix: "pinpipe-bucket-" });
    const sinkArgs = [
      "sink",
      "--id",
      id,
      "--bucket",
      bucket,
      "--group",
      `connect-pinpipe-sink-${id}`,
      "--flush-size",
      "250",
      "--rotate-ms",
      "400",
      "--quiet",
    ];
    const sinks: ReturnType<typeof watched>[] = [];
    const startSink = () => {
      const sink = watched(spawnMain(sinkArgs));
      sinks.push(sink);
      return sink;
    };
    const killSink = async (sink: ReturnType<typeof watched>) => {
      if (sink.exited) assert.fail(`a rebalance ended a sink: ${(await sink.result).stderr}`);
      sink.child.kill("SIGKILL");
      await sink.result;
    };
    const moreObjects = (n: number) => {
      const target = countObjects(bucket) + n;
      return waitFor(
        `${n} more objects`,
        () => countObjects(bucket) >= target || batch.exited,
        60_000,
        100,
      );
    };
    const batch = watched(spawnMain([
      "batch",
      "--id",
      id,
      "--state-dir",
      state,
      "--partitions",
      "3",
      "--rate",
      "250",
      "--quiet",
    ]));
    try {
      const expected = Object.fromEntries(
        await Promise.all(TABLE_KINDS.map(async (kind) => [kind, await sourceRecords(kind)])),
      );
      await waitFor("the topics", () => endOffsets(id).then(() => true, () => false), 30_000, 250);

      const first = startSink();
      await moreObjects(6);
      const second = startSink();
      await moreObjects(6);
      const third = startSink();
      await moreObjects(6);
      await killSink(second); // killed while its partitions have open buffers
      const fourth = startSink();
      await moreObjects(6);
      await killSink(first);
      await moreObjects(6);

      const batchResult = await batch.result;
      assert.equal(batchResult.code, 0, batchResult.stderr);
      const last = await finish(spawnMain([...sinkArgs, "--exit-at-end"]));
      assert.equal(last.code, 0, last.stderr);
      for (const member of [third, fourth]) {
        if (member.exited) assert.fail(`a rebalance ended a sink: ${(await member.result).stderr}`);
        member.child.kill("SIGTERM");
        const stopped = await member.result;
        assert.equal(stopped.code, 130, stopped.stderr);
      }

      const ends = await endOffsets(id);
      for (const kind of TABLE_KINDS) {
        const topic = topicName(id, kind);
        const objects = await readBucket(bucket, topic);
        for (let partition = 0; partition < 3; partition++) {
          let next = 0;
          for (const object of objects.filter((o) => o.partition === partition)) {
            assert.equal(object.startOffset, next, `${object.key}: a gap or an overlap`);
            next += object.records.length;
          }
          assert.equal(next, ends[topic][partition], `${topic} partition ${partition} to its end`);
        }
        assert.deepEqual(
          multiset(objects.flatMap((o) => o.records)),
          multiset(expected[kind]),
          `${topic}: each source row exactly once`,
        );
      }
    } finally {
      for (const member of [batch, ...sinks]) {
        if (!member.exited) member.child.kill("SIGKILL");
        await member.result;
      }
      await deleteTopics(id);
      await Deno.remove(state, { recursive: true });
      await Deno.remove(bucket, { recursive: true });
    }
  },
});
