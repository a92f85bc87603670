/**
 * The local stack answers as the real services do: a query on MariaDB, a
 * topic produced to and consumed from through kafkajs, a Kinesis stream
 * written and read through the AWS SDK. Needs `./infra.sh local up`.
 */
import assert from "node:assert/strict";
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  PutRecordsCommand,
  waitUntilStreamExists,
} from "@aws-sdk/client-kinesis";
import mysql from "mysql2/promise";
import { loadConfig } from "../../src/core/config.ts";
import { kafkaClient } from "../../src/kafka/client.ts";
import { kinesisClient } from "../../src/kinesis/client.ts";

const config = loadConfig({ _: [] });
const uniqueName = (prefix: string) => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

Deno.test("stack: MariaDB serves the three tables to the read-only user, and refuses writes", async () => {
  const connection = await mysql.createConnection(config.mysql);
  try {
    const [rows] = await connection.query(
      "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ? ORDER BY 1",
      [config.mysql.database],
    );
    assert.deepEqual((rows as { name: string }[]).map((row) => row.name), [
      "geolocation_data",
      "pinterest_data",
      "user_data",
    ]);
    await assert.rejects(
      connection.query("DELETE FROM user_data WHERE ind < 0"),
      /DELETE command denied to user 'pinpipe_reader'/,
    );
  } finally {
    await connection.end();
  }
});

Deno.test("stack: a Kafka topic produced to and consumed from through kafkajs", async () => {
  const kafka = await kafkaClient(config.kafka, "pinpipe-stack-test");
  const topic = uniqueName("stack-test");
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const consumer = kafka.consumer({ groupId: uniqueName("stack-test-group") });
  try {
    assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] }), true);
    await producer.connect();
    const sent = Array.from({ length: 100 }, (_, i) => ({ key: String(i), value: `{"ind":${i}}` }));
    const [ack] = await producer.send({ topic, acks: -1, messages: sent });
    assert.equal(ack.errorCode, 0);
    assert.equal(ack.baseOffset, "0");

    const received: { offset: string; key: string; value: string }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const done = new Promise<void>((resolve) => {
      consumer.run({
        eachMessage: ({ message }) => {
          received.push({
            offset: message.offset,
            key: message.key!.toString(),
            value: message.value!.toString(),
          });
          if (received.length === sent.length) resolve();
          return Promise.resolve();
        },
      });
    });
    await done;
    assert.deepEqual(received.map((message) => message.offset), sent.map((_, i) => String(i)));
    assert.deepEqual(
      received.map(({ key, value }) => ({ key, value })),
      sent,
    );
    const [offsets] = await admin.fetchTopicOffsets(topic);
    assert.equal(offsets.high, "100");
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  }
});

Deno.test("stack: a Kinesis stream written and read through the AWS SDK", async () => {
  const client = kinesisClient(config.kinesis);
  const StreamName = uniqueName("stack-test");
  try {
    await client.send(new CreateStreamCommand({ StreamName, ShardCount: 1 }));
    await waitUntilStreamExists({ client, maxWaitTime: 30, minDelay: 1 }, { StreamName });
    const encoder = new TextEncoder();
    const put = await client.send(
      new PutRecordsCommand({
        StreamName,
        Records: Array.from({ length: 50 }, (_, i) => ({
          Data: encoder.encode(`{"ind":${i}}`),
          PartitionKey: String(i),
        })),
      }),
    );
    assert.equal(put.FailedRecordCount, 0);
    const shardId = put.Records![0].ShardId!;
    const { ShardIterator } = await client.send(
      new GetShardIteratorCommand({
        StreamName,
        ShardId: shardId,
        ShardIteratorType: "TRIM_HORIZON",
      }),
    );
    const got = await client.send(new GetRecordsCommand({ ShardIterator }));
    const decoder = new TextDecoder();
    assert.deepEqual(
      got.Records!.map((record) => JSON.parse(decoder.decode(record.Data))),
      Array.from({ length: 50 }, (_, i) => ({ ind: i })),
    );
    assert.deepEqual(
      got.Records!.map((record) => record.SequenceNumber),
      put.Records!.map((record) => record.SequenceNumber),
    );
  } finally {
    await client.send(new DeleteStreamCommand({ StreamName })).catch(() => {});
    client.destroy();
  }
});
