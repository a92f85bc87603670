/**
 * The topic and committed stages: each partition's end offset, and the sink
 * group's committed offset, through one kafkajs admin client kept between
 * reads. The admin only asks (ListOffsets, OffsetFetch); it joins no group
 * and commits nothing.
 *
 * @example
 * ```ts
 * import { KafkaReader } from "./topic_reader.ts";
 * import { loadConfig } from "../core/config.ts";
 * const config = loadConfig({ _: [] });
 * const kafka = new KafkaReader(config.kafka, config.aws.region);
 * await kafka.endOffsets("0123456789ab.pin"); // Map { 0 => 11000 }
 * await kafka.close();
 * ```
 */
import type { Admin } from "kafkajs";
import type { KafkaConfig } from "../core/config.ts";
import { KAFKA_RETRY, kafkaClient } from "../kafka/client.ts";
import { kafkaFailure } from "../kafka/errors.ts";
import { RecordTimes } from "./record_time.ts";

/** The pause before asking a second time. */
const RETRY_PAUSE_MS = 300;

/** Offsets per partition. */
export type PartitionOffsets = Map<number, number>;

/** Reads end offsets and a group's committed offsets; errors are `TargetError`s naming the brokers. */
export class KafkaReader {
  #admin: Promise<Admin> | undefined;
  readonly #times = new RecordTimes();
  /** Topics seen to exist: not listed again (a listing is of every topic on the cluster). */
  readonly #existing = new Set<string>();

  constructor(readonly config: KafkaConfig, readonly region: string) {}

  #open(): Promise<Admin> {
    if (this.#admin) return this.#admin;
    const opening = this.#admin = (async () => {
      // No retries in kafkajs (its connection retries would wait many seconds): see `#ask`.
      const kafka = await kafkaClient(this.config, "pinpipe-ledger", this.region, {
        retry: KAFKA_RETRY.none,
      });
      const admin = kafka.admin({ retry: KAFKA_RETRY.none });
      await admin.connect();
      return admin;
    })();
    opening.catch(() => {
      if (this.#admin === opening) this.#admin = undefined;
    });
    return opening;
  }

  /** Asks once, and once more on a fresh connection after a pause: a read fails fast, not in retries. */
  async #ask<T>(topic: string, question: (admin: Admin) => Promise<T>): Promise<T> {
    for (let attempt = 0;; attempt++) {
      try {
        return await question(await this.#open());
      } catch (error) {
        // The topic may be gone: it is listed again.
        this.#existing.delete(topic);
        const admin = this.#admin;
        this.#admin = undefined;
        await admin?.then((a) => a.disconnect()).catch(() => {});
        if (attempt >= 1) throw kafkaFailure(error, this.config.brokers, topic);
        await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
      }
    }
  }

  /** Each partition's end offset (the next offset to be written); undefined when no such topic. */
  endOffsets(topic: string): Promise<PartitionOffsets | undefined> {
    return this.#ask(topic, async (admin) => {
      // Asked first, so that a topic not made yet is an answer, not retries of an error.
      if (!this.#existing.has(topic)) {
        if (!(await admin.listTopics()).includes(topic)) return undefined;
        this.#existing.add(topic);
      }
      const offsets = await admin.fetchTopicOffsets(topic);
      return new Map(offsets.map(({ partition, high }) => [partition, Number(high)]));
    });
  }

  /**
   * The offsets `group` committed on each of `topics`, by partition (a partition never
   * committed: absent), in one request.
   */
  committedOffsetsOf(group: string, topics: string[]): Promise<Map<string, PartitionOffsets>> {
    return this.#ask(topics.join(","), async (admin) => {
      const answers = await admin.fetchOffsets({ groupId: group, topics });
      const byTopic = new Map<string, PartitionOffsets>();
      for (const { topic, partitions } of answers) {
        const committed: PartitionOffsets = new Map();
        for (const { partition, offset } of partitions) {
          if (Number(offset) >= 0) committed.set(partition, Number(offset));
        }
        byTopic.set(topic, committed);
      }
      return byTopic;
    });
  }

  /** When the record at `offset` of `topic`'s `partition` was written (epoch ms, within 5% of its age). */
  recordTime(topic: string, partition: number, offset: number): Promise<number> {
    return this.#ask(
      topic,
      (admin) =>
        this.#times.get(
          topic,
          partition,
          offset,
          (time) => admin.fetchTopicOffsetsByTimestamp(topic, time),
        ),
    );
  }

  async close(): Promise<void> {
    const admin = this.#admin;
    this.#admin = undefined;
    await admin?.then((a) => a.disconnect()).catch(() => {});
  }
}
