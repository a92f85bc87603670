/**
 * Each failure of `deno task batch` ends with one line naming the thing, its
 * own exit code, and the checkpoint as it was: database unreachable, wrong
 * password, table missing, broker unreachable, record too large (where the
 * checkpoint holds the rows before the refused one). (The
 * authentication and authorization cases need a broker with SASL and ACLs:
 * see batch_auth_test.ts.) Against the local stack; nothing is mocked.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { kafkaClient } from "../../src/kafka/client.ts";
import { loadConfig } from "../../src/core/config.ts";
import { EXIT_CODES } from "../../src/core/errors.ts";
import type { Checkpoint } from "../../src/transfer/checkpoint.ts";
import { deleteTopics, endOffsets, topicKeys } from "../support/kafka.ts";
import { freePort, randomId, readJson, runMain } from "../support/processes.ts";
import { rootSql } from "../support/source.ts";
import { topicName } from "../../src/core/names.ts";

/** A pipeline of one test's own: its id, its state directory, and its batch command line. */
interface Pipeline {
  id: string;
  state: string;
  batch(...args: string[]): string[];
  /** The geo checkpoint of the sequential run. */
  checkpointFile: string;
}

/** Runs `fn` with a fresh pipeline, then deletes its topics and state whatever happened. */
async function withPipeline(fn: (pipeline: Pipeline) => Promise<void>): Promise<void> {
  const id = randomId();
  const state = await Deno.makeTempDir({ prefix: "pinpipe-state-" });
  try {
    await fn({
      id,
      state,
      batch: (...args) => ["batch", "--id", id, "--state-dir", state, ...args],
      checkpointFile: join(state, id, "kafka", "sequential-geo.json"),
    });
  } finally {
    await deleteTopics(id);
    await Deno.remove(state, { recursive: true });
  }
}

/** As `withPipeline`, after a first run that leaves a checkpoint the failures must not touch. */
function withCheckpoint(fn: (pipeline: Pipeline) => Promise<void>): Promise<void> {
  return withPipeline(async (pipeline) => {
    const result = await runMain(pipeline.batch("--tables", "geo", "--limit", "5", "--quiet"));
    assert.equal(result.code, 0, result.stderr);
    const saved = readJson<Checkpoint>(pipeline.checkpointFile)!;
    assert.equal(saved.acknowledged.geo, 5);
    await fn(pipeline);
  });
}

/** Runs a failing batch and checks exit code, one-line message and the untouched checkpoint. */
async function expectFailure(
  { checkpointFile }: Pipeline,
  args: string[],
  code: number,
  message: RegExp,
  env: Record<string, string> = {},
): Promise<void> {
  const before = await Deno.readTextFile(checkpointFile);
  const result = await runMain(args, env);
  assert.equal(result.code, code, `exit code; stderr: ${result.stderr}`);
  const lines = result.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `one line: ${result.stderr}`);
  assert.match(lines[0], message);
  assert.equal(await Deno.readTextFile(checkpointFile), before, "checkpoint unchanged");
}

Deno.test("batch errors: database unreachable", () =>
  withCheckpoint(async (pipeline) => {
    const port = freePort();
    await expectFailure(
      pipeline,
      pipeline.batch("--mysql-port", String(port)),
      EXIT_CODES.source,
      new RegExp(
        `^pinpipe batch: database unreachable: MySQL 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)$`,
      ),
    );
  }));

Deno.test("batch errors: wrong password", () =>
  withCheckpoint(async (pipeline) => {
    await expectFailure(
      pipeline,
      pipeline.batch(),
      EXIT_CODES.source,
      /^pinpipe batch: database refused user "pinpipe_reader" at MySQL 127\.0\.0\.1:\d+: wrong password/,
      { PINPIPE_MYSQL_PASSWORD: "wrong" },
    );
  }));

Deno.test("batch errors: table missing", () =>
  withCheckpoint(async (pipeline) => {
    const database = `pinpipe_t_${pipeline.id}`;
    // A database with the pin and geo tables but no user_data, readable by the reader user.
    await rootSql(
      `CREATE DATABASE ${database}; ` +
        `CREATE TABLE ${database}.pinterest_data LIKE pinterest_data.pinterest_data; ` +
        `CREATE TABLE ${database}.geolocation_data LIKE pinterest_data.geolocation_data; ` +
        `GRANT SELECT ON ${database}.* TO 'pinpipe_reader'@'127.0.0.1';`,
    );
    try {
      await expectFailure(
        pipeline,
        pipeline.batch("--mysql-database", database),
        EXIT_CODES.source,
        new RegExp(
          `^pinpipe batch: table ${database}\\.user_data is missing at MySQL 127\\.0\\.0\\.1:\\d+$`,
        ),
      );
    } finally {
      await rootSql(
        `REVOKE ALL PRIVILEGES ON ${database}.* FROM 'pinpipe_reader'@'127.0.0.1'; DROP DATABASE ${database};`,
      );
    }
  }));

Deno.test("batch errors: broker unreachable", () =>
  withCheckpoint(async (pipeline) => {
    const port = freePort();
    await expectFailure(
      pipeline,
      pipeline.batch("--brokers", `127.0.0.1:${port}`),
      EXIT_CODES.target,
      new RegExp(`^pinpipe batch: Kafka broker unreachable at 127\\.0\\.0\\.1:${port}: `),
    );
  }));

/**
 * A pin table of the first 100 rows in a database of its own, the 50th made
 * larger than the topic accepts, and the topic with that limit and
 * `partitions` partitions; then `batch` with `batchSize` rows per batch, twice.
 */
function recordTooLarge(batchSize: string, partitions = 1): Promise<void> {
  return withPipeline(async (pipeline) => {
    const database = `pinpipe_r_${pipeline.id}`;
    await rootSql(
      `CREATE DATABASE ${database}; ` +
        `CREATE TABLE ${database}.pinterest_data LIKE pinterest_data.pinterest_data; ` +
        `INSERT INTO ${database}.pinterest_data SELECT * FROM pinterest_data.pinterest_data ` +
        "ORDER BY `index` LIMIT 100; " +
        `GRANT SELECT ON ${database}.* TO 'pinpipe_reader'@'127.0.0.1';`,
    );
    try {
      const indexes = (await rootSql(
        `SELECT \`index\` FROM ${database}.pinterest_data ORDER BY 1`,
      )).trim().split("\n").map(Number);
      const huge = indexes[49];
      const before = indexes.filter((index) => index < huge);
      await rootSql(
        `UPDATE ${database}.pinterest_data SET description = REPEAT('x', 5000) ` +
          `WHERE \`index\` = ${huge}`,
      );
      // The topic accepts any normal record (under 1 KB) but not the huge one.
      const kafka = await kafkaClient(
        { brokers: loadConfig({ _: [] }).kafka.brokers, auth: "none" },
        "pinpipe-test",
      );
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{
          topic: topicName(pipeline.id, "pin"),
          numPartitions: partitions,
          replicationFactor: 1,
          configEntries: [{ name: "max.message.bytes", value: "2000" }],
        }],
      });
      await admin.disconnect();

      const args = pipeline.batch(
        "--tables",
        "pin",
        "--batch-size",
        batchSize,
        "--mysql-database",
        database,
        "--quiet",
      );
      const checkpointFile = join(pipeline.state, pipeline.id, "kafka", "sequential-pin.json");
      // The rerun must stop at the same row, not skip it, and send nothing before it again.
      for (const run of ["first run", "rerun", ...(partitions > 1 ? ["second rerun"] : [])]) {
        const result = await runMain(args);
        assert.equal(result.code, EXIT_CODES.record, `${run}: ${result.stderr}`);
        assert.match(
          result.stderr.trim(),
          new RegExp(
            `^pinpipe batch: record too large for ${pipeline.id}\\.pin: pin index ${huge} is 5\\d{3} bytes, ` +
              `over the topic's max\\.message\\.bytes$`,
          ),
          run,
        );
        const saved = readJson<Checkpoint>(checkpointFile)!;
        assert.equal(saved.lastIndex, before.at(-1), `${run}: checkpoint at the row before`);
        assert.equal(saved.acknowledged.pin, before.length, `${run}: acknowledged`);
        const position = saved.positions.pin as { ends: Record<string, number> };
        assert.equal(
          Object.values(position.ends).reduce((sum, end) => sum + end, 0),
          before.length,
          `${run}: the checkpoint's offsets count the rows before the refused one`,
        );
        const keys = await topicKeys(pipeline.id, "pin");
        if (partitions === 1) {
          const end =
            (await endOffsets(pipeline.id, undefined, ["pin"]))[topicName(pipeline.id, "pin")][0];
          assert.equal(end, before.length, `${run}: Kafka holds the rows before the refused one`);
          assert.deepEqual(keys, before.map(String), `${run}: each row before it once, in order`);
        } else {
          // Partitions are sent at once: rows after the refused one may be in other partitions
          // already, each once, and no rerun sends one of them again.
          const sorted = [...keys].sort((a, b) => Number(a) - Number(b));
          assert.deepEqual(sorted.slice(0, before.length), before.map(String), run);
          const inSource = (key: string) => indexes.filter((index) => String(index) === key).length;
          const inTopic = (key: string) => keys.filter((other) => other === key).length;
          assert.ok(keys.every((key) => inTopic(key) <= inSource(key)), `${run}: no row twice`);
          assert.ok(sorted.slice(before.length).every((key) => Number(key) > huge), run);
        }
      }
    } finally {
      await rootSql(
        `REVOKE ALL PRIVILEGES ON ${database}.* FROM 'pinpipe_reader'@'127.0.0.1'; ` +
          `DROP DATABASE ${database};`,
      );
    }
  });
}

Deno.test("batch errors: record too large in the first batch: the rows before it are checkpointed; a rerun stops at it again", () =>
  recordTooLarge("1000"));

Deno.test("batch errors: record too large mid-batch after checkpointed batches: the same", () =>
  recordTooLarge("10"));

Deno.test("batch errors: record too large in a three-partition topic: rows after it in other partitions are not sent twice", () =>
  recordTooLarge("1000", 3));
