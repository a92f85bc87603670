/**
 * A linear `groupMessagesPerPartition` for kafkajs 2.2.4's producer. Its own
 * copies a partition's array for every message added (`[...current,
 * message]`), quadratic in the messages of one send: at 500 messages that
 * was a tenth of the producer worker's time, and it is why requests were
 * capped. This version returns the same object (the same partitions, the
 * same messages in the same order) in one pass.
 *
 * kafkajs's `sendMessages.js` takes the function with `require` when it is
 * first loaded, so this module must be evaluated before kafkajs's producer
 * is: it loads kafkajs's module on its own and puts the linear function in
 * its place in the CommonJS module cache. The producer thread imports it
 * first (producer_thread.ts); were it loaded too late, it throws rather
 * than let kafkajs keep its own function, and `verifyLinearGrouping` checks,
 * once kafkajs is loaded, that its producer requires this one.
 *
 * @example
 * ```ts
 * import { verifyLinearGrouping } from "./linear_grouping.ts";
 * verifyLinearGrouping(); // throws unless kafkajs's producer groups through linearGrouping
 * ```
 */
import { createRequire } from "node:module";
import kafkajsGrouping from "kafkajs/src/producer/groupMessagesPerPartition.js";
import { assertPatchedKafkajs, cachedKafkajsModule, kafkajsPath } from "./kafkajs_internals.ts";

/** What kafkajs passes to the grouping. */
interface GroupingInput<M> {
  topic: string;
  partitionMetadata: unknown[];
  messages: M[];
  partitioner: (args: { topic: string; partitionMetadata: unknown[]; message: M }) => number;
}

/** kafkajs's grouping, in one pass: `{ [partition]: messages in order }`. */
export function linearGrouping<M>(
  { topic, partitionMetadata, messages, partitioner }: GroupingInput<M>,
): Record<number, M[]> {
  const result: Record<number, M[]> = {};
  if (partitionMetadata.length === 0) return result;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    (result[partition] ??= []).push(message);
  }
  return result;
}

/** kafkajs's own grouping function (for the test that compares both). */
export const KAFKAJS_GROUPING = kafkajsGrouping as typeof linearGrouping;

const GROUPING_FILE = "src/producer/groupMessagesPerPartition.js";
/** kafkajs's one module that requires the grouping. */
const SEND_MESSAGES_FILE = "src/producer/sendMessages.js";

assertPatchedKafkajs("linear_grouping.ts");
if (cachedKafkajsModule(SEND_MESSAGES_FILE)) {
  throw new Error(
    `src/kafka/linear_grouping.ts must be imported before kafkajs's producer, which keeps the ` +
      `grouping it first required: ${SEND_MESSAGES_FILE} is already loaded`,
  );
}
cachedKafkajsModule(GROUPING_FILE)!.exports = linearGrouping;

/** Throws unless kafkajs's producer, now loaded, requires `linearGrouping` as its grouping. */
export function verifyLinearGrouping(): void {
  const sendMessages = cachedKafkajsModule(SEND_MESSAGES_FILE);
  const required = sendMessages &&
    createRequire(kafkajsPath(SEND_MESSAGES_FILE))("./groupMessagesPerPartition");
  if (required !== linearGrouping) {
    throw new Error(
      sendMessages
        ? "kafkajs's producer does not group through src/kafka/linear_grouping.ts"
        : `kafkajs's producer (${SEND_MESSAGES_FILE}) is not loaded yet: nothing to verify`,
    );
  }
}
