/**
 * SIGINT means the same in every long-running command: finish what is in
 * flight, commit or checkpoint it, exit 130. (batch: batch_modes_test.ts.)
 * Here the two consumers: the sink's written objects are committed, so the
 * next sink goes on after them; the consumer's micro-batches are committed
 * with their checkpoint, so the next consumer finds nothing left to read.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { kinesisClient } from "../../src/kinesis/client.ts";
import { loadConfig } from "../../src/core/config.ts";
import { EXIT_CODES } from "../../src/core/errors.ts";
import { topicName } from "../../src/core/names.ts";
import type { TransferSummary } from "../../src/transfer/driver.ts";
import { readBucket } from "../support/bucket.ts";
import { deleteTopics } from "../support/kafka.ts";
import { deleteStreams } from "../support/kinesis.ts";
import {
  finish,
  randomId,
  runMain,
  spawnMain,
  waitFor,
  waitForLine,
} from "../support/processes.ts";

Deno.test("sink: SIGINT commits the objects written, exits 130; the next sink goes on after them", async () => {
  const id = randomId();
  const dir = await Deno.makeTempDir({ prefix: "pinpipe-interrupt-" });
  const bucket = join(dir, "bucket");
  const topic = topicName(id, "geo");
  try {
    const produced = await runMain([
      "batch",
      "--id",
      id,
      "--state-dir",
      join(dir, "state"),
      "--tables",
      "geo",
      "--limit",
      "1200",
      "--json",
      "--quiet",
    ]);
    assert.equal(produced.code, 0, produced.stderr);
    const total = (JSON.parse(produced.stdout) as TransferSummary).totals.acknowledged;
    assert.ok(total >= 1200 && total < 1500, `${total} records`);

    const sink = ["sink", "--id", id, "--tables", "geo", "--bucket", bucket, "--flush-size", "500"];
    const first = spawnMain([...sink, "--rotate-ms", "0"]);
    await waitFor("two objects", async () => (await readBucket(bucket, topic)).length === 2);
    first.kill("SIGINT");
    const stopped = await finish(first);
    assert.equal(stopped.code, EXIT_CODES.interrupted, stopped.stderr);
    assert.match(
      stopped.stderr,
      /^sink: stopped in .*\n {2}[0-9a-f]{12}\.geo +2 objects, 1000 records/,
    );

    const second = await runMain([...sink, "--rotate-ms", "300", "--exit-at-end", "--json"]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /^sink: done in/);
    const summary = JSON.parse(second.stdout);
    assert.deepEqual(summary.topics[topic], { objects: 1, records: total - 1000 });
    assert.equal(summary.interrupted, false);
    const objects = await readBucket(bucket, topic);
    assert.deepEqual(objects.map((object) => object.startOffset), [0, 500, 1000]);
    assert.equal(objects.reduce((n, object) => n + object.records.length, 0), total);
  } finally {
    await deleteTopics(id);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("consume: SIGINT commits the micro-batch with its checkpoint, exits 130", async () => {
  const id = randomId();
  const dir = await Deno.makeTempDir({ prefix: "pinpipe-interrupt-" });
  const db = join(dir, "c.duckdb");
  const client = kinesisClient(loadConfig({ _: [] }).kinesis);
  try {
    const produced = await runMain([
      "stream",
      "--id",
      id,
      "--state-dir",
      join(dir, "state"),
      "--limit",
      "30",
      "--json",
      "--quiet",
    ]);
    assert.equal(produced.code, 0, produced.stderr);
    const total = (JSON.parse(produced.stdout) as TransferSummary).totals.acknowledged;

    const consumer = spawnMain(["consume", "--id", id, "--db", db]);
    const stderr = await waitForLine(consumer, /micro-batch 1:/);
    consumer.kill("SIGINT");
    const [status, stdout] = await Promise.all([
      consumer.status,
      new Response(consumer.stdout).text(),
    ]);
    assert.equal(status.code, EXIT_CODES.interrupted, stderr);
    assert.match(stdout, new RegExp(`consumed ${total} record\\(s\\) in 1 micro-batch\\(es\\)`));

    const again = await runMain([
      "consume",
      "--id",
      id,
      "--db",
      db,
      "--idle-exit-ms",
      "1000",
      "--json",
    ]);
    assert.equal(again.code, 0, again.stderr);
    const summary = JSON.parse(again.stdout);
    assert.equal(summary.records, 0, "the checkpoint was committed with the micro-batch");
    assert.equal(summary.interrupted, false);
    assert.match(again.stderr, /consumed 0 record\(s\)/);
  } finally {
    await deleteStreams(client, id);
    client.destroy();
    await Deno.remove(dir, { recursive: true });
  }
});
