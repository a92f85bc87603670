/**
 * Crash and resume on both sides of the stream: the producer is killed with
 * SIGKILL mid-run and run again, and the streams hold every source record
 * exactly once; then the consumer is killed with SIGKILL mid-run and run
 * again. The cleaned tables must still equal the batch cleaning of the
 * source: nothing lost, nothing twice.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../src/core/config.ts";
import { kinesisClient } from "../../src/kinesis/client.ts";
import { streamName } from "../../src/core/names.ts";
import { TABLE_KINDS, type TableKind } from "../../src/core/tables.ts";
import { sleep } from "../../src/util/retry.ts";
import { batchCleaning, consumerTables } from "../support/cleaned_tables.ts";
import { deleteStreams, readStream } from "../support/kinesis.ts";
import { randomId, runMain, spawnMain, waitForLine } from "../support/processes.ts";
import { sourceRecords } from "../support/source.ts";

/** The last acknowledged index in each table's checkpoint, or -1. */
async function checkpointed(dir: string, id: string): Promise<Record<TableKind, number>> {
  const out = { pin: -1, geo: -1, user: -1 };
  for (const kind of TABLE_KINDS) {
    try {
      const text = await Deno.readTextFile(`${dir}/${id}/kinesis/sequential-${kind}.json`);
      out[kind] = JSON.parse(text).lastIndex;
    } catch { /* not written yet */ }
  }
  return out;
}

Deno.test({
  name: "producer and consumer killed with SIGKILL and resumed: nothing lost, nothing twice",
  async fn() {
    const id = randomId();
    const dir = await Deno.makeTempDir({ prefix: "pinpipe_stream_resume_" });
    const config = loadConfig({ _: [], id });
    const client = kinesisClient(config.kinesis);
    const common = ["--id", id, "--state-dir", dir, "--quiet"];
    try {
      // 1. The producer, paced so that the kill lands mid-run.
      const producer = spawnMain(["stream", ...common, "--rate", "5000"]);
      await Promise.all([producer.stdout.cancel(), producer.stderr.cancel()]);
      let marks = await checkpointed(dir, id);
      const deadline = Date.now() + 60_000;
      while (Math.min(...Object.values(marks)) < 2_000 && Date.now() < deadline) {
        await sleep(50);
        marks = await checkpointed(dir, id);
      }
      producer.kill("SIGKILL");
      const killed = await producer.status;
      assert.equal(killed.signal, "SIGKILL");
      marks = await checkpointed(dir, id);
      assert.ok(Math.min(...Object.values(marks)) >= 2_000, "the kill came after checkpoints");
      assert.ok(
        Math.max(...Object.values(marks)) < 10_999,
        `killed mid-run: ${JSON.stringify(marks)}`,
      );

      // 2. The producer again: it resumes after its checkpoints and finishes.
      const resumed = await runMain(["stream", ...common, "--json"]);
      assert.equal(resumed.code, 0, resumed.stderr);
      const summary = JSON.parse(resumed.stdout);
      const records = {
        pin: await sourceRecords("pin"),
        geo: await sourceRecords("geo"),
        user: await sourceRecords("user"),
      };
      for (const kind of TABLE_KINDS) {
        // The resumed run read the rows after its checkpoint, skipped the ones Kinesis already
        // held beyond the checkpoint's shard positions, and sent the rest: each record once.
        const after = records[kind].filter((r) =>
          Number(r[kind === "pin" ? "index" : "ind"]) > marks[kind]
        );
        assert.equal(summary.tables[kind].read, after.length, `${kind}: rows read on resume`);
        const inStream = (await readStream(client, streamName(id, kind)))
          .map((text) => JSON.stringify(JSON.parse(text))).sort();
        const expected = records[kind].map((record) => JSON.stringify(record)).sort();
        assert.equal(inStream.length, 11_000, `${kind}: records in the stream`);
        assert.deepEqual(inStream, expected, `${kind}: every source record once in the stream`);
        console.log(
          `${kind}: checkpoint at ${marks[kind]}, ${summary.tables[kind].alreadyDelivered} ` +
            `record(s) found already in the stream on resume`,
        );
      }

      // 3. The consumer, small GetRecords pages so it takes many micro-batches; killed mid-run.
      const db = `${dir}/stream.duckdb`;
      const consumer = spawnMain(["consume", "--id", id, "--db", db, "--limit", "700"]);
      await consumer.stdout.cancel();
      const seen = await waitForLine(consumer, /micro-batch 4:/);
      consumer.kill("SIGKILL");
      assert.equal((await consumer.status).signal, "SIGKILL", seen);

      const before = await consumerTables(db, id);
      const partial = TABLE_KINDS.reduce((n, kind) => n + before.tables[kind].length, 0);
      assert.ok(partial > 0, "the first consumer committed something before the kill");

      // 4. The consumer again, from its checkpoint, until the streams are drained.
      const finished = await runMain(["consume", "--id", id, "--db", db, "--idle-exit-ms", "2000"]);
      assert.equal(finished.code, 0, finished.stderr);

      const expected = await batchCleaning(records);
      const got = await consumerTables(db, id);
      for (const kind of TABLE_KINDS) {
        assert.equal(got.tables[kind].length, expected[kind].length, `${kind} row count`);
        assert.deepEqual(got.tables[kind], expected[kind], `${kind} rows`);
        assert.equal(got.keys[kind], expected[kind].length, `${kind}: one key per row`);
      }
      assert.equal(got.rejects.length, 0);
    } finally {
      await deleteStreams(client, id);
      client.destroy();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
