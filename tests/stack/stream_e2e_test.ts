/**
 * The whole stream path against the local stack: `stream` sends the 11,000
 * rows of each table into kinesalite, `consume` cleans them into DuckDB,
 * and the three tables hold exactly the rows the batch path's cleaning (the
 * DuckDB runner over the same source records) produces.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../src/core/config.ts";
import { kinesisClient } from "../../src/kinesis/client.ts";
import { streamName } from "../../src/core/names.ts";
import { TABLE_KINDS } from "../../src/core/tables.ts";
import { batchCleaning, consumerTables } from "../support/cleaned_tables.ts";
import { deleteStreams, readStream } from "../support/kinesis.ts";
import { randomId, runMain } from "../support/processes.ts";
import { sourceRecords } from "../support/source.ts";

Deno.test({
  name: "11,000 rows per table through stream and consume equal the batch cleaning",
  async fn() {
    const id = randomId();
    const dir = await Deno.makeTempDir({ prefix: "pinpipe_stream_e2e_" });
    const config = loadConfig({ _: [], id });
    const client = kinesisClient(config.kinesis);
    try {
      const sent = await runMain([
        "stream",
        "--id",
        id,
        "--state-dir",
        dir,
        "--shards",
        "2",
        "--quiet",
      ]);
      assert.equal(sent.code, 0, sent.stderr);
      const records = {
        pin: await sourceRecords("pin"),
        geo: await sourceRecords("geo"),
        user: await sourceRecords("user"),
      };
      for (const kind of TABLE_KINDS) {
        assert.equal(records[kind].length, 11_000, `${kind} rows in MariaDB`);
        // Every row is in its stream exactly once.
        const inStream = await readStream(client, streamName(id, kind));
        assert.equal(inStream.length, 11_000, `${kind} records in the stream`);
        assert.deepEqual(
          inStream.map((text) => JSON.parse(text)).sort(byIndex(kind)),
          [...records[kind]].sort(byIndex(kind)),
        );
      }

      const db = `${dir}/stream.duckdb`;
      const consumed = await runMain(["consume", "--id", id, "--db", db, "--idle-exit-ms", "2000"]);
      assert.equal(consumed.code, 0, consumed.stderr);
      assert.match(consumed.stdout, /consumed 33000 record\(s\)/);

      const expected = await batchCleaning(records);
      const got = await consumerTables(db, id);
      for (const kind of TABLE_KINDS) {
        // The source has ~1% exact duplicates; both paths drop them, so fewer than 11,000.
        assert.ok(expected[kind].length > 10_000 && expected[kind].length < 11_000);
        assert.equal(got.tables[kind].length, expected[kind].length, `${kind} row count`);
        assert.deepEqual(got.tables[kind], expected[kind], `${kind} rows`);
        assert.equal(got.keys[kind], expected[kind].length, `${kind} dedup keys, one per row`);
      }
      assert.equal(got.rejects.length, 0);
      assert.equal(got.checkpoints, 6, "one checkpoint per shard: 3 streams x 2 shards");
    } finally {
      await deleteStreams(client, id);
      client.destroy();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

function byIndex(kind: string) {
  const column = kind === "pin" ? "index" : "ind";
  return (a: Record<string, unknown>, b: Record<string, unknown>) =>
    Number(a[column]) - Number(b[column]) || JSON.stringify(a).localeCompare(JSON.stringify(b));
}
