/**
 * The producer worker's kafkajs groups a send's messages with the linear
 * grouping, which returns what kafkajs's own grouping returns.
 */
import assert from "node:assert/strict";
import { KAFKAJS_GROUPING, linearGrouping } from "../../src/kafka/linear_grouping.ts";

type Message = { key: string; value: string; partition?: number };

Deno.test("linear grouping: the same partitions, messages and order as kafkajs's", () => {
  const partitionMetadata = [0, 1, 2, 3, 4].map((partitionId) => ({ partitionId }));
  const partitioner = ({ message }: { message: Message }) =>
    message.partition ?? Number(message.key) % 5;
  for (const count of [0, 1, 7, 500, 2000]) {
    const messages: Message[] = Array.from({ length: count }, (_, i) => ({
      key: String((i * 7919) % 1013),
      value: `v${i}`,
      ...(i % 3 === 0 ? { partition: i % 2 } : {}),
    }));
    const input = { topic: "t", partitionMetadata, messages, partitioner };
    const ours = linearGrouping(input);
    const theirs = KAFKAJS_GROUPING(input);
    assert.deepEqual(ours, theirs, `${count} messages`);
    assert.deepEqual(Object.keys(ours), Object.keys(theirs), "partitions in the same order");
  }
  const none = {
    topic: "t",
    partitionMetadata: [],
    messages: [{ key: "1", value: "" }],
    partitioner,
  };
  assert.deepEqual(linearGrouping(none), KAFKAJS_GROUPING(none));
});

Deno.test("in the worker's module order, kafkajs's producer requires the linear grouping", async () => {
  // A fresh process, as the worker is: worker.ts first, then what kafkajs's sendMessages.js requires.
  const script = `
    import "./src/kafka/worker.ts";
    import { isLinearGrouping, linearGrouping } from "./src/kafka/linear_grouping.ts";
    import { createRequire } from "node:module";
    import Module from "node:module";
    const sendMessages = Object.keys(Module._cache).find((p) => p.endsWith("/producer/sendMessages.js"));
    const required = createRequire(sendMessages)("./groupMessagesPerPartition");
    console.log(JSON.stringify({ linear: isLinearGrouping(), same: required === linearGrouping }));
  `;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", script],
    cwd: new URL("../..", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout).trim();
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
  assert.deepEqual(JSON.parse(text.split("\n").at(-1)!), { linear: true, same: true });
});
