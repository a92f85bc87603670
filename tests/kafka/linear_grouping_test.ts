/**
 * The producer worker's kafkajs groups a send's messages with the linear
 * grouping, which returns what kafkajs's own grouping returns (the swap
 * refusing a late load is in producer_thread_test.ts).
 */
import assert from "node:assert/strict";
import {
  KAFKAJS_GROUPING,
  linearGrouping,
  verifyLinearGrouping,
} from "../../src/kafka/linear_grouping.ts";

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

Deno.test("kafkajs's producer, loaded after the swap, requires the linear grouping", async () => {
  assert.throws(verifyLinearGrouping, /sendMessages\.js\) is not loaded yet/);
  await import("kafkajs");
  verifyLinearGrouping();
});
