/**
 * `deno task batch` orders and modes against the local stack: `--order
 * random` sends exactly the rows the original's draws pick (and resumes
 * mid-sequence), `--follow` picks up rows inserted later, and SIGINT
 * finishes the batch in flight, checkpoints it and exits 130.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Checkpoint } from "../../src/transfer/checkpoint.ts";
import { OriginalSampler } from "../../src/source/row_order.ts";
import type { TransferSummary } from "../../src/transfer/driver.ts";
import { deleteTopics } from "../support/kafka.ts";
import { finish, randomId, readJson, runMain, spawnMain, waitFor } from "../support/processes.ts";
import { readBucket } from "../support/bucket.ts";
import { rootSql, sourceRecords } from "../support/source.ts";
import { topicName } from "../../src/core/names.ts";

Deno.test({
  name: "batch --order random --seed 100: the original's draws, row for row, resumed mid-sequence",
  fn: async () => {
    const id = randomId();
    const state = await Deno.makeTempDir({ prefix: "pinpipe-state-" });
    const bucket = await Deno.makeTempDir({ prefix: "pinpipe-bucket-" });
    try {
      const args = [
        "batch",
        "--id",
        id,
        "--state-dir",
        state,
        "--order",
        "random",
        "--seed",
        "100",
      ];
      const rest = ["--tables", "geo,user", "--rate", "100", "--limit", "15", "--json", "--quiet"];
      for (let run = 0; run < 2; run++) {
        const result = await runMain([...args, ...rest]);
        assert.equal(result.code, 0, result.stderr);
        assert.equal((JSON.parse(result.stdout) as TransferSummary).samples, 15);
      }
      const saved = readJson<Checkpoint>(join(state, id, "kafka", "random-seed100.json"))!;
      assert.equal(saved.samples, 30);
      const sink = await runMain([
        "sink",
        "--id",
        id,
        "--tables",
        "geo,user",
        "--bucket",
        bucket,
        "--rotate-ms",
        "200",
        "--exit-at-end",
        "--quiet",
      ]);
      assert.equal(sink.code, 0, sink.stderr);
      const sampler = new OriginalSampler(100, 11_000);
      const offsets = Array.from({ length: 30 }, () => sampler.next().offset);
      for (const kind of ["geo", "user"] as const) {
        const byIndex = (await sourceRecords(kind)).sort((a, b) => Number(a.ind) - Number(b.ind));
        const records = (await readBucket(bucket, topicName(id, kind))).flatMap((o) => o.records);
        assert.deepEqual(
          records,
          offsets.map((offset) => byIndex[offset]),
          `${kind}: in draw order`,
        );
      }
    } finally {
      await deleteTopics(id);
      await Deno.remove(state, { recursive: true });
      await Deno.remove(bucket, { recursive: true });
    }
  },
});

Deno.test({
  name: "batch --follow: rows inserted later are sent; SIGINT checkpoints and exits 130",
  fn: async () => {
    const id = randomId();
    const state = await Deno.makeTempDir({ prefix: "pinpipe-state-" });
    const database = `pinpipe_f_${id}`;
    await rootSql(
      `CREATE DATABASE ${database}; ` +
        `CREATE TABLE ${database}.geolocation_data LIKE pinterest_data.geolocation_data; ` +
        `INSERT INTO ${database}.geolocation_data SELECT * FROM pinterest_data.geolocation_data ` +
        "WHERE ind < 100; " +
        `GRANT SELECT ON ${database}.* TO 'pinpipe_reader'@'127.0.0.1';`,
    );
    const file = join(state, id, "kafka", "sequential-geo.json");
    const acknowledged = () => readJson<Checkpoint>(file)?.acknowledged.geo ?? 0;
    const count = async (where: string) =>
      Number(
        (await rootSql(`SELECT COUNT(*) FROM pinterest_data.geolocation_data WHERE ${where}`))
          .trim(),
      );
    try {
      const follower = spawnMain([
        "batch",
        "--id",
        id,
        "--state-dir",
        state,
        "--mysql-database",
        database,
        "--tables",
        "geo",
        "--follow",
        "--poll-ms",
        "200",
        "--json",
      ]);
      const first = await count("ind < 100");
      await waitFor("the first rows", () => acknowledged() === first, 30_000);
      await rootSql(
        `INSERT INTO ${database}.geolocation_data SELECT * FROM pinterest_data.geolocation_data ` +
          "WHERE ind >= 100 AND ind < 150",
      );
      const all = await count("ind < 150");
      await waitFor("the rows inserted later", () => acknowledged() === all, 30_000);
      follower.kill("SIGINT");
      const result = await finish(follower);
      assert.equal(result.code, 130, result.stderr);
      const summary = JSON.parse(result.stdout) as TransferSummary;
      assert.equal(summary.interrupted, true);
      assert.equal(summary.tables.geo!.acknowledged, all);
      assert.equal(summary.tables.geo!.lastIndex, 149);
      assert.match(result.stderr, /kafka sequential: interrupted in/);
    } finally {
      await rootSql(
        `REVOKE ALL PRIVILEGES ON ${database}.* FROM 'pinpipe_reader'@'127.0.0.1'; ` +
          `DROP DATABASE ${database};`,
      );
      await deleteTopics(id);
      await Deno.remove(state, { recursive: true });
    }
  },
});
