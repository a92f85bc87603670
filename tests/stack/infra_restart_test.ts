/**
 * `./infra.sh local up` run the moment a service is killed, as a supervisor
 * would: the killed server may still be exiting or a zombie (an init that
 * reaps slowly), its locks not yet released. On a private stack, each
 * service in turn gets SIGKILL and `up` runs at once: it must exit 0, the
 * pid file must name the new server, and the data must be there (MariaDB's
 * rows, a topic's end offsets, a stream's records kept on disk). First, a
 * start whose port is held by another process's connection must fail with
 * the server's own words and the port's holder, and leave the servers it
 * did start in their pid files.
 */
import assert from "node:assert/strict";
import {
  CreateStreamCommand,
  type KinesisClient,
  PutRecordsCommand,
} from "@aws-sdk/client-kinesis";
import { Kafka, logLevel } from "kafkajs";
import { kinesisClient } from "../../src/kinesis/client.ts";
import { readStream } from "../support/kinesis.ts";
import { alive, PrivateStack, SERVICES } from "../support/private_stack.ts";
import { KAFKA_RETRY } from "../../src/kafka/client.ts";

const PORTS = { mysql: 20406, kafka: 20192, controller: 20193, kinesis: 20667 };
const TOPIC = "restart-topic";
const STREAM = "restart-stream";
const VALUES = ["a", "b", "c"];

function kafka(stack: PrivateStack): Kafka {
  return new Kafka({
    clientId: "pinpipe-restart-test",
    brokers: [`127.0.0.1:${stack.ports.kafka}`],
    logLevel: logLevel.NOTHING,
    retry: KAFKA_RETRY.recovering,
  });
}

async function topicEnds(stack: PrivateStack): Promise<number[]> {
  const admin = kafka(stack).admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(TOPIC)).map((partition) => Number(partition.high));
  } finally {
    await admin.disconnect();
  }
}

/** Puts the values into a topic and a stream, and the rows the first `up` seeded. */
async function writeData(stack: PrivateStack, kinesis: KinesisClient): Promise<void> {
  const admin = kafka(stack).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka(stack).producer({ idempotent: true });
  await producer.connect();
  await producer.send({ topic: TOPIC, acks: -1, messages: VALUES.map((value) => ({ value })) });
  await producer.disconnect();
  await kinesis.send(new CreateStreamCommand({ StreamName: STREAM, ShardCount: 1 }));
  const encoder = new TextEncoder();
  await kinesis.send(
    new PutRecordsCommand({
      StreamName: STREAM,
      Records: VALUES.map((value) => ({ Data: encoder.encode(value), PartitionKey: value })),
    }),
  );
}

async function assertDataKept(stack: PrivateStack, kinesis: KinesisClient, what: string) {
  const rows = await stack.scalar("SELECT COUNT(*) FROM pinterest_data.pinterest_data");
  assert.equal(Number(rows), 11_000, `${what}: MariaDB rows`);
  assert.deepEqual(await topicEnds(stack), [VALUES.length], `${what}: the topic's end offsets`);
  assert.deepEqual(await readStream(kinesis, STREAM), VALUES, `${what}: the stream's records`);
}

/** A process that binds 127.0.0.1:`port` for an outgoing connection, as any client may. */
async function holdPort(port: number, target: number): Promise<Deno.ChildProcess> {
  const holder = new Deno.Command("python3", {
    args: [
      "-c",
      "import socket, sys, time\n" +
      "s = socket.socket()\n" +
      `s.bind(("127.0.0.1", ${port}))\n` +
      `s.connect(("127.0.0.1", ${target}))\n` +
      "print('held', flush=True)\n" +
      "time.sleep(600)\n",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = holder.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  assert.equal(value?.trim(), "held", `python could not hold port ${port}`);
  return holder;
}

Deno.test("infra.sh local up at once after SIGKILL of each service: exit 0, the new server answers, data kept", async () => {
  const kinesisDir = await Deno.makeTempDir({ prefix: "pinpipe_restart_kinesis_" });
  const target = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const kinesis = kinesisClient({
    region: "us-east-1",
    endpoint: `http://127.0.0.1:${PORTS.kinesis}`,
  });
  try {
    await PrivateStack.use(PORTS, { kinesisPath: kinesisDir }, async (stack) => {
      // kinesalite's port taken by a connection: `up` names the port, its holder and the
      // server's words, and keeps what it started.
      const holder = await holdPort(PORTS.kinesis, (target.addr as Deno.NetAddr).port);
      try {
        const failed = await stack.infra("up");
        assert.equal(failed.code, 1, failed.stderr);
        assert.match(failed.stderr, /^infra\.sh: kinesis exited at start; the last lines of /m);
        assert.match(failed.stderr, /EADDRINUSE/);
        assert.match(
          failed.stderr,
          new RegExp(
            `^infra\\.sh: port ${PORTS.kinesis} is held by:\\n.*python3.*pid=${holder.pid}`,
            "m",
          ),
        );
        for (const service of ["mysql", "kafka"] as const) {
          assert.ok(alive(await stack.pid(service)), `${service} lost from its pid file`);
        }
      } finally {
        // The listener goes first: its unaccepted connection is reset, so that no socket
        // lingers on the port (as FIN-WAIT-2 would for a minute).
        target.close();
        holder.kill("SIGKILL");
        await holder.status;
      }

      await stack.must("up");
      await writeData(stack, kinesis);
      await assertDataKept(stack, kinesis, "first up");
      for (const service of SERVICES) {
        const what = `up at once after SIGKILL of ${service}`;
        const old = await stack.pid(service);
        Deno.kill(old, "SIGKILL");
        const up = await stack.infra("up");
        assert.equal(up.code, 0, `${what}:\n${up.stdout}${up.stderr}`);
        const pid = await stack.pid(service);
        assert.notEqual(pid, old, `${what}: the pid file still names the killed server`);
        assert.ok(!alive(old) && alive(pid), `${what}: old ${old}, new ${pid}`);
        const status = await stack.infra("status");
        assert.equal(status.code, 0, `${what}: status\n${status.stdout}${status.stderr}`);
        await assertDataKept(stack, kinesis, what);
      }
    });
  } finally {
    kinesis.destroy();
    await Deno.remove(kinesisDir, { recursive: true });
  }
});
