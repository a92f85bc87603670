/**
 * `deno task consume`: what the Databricks streaming notebook does, locally.
 * Reads `streaming-<id>-pin|geo|user` shard by shard, parses each record,
 * cleans each micro-batch with the notebooks' SQL files, and appends to
 * `<id>_pin_table`, `<id>_geo_table`, `<id>_user_table` in a DuckDB file,
 * with the shards' checkpoint committed in the same transaction. Records
 * that are not JSON or not of the table's shape go to `<id>_rejects` with
 * the reason, stream, shard and sequence number; the consumer keeps going.
 *
 * @example
 * ```ts
 * import { main } from "./consume_command.ts";
 * await main(["--id", "0123456789ab", "--db", "out/stream.duckdb", "--idle-exit", "5"]);
 * ```
 */
import type { KinesisClient } from "@aws-sdk/client-kinesis";
import {
  choiceFlag,
  type Flags,
  type FlagSpec,
  intFlag,
  numberFlag,
  parseFlags,
  stringFlag,
} from "../core/cli.ts";
import { CONFIG_FLAGS, CONFIG_USAGE, loadConfig, type PipelineConfig } from "../core/config.ts";
import { kinesisClient } from "../kinesis/client.ts";
import { sleep } from "../util/retry.ts";
import { streamName } from "../core/names.ts";
import { TABLE_KINDS, type TableKind } from "../core/tables.ts";
import { parseStreamRecord } from "./records.ts";
import { type ShardRead, ShardReader, type StartPosition } from "./shards.ts";
import {
  type CommitResult,
  type DedupOptions,
  DEFAULT_DEDUP,
  type MicroBatch,
  perKind,
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
  seconds: number;
}

/** Called after each committed micro-batch (for the benchmark's latency). */
export type CommitHook = (result: CommitResult, committedAt: number) => void;

/** Flags of `consume`, beside the connection flags. */
export const CONSUMER_FLAGS: Record<string, FlagSpec> = {
  db: { type: "string" },
  from: { type: "string" },
  "poll-ms": { type: "string" },
  limit: { type: "string" },
  "idle-exit": { type: "string" },
  "max-records": { type: "string" },
  "dedup-hours": { type: "string" },
  "dedup-max-keys": { type: "string" },
  "wait-streams": { type: "string" },
};

const USAGE = `Usage: deno task consume [flags]

Reads the three Kinesis streams streaming-<id>-pin|geo|user and appends the cleaned rows to
<id>_pin_table, <id>_geo_table, <id>_user_table in a DuckDB file, in micro-batches, with the
per-shard checkpoint in the same file and transaction. Bad records go to <id>_rejects.

Flags:
  --db FILE             the DuckDB file                  (out/<id>_stream.duckdb)
  --from POSITION       trim_horizon | latest, for shards without a checkpoint (trim_horizon)
  --poll-ms MS          pause between polls when caught up (250)
  --limit N             most records per GetRecords call, 1..10000 (10000)
  --idle-exit SECONDS   stop after this long with no new records; 0 runs until Ctrl-C (0)
  --max-records N       stop after reading this many records; 0 for no limit (0)
  --dedup-hours H       keep de-duplication keys this long, by arrival time (24)
  --dedup-max-keys N    keep at most this many keys (5000000)
  --wait-streams SEC    wait this long for the streams to exist (60)

${CONFIG_USAGE}`;

/** Reads the consumer's flags. */
export function parseConsumerOptions(flags: Flags, id: string): ConsumerOptions {
  return {
    db: stringFlag(flags, "db", `out/${id}_stream.duckdb`),
    start: choiceFlag(flags, "from", ["trim_horizon", "latest"] as const, "trim_horizon")
      .toUpperCase() as StartPosition,
    pollMs: intFlag(flags, "poll-ms", 250, { min: 0, max: 60_000 }),
    limit: intFlag(flags, "limit", 10_000, { min: 1, max: 10_000 }),
    idleExitMs: numberFlag(flags, "idle-exit", 0, { min: 0 }) * 1000,
    maxRecords: intFlag(flags, "max-records", 0, { min: 0 }),
    dedup: {
      retentionMs: numberFlag(flags, "dedup-hours", DEFAULT_DEDUP.retentionMs / 3600_000, {
        min: 0,
      }) * 3600_000,
      maxKeys: intFlag(flags, "dedup-max-keys", DEFAULT_DEDUP.maxKeys, { min: 1 }),
    },
    waitStreamsMs: numberFlag(flags, "wait-streams", 60, { min: 0 }) * 1000,
  };
}

/**
 * Runs the consumer until idle, `maxRecords`, or `signal` aborts (each ends
 * after the micro-batch in hand is committed).
 */
export async function runConsumer(
  config: PipelineConfig,
  options: ConsumerOptions,
  {
    client = kinesisClient(config.kinesis),
    signal,
    onCommit,
    onPoll,
    log = (line: string) => console.error(line),
  }: {
    client?: KinesisClient;
    signal?: AbortSignal;
    onCommit?: CommitHook;
    /** Called after each poll round (every shard has its iterator after the first). */
    onPoll?: () => void;
    log?: (line: string) => void;
  } = {},
): Promise<ConsumerSummary> {
  const began = performance.now();
  const summary: ConsumerSummary = {
    records: 0,
    microBatches: 0,
    appended: perKind(() => 0),
    duplicates: perKind(() => 0),
    rejected: 0,
    seconds: 0,
  };
  const dir = options.db.includes("/") ? options.db.slice(0, options.db.lastIndexOf("/")) : "";
  if (dir) await Deno.mkdir(dir, { recursive: true });
  const store = await StreamStore.open(options.db, config.id, options.dedup);
  try {
    const reader = new ShardReader(
      client,
      TABLE_KINDS.map((kind) => ({ kind, stream: streamName(config.id, kind) })),
      { start: options.start, checkpoints: await store.checkpoints(), limit: options.limit },
    );
    await reader.open(options.waitStreamsMs);
    let lastNews = Date.now();
    // The next poll runs while the previous micro-batch commits; commits stay in order.
    let committing: Promise<void> = Promise.resolve();
    let failure: { error: unknown } | undefined;
    const settle = async () => {
      await committing;
      if (failure) throw failure.error;
    };
    const record = (result: CommitResult) => {
      onCommit?.(result, performance.now());
      summary.microBatches++;
      summary.rejected += result.rejected;
      for (const kind of TABLE_KINDS) {
        summary.appended[kind] += result.appended[kind];
        summary.duplicates[kind] += result.duplicates[kind];
      }
      log(
        `micro-batch ${summary.microBatches}: ${
          TABLE_KINDS.map((k) => `${k} +${result.appended[k]}`).join(" ")
        }, ${
          TABLE_KINDS.reduce((n, k) => n + result.duplicates[k], 0)
        } duplicate(s), ${result.rejected} reject(s)`,
      );
    };
    try {
      while (!signal?.aborted) {
        const { reads, behind } = await reader.poll();
        onPoll?.();
        await settle();
        const batch = toMicroBatch(reads);
        summary.records += reads.reduce((n, read) => n + read.records.length, 0);
        if (batch.checkpoints.size > 0) {
          committing = store.commit(batch).then(record, (error) => {
            failure = { error };
          });
          lastNews = Date.now();
        }
        if (options.maxRecords > 0 && summary.records >= options.maxRecords) break;
        if (reader.openShards === 0) break;
        if (!behind && batch.checkpoints.size === 0) {
          if (options.idleExitMs > 0 && Date.now() - lastNews >= options.idleExitMs) break;
          await sleep(options.pollMs);
        }
      }
    } finally {
      await committing;
    }
    await settle();
  } finally {
    store.close();
  }
  summary.seconds = (performance.now() - began) / 1000;
  return summary;
}

/** Sorts one poll's records into good ones per table and rejects, with each shard's last sequence number. */
export function toMicroBatch(reads: readonly ShardRead[]): MicroBatch {
  const batch: MicroBatch = { records: perKind(() => []), rejects: [], checkpoints: new Map() };
  for (const read of reads) {
    for (const record of read.records) {
      const arrival = record.ApproximateArrivalTimestamp ?? new Date();
      const parsed = parseStreamRecord(read.kind, record.Data ?? new Uint8Array());
      if (parsed.ok) batch.records[read.kind].push({ record: parsed.record, arrival });
      else {
        batch.rejects.push({
          stream: read.stream,
          shardId: read.shardId,
          sequenceNumber: record.SequenceNumber!,
          arrival,
          reason: parsed.reason,
          data: parsed.text,
        });
      }
    }
    batch.checkpoints.set(`${read.stream}/${read.shardId}`, read.records.at(-1)!.SequenceNumber!);
  }
  return batch;
}

/** `deno task consume [flags]`. */
export async function main(args: string[]): Promise<number> {
  const flags = parseFlags(args, { ...CONFIG_FLAGS, ...CONSUMER_FLAGS }, USAGE);
  const config = loadConfig(flags);
  const options = parseConsumerOptions(flags, config.id);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const name of signals) Deno.addSignalListener(name, onSignal);
  try {
    const summary = await runConsumer(config, options, { signal: stop.signal });
    console.log(
      `consumed ${summary.records} record(s) in ${summary.microBatches} micro-batch(es), ${
        summary.seconds.toFixed(1)
      } s: ${
        TABLE_KINDS.map((k) => `${k} +${summary.appended[k]} (${summary.duplicates[k]} dup)`).join(
          ", ",
        )
      }, ${summary.rejected} rejected; tables in ${options.db}`,
    );
    return 0;
  } finally {
    for (const name of signals) Deno.removeSignalListener(name, onSignal);
  }
}
