/**
 * `./infra.sh local up` after a crash: on a private stack, each service is
 * killed with SIGKILL, then all three at once, and `up` must bring
 * everything back healthy with the data in place and no manual step. Every
 * service listens on 127.0.0.1 and nothing else. `down` leaves no process.
 */
import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { listeningAddresses } from "../support/sockets.ts";
import { alive, killHard, PrivateStack, type Service, SERVICES } from "../support/private_stack.ts";
import { KAFKA_RETRY } from "../../src/kafka/client.ts";

function kafka(stack: PrivateStack): Kafka {
  return new Kafka({
    clientId: "pinpipe-recovery-test",
    brokers: [`127.0.0.1:${stack.ports.kafka}`],
    logLevel: logLevel.NOTHING,
    retry: KAFKA_RETRY.recovering,
  });
}

/** Every value in `topic`, read from the start by a new consumer group. */
async function readTopic(stack: PrivateStack, topic: string): Promise<string[]> {
  const admin = kafka(stack).admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const expected = offsets.reduce((sum, partition) => sum + Number(partition.high), 0);
  const consumer = kafka(stack).consumer({ groupId: `recovery-${crypto.randomUUID()}` });
  await consumer.connect();
  const values: string[] = [];
  await consumer.subscribe({ topic, fromBeginning: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  await new Promise<void>((resolve) => {
    timer = setTimeout(resolve, 30_000);
    consumer.run({
      eachMessage: ({ message }) => {
        values.push(message.value!.toString());
        if (values.length === expected) resolve();
        return Promise.resolve();
      },
    });
  });
  clearTimeout(timer);
  await consumer.disconnect();
  return values;
}

async function assertHealthy(stack: PrivateStack, what: string) {
  const status = await stack.infra("status");
  assert.equal(status.code, 0, `${what}: status\n${status.stdout}${status.stderr}`);
  for (const service of SERVICES) {
    const pid = await stack.pid(service);
    const addresses = await listeningAddresses(pid);
    assert.ok(addresses.length > 0, `${what}: ${service} (pid ${pid}) listens nowhere`);
    for (const address of addresses) {
      assert.match(address, /^127\.0\.0\.1:\d+$/, `${what}: ${service} listens on ${address}`);
    }
  }
}

Deno.test("infra.sh local up after SIGKILL of each service, then of all: healthy, data kept, loopback only", async () => {
  const ports = { mysql: 23306, kafka: 29092, controller: 29093, kinesis: 24567 };
  await PrivateStack.use(ports, {}, async (stack) => {
    await stack.must("up");
    await assertHealthy(stack, "first up");
    const pins = async () =>
      Number(await stack.scalar("SELECT COUNT(*) FROM pinterest_data.pinterest_data"));
    assert.equal(await pins(), 11_000);

    const topic = `recovery-${crypto.randomUUID().slice(0, 8)}`;
    const admin = kafka(stack).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka(stack).producer({ idempotent: true });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: ["a", "b", "c"].map((value) => ({ value })) });
    await producer.disconnect();

    const rounds: Service[][] = [["mysql"], ["kafka"], ["kinesis"], [...SERVICES]];
    for (const killed of rounds) {
      const what = `after SIGKILL of ${killed.join(", ")}`;
      for (const service of killed) await killHard(await stack.pid(service));
      await stack.must("up");
      await assertHealthy(stack, what);
      assert.equal(await pins(), 11_000, `${what}: rows`);
      assert.deepEqual((await readTopic(stack, topic)).sort(), ["a", "b", "c"], `${what}: topic`);
    }

    const pids = await Promise.all(SERVICES.map((service) => stack.pid(service)));
    await stack.must("down");
    for (const pid of pids) assert.ok(!alive(pid), `pid ${pid} still running after down`);
  });
});
