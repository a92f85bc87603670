/**
 * The pipeline's topics on a broker, for the batch and sink tests: the end
 * offset of each partition, a group's committed offsets, every record's key,
 * and deleting a test's topics afterwards.
 *
 * @example
 * ```ts
 * import { deleteTopics, endOffsets } from "./kafka.ts";
 * const ends = await endOffsets("0123456789ab");
 * await deleteTopics("0123456789ab");
 * ```
 */
import type { Admin } from "kafkajs";
import { loadConfig } from "../../src/core/config.ts";
import { topicName } from "../../src/core/names.ts";
import { TABLE_KINDS, type TableKind } from "../../src/core/tables.ts";
import { kafkaClient } from "../../src/kafka/client.ts";
// Shared with the benchmarks, so kept beside the local stack.
export { deleteTopics } from "../../infra/local/stack_admin.ts";

/** The local stack's brokers. */
const localBrokers = (): string[] => loadConfig({ _: [] }).kafka.brokers;

/** Runs `use` with a connected admin client on `brokers`, disconnecting after. */
async function withAdmin<T>(brokers: string[], use: (admin: Admin) => Promise<T>): Promise<T> {
  const kafka = await kafkaClient({ brokers, auth: "none" }, "pinpipe-test");
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.disconnect();
  }
}

/** The end offset of each partition of the pipeline's topics, on `brokers`. */
export function endOffsets(
  id: string,
  brokers = localBrokers(),
  kinds: readonly TableKind[] = TABLE_KINDS,
): Promise<Record<string, number[]>> {
  return withAdmin(brokers, async (admin) => {
    const ends: Record<string, number[]> = {};
    for (const kind of kinds) {
      const topic = topicName(id, kind);
      const offsets = await admin.fetchTopicOffsets(topic);
      ends[topic] = offsets.sort((a, b) => a.partition - b.partition).map((o) => Number(o.high));
    }
    return ends;
  });
}

/** The offset `group` has committed for each partition of `topic` (-1: none yet). */
export function committedOffsets(
  group: string,
  topic: string,
  brokers = localBrokers(),
): Promise<number[]> {
  return withAdmin(brokers, async (admin) => {
    const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return offsets.partitions.sort((a, b) => a.partition - b.partition).map((p) =>
      Number(p.offset)
    );
  });
}

/** The key of every record in `kind`'s topic (the row index), in topic order, read from the start. */
export async function topicKeys(
  id: string,
  kind: TableKind,
  brokers = localBrokers(),
): Promise<string[]> {
  const topic = topicName(id, kind);
  const expected = (await endOffsets(id, brokers, [kind]))[topic].reduce((a, b) => a + b, 0);
  if (expected === 0) return [];
  const kafka = await kafkaClient({ brokers, auth: "none" }, "pinpipe-test");
  const consumer = kafka.consumer({ groupId: `pinpipe-test-${crypto.randomUUID()}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    const keys: string[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${topic}: read ${keys.length} of ${expected} records in 60 s`)),
        60_000,
      );
      consumer.run({
        eachBatch: ({ batch }) => {
          for (const message of batch.messages) keys.push(message.key!.toString());
          if (keys.length >= expected) resolve();
          return Promise.resolve();
        },
      }).catch(reject);
    });
    clearTimeout(timer);
    return keys;
  } finally {
    await consumer.disconnect();
  }
}
