/**
 * `deno task sink`: what MSK Connect's Confluent S3 sink does on AWS, here:
 * consumes `<id>.pin|geo|user` as a consumer group and writes objects named
 * `topics/<topic>/partition=<p>/<topic>+<p>+<start offset, 10 digits>.json`,
 * one record per line, `--flush-size` records each (or fewer when no record
 * came for `--rotate-ms`). Offsets are committed only after the object is
 * written, so a crash and restart rewrites the same objects and nothing is
 * duplicated or lost: exactly once into the bucket.
 *
 * @example
 * ```ts
 * import { main } from "./sink_command.ts";
 * await main(["--flush-size", "500", "--exit-at-end"]);
 * ```
 */
import type { Consumer, EachBatchPayload, Kafka } from "kafkajs";
import { type Flags, intFlag, parseFlags, stringFlag } from "../core/cli.ts";
import { CliError, UsageError } from "../core/errors.ts";
import { CONFIG_FLAGS, CONFIG_USAGE, loadConfig, type PipelineConfig } from "../core/config.ts";
import { TargetError } from "../core/errors.ts";
import { kafkaClient } from "../kafka/client.ts";
import { describeKafkaError } from "../kafka/errors.ts";
import { topicName } from "../core/names.ts";
import { parseTableKind, TABLE_KINDS, type TableKind } from "../core/tables.ts";
import { PartitionBuffer, type PendingObject } from "./buffer.ts";
import { type Bucket, openBucket } from "./storage.ts";

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

const SINK_FLAGS = {
  ...CONFIG_FLAGS,
  "flush-size": { type: "string" as const },
  "rotate-ms": { type: "string" as const },
  group: { type: "string" as const },
  tables: { type: "string" as const },
  "exit-at-end": { type: "boolean" as const },
  "s3-endpoint": { type: "string" as const },
  "kafka-tls": { type: "string" as const },
  json: { type: "boolean" as const },
  quiet: { type: "boolean" as const },
};

const USAGE = `Usage: deno task sink [flags]

Consumes the topics <id>.pin, <id>.geo, <id>.user into the bucket as the Confluent
S3 sink connector names objects: topics/<topic>/partition=<p>/<topic>+<p>+<offset>.json

  --flush-size N        records per object (1000; the original connector used 1)
  --rotate-ms MS        write a partial object when no record came for MS ms (10000; 0: never)
  --group G             consumer group (connect-pinpipe-sink-<id>)
  --tables LIST         comma-separated subset of pin,geo,user (all)
  --exit-at-end         stop once everything in the topics is written and committed
  --bucket DIR|s3://B   where objects go (.local/bucket/user-<id>-bucket)
  --s3-endpoint URL     an S3-compatible endpoint for s3:// buckets (default: AWS)
  --kafka-tls on|off    TLS for SASL (on with --kafka-auth iam|scram)
  --json                print the summary as JSON on stdout
  --quiet               no text summary

${CONFIG_USAGE}

Exit codes: 0 done (or stopped by SIGINT/SIGTERM), 2 bad flags, 4 Kafka error, 1 bucket error.`;

/** Parses the sink's own flags. */
export function parseSinkOptions(flags: Flags, id: string): SinkOptions {
  const tablesText = stringFlag(flags, "tables");
  let kinds = [...TABLE_KINDS];
  if (tablesText !== undefined) {
    try {
      kinds = [...new Set(tablesText.split(",").map((name) => parseTableKind(name.trim())))];
    } catch (error) {
      throw new UsageError(`--tables: ${(error as Error).message}`);
    }
  }
  const tls = stringFlag(flags, "kafka-tls");
  if (tls !== undefined && tls !== "on" && tls !== "off") {
    throw new UsageError(`--kafka-tls must be on or off, got "${tls}"`);
  }
  return {
    flushSize: intFlag(flags, "flush-size", 1000, { min: 1, max: 1_000_000 }),
    rotateMs: intFlag(flags, "rotate-ms", 10_000, { min: 0 }),
    group: stringFlag(flags, "group", `connect-pinpipe-sink-${id}`),
    kinds,
    exitAtEnd: flags["exit-at-end"] === true,
    tls: tls === undefined ? undefined : tls === "on",
  };
}

/** Serializes work per partition: the consumer and the rotate timer never write one at once. */
class PartitionLocks {
  #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const next = previous.then(work, work);
    this.#tails.set(key, next.catch(() => {}));
    return next;
  }
}

/**
 * Runs the sink until `signal` aborts, an error occurs, or (with
 * `exitAtEnd`) every partition is written and committed to its end.
 */
export async function runSink(
  config: PipelineConfig,
  bucket: Bucket,
  options: SinkOptions,
  signal?: AbortSignal,
): Promise<SinkSummary> {
  const started = performance.now();
  const topics = options.kinds.map((kind) => topicName(config.id, kind));
  const kafka: Kafka = await kafkaClient(config.kafka, "pinpipe-sink", config.kinesis.region, {
    ssl: options.tls ?? config.kafka.auth !== "none",
  });
  const fail = (error: unknown, topic?: string) =>
    describeKafkaError(error, config.kafka.brokers, topic) ??
      new TargetError(`Kafka at ${config.kafka.brokers.join(",")}: ${(error as Error).message}`);

  const admin = kafka.admin({ retry: { retries: 2, initialRetryTime: 300, maxRetryTime: 2000 } });
  await admin.connect().catch((error) => {
    throw fail(error);
  });
  let consumer: Consumer | undefined;
  const summary: SinkSummary = {
    bucket: bucket.location,
    group: options.group,
    topics: Object.fromEntries(topics.map((topic) => [topic, { objects: 0, records: 0 }])),
    seconds: 0,
    interrupted: false,
  };
  const buffers = new Map<string, PartitionBuffer>();
  const locks = new PartitionLocks();
  let failure: unknown;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => finish = resolve);
  const stopWith = (error?: unknown) => {
    failure ??= error;
    finish();
  };
  const onAbort = () => {
    summary.interrupted = true;
    finish();
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  const timers: ReturnType<typeof setInterval>[] = [];

  const bufferOf = (topic: string, partition: number) => {
    const key = `${topic}\u0000${partition}`;
    let buffer = buffers.get(key);
    if (!buffer) {
      buffers.set(key, buffer = new PartitionBuffer(topic, partition, options.flushSize));
    }
    return buffer;
  };
  /** Writes the object, then commits past it: the order that makes a replay harmless. */
  const writeAndCommit = async (pending: PendingObject) => {
    try {
      await bucket.put(pending.key, pending.body);
    } catch (error) {
      throw new CliError(
        `could not write ${bucket.location}/${pending.key}: ${(error as Error).message}`,
      );
    }
    await consumer!.commitOffsets([{
      topic: pending.topic,
      partition: pending.partition,
      offset: String(pending.commitOffset),
    }]);
    summary.topics[pending.topic].objects++;
    summary.topics[pending.topic].records += pending.records;
  };

  try {
    const existing = new Set(
      await admin.listTopics().catch((error) => {
        throw fail(error);
      }),
    );
    const missing = topics.filter((topic) => !existing.has(topic));
    if (missing.length) {
      throw new TargetError(
        `topic${missing.length > 1 ? "s" : ""} ${missing.join(", ")} not found at ${
          config.kafka.brokers.join(",")
        } (run deno task batch first)`,
      );
    }
    consumer = kafka.consumer({
      groupId: options.group,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
    });
    await consumer.connect().catch((error) => {
      throw fail(error);
    });
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async (
        { batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload,
      ) => {
        const key = `${batch.topic}\u0000${batch.partition}`;
        await locks.run(key, async () => {
          const buffer = bufferOf(batch.topic, batch.partition);
          for (const message of batch.messages) {
            if (!isRunning() || isStale() || failure !== undefined) return;
            const offset = Number(message.offset);
            let record: unknown;
            try {
              record = JSON.parse(message.value?.toString() ?? "null");
            } catch {
              stopWith(
                new CliError(
                  `${batch.topic} partition ${batch.partition} offset ${offset}: value is not JSON`,
                ),
              );
              return;
            }
            const pending = buffer.add(offset, record);
            resolveOffset(message.offset);
            if (pending) {
              await writeAndCommit(pending);
              await heartbeat();
            }
          }
        }).catch((error) => stopWith(error));
      },
    });

    if (options.rotateMs > 0) {
      timers.push(setInterval(() => {
        for (const [key, buffer] of buffers) {
          if (!buffer.rotateDue(options.rotateMs)) continue;
          locks.run(key, async () => {
            if (!buffer.rotateDue(options.rotateMs)) return;
            const pending = buffer.take();
            if (pending) await writeAndCommit(pending);
          }).catch((error) => stopWith(error));
        }
      }, Math.max(50, Math.min(500, Math.floor(options.rotateMs / 4)))));
    }
    if (options.exitAtEnd) {
      let checking = false;
      timers.push(setInterval(async () => {
        if (checking || [...buffers.values()].some((buffer) => buffer.size > 0)) return;
        checking = true;
        try {
          // The group's committed offsets on the broker, not only this run's commits.
          const groupOffsets = await admin.fetchOffsets({ groupId: options.group, topics });
          const committedNow = new Map<string, number>();
          for (const { topic, partitions } of groupOffsets) {
            for (const { partition, offset } of partitions) {
              committedNow.set(`${topic}\u0000${partition}`, Math.max(0, Number(offset)));
            }
          }
          let done = true;
          for (const topic of topics) {
            for (const { partition, high } of await admin.fetchTopicOffsets(topic)) {
              if (Number(high) > (committedNow.get(`${topic}\u0000${partition}`) ?? 0)) {
                done = false;
              }
            }
          }
          if (done) finish();
        } catch (error) {
          stopWith(fail(error));
        } finally {
          checking = false;
        }
      }, 500));
    }
    await finished;
  } catch (error) {
    failure ??= error;
  } finally {
    timers.forEach(clearInterval);
    signal?.removeEventListener("abort", onAbort);
    await consumer?.disconnect().catch(() => {});
    await admin.disconnect().catch(() => {});
  }
  summary.seconds = Math.round(performance.now() - started) / 1000;
  if (failure !== undefined) throw failure;
  return summary;
}

/** `deno task sink`. */
export async function main(args: string[]): Promise<number> {
  const flags = parseFlags(args, SINK_FLAGS, USAGE);
  const config = loadConfig(flags);
  const options = parseSinkOptions(flags, config.id);
  const bucket = await openBucket(config.bucket, {
    region: config.kinesis.region,
    endpoint: stringFlag(flags, "s3-endpoint"),
  }).catch((error) => {
    throw new UsageError(`--bucket: ${(error as Error).message}`);
  });
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  try {
    const summary = await runSink(config, bucket, options, stop.signal);
    if (!flags.quiet) {
      console.error(
        `sink: ${summary.interrupted ? "stopped" : "done"} in ${summary.seconds.toFixed(1)} s, ` +
          `into ${summary.bucket}\n` +
          Object.entries(summary.topics).map(([topic, counts]) =>
            `  ${topic.padEnd(24)} ${counts.objects} objects, ${counts.records} records`
          ).join("\n"),
      );
    }
    if (flags.json) console.log(JSON.stringify(summary));
    return 0;
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
}
