/**
 * The broker stopped mid-run and started again: `deno task batch` waits,
 * retries and finishes, and the topics hold each source row exactly once.
 * Uses a private broker (same jars, own ports and data) so stopping it does
 * not disturb the shared one; the records are read back with the sink.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Checkpoint } from "../../src/transfer/checkpoint.ts";
import type { TransferSummary } from "../../src/transfer/driver.ts";
import { endOffsets } from "../support/kafka.ts";
import { finish, randomId, readJson, runMain, spawnMain, waitFor } from "../support/processes.ts";
import { multiset, readBucket } from "../support/bucket.ts";
import { sourceRecords } from "../support/source.ts";
import { startPrivateBroker } from "../support/private_broker.ts";
import { TABLE_KINDS } from "../../src/core/tables.ts";
import { topicName } from "../../src/core/names.ts";

Deno.test({
  name:
    "batch: the broker stops mid-run and comes back; the producer waits, retries, finishes, exactly once",
  fn: async () => {
    const broker = await startPrivateBroker();
    const state = await Deno.makeTempDir({ prefix: "pinpipe-state-" });
    const bucket = await Deno.makeTempDir({ prefix: "pinpipe-bucket-" });
    const id = randomId();
    try {
      const expected = Object.fromEntries(
        await Promise.all(TABLE_KINDS.map(async (kind) => [kind, await sourceRecords(kind)])),
      );
      const rows = expected.pin.length;
      const acknowledged = () =>
        TABLE_KINDS.reduce(
          (sum, kind) =>
            sum +
            (readJson<Checkpoint>(join(state, id, "kafka", `sequential-${kind}.json`))
              ?.acknowledged[kind] ?? 0),
          0,
        );
      const producer = spawnMain([
        "batch",
        "--id",
        id,
        "--state-dir",
        state,
        "--brokers",
        broker.brokers[0],
        "--rate",
        "3000",
        "--json",
        "--quiet",
      ]);
      await waitFor("a quarter acknowledged", () => acknowledged() >= (rows * 3) / 4);
      await broker.stop();
      const atStop = acknowledged();
      await new Promise((resolve) => setTimeout(resolve, 3000));
      assert.equal(acknowledged(), atStop, "nothing is acknowledged while the broker is down");
      await broker.start();
      const result = await finish(producer);
      assert.equal(result.code, 0, result.stderr);
      const summary = JSON.parse(result.stdout) as TransferSummary;
      for (const kind of TABLE_KINDS) {
        assert.equal(summary.tables[kind]!.acknowledged, rows);
        assert.equal(summary.tables[kind]!.failed, 0);
      }
      const ends = await endOffsets(id, broker.brokers);
      for (const kind of TABLE_KINDS) assert.deepEqual(ends[topicName(id, kind)], [rows]);

      const sink = await runMain([
        "sink",
        "--id",
        id,
        "--brokers",
        broker.brokers[0],
        "--bucket",
        bucket,
        "--rotate-ms",
        "200",
        "--exit-at-end",
        "--quiet",
      ]);
      assert.equal(sink.code, 0, sink.stderr);
      for (const kind of TABLE_KINDS) {
        const records = (await readBucket(bucket, topicName(id, kind))).flatMap((o) => o.records);
        assert.deepEqual(multiset(records), multiset(expected[kind]), `${kind}: each row once`);
      }
    } finally {
      await broker.destroy();
      await Deno.remove(state, { recursive: true });
      await Deno.remove(bucket, { recursive: true });
    }
  },
});
