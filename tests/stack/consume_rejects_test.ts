/**
 * Malformed records injected into the streams between good ones: every one
 * lands in the rejects table with its reason (a name of
 * notebooks/sql/quarantine_reasons.json), detail, stream, shard and sequence
 * number; the good records around them are cleaned and appended; the
 * consumer keeps running. A record with an unknown field is kept without it
 * and the field is counted in the schema drift table.
 */
import assert from "node:assert/strict";
import { PutRecordsCommand } from "@aws-sdk/client-kinesis";
import { loadConfig } from "../../src/core/config.ts";
import { kinesisClient } from "../../src/kinesis/client.ts";
import { KinesisTarget } from "../../src/kinesis/target.ts";
import { SdkTransport } from "../../src/kinesis/sdk_transport.ts";
import { streamName } from "../../src/core/names.ts";
import { TABLE_KINDS } from "../../src/core/tables.ts";
import { parseConsumerOptions } from "../../src/consumer/consume_command.ts";
import { runConsumer } from "../../src/consumer/consumer.ts";
import { batchCleaning, consumerTables } from "../support/cleaned_tables.ts";
import { deleteStreams } from "../support/kinesis.ts";
import { randomId } from "../support/processes.ts";
import { sourceRecords } from "../support/source.ts";

Deno.test({
  name: "malformed records all land in rejects with a reason; good ones are appended",
  async fn() {
    const id = randomId();
    const dir = await Deno.makeTempDir({ prefix: "pinpipe_consumer_rejects_" });
    const config = loadConfig({ _: [], id });
    const client = kinesisClient(config.kinesis);
    const encoder = new TextEncoder();
    try {
      const target = new KinesisTarget({
        transport: new SdkTransport(config.kinesis),
        id,
        shards: 2,
        log: () => {},
      });
      await target.prepare(TABLE_KINDS);
      await target.close();
      const good = {
        pin: await sourceRecords("pin", { limit: 200 }),
        geo: await sourceRecords("geo", { limit: 200 }),
        user: await sourceRecords("user", { limit: 200 }),
      };
      type Bad = { data: Uint8Array; reason: string; detail: RegExp };
      const bad: Record<string, Bad[]> = {
        pin: [
          { data: encoder.encode("not json {"), reason: "not_json", detail: /^not valid JSON/ },
          {
            data: encoder.encode(JSON.stringify({ ...good.pin[0], index: "abc" })),
            reason: "bad_index",
            detail: /^field "index" must be a whole number, got "abc"$/,
          },
          {
            data: new Uint8Array([0xc3, 0x28]),
            reason: "invalid_utf8",
            detail: /^data is not UTF-8 text$/,
          },
        ],
        geo: [
          {
            data: encoder.encode("[1,2,3]"),
            reason: "not_an_object",
            detail: /^expected a JSON object, got an array$/,
          },
          {
            data: encoder.encode(JSON.stringify(good.user[0])),
            reason: "missing_field",
            detail: /^missing field "timestamp"$/,
          },
          {
            data: encoder.encode(JSON.stringify({ records: [{ value: good.geo[0] }] })),
            reason: "no_expected_fields",
            detail: /^none of the geo fields, got "records"$/,
          },
        ],
        user: [
          {
            data: encoder.encode(JSON.stringify({ ...good.user[0], age: { years: 3 } })),
            reason: "bad_field_type",
            detail: /^field "age" must be text, a number or null, got object$/,
          },
          { data: encoder.encode(""), reason: "empty", detail: /^data is empty$/ },
        ],
      };
      // Kept without the field, which is counted as schema drift; same content as good.geo[0].
      const drifting = encoder.encode(JSON.stringify({ ...good.geo[0], extra: "x" }));
      // Good and bad interleaved; remember where each bad one landed.
      const landed = new Map<string, { stream: string; shard: string; bad: Bad }>();
      for (const kind of TABLE_KINDS) {
        const entries = good[kind].map((record, i) => ({
          Data: encoder.encode(JSON.stringify(record)) as Uint8Array,
          PartitionKey: String(i),
          bad: undefined as Bad | undefined,
        }));
        bad[kind].forEach((b, i) =>
          entries.splice(50 * (i + 1), 0, { Data: b.data, PartitionKey: `bad${i}`, bad: b })
        );
        if (kind === "geo") entries.push({ Data: drifting, PartitionKey: "drift", bad: undefined });
        const answer = await client.send(
          new PutRecordsCommand({
            StreamName: streamName(id, kind),
            Records: entries.map(({ Data, PartitionKey }) => ({ Data, PartitionKey })),
          }),
        );
        assert.equal(answer.FailedRecordCount, 0);
        answer.Records!.forEach((result, i) => {
          if (entries[i].bad) {
            landed.set(`${streamName(id, kind)} ${result.SequenceNumber}`, {
              stream: streamName(id, kind),
              shard: result.ShardId!,
              bad: entries[i].bad!,
            });
          }
        });
      }

      const db = `${dir}/stream.duckdb`;
      const summary = await runConsumer(
        config,
        parseConsumerOptions({ _: [], db, "idle-exit-ms": "1500", limit: "100" }, id),
        { client, log: () => {} },
      );
      assert.equal(summary.records, 600 + 8 + 1);
      assert.equal(summary.rejected, 8);
      assert.deepEqual(summary.schemaDrift, { "geo.extra": 1 });
      assert.ok(summary.microBatches > 1, "the consumer went on after the first rejects");

      const got = await consumerTables(db, id);
      assert.equal(got.rejects.length, 8);
      for (const reject of got.rejects) {
        const where = landed.get(`${reject.stream} ${reject.sequence_number}`);
        assert.ok(where, `reject ${reject.sequence_number} is one of the injected records`);
        assert.equal(reject.stream, where.stream);
        assert.equal(reject.shard_id, where.shard);
        assert.equal(reject.reason, where.bad.reason);
        assert.match(reject.detail, where.bad.detail);
        assert.ok(reject.data.length > 0 || reject.reason === "empty");
      }
      assert.deepEqual(got.drift, [{ stream: streamName(id, "geo"), field: "extra", records: 1 }]);
      const expected = await batchCleaning(good);
      for (const kind of TABLE_KINDS) assert.deepEqual(got.tables[kind], expected[kind], kind);
    } finally {
      await deleteStreams(client, id);
      client.destroy();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
