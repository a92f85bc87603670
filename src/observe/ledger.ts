/**
 * The ledger: every stage of both paths of one pipeline id, counted where
 * each stage keeps its own count, each with its difference from the stage
 * before. The one place that knows how to count a stage; `status` prints
 * it once, `watch` reads it every second. It only reads: files are read as
 * they lie, servers only asked, and the consumer's DuckDB file copied, never
 * opened (see `consumer_store_reader.ts`).
 *
 * A path is read only once its producer has written a checkpoint for it (a
 * pipeline run on the batch path alone does not need Kinesis up). A stage
 * that cannot be read carries its reason, and the server behind it shows as
 * down; nothing else stops.
 *
 * @example
 * ```ts
 * import { LedgerReader } from "./ledger.ts";
 * import { loadConfig } from "../core/config.ts";
 * const config = loadConfig({ _: [] });
 * const reader = await LedgerReader.open(config, {});
 * const ledger = await reader.read();
 * ledger.batch.tables.pin.find((stage) => stage.stage === "committed")?.behind; // 0
 * await reader.close();
 * ```
 */
import type { KinesisClient } from "@aws-sdk/client-kinesis";
import type { PipelineConfig } from "../core/config.ts";
import { CliError, EXIT_CODES } from "../core/errors.ts";
import { streamName, topicName } from "../core/names.ts";
import { TABLE_KINDS, type TableKind } from "../core/tables.ts";
import { kinesisClient } from "../kinesis/client.ts";
import { type Acknowledged, readAcknowledged } from "./checkpoint_reader.ts";
import { type BucketReader, openBucketReader } from "./bucket_reader.ts";
import {
  type ConsumerStoreState,
  readConsumerStore,
  type RejectGroup,
} from "./consumer_store_reader.ts";
import { readShards } from "./shard_reader.ts";
import { readWarehouseState, type WarehouseState } from "./warehouse_state_reader.ts";
import { type SourceCounts, SourceReader } from "./source_reader.ts";
import { reading, reason, type StageReading, unreadable } from "./stage.ts";
import { KafkaReader, type PartitionOffsets } from "./topic_reader.ts";

/** Where the ledger looks, beside the pipeline's settings. */
export interface LedgerOptions {
  /** The sink's consumer group (default `connect-pinpipe-sink-<id>`, as the sink's). */
  group?: string;
  /** The consumer's DuckDB file (default `out/<id>_stream.duckdb`, as the consumer's). */
  consumerDb?: string;
  /** An S3-compatible endpoint for an `s3://` bucket. */
  s3Endpoint?: string;
  /** Most records one look at a lagging shard reads (default `PEEK_LIMIT`, 10,000). */
  shardPeekLimit?: number;
  /** The incremental runs' state file: adds the bronze and silver stages and the quarantine. */
  warehouse?: string;
}

/** A server or file the ledger reads, and whether it answered. */
export interface ServerHealth {
  name: "database" | "kafka" | "bucket" | "warehouse state" | "kinesis" | "consumer database";
  where: string;
  /** null: not asked (its path has not started). */
  up: boolean | null;
  error?: string;
  /** The exit code its failure means (3 database, 4 target, 1 other). */
  exitCode?: number;
}

/** One path: whether its producer ever ran, and each table's stages in order. */
export interface PathLedger {
  started: boolean;
  tables: Record<TableKind, StageReading[]>;
}

/** The whole ledger at one moment. */
export interface Ledger {
  id: string;
  at: string;
  servers: ServerHealth[];
  batch: PathLedger;
  stream: PathLedger;
  /** The consumer's rejects by table and reason, with samples. */
  rejects: RejectGroup[];
  /** The warehouse's quarantined lines by table and reason, with samples (with a warehouse state). */
  quarantine: RejectGroup[];
  /** Fields the records carried that their table does not have. */
  drift: ConsumerStoreState["drift"];
}

/** Sum of a map's values. */
const total = (offsets: PartitionOffsets | undefined): number =>
  [...(offsets ?? new Map()).values()].reduce((sum, n) => sum + n, 0);

/** Sum over partitions of how far `lower` is below `upper`. */
function shortfall(upper: PartitionOffsets, lower: PartitionOffsets): number {
  let behind = 0;
  for (const [partition, end] of upper) behind += Math.max(0, end - (lower.get(partition) ?? 0));
  return behind;
}

/** The exit code a failure means: a `CliError`'s own, else 1. */
const exitCodeOf = (error: unknown): number =>
  error instanceof CliError ? error.exitCode : EXIT_CODES.failure;

/** Runs `read`, turning a failure into a note on `server`. */
async function attempt<T>(server: ServerHealth, read: () => Promise<T>): Promise<T | Error> {
  try {
    const value = await read();
    server.up ??= true;
    return value;
  } catch (error) {
    server.up = false;
    server.error ??= reason(error);
    server.exitCode ??= exitCodeOf(error);
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** Reads the ledger of one pipeline id; keeps its connections between reads. */
export class LedgerReader {
  readonly #source: SourceReader;
  readonly #kafka: KafkaReader;
  #kinesis: KinesisClient | undefined;
  readonly group: string;
  readonly consumerDb: string;
  readonly warehouse: string | undefined;
  readonly shardPeekLimit: number | undefined;

  private constructor(
    readonly config: PipelineConfig,
    readonly bucket: BucketReader,
    options: LedgerOptions,
  ) {
    this.#source = new SourceReader(config.mysql);
    this.#kafka = new KafkaReader(config.kafka, config.aws.region);
    this.group = options.group ?? `connect-pinpipe-sink-${config.id}`;
    this.consumerDb = options.consumerDb ?? `out/${config.id}_stream.duckdb`;
    this.warehouse = options.warehouse;
    this.shardPeekLimit = options.shardPeekLimit;
  }

  /** A reader for `config`'s pipeline; throws only for a bucket location that cannot be one. */
  static async open(config: PipelineConfig, options: LedgerOptions): Promise<LedgerReader> {
    const bucket = await openBucketReader(config.bucket, {
      region: config.aws.region,
      endpoint: options.s3Endpoint,
    });
    return new LedgerReader(config, bucket, options);
  }

  /** Every stage, now. Never throws for a stage or server that cannot be read. */
  async read(): Promise<Ledger> {
    const { id, mysql, kafka, kinesis } = this.config;
    const servers = {
      database: { name: "database", where: `${mysql.host}:${mysql.port}`, up: null },
      kafka: { name: "kafka", where: kafka.brokers.join(","), up: null },
      bucket: { name: "bucket", where: this.bucket.location, up: null },
      warehouse: { name: "warehouse state", where: this.warehouse ?? "(no --warehouse)", up: null },
      kinesis: { name: "kinesis", where: kinesis.endpoint ?? `AWS ${kinesis.region}`, up: null },
      store: { name: "consumer database", where: this.consumerDb, up: null },
    } satisfies Record<string, ServerHealth>;
    const checkpoints = async (target: "kafka" | "kinesis") =>
      Object.fromEntries(
        await Promise.all(TABLE_KINDS.map(async (kind) => {
          const saved = await readAcknowledged(this.config.stateDir, id, target, kind)
            .catch((error) => error as Error);
          return [kind, saved];
        })),
      ) as Record<TableKind, Acknowledged | undefined | Error>;
    const [kafkaSaved, kinesisSaved] = await Promise.all([
      checkpoints("kafka"),
      checkpoints("kinesis"),
    ]);
    const started = (saved: Record<TableKind, unknown>) =>
      TABLE_KINDS.some((kind) => saved[kind] !== undefined);
    const source = await this.#readSource(servers.database, kafkaSaved, kinesisSaved);
    const [batch, stream] = await Promise.all([
      started(kafkaSaved)
        ? this.#readBatch(servers, source, kafkaSaved)
        : { path: notStarted(source, "no batch checkpoint yet"), warehouse: undefined },
      started(kinesisSaved)
        ? this.#readStream(servers, source, kinesisSaved)
        : { path: notStarted(source, "no stream checkpoint yet"), store: undefined },
    ]);
    return {
      id,
      at: new Date().toISOString(),
      servers: Object.values(servers),
      batch: batch.path,
      stream: stream.path,
      rejects: stream.store?.rejects ?? [],
      quarantine: batch.warehouse?.quarantine ?? [],
      drift: stream.store?.drift ?? [],
    };
  }

  /** Rows per table, and rows past each path's checkpoint. */
  async #readSource(
    server: ServerHealth,
    ...saved: Record<TableKind, Acknowledged | undefined | Error>[]
  ): Promise<Record<TableKind, SourceCounts | Error>> {
    const entries: [TableKind, SourceCounts | Error][] = [];
    for (const kind of TABLE_KINDS) {
      // A database that did not answer for one table is not asked again for the others.
      const failed = entries.find(([, counts]) => counts instanceof Error)?.[1];
      entries.push([
        kind,
        failed ?? await attempt(server, () =>
          this.#source.counts(
            kind,
            saved.map((path) => {
              const checkpoint = path[kind];
              return checkpoint instanceof Error ? undefined : checkpoint?.lastIndex;
            }),
          )),
      ]);
    }
    return Object.fromEntries(entries) as Record<TableKind, SourceCounts | Error>;
  }

  async #readBatch(
    servers: Record<"kafka" | "bucket" | "warehouse", ServerHealth>,
    source: Record<TableKind, SourceCounts | Error>,
    saved: Record<TableKind, Acknowledged | undefined | Error>,
  ): Promise<{ path: PathLedger; warehouse: WarehouseState | undefined }> {
    const tables = {} as Record<TableKind, StageReading[]>;
    const path = this.warehouse;
    const warehouse = path === undefined
      ? undefined
      : await attempt(servers.warehouse, () => readWarehouseState(path));
    // Table after table: once the broker failed to answer, it is not asked again in this read.
    const kafkaRead = <T>(read: () => Promise<T>): Promise<T | Error> =>
      servers.kafka.up === false
        ? Promise.resolve(new Error(servers.kafka.error))
        : attempt(servers.kafka, read);
    const topics = TABLE_KINDS.map((kind) => topicName(this.config.id, kind));
    // Every topic's end offsets first, then the group's offsets of all three in one request:
    // read in that order, a committed offset is never ahead of the end read with it.
    const allEnds: (PartitionOffsets | undefined | Error)[] = [];
    for (const topic of topics) allEnds.push(await kafkaRead(() => this.#kafka.endOffsets(topic)));
    const allCommitted = await kafkaRead(() => this.#kafka.committedOffsetsOf(this.group, topics));
    for (const [i, kind] of TABLE_KINDS.entries()) {
      const topic = topics[i];
      const counts = source[kind];
      const stages: StageReading[] = [sourceStage(counts)];
      const checkpoint = saved[kind];
      stages.push(acknowledgedStage(checkpoint, counts, 0));
      const ends = allEnds[i];
      const committed = allCommitted instanceof Error
        ? allCommitted
        : allCommitted.get(topic) ?? new Map();
      const inBucket = await attempt(servers.bucket, () => this.bucket.records(topic));
      const acknowledgedEnds = kafkaEnds(checkpoint);
      if (ends instanceof Error) stages.push(unreadable("topic", reason(ends)));
      else {
        stages.push(reading("topic", total(ends), shortfall(acknowledgedEnds, ends ?? new Map()), {
          parts: partsOf(ends ?? new Map(), acknowledgedEnds),
          ...(ends === undefined ? { note: `no topic ${topic} yet` } : {}),
        }));
      }
      if (committed instanceof Error) stages.push(unreadable("committed", reason(committed)));
      else if (ends instanceof Error) {
        stages.push(reading("committed", total(committed), null, { parts: partsOf(committed) }));
      } else {
        stages.push(
          reading("committed", total(committed), shortfall(ends ?? new Map(), committed), {
            parts: partsOf(committed, ends ?? new Map()),
            oldestAgeMs: await this.#oldestUncommitted(topic, ends ?? new Map(), committed),
          }),
        );
      }
      if (inBucket instanceof Error) stages.push(unreadable("bucket", reason(inBucket)));
      else {
        const upstream = committed instanceof Error ? undefined : committed;
        stages.push(
          reading("bucket", total(inBucket), upstream ? shortfall(upstream, inBucket) : null, {
            parts: partsOf(inBucket, upstream),
          }),
        );
      }
      if (path !== undefined) stages.push(...warehouseStages(warehouse, kind, stages.at(-1)!));
      tables[kind] = stages;
    }
    return {
      path: { started: true, tables },
      warehouse: warehouse instanceof Error ? undefined : warehouse,
    };
  }

  async #readStream(
    servers: Record<"kinesis" | "store", ServerHealth>,
    source: Record<TableKind, SourceCounts | Error>,
    saved: Record<TableKind, Acknowledged | undefined | Error>,
  ): Promise<{ path: PathLedger; store: ConsumerStoreState | undefined }> {
    const store = await attempt(
      servers.store,
      () => readConsumerStore(this.consumerDb, this.config.id),
    );
    const client = this.#kinesis ??= kinesisClient(this.config.kinesis);
    const tables = {} as Record<TableKind, StageReading[]>;
    await Promise.all(TABLE_KINDS.map(async (kind) => {
      const counts = source[kind];
      const checkpoint = saved[kind];
      const acknowledged = acknowledgedStage(checkpoint, counts, 1);
      const stages: StageReading[] = [sourceStage(counts), acknowledged];
      const stream = streamName(this.config.id, kind);
      const producer = checkpoint instanceof Error || !checkpoint
        ? {}
        : (checkpoint.positions ?? {}) as Record<string, string>;
      if (store instanceof Error) {
        stages.push(unreadable("consumed", reason(store)), unreadable("cleaned", reason(store)));
        tables[kind] = stages;
        return;
      }
      const shards = await attempt(
        servers.kinesis,
        () =>
          readShards(client, stream, store?.checkpoints ?? new Map(), producer, {
            limit: this.shardPeekLimit,
          }),
      );
      if (shards instanceof Error) stages.push(unreadable("consumed", reason(shards)));
      else {
        const pending = (shards ?? []).reduce((sum, shard) => sum + shard.pending, 0);
        const ages = (shards ?? []).map((s) => s.oldestAgeMs).filter((a) => a !== null);
        const more = (shards ?? []).some((shard) => shard.more);
        stages.push(
          reading("consumed", Math.max(0, (acknowledged.count ?? 0) - pending), pending, {
            oldestAgeMs: ages.length ? Math.max(...ages) : null,
            parts: (shards ?? []).map((shard) => ({
              name: shard.shardId,
              count: null,
              behind: shard.pending,
              position: shard.consumer,
              millisBehindTip: shard.millisBehindTip,
            })),
            ...(shards === undefined ? { note: `no stream ${stream} yet` } : {}),
            ...(more
              ? { note: `at least ${pending} behind (one look per shard reads at most that many)` }
              : {}),
          }),
        );
      }
      if (store === undefined) {
        stages.push(
          reading("cleaned", 0, null, { note: `no consumer database ${this.consumerDb} yet` }),
        );
      } else {
        const rejected = store.rejects.filter((group) => group.kind === kind)
          .reduce((sum, group) => sum + group.count, 0);
        const consumed = stages.at(-1)?.stage === "consumed" ? stages.at(-1)!.count : null;
        const dropped = consumed === null ? null : consumed - store.rows[kind] - rejected;
        // Counts read a moment apart can cross while records flow: no negative drop is shown.
        stages.push(reading("cleaned", store.rows[kind], null, {
          note: `${rejected} rejected` +
            (dropped === null || dropped < 0 ? "" : `, ${dropped} dropped as duplicates`),
        }));
      }
      tables[kind] = stages;
    }));
    return { path: { started: true, tables }, store: store instanceof Error ? undefined : store };
  }

  /** The age of the oldest record not yet committed, over the partitions behind; null if none. */
  async #oldestUncommitted(
    topic: string,
    ends: PartitionOffsets,
    committed: PartitionOffsets,
  ): Promise<number | null> {
    let oldest: number | null = null;
    const now = Date.now();
    for (const [partition, end] of ends) {
      const next = committed.get(partition) ?? 0;
      if (next >= end) continue;
      const written = await this.#kafka.recordTime(topic, partition, next).catch(() => null);
      if (written !== null) oldest = Math.max(oldest ?? 0, now - written);
    }
    return oldest;
  }

  async close(): Promise<void> {
    await Promise.all([this.#source.close(), this.#kafka.close()]);
    this.#kinesis?.destroy();
  }
}

function sourceStage(counts: SourceCounts | Error): StageReading {
  return counts instanceof Error
    ? unreadable("source", reason(counts))
    : reading("source", counts.rows, null);
}

/** The producer's checkpoint against the source: rows past its last index are behind. */
function acknowledgedStage(
  checkpoint: Acknowledged | undefined | Error,
  counts: SourceCounts | Error,
  path: 0 | 1,
): StageReading {
  if (checkpoint instanceof Error) return unreadable("acknowledged", reason(checkpoint));
  const behind = counts instanceof Error ? null : counts.after[path];
  return reading("acknowledged", checkpoint?.acknowledged ?? 0, behind, {
    ...(checkpoint ? {} : { note: "no checkpoint for this table yet" }),
  });
}

/** The Kafka end offsets the producer's checkpoint recorded after its last acknowledged send. */
function kafkaEnds(checkpoint: Acknowledged | undefined | Error): PartitionOffsets {
  const ends = checkpoint instanceof Error
    ? undefined
    : (checkpoint?.positions as { ends?: Record<string, number> } | undefined)?.ends;
  return new Map(Object.entries(ends ?? {}).map(([p, offset]) => [Number(p), Number(offset)]));
}

/** Per partition: its count, and how far below `upstream` it is. */
function partsOf(offsets: PartitionOffsets, upstream?: PartitionOffsets) {
  const partitions = new Set([...offsets.keys(), ...(upstream?.keys() ?? [])]);
  return [...partitions].sort((a, b) => a - b).map((partition) => ({
    name: String(partition),
    count: offsets.get(partition) ?? 0,
    behind: upstream
      ? Math.max(0, (upstream.get(partition) ?? 0) - (offsets.get(partition) ?? 0))
      : null,
  }));
}

/** Bronze (records and quarantined lines read) against the bucket, and silver. */
function warehouseStages(
  state: WarehouseState | undefined | Error,
  kind: TableKind,
  bucket: StageReading,
): StageReading[] {
  if (state instanceof Error) {
    return [unreadable("bronze", reason(state)), unreadable("silver", reason(state))];
  }
  const counts = state?.tables[kind] ?? { bronze: 0, quarantined: 0, silver: 0 };
  const read = counts.bronze + counts.quarantined;
  const none = state === undefined ? { note: "no warehouse state yet" } : {};
  return [
    reading("bronze", read, bucket.count === null ? null : Math.max(0, bucket.count - read), {
      ...none,
      ...(counts.quarantined ? { note: `${counts.quarantined} line(s) quarantined` } : {}),
    }),
    reading("silver", counts.silver, null, {
      ...none,
      ...(state ? { note: `${counts.bronze - counts.silver} exact duplicate(s) kept once` } : {}),
    }),
  ];
}

/** A path whose producer never wrote a checkpoint: only the source is counted. */
function notStarted(source: Record<TableKind, SourceCounts | Error>, note: string): PathLedger {
  const tables = {} as Record<TableKind, StageReading[]>;
  for (const kind of TABLE_KINDS) tables[kind] = [{ ...sourceStage(source[kind]), note }];
  return { started: false, tables };
}
