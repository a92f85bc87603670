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
 * its place in the CommonJS module cache. The worker imports it first
 * (worker.ts). Were it loaded too late, kafkajs would keep its own function:
 * slower, never different. `isLinearGrouping` tells which one kafkajs uses.
 *
 * @example
 * ```ts
 * import { isLinearGrouping } from "./linear_grouping.ts";
 * isLinearGrouping(); // true when kafkajs's producer groups through linearGrouping
 * ```
 */
import Module from "node:module";
import kafkajsGrouping from "kafkajs/src/producer/groupMessagesPerPartition.js";

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

const cache = (Module as unknown as { _cache: Record<string, { exports: unknown }> })._cache;
const cached = (file: string) =>
  Object.entries(cache).find(([path]) =>
    path.includes("/kafkajs/") && path.endsWith(`/src/producer/${file}`)
  )?.[1];
// Once sendMessages.js is loaded it holds kafkajs's function: then nothing is changed.
const entry = cached("sendMessages.js") ? undefined : cached("groupMessagesPerPartition.js");
if (entry) entry.exports = linearGrouping;

/** True when kafkajs's producer, loaded after this module, groups with `linearGrouping`. */
export function isLinearGrouping(): boolean {
  return entry?.exports === linearGrouping;
}
