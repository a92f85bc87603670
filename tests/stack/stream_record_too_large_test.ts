/**
 * A record over Kinesis's 1 MiB: the Kinesis target sends the records
 * before it, then refuses it naming the row and saying how many went, so
 * the driver checkpoints those (as batch does: batch_errors_test.ts) and a
 * rerun stops at the same row. Against kinesalite.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../src/core/config.ts";
import { RecordRejectedError } from "../../src/core/errors.ts";
import { streamName } from "../../src/core/names.ts";
import { outgoing } from "../../src/core/records.ts";
import { kinesisClient } from "../../src/kinesis/client.ts";
import { KinesisTarget } from "../../src/kinesis/target.ts";
import { SdkTransport } from "../../src/kinesis/sdk_transport.ts";
import { deleteStreams, readStream } from "../support/kinesis.ts";
import { randomId } from "../support/processes.ts";
import { sourceRecords } from "../support/source.ts";

Deno.test("stream: a record over 1 MiB is refused after the records before it are in the stream", async () => {
  const id = randomId();
  const config = loadConfig({ _: [], id });
  const reader = kinesisClient(config.kinesis);
  const target = new KinesisTarget({
    transport: new SdkTransport(config.kinesis),
    id,
    shards: 1,
    log: () => {},
  });
  try {
    await target.prepare(["pin"]);
    const rows = await sourceRecords("pin", { limit: 5 });
    const records = rows.map((row) => outgoing("pin", Number(row.index), row));
    records[3] = outgoing("pin", records[3].index, {
      ...rows[3],
      description: "x".repeat(1_100_000),
    });
    await assert.rejects(
      target.send("pin", records),
      (error) =>
        error instanceof RecordRejectedError && error.delivered === 3 &&
        error.message.startsWith(
          `${streamName(id, "pin")}: pin row ${records[3].index}: 1100`,
        ) && error.message.includes("over the Kinesis limit of 1048576 per record"),
    );
    const held = (await readStream(reader, streamName(id, "pin"))).map((text) => JSON.parse(text));
    assert.deepEqual(held, rows.slice(0, 3), "the three before it, once each, in order");
  } finally {
    await target.close();
    await deleteStreams(reader, id);
    reader.destroy();
  }
});
