/**
 * What MSK Connect's Confluent S3 sink does on AWS, here: consumes
 * `<id>.pin|geo|user` as a consumer group and writes objects named
 * `topics/<topic>/partition=<p>/<topic>+<p>+<start offset, 10 digits>.json`,
 * one record per line, `flushSize` records each (or fewer when no record
 * came for `rotateMs`). Offsets are committed only after the object is
 * written, so a crash and restart writes the same objects again (the same
 * bytes: see 2) and nothing is duplicated or lost: exactly once into the
 * bucket.
 *
 * Any number of sinks may share the group, as MSK Connect runs several
 * tasks: members join, leave and crash while records flow, and the group
 * moves partitions between them. The invariant that keeps every partition's
 * objects tiling its offsets (no gap, no overlap) across owners:
 *
 * 1. An object starts at the offset the group has committed for its
 *    partition, and is committed (to its end) only after it is written. So
 *    the committed offsets of a partition are a rising chain c0 = 0 < c1 <
 *    ..., each object written is [ci, c(i+1)) or a not-yet-committed
 *    [ci, x), and a member writes past ci only once ci is committed.
 * 2. A member writes nothing for a partition once its generation is over:
 *    the group's rebalance (`REBALANCING`, a refused commit or heartbeat, a
 *    crashed and restarted consumer) drops every open buffer, and the next
 *    join restarts every partition it gets at the committed offset (kafkajs
 *    makes a fresh offset manager on each join). A dropped buffer is never
 *    written. A refused commit leaves at most one uncommitted object, the one
 *    at the last committed offset ci; its put finished before the commit was
 *    sent, so before the rebalance ended, and the next owner starts at ci,
 *    finds that object and adopts it: it pins the object's size (its lines),
 *    so the object it writes at ci is the same one byte for byte, then
 *    commits it (a killed member's object likewise, and a restarted sink's
 *    own). An object once written is never replaced by other content, so a
 *    reader that takes each key once (`sim --incremental`, a file-source
 *    stream) misses nothing. Only a start the member did not cut to itself
 *    is looked up (a partition's first in a generation, or after a seek):
 *    the object after one it cut is new.
 * 3. A commit whose outcome is unknown (the coordinator unreachable or
 *    moved, as in a broker failover) rewinds the partition to the object's
 *    start and pins that object's size: the records are read again and the
 *    same object written again byte for byte, then committed, so it does not
 *    matter whether the first commit landed.
 *
 * Rotation by time (`rotateMs`) cuts objects shorter than `flushSize`, at a
 * moment only this member sees; by 2 the next owner adopts that cut,
 * whatever its length, because the earlier put finished before it looked.
 * The one case this does not cover: a member frozen (SIGSTOP) or cut off in
 * the middle of a put for longer than the session timeout, whose put lands
 * after the next owner looked at that offset and found nothing. That owner
 * cuts its own object there, and the late put replaces it (or, landing
 * before the owner's put, is replaced by it: the objects still tile, but a
 * reader may have taken the late one). Adoption does not change this case:
 * an object not there yet cannot be adopted. With `--rotate-ms 0` and one
 * flush size objects are cut on flush size alone and are the same whoever
 * writes them, so even that late put changes nothing (Confluent's connector
 * has the same rule for wall-clock rotation).
 *
 * The sink keeps one buffer per assigned partition. Three things touch a
 * buffer, each a method below, one at a time per partition: the consumer's
 * batches (`#consume`), the rotation timer (`#rotate`) and the group's
 * membership changes (`#onGroupJoin`, `#endGeneration`). All of them end in
 * `#writeThenCommit`, the one place an object is written and committed.
 *
 * @example
 * ```ts
 * import { BucketSink } from "./sink.ts";
 * import { loadConfig } from "../core/config.ts";
 * import { openBucket } from "./storage.ts";
 * const config = loadConfig({ _: [] });
 * const sink = new BucketSink(config, await openBucket(config.bucket), {
 *   flushSize: 500,
 *   rotateMs: 1000,
 *   group: "connect-pinpipe-sink",
 *   kinds: ["pin", "geo", "user"],
 *   exitAtEnd: true,
 * });
 * const summary = await sink.run(); // { topics: { "0123456789ab.pin": { objects, records } ... } }
 * ```
 */
import type { Admin, Consumer, EachBatchPayload, Kafka } from "kafkajs";
import type { PipelineConfig } from "../core/config.ts";
import { objectKey, recordsIn } from "../core/bucket_layout.ts";
import { CliError, TargetError } from "../core/errors.ts";
import { topicName } from "../core/names.ts";
import type { TableKind } from "../core/tables.ts";
import { KAFKA_RETRY, kafkaClient } from "../kafka/client.ts";
import { describeKafkaError } from "../kafka/errors.ts";
import { PartitionBuffer, type PendingObject } from "./buffer.ts";
import { commitFailureKind, groupAnswer } from "./commit_failure.ts";
import type { Bucket } from "./storage.ts";

/** How the sink runs. */
export interface SinkOptions {
  /** Records per object (the connector's `flush.size`). */
  flushSize: number;
  /** Write a partial object when no record came for this long (0: never). */
  rotateMs: number;
  /** The consumer group. */
  group: string;
  /** Which topics (by table kind). */
  kinds: TableKind[];
  /** Stop once every partition's committed offset reached its end offset. */
  exitAtEnd: boolean;
  /** TLS for SASL connections (default: on when SASL is used). */
  tls?: boolean;
}

/** What the sink did. */
export interface SinkSummary {
  bucket: string;
  group: string;
  topics: Record<string, { objects: number; records: number }>;
  seconds: number;
  interrupted: boolean;
}

/** How often the end offsets are compared with the group's committed ones, with `exitAtEnd`. */
const DRAIN_CHECK_MS = 500;
/** How long the drain check may keep failing before the sink gives up. */
const DRAIN_CHECK_PATIENCE_MS = 60_000;

/** The key of one topic partition. */
const partitionKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/** Serializes work per partition: batches, rotation and rebalances never touch one at once. */
class PartitionLocks {
  #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, work: () => Promise<T> | T): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const next = previous.then(work, work);
    this.#tails.set(key, next.catch(() => {}));
    return next;
  }

  /** Waits until the work queued so far (and any it queued) is done. */
  async idle(): Promise<void> {
    let tails: Promise<unknown>[];
    do {
      tails = [...this.#tails.values()];
      await Promise.all(tails);
    } while ([...this.#tails.values()].some((tail, i) => tail !== tails[i]));
  }
}

/** The Kafka-to-bucket sink: `new BucketSink(...).run(signal)`. */
export class BucketSink {
  readonly #config: PipelineConfig;
  readonly #bucket: Bucket;
  readonly #options: SinkOptions;
  readonly #topics: string[];
  readonly #summary: SinkSummary;
  readonly #buffers = new Map<string, PartitionBuffer>();
  readonly #locks = new PartitionLocks();
  readonly #timers: ReturnType<typeof setInterval>[] = [];
  #admin?: Admin;
  #consumer?: Consumer;
  #stopping = false;
  #checking = false;
  #drainCheckFailingSince?: number;
  #failure: unknown;
  /** Counts the group joins: work begun in an earlier one writes nothing. */
  #generation = 0;
  /** The generation is over (a rebalance began, or the consumer restarts): write nothing until the next join. */
  #rejoining = false;
  /** The group's answer that ended the generation, thrown to kafkajs from a batch so it rejoins. */
  #groupAnswer: unknown;
  /** Errors a batch hands back to kafkajs (it rejoins on them) instead of ending the sink. */
  readonly #forKafkajs = new WeakSet<object>();
  #finish!: () => void;
  readonly #finished = new Promise<void>((resolve) => this.#finish = resolve);

  constructor(config: PipelineConfig, bucket: Bucket, options: SinkOptions) {
    this.#config = config;
    this.#bucket = bucket;
    this.#options = options;
    this.#topics = options.kinds.map((kind) => topicName(config.id, kind));
    this.#summary = {
      bucket: bucket.location,
      group: options.group,
      topics: Object.fromEntries(this.#topics.map((topic) => [topic, { objects: 0, records: 0 }])),
      seconds: 0,
      interrupted: false,
    };
  }

  /**
   * Runs until `signal` aborts, an error occurs, or (with `exitAtEnd`) every
   * partition is written and committed to its end. On the way out the
   * objects being written are finished and committed; partial buffers are
   * dropped (not committed, so read again next time).
   */
  async run(signal?: AbortSignal): Promise<SinkSummary> {
    const began = performance.now();
    const onAbort = () => {
      this.#summary.interrupted = true;
      this.#stop();
    };
    if (signal?.aborted) onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      await this.#connect();
      this.#startRotation();
      if (this.#options.exitAtEnd) {
        this.#timers.push(setInterval(() => this.#checkDrained(), DRAIN_CHECK_MS));
      }
      await this.#finished;
    } catch (error) {
      this.#failure ??= error;
    } finally {
      signal?.removeEventListener("abort", onAbort);
      await this.#shutDown();
    }
    this.#summary.seconds = Math.round(performance.now() - began) / 1000;
    if (this.#failure !== undefined) throw this.#failure;
    return this.#summary;
  }

  /** Stops the run, with the error that ends it (the first one wins). */
  #stop(error?: unknown): void {
    if (error !== undefined) this.#failure ??= error;
    this.#stopping = true;
    this.#finish();
  }

  /** A Kafka failure as the one-line `TargetError` the command ends with. */
  #kafkaError(error: unknown, topic?: string): TargetError {
    const brokers = this.#config.kafka.brokers;
    return describeKafkaError(error, brokers, topic) ??
      new TargetError(`Kafka at ${brokers.join(",")}: ${(error as Error).message}`);
  }

  /** Connects, checks the topics exist, joins the group and starts consuming. */
  async #connect(): Promise<void> {
    const [config, options] = [this.#config, this.#options];
    const kafka: Kafka = await kafkaClient(config.kafka, "pinpipe-sink", config.aws.region, {
      ssl: options.tls ?? config.kafka.auth !== "none",
    });
    const admin = this.#admin = kafka.admin({ retry: KAFKA_RETRY.quick });
    await admin.connect().catch((error) => {
      throw this.#kafkaError(error);
    });
    await this.#checkTopics(admin);
    if (this.#stopping) return;
    const consumer = this.#consumer = kafka.consumer({
      groupId: options.group,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
    });
    consumer.on(consumer.events.GROUP_JOIN, () => this.#onGroupJoin());
    consumer.on(consumer.events.REBALANCING, () => this.#endGeneration());
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart) this.#endGeneration();
      else this.#stop(this.#kafkaError(payload.error));
    });
    await consumer.connect().catch((error) => {
      throw this.#kafkaError(error);
    });
    await consumer.subscribe({ topics: this.#topics, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload) =>
        this.#locks.run(
          partitionKey(payload.batch.topic, payload.batch.partition),
          () => this.#consume(payload),
        ).catch((error) => {
          if (this.#forKafkajs.has(error)) throw error;
          this.#stop(error);
        }),
    });
  }

  /** Fails with one line naming the topics that do not exist. */
  async #checkTopics(admin: Admin): Promise<void> {
    const existing = new Set(
      await admin.listTopics().catch((error) => {
        throw this.#kafkaError(error);
      }),
    );
    const missing = this.#topics.filter((topic) => !existing.has(topic));
    if (missing.length) {
      throw new TargetError(
        `topic${missing.length > 1 ? "s" : ""} ${missing.join(", ")} not found at ${
          this.#config.kafka.brokers.join(",")
        } (run deno task batch first)`,
      );
    }
  }

  /** The buffer of one partition, made on first use. */
  #bufferOf(topic: string, partition: number): PartitionBuffer {
    const key = partitionKey(topic, partition);
    let buffer = this.#buffers.get(key);
    if (!buffer) {
      this.#buffers.set(
        key,
        buffer = new PartitionBuffer(topic, partition, this.#options.flushSize),
      );
    }
    return buffer;
  }

  /**
   * The group was joined (again): kafkajs starts every partition this member
   * holds at the group's committed offset, so every buffer of the generation
   * before is dropped (its records were not committed; whoever holds the
   * partition now reads them again).
   */
  #onGroupJoin(): void {
    this.#generation++;
    this.#rejoining = false;
    this.#groupAnswer = undefined;
    this.#dropBuffers();
  }

  /** This member's generation is over: drop every buffer and write nothing until the next join. */
  #endGeneration(answer?: unknown): void {
    this.#rejoining = true;
    if (answer !== undefined) this.#groupAnswer ??= answer;
    this.#dropBuffers();
  }

  #dropBuffers(): void {
    for (const buffer of this.#buffers.values()) buffer.clear();
    this.#buffers.clear();
  }

  /** Whether work begun in `generation` must not write or commit any more. */
  #stale(generation: number): boolean {
    return generation !== this.#generation || this.#rejoining;
  }

  /** Hands `error` to kafkajs (from a batch), which rejoins the group on it. */
  #toKafkajs(error: unknown): unknown {
    if (error !== null && typeof error === "object") this.#forKafkajs.add(error);
    return error;
  }

  /** A batch of one partition: records into its buffer, each full buffer written and committed. */
  async #consume(
    { batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload,
  ): Promise<void> {
    if (this.#groupAnswer !== undefined) throw this.#toKafkajs(this.#groupAnswer);
    const generation = this.#generation;
    if (this.#stale(generation)) return;
    const buffer = this.#bufferOf(batch.topic, batch.partition);
    const over = () => !isRunning() || isStale() || this.#stopping || this.#stale(generation);
    for (const message of batch.messages) {
      if (over()) return;
      const offset = Number(message.offset);
      if (buffer.startsUnknown(offset)) {
        await this.#adopt(buffer, offset);
        if (over()) return;
      }
      let record: unknown;
      try {
        record = JSON.parse(message.value?.toString() ?? "null");
      } catch {
        throw new CliError(
          `${batch.topic} partition ${batch.partition} offset ${message.offset}: value is not JSON`,
        );
      }
      const pending = buffer.add(offset, record);
      resolveOffset(message.offset);
      if (pending) {
        const committed = await this.#writeThenCommit(pending, generation);
        if (this.#groupAnswer !== undefined) throw this.#toKafkajs(this.#groupAnswer);
        // A heartbeat after each object: the group's answer (a rebalance) or an unreachable
        // coordinator goes to kafkajs, which rejoins (finding the coordinator again).
        await heartbeat().catch((error) => {
          if (commitFailureKind(error) === "generation-over") this.#endGeneration();
          throw this.#toKafkajs(groupAnswer(error));
        });
        if (!committed) return;
      }
    }
  }

  /**
   * Adoption: the object at `offset`, if the bucket holds one, was written by
   * an owner that never committed it (killed, or its partition moved). Its
   * size is pinned, so the object written there is the same one byte for
   * byte, whatever this member's flush size or clock would cut.
   */
  async #adopt(buffer: PartitionBuffer, offset: number): Promise<void> {
    const key = objectKey(buffer.topic, buffer.partition, offset);
    let body: string | undefined;
    try {
      body = await this.#bucket.get(key);
    } catch (error) {
      throw new TargetError(
        `could not read ${this.#bucket.location}/${key}: ${(error as Error).message}`,
      );
    }
    const records = body === undefined ? 0 : recordsIn(body);
    if (records > 0) buffer.pinObject(offset, records);
  }

  /**
   * Writes the object, then commits past it: the order that makes a replay
   * harmless. Returns whether the commit is known to have landed. Nothing
   * is written or committed for a generation that is over.
   */
  async #writeThenCommit(pending: PendingObject, generation: number): Promise<boolean> {
    if (this.#stale(generation)) return false;
    try {
      await this.#bucket.put(pending.key, pending.body);
    } catch (error) {
      throw new TargetError(
        `could not write ${this.#bucket.location}/${pending.key}: ${(error as Error).message}`,
      );
    }
    // Written but not committed is always safe: whoever holds the partition next starts here.
    if (this.#stale(generation)) return false;
    try {
      await this.#consumer!.commitOffsets([{
        topic: pending.topic,
        partition: pending.partition,
        offset: String(pending.commitOffset),
      }]);
    } catch (error) {
      switch (commitFailureKind(error)) {
        case "generation-over":
          this.#endGeneration(groupAnswer(error));
          return false;
        case "outcome-unknown":
          this.#rewind(pending);
          return false;
        default:
          throw this.#kafkaError(error);
      }
    }
    const counts = this.#summary.topics[pending.topic];
    counts.objects++;
    counts.records += pending.records;
    return true;
  }

  /**
   * The commit of `pending` may or may not have landed: read its partition
   * again from the object's start and write the very same object again (its
   * size pinned), so either way the objects keep tiling the offsets.
   */
  #rewind(pending: PendingObject): void {
    this.#bufferOf(pending.topic, pending.partition).pinObject(
      pending.startOffset,
      pending.records,
    );
    this.#consumer!.seek({
      topic: pending.topic,
      partition: pending.partition,
      offset: String(pending.startOffset),
    });
  }

  /** Rotation: a timer that writes every buffer no record came to for `rotateMs`. */
  #startRotation(): void {
    const { rotateMs } = this.#options;
    if (rotateMs <= 0) return;
    const tick = Math.max(50, Math.min(500, Math.floor(rotateMs / 4)));
    this.#timers.push(setInterval(() => {
      for (const [key, buffer] of this.#buffers) {
        if (buffer.rotateDue(rotateMs)) {
          const generation = this.#generation;
          this.#locks.run(key, () => this.#rotate(buffer, generation)).catch((error) =>
            this.#stop(error)
          );
        }
      }
    }, tick));
  }

  /** Writes a partial object of `buffer`, if it is still due when its turn comes. */
  async #rotate(buffer: PartitionBuffer, generation: number): Promise<void> {
    if (this.#stopping || this.#stale(generation) || !buffer.rotateDue(this.#options.rotateMs)) {
      return;
    }
    const pending = buffer.take();
    if (pending) await this.#writeThenCommit(pending, generation);
  }

  /**
   * With `exitAtEnd`: stops once the group's committed offsets reached every
   * end offset. A failed check (a broker failing over) is tried again on the
   * next tick; failing for `DRAIN_CHECK_PATIENCE_MS` on end ends the sink.
   */
  async #checkDrained(): Promise<void> {
    if (this.#checking || [...this.#buffers.values()].some((buffer) => buffer.size > 0)) return;
    this.#checking = true;
    try {
      if (await this.#drained()) this.#stop();
      this.#drainCheckFailingSince = undefined;
    } catch (error) {
      this.#drainCheckFailingSince ??= Date.now();
      if (Date.now() - this.#drainCheckFailingSince >= DRAIN_CHECK_PATIENCE_MS) {
        this.#stop(this.#kafkaError(error));
      }
    } finally {
      this.#checking = false;
    }
  }

  /** Whether the group's committed offsets on the broker (not only this run's) reach the ends. */
  async #drained(): Promise<boolean> {
    const admin = this.#admin!;
    const committed = new Map<string, number>();
    const groupOffsets = await admin.fetchOffsets({
      groupId: this.#options.group,
      topics: this.#topics,
    });
    for (const { topic, partitions } of groupOffsets) {
      for (const { partition, offset } of partitions) {
        committed.set(partitionKey(topic, partition), Math.max(0, Number(offset)));
      }
    }
    for (const topic of this.#topics) {
      for (const { partition, high } of await admin.fetchTopicOffsets(topic)) {
        if (Number(high) > (committed.get(partitionKey(topic, partition)) ?? 0)) return false;
      }
    }
    return true;
  }

  /** Stops the timers, lets the writes in flight finish and commit, then leaves the group. */
  async #shutDown(): Promise<void> {
    this.#stopping = true;
    this.#timers.forEach(clearInterval);
    await this.#locks.idle();
    await this.#consumer?.disconnect().catch(() => {});
    await this.#admin?.disconnect().catch(() => {});
  }
}
