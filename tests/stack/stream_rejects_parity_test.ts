/**
 * Stream rejects parity: the same bad records, put into real Kinesis streams
 * (the shared kinesalite, a random pipeline id, streams deleted after), go
 * through `deno task consume` and through the streaming notebook's logic
 * (notebooks/pinpipe_stream.py on local Spark with Delta, fed the same bytes
 * and sequence numbers from a file source). Both must reject the same records
 * with the same reason of notebooks/sql/quarantine_reasons.json, keep the
 * records with an unknown field and count it as the same schema drift, and
 * write the same cleaned tables, where no malformed record is a row of NULLs.
 *
 * Needs the venv `.cache/venv-spark` (see tests/stack/parity_test.ts).
 */
import assert from "node:assert/strict";
import { PutRecordsCommand } from "@aws-sdk/client-kinesis";
import { loadConfig } from "../../src/core/config.ts";
import { cleanTableName, streamName } from "../../src/core/names.ts";
import type { SourceRecord } from "../../src/core/records.ts";
import { TABLE_KINDS, type TableKind } from "../../src/core/tables.ts";
import { kinesisClient } from "../../src/kinesis/client.ts";
import { prepareStreams } from "../../src/kinesis/target.ts";
import { openDuckDb, type ResultTable, SQL_DIR } from "../../src/warehouse/duckdb_runner.ts";
import { consumerTables } from "../support/cleaned_tables.ts";
import { deleteStreams } from "../support/kinesis.ts";
import { randomId, ROOT_URL, runMain } from "../support/processes.ts";
import {
  assertSameTable,
  type KinesisRow,
  kinesisRow,
  runSpark,
} from "../warehouse/parity/spark.ts";

const encoder = new TextEncoder();
const json = (value: unknown) => encoder.encode(JSON.stringify(value));

/** One record to put, with the reason both engines must give it (undefined: kept). */
interface Input {
  data: Uint8Array;
  reason?: string;
}

/** The ten pin records, and more bad geo records so every stream reason occurs. */
function inputs(golden: Record<TableKind, SourceRecord[]>): Record<TableKind, Input[]> {
  const { pin, geo, user } = golden;
  return {
    pin: [
      { data: json(pin[0]).slice(0, 40), reason: "not_json" },
      {
        data: new Uint8Array([...encoder.encode('{"title": "caf'), 0xe9, ...encoder.encode('"}')]),
        reason: "invalid_utf8",
      },
      { data: json([pin[0]]), reason: "not_an_object" },
      { data: json("a pin"), reason: "not_an_object" },
      { data: encoder.encode("null"), reason: "not_an_object" },
      { data: json({ ...pin[1], index: "four" }), reason: "bad_index" },
      { data: json({ records: [{ value: pin[2] }] }), reason: "no_expected_fields" },
      { data: json({ ...pin[3], source_app: "ios" }) },
      { data: json(pin[4]) },
      { data: json({ ...pin[5], follower_count: "12,345" }) },
    ],
    geo: [
      { data: new Uint8Array(), reason: "empty" },
      { data: encoder.encode(" \n"), reason: "empty" },
      { data: encoder.encode("{}"), reason: "no_expected_fields" },
      { data: json({ ind: 9 }), reason: "missing_field" },
      { data: json({ ...geo[0], country: true }), reason: "bad_field_type" },
      { data: json({ ...geo[0], latitude: { deg: 1 } }), reason: "bad_field_type" },
      { data: encoder.encode("42"), reason: "not_an_object" },
      { data: encoder.encode("\ufeff" + JSON.stringify(geo[1])), reason: "not_json" },
      { data: encoder.encode('{"ind": NaN}'), reason: "not_json" },
      { data: json({ ...geo[2], ind: 2.5 }), reason: "bad_index" },
      { data: json({ ...geo[2], ind: 1e3 }) },
      { data: json(geo[0]) },
      { data: json(geo[1]) },
      { data: json({ extra: 1, ...geo[1], more: [2] }) },
    ],
    user: [
      { data: json(user[0]) },
      { data: json(user[1]) },
      { data: json({ ...user[0], source_app: "web" }) },
    ],
  };
}

Deno.test({
  name: "stream rejects: deno task consume and the streaming notebook's logic on Spark agree",
  async fn() {
    const id = randomId();
    const work = await Deno.makeTempDir({ prefix: "pinpipe_stream_rejects_" });
    const config = loadConfig({ _: [], id });
    const client = kinesisClient(config.kinesis);
    try {
      await prepareStreams(config.kinesis, id, TABLE_KINDS);
      const golden = JSON.parse(
        await Deno.readTextFile(new URL("tests/fixtures/golden_records.json", ROOT_URL)),
      );
      const put = inputs(golden);
      // Where each record landed, and the rows the Spark file source reads (same bytes, same ids).
      const expected = new Map<string, string>();
      const rows = {} as Record<TableKind, KinesisRow[]>;
      for (const kind of TABLE_KINDS) {
        const stream = streamName(id, kind);
        const answer = await client.send(
          new PutRecordsCommand({
            StreamName: stream,
            Records: put[kind].map((input, i) => ({ Data: input.data, PartitionKey: String(i) })),
          }),
        );
        assert.equal(answer.FailedRecordCount, 0);
        rows[kind] = answer.Records!.map((result, i) => {
          const reason = put[kind][i].reason;
          if (reason) expected.set(`${stream} ${result.SequenceNumber}`, reason);
          return kinesisRow(
            stream,
            result.SequenceNumber!,
            put[kind][i].data,
            new Date(),
            result.ShardId,
          );
        });
      }

      const db = `${work}/stream.duckdb`;
      const consumed = await runMain([
        "consume",
        "--id",
        id,
        "--db",
        db,
        "--idle-exit-ms",
        "1500",
        "--json",
      ]);
      assert.equal(consumed.code, 0, consumed.stderr);
      const summary = JSON.parse(consumed.stdout);
      assert.equal(summary.rejected, expected.size);
      assert.deepEqual(summary.schemaDrift, {
        "pin.source_app": 1,
        "geo.extra": 1,
        "geo.more": 1,
        "user.source_app": 1,
      });

      // The Spark side: one file, so one micro-batch, per stream (each costs Spark seconds).
      const round = `${work}/spark/round1`;
      for (const kind of TABLE_KINDS) {
        await Deno.mkdir(`${round}/${kind}`, { recursive: true });
        const lines = rows[kind].map((row) => JSON.stringify(row) + "\n").join("");
        await Deno.writeTextFile(`${round}/${kind}/0000.json`, lines);
      }
      const spec = {
        sql_dir: SQL_DIR.pathname,
        cases: [],
        stream_rejects: {
          work: `${work}/spark`,
          id,
          rounds: [round],
          ivy: new URL(".cache/ivy", ROOT_URL).pathname,
        },
      };
      await Deno.writeTextFile(`${work}/spec.json`, JSON.stringify(spec));
      await runSpark(`${work}/spec.json`, `${work}/spark.json`);
      const spark = JSON.parse(await Deno.readTextFile(`${work}/spark.json`)).stream_rejects as {
        tables: Record<TableKind, ResultTable>;
        rejects: ResultTable;
        drift: ResultTable;
      };

      // Rejects: the same records, each with the expected reason, on both engines. The data is
      // compared as base64 of its UTF-8 bytes: DuckDB's client drops a leading BOM from text.
      const got = await consumerTables(db, id);
      const rejectsDb = await openDuckDb(db);
      try {
        const consumerRejects = (await rejectsDb.query(
          `SELECT stream, shard_id, sequence_number, reason, to_base64(encode(data)) ` +
            `FROM "${id}_rejects" ORDER BY stream, shard_id, sequence_number`,
        )).rows;
        const sparkRejects = spark.rejects.rows.map((row) => [
          ...row.slice(0, 4),
          kinesisRow("", "", encoder.encode(String(row[4])), new Date()).data_base64,
        ]);
        assert.deepEqual(sparkRejects, consumerRejects);
        for (const [stream, , sequence, reason] of consumerRejects) {
          assert.equal(reason, expected.get(`${stream} ${sequence}`), `${stream} ${sequence}`);
        }
        assert.equal(consumerRejects.length, expected.size);
      } finally {
        rejectsDb.close();
      }

      // Schema drift: the same fields counted the same.
      assert.deepEqual(
        spark.drift.rows,
        got.drift.map((d) => [d.stream, d.field, d.records]),
      );

      // The cleaned tables: equal, and every row has its index (no row of NULLs).
      const duck = await openDuckDb(db);
      try {
        for (const kind of TABLE_KINDS) {
          const table = await duck.query(`SELECT * FROM "${cleanTableName(id, kind)}"`);
          assertSameTable(`${kind} table`, spark.tables[kind], table, { ordered: false });
          const ind = table.columns.indexOf("ind");
          assert.ok(table.rows.every((row) => row[ind] !== null), `${kind}: a row without ind`);
        }
        const counts = Object.fromEntries(
          TABLE_KINDS.map((kind) => [kind, spark.tables[kind].rows.length]),
        );
        // pin: two good and the one with an extra field; geo: ind 1000 and three good, one
        // of them twice (the second with unknown fields); user: two, one of them twice.
        assert.deepEqual(counts, { pin: 3, geo: 3, user: 2 });
      } finally {
        duck.close();
      }
    } finally {
      await deleteStreams(client, id);
      client.destroy();
      await Deno.remove(work, { recursive: true });
    }
  },
});
