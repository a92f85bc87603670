/**
 * `./infra.sh local up` after a crash: a private stack (its own directory and
 * ports, so the shared one keeps serving the other tests) is started, each
 * service is killed with SIGKILL, then all three at once, and `up` must bring
 * everything back healthy with the data in place and no manual step. Every
 * service listens on 127.0.0.1 and nothing else. `down` leaves no process.
 */
import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { listeningAddresses } from "../support/sockets.ts";

const SERVICES = ["mysql", "kafka", "kinesis"] as const;
type Service = typeof SERVICES[number];
const PORTS = { mysql: 23306, kafka: 29092, controller: 29093, kinesis: 24567 };

async function infra(dir: string, ...args: string[]) {
  const output = await new Deno.Command("bash", {
    args: ["infra.sh", "local", ...args],
    env: {
      PINPIPE_LOCAL_DIR: dir,
      PINPIPE_MYSQL_PORT: String(PORTS.mysql),
      PINPIPE_KAFKA_PORT: String(PORTS.kafka),
      PINPIPE_KAFKA_CONTROLLER_PORT: String(PORTS.controller),
      PINPIPE_KINESIS_PORT: String(PORTS.kinesis),
      // The private stack must not take the shared stack's secrets or settings.
      PINPIPE_MYSQL_PASSWORD: "",
      PINPIPE_MYSQL_ADMIN_PASSWORD: "",
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

async function pidOf(dir: string, service: Service): Promise<number> {
  return Number((await Deno.readTextFile(`${dir}/run/${service}.pid`)).trim());
}

function alive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

async function waitGone(pid: number): Promise<void> {
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(!alive(pid), `pid ${pid} still running`);
}

async function countPins(dir: string): Promise<number> {
  const output = await new Deno.Command("mariadb", {
    args: [
      "--no-defaults",
      `--socket=${dir}/mariadb/mysqld.sock`,
      "-u",
      "root",
      "-N",
      "-e",
      "SELECT COUNT(*) FROM pinterest_data.pinterest_data",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  return Number(new TextDecoder().decode(output.stdout).trim());
}

function kafka(): Kafka {
  return new Kafka({
    clientId: "pinpipe-recovery-test",
    brokers: [`127.0.0.1:${PORTS.kafka}`],
    logLevel: logLevel.NOTHING,
    retry: { retries: 8 },
  });
}

async function readTopic(topic: string): Promise<string[]> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    const consumer = kafka().consumer({ groupId: `recovery-${crypto.randomUUID()}` });
    await consumer.connect();
    const values: string[] = [];
    const expected = offsets.reduce((sum, p) => sum + Number(p.high), 0);
    await consumer.subscribe({ topic, fromBeginning: true });
    const done = new Promise<void>((resolve) => {
      consumer.run({
        eachMessage: ({ message }) => {
          values.push(message.value!.toString());
          if (values.length === expected) resolve();
          return Promise.resolve();
        },
      });
    });
    await Promise.race([done, new Promise((r) => setTimeout(r, 30_000))]);
    await consumer.disconnect();
    return values;
  } finally {
    await admin.disconnect();
  }
}

async function assertHealthy(dir: string, what: string) {
  const status = await infra(dir, "status");
  assert.equal(status.code, 0, `${what}: status\n${status.stdout}${status.stderr}`);
  for (const service of SERVICES) {
    const pid = await pidOf(dir, service);
    const addresses = await listeningAddresses(pid);
    assert.ok(addresses.length > 0, `${what}: ${service} (pid ${pid}) listens nowhere`);
    for (const address of addresses) {
      assert.match(address, /^127\.0\.0\.1:\d+$/, `${what}: ${service} listens on ${address}`);
    }
  }
}

Deno.test("infra.sh local up after SIGKILL of each service, then of all: healthy, data kept, loopback only", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pinpipe_recovery_" });
  try {
    const first = await infra(dir, "up");
    assert.equal(first.code, 0, first.stderr);
    await assertHealthy(dir, "first up");
    assert.equal(await countPins(dir), 11_000);

    const topic = `recovery-${crypto.randomUUID().slice(0, 8)}`;
    const admin = kafka().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka().producer({ idempotent: true });
    await producer.connect();
    await producer.send({
      topic,
      acks: -1,
      messages: [{ value: "a" }, { value: "b" }, { value: "c" }],
    });
    await producer.disconnect();

    const rounds: Service[][] = [["mysql"], ["kafka"], ["kinesis"], [...SERVICES]];
    for (const killed of rounds) {
      const what = `after SIGKILL of ${killed.join(", ")}`;
      for (const service of killed) {
        const pid = await pidOf(dir, service);
        Deno.kill(pid, "SIGKILL");
        await waitGone(pid);
      }
      const up = await infra(dir, "up");
      assert.equal(up.code, 0, `${what}: up failed\n${up.stderr}`);
      await assertHealthy(dir, what);
      assert.equal(await countPins(dir), 11_000, `${what}: rows`);
      assert.deepEqual((await readTopic(topic)).sort(), ["a", "b", "c"], `${what}: topic`);
    }

    const pids = await Promise.all(SERVICES.map((service) => pidOf(dir, service)));
    const down = await infra(dir, "down");
    assert.equal(down.code, 0, down.stderr);
    for (const pid of pids) assert.ok(!alive(pid), `pid ${pid} still running after down`);
  } finally {
    await infra(dir, "down");
    await Deno.remove(dir, { recursive: true });
  }
});
