/**
 * The database dies while `batch` streams a table too large to sit in the
 * socket buffers: within seconds the batch ends with one line naming the
 * database and exit 3, its checkpoint holding what the broker acknowledged;
 * after `up`, a rerun completes the table with every row exactly once.
 */
import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { killHard, PrivateStack } from "../support/private_stack.ts";

const ROWS = 60_000;

function batch(stack: PrivateStack, id: string, ...flags: string[]) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts", "batch", "--id", id, "--tables", "pin", ...flags],
    env: stack.env(),
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function checkpointed(stack: PrivateStack, id: string): Promise<number> {
  const dir = `${stack.dir}/state/${id}/kafka`;
  try {
    for await (const entry of Deno.readDir(dir)) {
      const saved = JSON.parse(await Deno.readTextFile(`${dir}/${entry.name}`));
      return Number(saved.acknowledged?.pin ?? 0);
    }
  } catch {
    // Not written yet.
  }
  return 0;
}

/** The `index` of every record in the topic. */
async function indexesIn(stack: PrivateStack, topic: string): Promise<number[]> {
  const kafka = new Kafka({
    clientId: "pinpipe-source-failure-test",
    brokers: [`127.0.0.1:${stack.ports.kafka}`],
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const expected = offsets.reduce((sum, partition) => sum + Number(partition.high), 0);
  const consumer = kafka.consumer({ groupId: `source-failure-${crypto.randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const indexes: number[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  await new Promise<void>((resolve) => {
    timer = setTimeout(resolve, 60_000);
    consumer.run({
      eachBatch: ({ batch }) => {
        for (const message of batch.messages) {
          indexes.push(JSON.parse(message.value!.toString()).index);
        }
        if (indexes.length >= expected) resolve();
        return Promise.resolve();
      },
    });
  });
  clearTimeout(timer);
  await consumer.disconnect();
  return indexes;
}

Deno.test("batch: MariaDB killed mid-table ends it with exit 3 in seconds; the rerun completes exactly once", async () => {
  const ports = { mysql: 20306, kafka: 20092, controller: 20093, kinesis: 20567 };
  await PrivateStack.use(ports, {}, async (stack) => {
    await stack.must("up");
    await stack.must("seed", "--rows", String(ROWS));
    const id = "5ca1ab1e0f00";

    const first = batch(stack, id, "--rate", "10000");
    while (await checkpointed(stack, id) === 0) await new Promise((r) => setTimeout(r, 100));
    await killHard(await stack.pid("mysql"));
    const killedAt = performance.now();
    const { code, stderr } = await first.output();
    const seconds = (performance.now() - killedAt) / 1000;
    const text = new TextDecoder().decode(stderr).trim();
    assert.equal(code, 3, text);
    assert.ok(seconds < 15, `batch took ${seconds.toFixed(1)} s to notice the database died`);
    assert.match(
      text.split("\n").at(-1)!,
      /^pinpipe batch: database unreachable: MySQL 127\.0\.0\.1:20306/,
    );
    const saved = await checkpointed(stack, id);
    assert.ok(saved > 0 && saved < ROWS, `checkpoint after the crash: ${saved}`);

    await stack.must("up");
    const rerun = await batch(stack, id).output();
    assert.equal(rerun.code, 0, new TextDecoder().decode(rerun.stderr));
    const table = Number(await stack.scalar("SELECT COUNT(*) FROM pinterest_data.pinterest_data"));
    const distinct = Number(
      await stack.scalar("SELECT COUNT(DISTINCT `index`) FROM pinterest_data.pinterest_data"),
    );
    const indexes = await indexesIn(stack, `${id}.pin`);
    assert.equal(indexes.length, table, "every row exactly once: the topic holds the table's rows");
    assert.equal(new Set(indexes).size, distinct);
  });
});
