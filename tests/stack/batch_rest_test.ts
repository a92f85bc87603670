/**
 * `deno task batch --via rest URL`: the original's API Gateway / Kafka REST
 * Proxy v2 path, many records per request, retrying 429 and 5xx, failing
 * clearly on other answers (a 413 with exit 5, the requests before it
 * checkpointed). Against a REST Proxy v2 stand-in that writes to
 * the real local broker.
 */
import assert from "node:assert/strict";
import { EXIT_CODES } from "../../src/core/errors.ts";
import { KAFKA_JSON_V2 } from "../../src/kafka/rest_target.ts";
import type { TransferSummary } from "../../src/transfer/driver.ts";
import { startRestStandIn } from "../../infra/local/rest_proxy_stand_in.ts";
import { join } from "node:path";
import { kafkaClient } from "../../src/kafka/client.ts";
import type { Checkpoint } from "../../src/transfer/checkpoint.ts";
import { deleteTopics, endOffsets, topicKeys } from "../support/kafka.ts";
import { multiset, readBucket } from "../support/bucket.ts";
import { randomId, readJson, runMain } from "../support/processes.ts";
import { sourceRecords } from "../support/source.ts";
import { topicName } from "../../src/core/names.ts";

Deno.test({
  name: "batch --via rest: records in requests of N, 429 and 503 retried, every record once",
  fn: async () => {
    const id = randomId();
    const state = await Deno.makeTempDir({ prefix: "pinpipe-state-" });
    const bucket = await Deno.makeTempDir({ prefix: "pinpipe-bucket-" });
    const proxy = await startRestStandIn(["127.0.0.1:19092"]);
    try {
      const common = ["--id", id, "--state-dir", state, "--tables", "geo"];
      // A REST proxy cannot create topics: without one, a clear failure.
      const missing = await runMain(["batch", ...common, "--via", "rest", proxy.url]);
      assert.equal(missing.code, EXIT_CODES.target);
      assert.match(
        missing.stderr,
        new RegExp(`topic ${id}\\.geo does not exist behind ${proxy.url}`),
      );
      // Create the topic directly (with the first row), then send everything through the proxy
      // (the REST target keeps checkpoints of its own: it starts from the first row too).
      const first = await runMain(["batch", ...common, "--limit", "1", "--quiet", "--json"]);
      assert.equal(first.code, 0, first.stderr);
      const firstLast = (JSON.parse(first.stdout) as TransferSummary).tables.geo!.lastIndex!;

      proxy.failNext.push(429, 503);
      const result = await runMain([
        "batch",
        ...common,
        "--via",
        "rest",
        proxy.url,
        "--request-records",
        "250",
        "--limit",
        "1999",
        "--json",
        "--quiet",
      ]);
      assert.equal(result.code, 0, result.stderr);
      const summary = JSON.parse(result.stdout) as TransferSummary;
      assert.equal(summary.target, "kafka-rest");
      assert.ok(summary.tables.geo!.acknowledged >= 1999);
      const statuses = proxy.requests.map((request) => request.status);
      assert.deepEqual(statuses.slice(0, 2), [429, 503], "the injected failures came first");
      assert.ok(statuses.slice(2).every((status) => status === 200));
      assert.ok(proxy.requests.every((request) => request.contentType === KAFKA_JSON_V2));
      assert.ok(proxy.requests.every((request) => request.records <= 250));
      assert.equal(
        proxy.requests.slice(2).reduce((sum, request) => sum + request.records, 0),
        summary.tables.geo!.acknowledged,
      );
      // Read back: the direct run's rows, and every geo row up to the last index acknowledged
      // through the proxy, each once.
      const sink = await runMain([
        "sink",
        "--id",
        id,
        "--tables",
        "geo",
        "--bucket",
        bucket,
        "--rotate-ms",
        "200",
        "--exit-at-end",
        "--quiet",
      ]);
      assert.equal(sink.code, 0, sink.stderr);
      const records = (await readBucket(bucket, topicName(id, "geo"))).flatMap((o) => o.records);
      const source = await sourceRecords("geo");
      const upTo = (last: number) => source.filter((record) => Number(record.ind) <= last);
      const expected = [...upTo(firstLast), ...upTo(summary.tables.geo!.lastIndex!)];
      assert.deepEqual(multiset(records), multiset(expected));

      // Any other refusal is a clear failure, and the checkpoint does not move.
      proxy.failNext.push(400);
      const refused = await runMain(["batch", ...common, "--via", "rest", proxy.url, "--quiet"]);
      assert.equal(refused.code, EXIT_CODES.target);
      assert.match(
        refused.stderr.trim(),
        new RegExp(
          `^pinpipe batch: Kafka REST endpoint ${proxy.url}/topics/${id}\\.geo refused the records: 400 `,
        ),
      );
    } finally {
      await proxy.close();
      await deleteTopics(id);
      await Deno.remove(state, { recursive: true });
      await Deno.remove(bucket, { recursive: true });
    }
  },
});

Deno.test("batch --via rest: a 413 mid-batch stops with exit 5; the requests before it are checkpointed, not sent again", async () => {
  const id = randomId();
  const state = await Deno.makeTempDir({ prefix: "pinpipe-state-" });
  const proxy = await startRestStandIn(["127.0.0.1:19092"]);
  const topic = topicName(id, "geo");
  try {
    const kafka = await kafkaClient({ brokers: ["127.0.0.1:19092"], auth: "none" }, "pinpipe-test");
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1 }] });
    await admin.disconnect();
    const args = [
      "batch",
      ...["--id", id, "--state-dir", state, "--tables", "geo", "--via", "rest", proxy.url],
      ...["--request-records", "10", "--batch-size", "100", "--limit", "200", "--quiet"],
    ];
    // Three requests of the first batch pass (the stand-in lets an empty entry through), the fourth is refused.
    proxy.failNext.push(...Array(3).fill(undefined), 413);
    const refused = await runMain(args);
    assert.equal(refused.code, EXIT_CODES.record, refused.stderr);
    assert.match(refused.stderr.trim(), /^pinpipe batch: record too large for .* \(413\)$/);
    const source = (await sourceRecords("geo")).map((record) => Number(record.ind));
    const checkpointFile = join(state, id, "kafka-rest", "sequential-geo.json");
    const saved = readJson<Checkpoint>(checkpointFile)!;
    assert.equal(saved.acknowledged.geo, 30);
    assert.equal(saved.lastIndex, source[29]);
    assert.equal((await endOffsets(id, undefined, ["geo"]))[topic][0], 30);

    const rerun = await runMain(args);
    assert.equal(rerun.code, 0, rerun.stderr);
    const last = readJson<Checkpoint>(checkpointFile)!.lastIndex!;
    const expected = source.filter((index) => index <= last).map(String);
    assert.ok(expected.length >= 200);
    assert.deepEqual(await topicKeys(id, "geo"), expected, "each row once, in order");
  } finally {
    await proxy.close();
    await deleteTopics(id);
    await Deno.remove(state, { recursive: true });
  }
});
