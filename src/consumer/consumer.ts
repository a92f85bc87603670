/**
 * The streaming consumer's loop: what the Databricks streaming notebook does,
 * locally. Reads `streaming-<id>-pin|geo|user` shard by shard (`shards.ts`),
 * sorts each poll into a micro-batch (`toMicroBatch`), and commits it to the
 * DuckDB store (`store.ts`: the cleaned rows, rejects and the shards'
 * checkpoint in one transaction) while the next poll runs.
 *
 * @example
 * ```ts
 * import { runConsumer } from "./consumer.ts";
 * import { loadConfig } from "../core/config.ts";
 * const summary = await runConsumer(loadConfig({ _: [] }), {
 *   db: "out/stream.duckdb",
 *   start: "TRIM_HORIZON",
 *   pollMs: 250,
 *   limit: 10_000,
 *   idleExitMs: 5_000,
 *   maxRecords: 0,
 *   dedup: { retentionMs: 24 * 3600_000, maxKeys: 5_000_000 },
 *   waitStreamsMs: 60_000,
 * });
 * ```
 */
import type { KinesisClient } from "@aws-sdk/client-kinesis";
import type { PipelineConfig } from "../core/config.ts";
import { RunLock } from "../core/run_lock.ts";
import { streamName } from "../core/names.ts";
import { TABLE_KINDS, type TableKind } from "../core/tables.ts";
import { kinesisClient } from "../kinesis/client.ts";
import { sleep } from "../util/retry.ts";
import { parseStreamRecord } from "./records.ts";
import { type ShardRead, ShardReader, type StartPosition } from "./shards.ts";
import {
  type CommitResult,
  type DedupOptions,
  type MicroBatch,
  perKind,
  type SchemaDrift,
  StreamStore,
} from "./store.ts";

/** How the consumer runs. */
export interface ConsumerOptions {
  /** The DuckDB database file. */
  db: string;
  start: StartPosition;
  /** Pause between polls when nothing is waiting. */
  pollMs: number;
  /** Most records per GetRecords call. */
  limit: number;
  /** Stop after this long with nothing new (0: run until SIGINT/SIGTERM). */
  idleExitMs: number;
  /** Stop after reading at least this many records (0: no limit). */
  maxRecords: number;
  dedup: DedupOptions;
  /** How long to wait for the streams to exist. */
  waitStreamsMs: number;
}

/** Totals of one run. */
export interface ConsumerSummary {
  records: number;
  microBatches: number;
  appended: Record<TableKind, number>;
  duplicates: Record<TableKind, number>;
  rejected: number;
  /** Records kept without a field their table does not have, by `<kind>.<field>`. */
  schemaDrift: Record<string, number>;
  seconds: number;
  /** Stopped by the signal (after committing the micro-batch in hand). */
  interrupted: boolean;
}

/** Called after each committed micro-batch (for the benchmark's latency). */
export type CommitHook = (result: CommitResult, committedAt: number) => void;

/** What `runConsumer` may be given beside the options. */
export interface ConsumerHooks {
  client?: KinesisClient;
  /** Stops the loop after the micro-batch in hand is committed. */
  signal?: AbortSignal;
  onCommit?: CommitHook;
  /** Called after each poll round with its reads (every shard has its iterator after the first). */
  onPoll?: (reads: readonly ShardRead[]) => void;
  /** Where the per-micro-batch lines go (stderr). */
  log?: (line: string) => void;
  /** Where notices go, even when quiet: a stream recreated or gone (stderr). */
  warn?: (line: string) => void;
}

/** One line about a committed micro-batch. */
function microBatchLine(number: number, result: CommitResult): string {
  const appended = TABLE_KINDS.map((kind) => `${kind} +${result.appended[kind]}`).join(" ");
  const duplicates = TABLE_KINDS.reduce((n, kind) => n + result.duplicates[kind], 0);
  return `micro-batch ${number}: ${appended}, ${duplicates} duplicate(s), ${result.rejected} reject(s)`;
}

/** One run of the consumer over an open store. */
class ConsumerRun {
  readonly summary: ConsumerSummary = {
    records: 0,
    microBatches: 0,
    appended: perKind(() => 0),
    duplicates: perKind(() => 0),
    rejected: 0,
    schemaDrift: {},
    seconds: 0,
    interrupted: false,
  };
  /** The micro-batch being committed: the next poll runs meanwhile, commits stay in order. */
  #committing: Promise<void> = Promise.resolve();
  #failure: { error: unknown } | undefined;
  #lastNews = Date.now();

  constructor(
    readonly options: ConsumerOptions,
    readonly store: StreamStore,
    readonly reader: ShardReader,
    readonly hooks: ConsumerHooks,
  ) {}

  /** Polls and commits until a stop condition, then waits for the last commit. */
  async loop(): Promise<void> {
    const { signal, onPoll } = this.hooks;
    try {
      while (!signal?.aborted) {
        const { reads, behind } = await this.reader.poll();
        onPoll?.(reads);
        await this.#settle();
        const batch = toMicroBatch(reads, this.reader.takeRecreated());
        this.summary.records += reads.reduce((n, read) => n + read.records.length, 0);
        if (batch.checkpoints.size > 0 || batch.resetStreams.length > 0) {
          this.#commitInBackground(batch);
        }
        if (this.#finished()) break;
        if (!behind && batch.checkpoints.size === 0) {
          if (this.#idleTooLong()) break;
          await sleep(this.options.pollMs);
        }
      }
    } finally {
      await this.#committing;
    }
    await this.#settle();
    this.summary.interrupted = signal?.aborted ?? false;
  }

  /** Starts committing `batch` after the previous commit; its failure surfaces at `#settle`. */
  #commitInBackground(batch: MicroBatch): void {
    this.#committing = this.#committing.then(() => this.store.commit(batch)).then(
      (result) => this.#count(result, batch.drift),
      (error) => {
        this.#failure = { error };
      },
    );
    this.#lastNews = Date.now();
  }

  /** Waits for the commit in flight; rethrows its failure. */
  async #settle(): Promise<void> {
    await this.#committing;
    if (this.#failure) throw this.#failure.error;
  }

  /** Adds a committed micro-batch to the summary and logs it. */
  #count(result: CommitResult, drift: readonly SchemaDrift[]): void {
    this.hooks.onCommit?.(result, performance.now());
    const summary = this.summary;
    summary.microBatches++;
    summary.rejected += result.rejected;
    for (const { kind, field, records } of drift) {
      const key = `${kind}.${field}`;
      summary.schemaDrift[key] = (summary.schemaDrift[key] ?? 0) + records;
    }
    for (const kind of TABLE_KINDS) {
      summary.appended[kind] += result.appended[kind];
      summary.duplicates[kind] += result.duplicates[kind];
    }
    this.hooks.log?.(microBatchLine(summary.microBatches, result));
  }

  /** Enough records read, or every shard closed. */
  #finished(): boolean {
    const { maxRecords } = this.options;
    return (maxRecords > 0 && this.summary.records >= maxRecords) || this.reader.openShards === 0;
  }

  /** Nothing new for `idleExitMs` (when set). */
  #idleTooLong(): boolean {
    const { idleExitMs } = this.options;
    return idleExitMs > 0 && Date.now() - this.#lastNews >= idleExitMs;
  }
}

/** Opens the store at `options.db`, making its directory if needed. */
async function openStore(config: PipelineConfig, options: ConsumerOptions): Promise<StreamStore> {
  const slash = options.db.lastIndexOf("/");
  if (slash > 0) await Deno.mkdir(options.db.slice(0, slash), { recursive: true });
  return await StreamStore.open(options.db, config.id, options.dedup);
}

/** Opens the three streams' shards, each from its checkpoint (else `options.start`). */
async function openReader(
  config: PipelineConfig,
  options: ConsumerOptions,
  store: StreamStore,
  client: KinesisClient,
  hooks: ConsumerHooks,
): Promise<ShardReader> {
  const reader = new ShardReader(
    client,
    TABLE_KINDS.map((kind) => ({ kind, stream: streamName(config.id, kind) })),
    {
      start: options.start,
      checkpoints: await store.checkpoints(),
      limit: options.limit,
      waitStreamsMs: options.waitStreamsMs,
      signal: hooks.signal,
      warn: hooks.warn,
    },
  );
  await reader.open();
  return reader;
}

/**
 * Runs the consumer until idle, `maxRecords`, or `signal` aborts (each ends
 * after the micro-batch in hand is committed). Kinesis failures are
 * `TargetError`s (exit 4), thrown as such by the shard reader.
 */
export async function runConsumer(
  config: PipelineConfig,
  options: ConsumerOptions,
  hooks: ConsumerHooks = {},
): Promise<ConsumerSummary> {
  const began = performance.now();
  // One consumer per DuckDB file: a second would append every record again.
  const lock = await RunLock.acquire(`${options.db}.lock`);
  let store: StreamStore | undefined;
  try {
    store = await openStore(config, options);
    const client = hooks.client ?? kinesisClient(config.kinesis);
    const reader = await openReader(config, options, store, client, hooks);
    const run = new ConsumerRun(options, store, reader, {
      ...hooks,
      log: hooks.log ?? ((line) => console.error(line)),
    });
    await run.loop();
    run.summary.seconds = (performance.now() - began) / 1000;
    return run.summary;
  } finally {
    store?.close();
    lock.release();
  }
}

/**
 * Sorts one poll's records into good ones per table and rejects, with each
 * shard's last sequence number, and the streams found recreated (whose old
 * checkpoints go).
 */
export function toMicroBatch(
  reads: readonly ShardRead[],
  resetStreams: string[] = [],
): MicroBatch {
  const batch: MicroBatch = {
    records: perKind(() => []),
    rejects: [],
    drift: [],
    checkpoints: new Map(),
    resetStreams,
  };
  for (const read of reads) {
    const drift = new Map<string, SchemaDrift>();
    for (const record of read.records) {
      const arrival = record.ApproximateArrivalTimestamp ?? new Date();
      const sequenceNumber = record.SequenceNumber!;
      const parsed = parseStreamRecord(read.kind, record.Data ?? new Uint8Array());
      if (parsed.ok) {
        batch.records[read.kind].push({ record: parsed.record, arrival });
        for (const field of parsed.unknownFields) {
          const seen = drift.get(field);
          if (seen) {
            seen.records++;
            seen.lastSequenceNumber = sequenceNumber;
          } else {
            drift.set(field, {
              kind: read.kind,
              stream: read.stream,
              shardId: read.shardId,
              field,
              records: 1,
              firstSequenceNumber: sequenceNumber,
              lastSequenceNumber: sequenceNumber,
            });
          }
        }
      } else {
        batch.rejects.push({
          stream: read.stream,
          shardId: read.shardId,
          sequenceNumber,
          arrival,
          reason: parsed.reason,
          detail: parsed.detail,
          data: parsed.text,
        });
      }
    }
    batch.drift.push(...drift.values());
    batch.checkpoints.set(`${read.stream}/${read.shardId}`, read.records.at(-1)!.SequenceNumber!);
  }
  return batch;
}
