/**
 * `deno task status` against real `batch`, `sink`, `stream` and `consume`
 * runs on the local stack, with a pipeline id of its own: after a full drain
 * it exits 0 and every count equals the one taken directly (source rows,
 * topic end offsets, lines in the bucket, rows in the cleaned tables);
 * with the sink stopped before the end it exits 1 naming the committed
 * stage; with the database or the broker on a closed port it exits 3 or 4.
 */
import assert from "node:assert/strict";
import { cleanTableName, topicName } from "../../src/core/names.ts";
import { TABLE_KINDS } from "../../src/core/tables.ts";
import { loadConfig } from "../../src/core/config.ts";
import { kinesisClient } from "../../src/kinesis/client.ts";
import type { Ledger } from "../../src/observe/ledger.ts";
import type { Gap } from "../../src/observe/gaps.ts";
import { openDuckDb } from "../../src/warehouse/duckdb_runner.ts";
import { readBucket } from "../support/bucket.ts";
import { deleteTopics, endOffsets } from "../support/kafka.ts";
import { deleteStreams } from "../support/kinesis.ts";
import { randomId, runMain } from "../support/processes.ts";
import { sourceRecords } from "../support/source.ts";

/** A port in this test's range with nothing listening on it. */
const CLOSED_PORT = 30999;

type StatusJson = Ledger & { gap: Gap | null; exitCode: number };

async function status(args: string[]): Promise<{ code: number; json: StatusJson; stderr: string }> {
  const run = await runMain(["status", ...args, "--json", "--quiet"]);
  return { code: run.code, json: JSON.parse(run.stdout) as StatusJson, stderr: run.stderr };
}

const stage = (ledger: Ledger, path: "batch" | "stream", kind: string, name: string) =>
  ledger[path].tables[kind as "pin"].find((s) => s.stage === name)!;

Deno.test({
  name:
    "status: 0 after batch + sink and stream + consume drained, every count as counted directly",
  async fn() {
    const id = randomId();
    const dir = await Deno.makeTempDir({ prefix: "pinpipe-status-" });
    const flags = ["--id", id, "--state-dir", `${dir}/state`];
    const bucket = `${dir}/bucket`;
    const db = `${dir}/stream.duckdb`;
    const warehouse = `${dir}/warehouse.duckdb`;
    const client = kinesisClient(loadConfig({ _: [], id }).kinesis);
    try {
      for (
        const args of [
          ["batch", ...flags, "--quiet"],
          [
            "sink",
            "--id",
            id,
            "--bucket",
            bucket,
            "--exit-at-end",
            "--rotate-ms",
            "300",
            "--quiet",
          ],
          ["stream", ...flags, "--shards", "2", "--quiet"],
          ["consume", "--id", id, "--db", db, "--idle-exit-ms", "2000", "--quiet"],
          // The incremental run over the bucket: bronze, silver and the quarantine.
          [
            "sim",
            "--id",
            id,
            "--from",
            "bucket",
            "--bucket",
            bucket,
            "--incremental",
            "--state",
            warehouse,
            "--quiet",
          ],
        ]
      ) {
        const run = await runMain(args);
        assert.equal(run.code, 0, `${args[0]}: ${run.stderr}`);
      }
      const { code, json, stderr } = await status([
        ...flags,
        "--bucket",
        bucket,
        "--db",
        db,
        "--warehouse",
        warehouse,
      ]);
      assert.equal(code, 0, stderr);
      assert.equal(json.gap, null);
      assert.deepEqual(json.quarantine, []);
      assert.deepEqual(json.rejects, []);
      assert.ok(json.batch.started && json.stream.started);
      assert.ok(json.servers.every((server) => server.up === true), JSON.stringify(json.servers));

      const ends = await endOffsets(id);
      const cleaned = await openDuckDb(db);
      try {
        for (const kind of TABLE_KINDS) {
          const rows = (await sourceRecords(kind)).length;
          const topic = topicName(id, kind);
          const lines = (await readBucket(bucket, topic)).reduce((n, o) => n + o.records.length, 0);
          const inTable = Number(
            (await cleaned.query(`SELECT count(*) FROM "${cleanTableName(id, kind)}"`)).rows[0][0],
          );
          const counts = (path: "batch" | "stream", name: string) =>
            stage(json, path, kind, name).count;
          assert.equal(counts("batch", "source"), rows, `${kind} source rows`);
          assert.equal(counts("batch", "acknowledged"), rows, `${kind} acknowledged`);
          assert.equal(counts("batch", "topic"), ends[topic][0], `${kind} topic end offset`);
          assert.equal(counts("batch", "committed"), ends[topic][0], `${kind} committed`);
          assert.equal(counts("batch", "bucket"), lines, `${kind} lines in the bucket`);
          assert.equal(lines, rows);
          assert.equal(counts("batch", "bronze"), lines, `${kind}: every line read into bronze`);
          // Both paths clean with the same SQL: silver holds what the stream's table holds.
          assert.equal(counts("batch", "silver"), inTable, `${kind} silver rows`);
          assert.equal(counts("stream", "source"), rows);
          assert.equal(counts("stream", "acknowledged"), rows);
          assert.equal(counts("stream", "consumed"), rows, `${kind} consumed`);
          assert.equal(counts("stream", "cleaned"), inTable, `${kind} rows in the cleaned table`);
          // The source holds about 1% exact copies, which the cleaning drops.
          assert.ok(inTable < rows && inTable > rows * 0.95, `${kind}: ${inTable} of ${rows}`);
          for (const reading of [...json.batch.tables[kind], ...json.stream.tables[kind]]) {
            assert.ok(!reading.behind, `${kind} ${reading.stage} behind ${reading.behind}`);
          }
          const shards = stage(json, "stream", kind, "consumed").parts!;
          assert.equal(shards.length, 2, `${kind}: two shards`);
          assert.ok(shards.every((shard) => shard.position !== null && shard.behind === 0));
        }
      } finally {
        cleaned.close();
      }
    } finally {
      await deleteTopics(id);
      await deleteStreams(client, id);
      client.destroy();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "status: 1 naming the committed stage when the sink stopped before the end; 3 and 4 on closed ports",
  async fn() {
    const id = randomId();
    const dir = await Deno.makeTempDir({ prefix: "pinpipe-status-" });
    const flags = ["--id", id, "--state-dir", `${dir}/state`, "--bucket", `${dir}/bucket`];
    try {
      // The sink drains the first 4,000 rows of each table and stops; the producer goes on.
      const first = await runMain(["batch", ...flags.slice(0, 4), "--limit", "4000", "--quiet"]);
      assert.equal(first.code, 0, first.stderr);
      const sink = await runMain([
        "sink",
        "--id",
        id,
        "--bucket",
        `${dir}/bucket`,
        "--exit-at-end",
        "--rotate-ms",
        "300",
        "--quiet",
      ]);
      assert.equal(sink.code, 0, sink.stderr);
      const rest = await runMain(["batch", ...flags.slice(0, 4), "--quiet"]);
      assert.equal(rest.code, 0, rest.stderr);
      const rows = (await sourceRecords("pin")).length;

      const { code, json, stderr } = await status(flags);
      assert.equal(code, 1, stderr);
      assert.equal(json.gap?.path, "batch");
      assert.equal(json.gap?.kind, "pin");
      assert.equal(json.gap?.stage, "committed");
      assert.equal(json.gap?.behind, rows - 4000);
      assert.ok((json.gap?.oldestAgeMs ?? -1) >= 0, "the oldest record's age is known");
      assert.match(stderr, /first gap: batch pin: committed is \d+ record\(s\) behind topic/);
      for (const kind of TABLE_KINDS) {
        assert.equal(stage(json, "batch", kind, "topic").count, rows);
        assert.equal(stage(json, "batch", kind, "committed").count, 4000);
        assert.equal(stage(json, "batch", kind, "bucket").count, 4000);
        assert.equal(stage(json, "batch", kind, "bucket").behind, 0);
      }
      // The stream path never started: not judged, Kinesis not asked.
      assert.equal(json.stream.started, false);

      const noDatabase = await status([...flags, "--mysql-port", String(CLOSED_PORT)]);
      assert.equal(noDatabase.code, 3, noDatabase.stderr);
      assert.match(noDatabase.stderr, new RegExp(`database 127.0.0.1:${CLOSED_PORT}`));
      // The stages that do not need the database are still read.
      assert.equal(stage(noDatabase.json, "batch", "pin", "topic").count, rows);

      const noBroker = await status([...flags, "--brokers", `127.0.0.1:${CLOSED_PORT}`]);
      assert.equal(noBroker.code, 4, noBroker.stderr);
      assert.match(noBroker.stderr, /kafka 127\.0\.0\.1:30999: Kafka broker unreachable/);
      assert.ok(stage(noBroker.json, "batch", "pin", "committed").error);
      assert.equal(stage(noBroker.json, "batch", "pin", "bucket").count, 4000);
    } finally {
      await deleteTopics(id);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
