/**
 * Delivers records to the three Kafka topics `<id>.pin|geo|user` with a
 * kafkajs idempotent producer (acks from all in-sync replicas, one request
 * in flight, retries that reuse the same sequence numbers, so the broker
 * drops a retried duplicate). Topics are created if missing. Each record's
 * partition is the Java client's murmur2 hash of its key, computed here, so
 * that after a crash the records written past the checkpoint can be counted
 * per partition from the offsets alone (`resumeFilter`) and not sent twice.
 *
 * @example
 * ```ts
 * import { KafkaTarget } from "./target.ts";
 * import { loadConfig } from "../core/config.ts";
 * const config = loadConfig({ _: [] });
 * const target = new KafkaTarget({
 *   id: config.id,
 *   kafka: config.kafka,
 *   region: config.aws.region,
 *   partitions: 1,
 *   replicationFactor: 1,
 * });
 * await target.prepare(["geo"]);
 * await target.close();
 * ```
 */
import { CompressionTypes, type Kafka, Partitioners, type RetryOptions } from "kafkajs";
import type { KafkaConfig } from "../core/config.ts";
import { type DeliveryTarget, logToStderr, type TargetOptions } from "../transfer/target.ts";
import { type OutgoingRecord } from "../core/records.ts";
import { RecordRejectedError, TargetError } from "../core/errors.ts";
import { topicName } from "../core/names.ts";
import type { TableKind } from "../core/tables.ts";
import { retry } from "../util/retry.ts";
import { IDEMPOTENT_PRODUCER, KAFKA_RETRY, kafkaClient, producerClientOptions } from "./client.ts";
import { hasKafkaErrorType, kafkaFailure } from "./errors.ts";
import { KafkaWorker, type ProducerHandle } from "./worker.ts";

/** Settings of the Kafka target (from the batch command's flags). */
export interface KafkaTargetOptions extends TargetOptions {
  /** The brokers and how to authenticate. */
  kafka: KafkaConfig;
  /** The AWS region MSK IAM tokens are signed for (`config.aws.region`). */
  region: string;
  /** Partitions of topics this target creates. */
  partitions: number;
  /** Replication factor of topics this target creates. */
  replicationFactor: number;
  /** Compression of record batches. */
  compression?: "none" | "gzip";
  /** Upper bound of one produce request's payload, in bytes (512 KiB). */
  maxRequestBytes?: number;
  /** How long a send may keep retrying an unreachable broker before failing (120 s). */
  brokerWaitMs?: number;
  /** TLS for SASL connections (default: on when SASL is used, as on MSK). */
  tls?: boolean;
  /** Run the producers (kafkajs's record encoding) on a worker thread (default true). */
  worker?: boolean;
}

/** The stored position: the end offset of each partition after the last acknowledged send. */
export interface KafkaPosition {
  ends: Record<string, number>;
}

/** The Java client's default partition of `key` (murmur2), via kafkajs's own partitioner. */
function partitionerFor(partitions: number): (key: string) => number {
  if (partitions === 1) return () => 0; // the common case: no hashing per record
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
    partitionId,
    leader: 0,
    replicas: [0],
    isr: [0],
    partitionErrorCode: 0,
    offlineReplicas: [],
  }));
  return (key) => partitioner({ topic: "", partitionMetadata, message: { key, value: null } });
}

/** Errors of a topic just created whose metadata has not reached every broker thread yet. */
const NOT_YET_KNOWN = [
  "UNKNOWN_TOPIC_OR_PARTITION",
  "LEADER_NOT_AVAILABLE",
  "NOT_LEADER_FOR_PARTITION",
];

/**
 * Runs `work` again while the broker says the topic or its leader is not
 * known yet (right after creation, on a busy broker), for up to 30 s.
 */
function untilKnown<T>(work: () => Promise<T>): Promise<T> {
  return retry(work, {
    baseMs: 50,
    capMs: 2_000,
    deadlineMs: 30_000,
    retryIf: (error) => hasKafkaErrorType(error, ...NOT_YET_KNOWN),
  });
}

/**
 * Messages per produce request at most. kafkajs's own grouping of a
 * request's messages by partition is quadratic in them, so the in-process
 * producers keep requests small; the worker's kafkajs groups in linear time
 * (linear_grouping.ts) and its requests are bounded by `maxRequestBytes`
 * (a default 1,000-row batch is one request).
 */
const MAX_REQUEST_MESSAGES = { inProcess: 500, worker: 4_000 };

/** One Kafka message ready to go, with its size for request sizing. */
interface Message {
  key: string;
  value: string;
  partition: number;
  index: number;
  /** Where the record is in the records given to `send`. */
  position: number;
}

/** How many times one request's messages are sent before a partition left unanswered fails the run. */
const MAX_SEND_ROUNDS = 5;

/** What partitions refused as too large in one send: their records, in the order given. */
class PartitionsRefused extends Error {
  constructor(readonly messages: Message[]) {
    super(`${messages.length} record(s) refused as too large`);
  }
}

/**
 * The settings of a topic created here: with 3 or more replicas, a write
 * needs 2 in-sync replicas (`min.insync.replicas=2`, as on MSK), so one
 * broker lost never loses an acknowledged record.
 */
export function topicConfig(replicationFactor: number): { name: string; value: string }[] {
  return replicationFactor >= 3 ? [{ name: "min.insync.replicas", value: "2" }] : [];
}

/** The Kafka target: topics `<id>.<kind>`, idempotent producer, per-partition end offsets. */
export class KafkaTarget implements DeliveryTarget {
  readonly name: string = "kafka";
  #kafka?: Kafka;
  /** One idempotent producer per table: three requests in flight, each table's in order. */
  #producers = new Map<TableKind, ProducerHandle>();
  #worker?: KafkaWorker;
  #partitions = new Map<TableKind, (key: string) => number>();
  #ends = new Map<TableKind, Map<number, number>>();
  readonly brokers: string[];
  readonly #options: KafkaTargetOptions & { log: (line: string) => void; tls: boolean };

  constructor(options: KafkaTargetOptions) {
    this.#options = {
      ...options,
      log: options.log ?? logToStderr,
      tls: options.tls ?? options.kafka.auth !== "none",
    };
    this.brokers = options.kafka.brokers;
  }

  /** The topic of `kind`. */
  destination(kind: TableKind): string {
    return topicName(this.#options.id, kind);
  }

  /** The producer's client: it retries for as long as the broker stays away (bounded by brokerWaitMs). */
  async #client(): Promise<Kafka> {
    this.#kafka ??= await kafkaClient(
      this.#options.kafka,
      "pinpipe-batch",
      this.#options.region,
      producerClientOptions(this.#options.tls),
    );
    return this.#kafka;
  }

  /** An admin client: a few quick retries, then a clear failure (kafkajs ties retries to the client). */
  async #adminClient(retry: RetryOptions = KAFKA_RETRY.quick): Promise<Kafka> {
    return await kafkaClient(
      this.#options.kafka,
      "pinpipe-batch-admin",
      this.#options.region,
      producerClientOptions(this.#options.tls, retry),
    );
  }

  #fail(error: unknown, topic?: string): Error {
    return kafkaFailure(error, this.brokers, topic);
  }

  /** Connects, creates missing topics, learns partition counts, starts the producer. */
  async prepare(kinds: readonly TableKind[]): Promise<void> {
    const admin = (await this.#adminClient()).admin();
    try {
      await admin.connect().catch((error) => {
        throw this.#fail(error);
      });
      const existing = new Set(
        await admin.listTopics().catch((error) => {
          throw this.#fail(error);
        }),
      );
      for (const kind of kinds) {
        const topic = this.destination(kind);
        if (existing.has(topic)) continue;
        const created = await admin.createTopics({
          waitForLeaders: true,
          topics: [{
            topic,
            numPartitions: this.#options.partitions,
            replicationFactor: this.#options.replicationFactor,
            configEntries: topicConfig(this.#options.replicationFactor),
          }],
        }).catch((error) => {
          // Another producer may have created it meanwhile: that is fine.
          if (hasKafkaErrorType(error, "TOPIC_ALREADY_EXISTS")) return false;
          // Created, but the broker asked for its leaders did not know it yet (several brokers):
          // the metadata wait below gives it time.
          if (hasKafkaErrorType(error, ...NOT_YET_KNOWN)) return true;
          throw this.#fail(error, topic);
        });
        if (created) {
          this.#options.log(
            `created topic ${topic} with ${this.#options.partitions} partition(s)`,
          );
        }
      }
      for (const kind of kinds) {
        const topic = this.destination(kind);
        const metadata = await untilKnown(() => admin.fetchTopicMetadata({ topics: [topic] }))
          .catch((error) => {
            throw this.#fail(error, topic);
          });
        this.#partitions.set(kind, partitionerFor(metadata.topics[0].partitions.length));
      }
    } finally {
      await admin.disconnect().catch(() => {});
    }
    if (this.#options.worker ?? true) {
      this.#worker = new KafkaWorker(this.#options.kafka, this.#options.region, this.#options.tls);
    }
    for (const kind of kinds) {
      // The same producer settings on either thread (see worker.ts).
      const producer = this.#worker?.producer(kind) ??
        (await this.#client()).producer(IDEMPOTENT_PRODUCER);
      this.#producers.set(kind, producer);
      await this.#withDeadline(producer.connect(), "connecting the producer").catch((error) => {
        throw this.#fail(error);
      });
    }
  }

  /** The current end offset of each partition of `kind`'s topic. */
  async #fetchEnds(kind: TableKind): Promise<Map<number, number>> {
    const topic = this.destination(kind);
    const admin = (await this.#adminClient(KAFKA_RETRY.settling)).admin();
    try {
      await admin.connect();
      const offsets = await untilKnown(() => admin.fetchTopicOffsets(topic));
      return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
    } catch (error) {
      throw this.#fail(error, topic);
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }

  /** Rejects with a TargetError if `work` has not settled after brokerWaitMs; else as `work` does. */
  async #withDeadline<T>(work: Promise<T>, what: string, topic?: string): Promise<T> {
    const waitMs = this.#options.brokerWaitMs ?? 120_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new TargetError(
              `Kafka broker unreachable at ${this.brokers.join(",")}: ${what}${
                topic ? ` to ${topic}` : ""
              } still failing after ${Math.round(waitMs / 1000)} s`,
            ),
          ),
        waitMs,
      );
    });
    try {
      return await Promise.race([work, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends `records` (one table, in order) and resolves when all are acknowledged. */
  async send(kind: TableKind, records: OutgoingRecord[]): Promise<void> {
    const producer = this.#producers.get(kind);
    const partitionOf = this.#partitions.get(kind);
    if (!producer || !partitionOf) throw new Error(`KafkaTarget.send(${kind}) before prepare`);
    if (!this.#ends.has(kind)) this.#ends.set(kind, await this.#fetchEnds(kind));
    const before = new Map(this.#ends.get(kind)!);
    const messages: Message[] = records.map((record, position) => ({
      key: record.key,
      value: JSON.stringify(record.record),
      partition: partitionOf(record.key),
      index: record.index,
      position,
    }));
    const limit = this.#options.maxRequestBytes ?? 512 * 1024;
    const most = this.#worker ? MAX_REQUEST_MESSAGES.worker : MAX_REQUEST_MESSAGES.inProcess;
    let chunk: Message[] = [];
    let bytes = 0;
    for (const message of messages) {
      const size = message.value.length + message.key.length + 64;
      if (chunk.length && (bytes + size > limit || chunk.length >= most)) {
        await this.#sendChunk(kind, chunk);
        chunk = [];
        bytes = 0;
      }
      chunk.push(message);
      bytes += size;
    }
    try {
      if (chunk.length) await this.#sendChunk(kind, chunk);
    } catch (error) {
      // Requests go partition by partition at once, so records after the refused one may be in
      // other partitions already: the position keeps only those before it, and a rerun's resume
      // counts the rest as found beyond the checkpoint instead of sending them again.
      if (error instanceof RecordRejectedError && error.delivered !== undefined) {
        const ends = new Map(before);
        for (const message of messages.slice(0, error.delivered)) {
          ends.set(message.partition, (ends.get(message.partition) ?? 0) + 1);
        }
        this.#ends.set(kind, ends);
      }
      throw error;
    }
  }

  /**
   * Sends one produce request's worth; splits what a partition refused as
   * too large. A send that resolves without an answer for some partition
   * is sent again for those partitions: kafkajs 2.2.4, retrying after a
   * leader died, skips the partitions that moved to a broker that had
   * already answered, and resolves as if they were acknowledged. Sent again
   * with the same sequence numbers, a batch the new leader already holds is
   * not appended twice.
   */
  async #sendChunk(kind: TableKind, chunk: Message[]): Promise<void> {
    const topic = this.destination(kind);
    try {
      let unanswered = chunk;
      for (let round = 1; unanswered.length; round++) {
        if (round > MAX_SEND_ROUNDS) {
          throw new TargetError(
            `Kafka topic ${topic}: partitions ${
              [...new Set(unanswered.map((m) => m.partition))].join(", ")
            } not acknowledged after ${MAX_SEND_ROUNDS} sends`,
          );
        }
        if (round > 1) {
          this.#options.log(
            `Kafka topic ${topic}: partitions ${
              [...new Set(unanswered.map((m) => m.partition))].join(", ")
            } left unanswered by a send (their leader moved): sending again (round ${round})`,
          );
        }
        unanswered = await this.#sendOnce(kind, topic, unanswered);
      }
    } catch (error) {
      if (!(error instanceof PartitionsRefused)) throw this.#fail(error, topic);
      const refused = error.messages;
      if (refused.length === 1) {
        throw new RecordRejectedError(
          `record too large for ${topic}: ${kind} index ${refused[0].index} is ${
            new TextEncoder().encode(refused[0].value).length
          } bytes, over the topic's max.message.bytes`,
          // Halves go in order, and a partition's batch is refused whole: every record before
          // this one is acknowledged.
          refused[0].position,
        );
      }
      // Only the refused partitions' records, in halves, to find the culprit.
      const half = Math.ceil(refused.length / 2);
      await this.#sendChunk(kind, refused.slice(0, half));
      await this.#sendChunk(kind, refused.slice(half));
    }
  }

  /**
   * One send of `messages`, one request per partition at once; returns those of the partitions
   * the answer does not cover. Never one request for several partitions: kafkajs 2.2.4 retries
   * such a send by the brokers that answered, and after a reconnect a broker that did answer is
   * a new object there, so its partitions go again under new sequence numbers and are appended
   * twice (a three-broker chaos run found 12 records repeated so, at consecutive offsets). Alone
   * in its request, a partition is sent again only when it was not answered, with the same
   * sequence numbers. A partition that refused its batch as too large throws `PartitionsRefused`
   * with its records, once the others are answered.
   */
  async #sendOnce(kind: TableKind, topic: string, messages: Message[]): Promise<Message[]> {
    const producer = this.#producers.get(kind)!;
    const byPartition = new Map<number, Message[]>();
    for (const message of messages) {
      const part = byPartition.get(message.partition);
      if (part) part.push(message);
      else byPartition.set(message.partition, [message]);
    }
    const parts = [...byPartition.values()];
    const settled = await Promise.allSettled(parts.map((part) =>
      this.#withDeadline(
        producer.send({
          topic,
          acks: -1,
          compression: this.#options.compression === "gzip"
            ? CompressionTypes.GZIP
            : CompressionTypes.None,
          messages: part, // key, value and partition are what the producer reads of each
        }),
        "sending",
        topic,
      )
    ));
    const ends = this.#ends.get(kind)!;
    const unanswered: Message[] = [];
    const refused: Message[] = [];
    let failure: unknown;
    settled.forEach((outcome, i) => {
      const part = parts[i];
      if (outcome.status === "rejected") {
        if (hasKafkaErrorType(outcome.reason, "MESSAGE_TOO_LARGE", "RECORD_LIST_TOO_LARGE")) {
          refused.push(...part);
        } else failure ??= outcome.reason;
        return;
      }
      const answer = outcome.value.find((entry) => entry.partition === part[0].partition);
      if (!answer) unanswered.push(...part);
      else ends.set(answer.partition, Number(answer.baseOffset) + part.length);
    });
    if (failure !== undefined) throw failure;
    if (refused.length) {
      throw new PartitionsRefused(refused.sort((a, b) => a.position - b.position));
    }
    return unanswered.sort((a, b) => a.position - b.position);
  }

  /** The end offset of each partition after the last acknowledged send of `kind`. */
  position(kind: TableKind): KafkaPosition | undefined {
    const ends = this.#ends.get(kind);
    return ends ? { ends: Object.fromEntries(ends) } : undefined;
  }

  /**
   * Compares the end offsets stored in the checkpoint with the topic's now:
   * records beyond them were written after the checkpoint (acknowledged or
   * not before a crash). Since records go to partitions in order, the next
   * `n` records bound for a partition that grew by `n` are already there.
   * The position starts at the checkpoint's ends and moves one offset per
   * record the filter passes over: a checkpoint taken while records found
   * are still ahead (more than one batch's worth) must not count them, or a
   * later rerun would send them again.
   */
  async resumeFilter(
    kind: TableKind,
    saved: unknown,
  ): Promise<((record: OutgoingRecord) => boolean) | undefined> {
    const stored = (saved as KafkaPosition | undefined)?.ends;
    const now = await this.#fetchEnds(kind);
    this.#ends.set(kind, now);
    if (!stored) return undefined;
    const ends = new Map(now);
    const topic = this.destination(kind);
    const ahead = new Map<number, number>();
    for (const [partition, end] of now) {
      const before = stored[String(partition)] ?? 0;
      if (end < before) {
        throw new TargetError(
          `topic ${topic} partition ${partition} ends at offset ${end}, before the checkpoint's ` +
            `${before}: was it deleted and recreated? Run with --from-start`,
        );
      }
      if (end > before) {
        ahead.set(partition, end - before);
        ends.set(partition, before);
      }
    }
    if (ahead.size === 0) return undefined;
    this.#ends.set(kind, ends);
    const partitionOf = this.#partitions.get(kind)!;
    return (record) => {
      const partition = partitionOf(record.key);
      const left = ahead.get(partition) ?? 0;
      if (left === 0) return false;
      ahead.set(partition, left - 1);
      ends.set(partition, ends.get(partition)! + 1);
      return true;
    };
  }

  /** Disconnects the producer. */
  async close(): Promise<void> {
    await Promise.all(
      [...this.#producers.values()].map((producer) => producer.disconnect().catch(() => {})),
    );
    await this.#worker?.close();
  }
}
