/**
 * The driver `batch` (Kafka) and `stream` (Kinesis) both run: reads the RDS
 * tables, builds the original's records, orders and paces them, hands them
 * to a `DeliveryTarget` in batches, and writes a checkpoint after each
 * acknowledged batch. A rerun continues after the checkpoint; SIGINT or
 * SIGTERM finishes the batch in flight, checkpoints it and stops.
 *
 * @example
 * ```ts
 * import { parseFlags } from "../core/cli.ts";
 * import { CONFIG_FLAGS, loadConfig } from "../core/config.ts";
 * import { parseTransferOptions, runTransfer, TRANSFER_FLAGS, TRANSFER_USAGE } from "./driver.ts";
 * import type { DeliveryTarget } from "./target.ts";
 * // A target that prints each record's key; the real ones are Kafka's and Kinesis'.
 * const printer: DeliveryTarget = {
 *   name: "stdout",
 *   async prepare() {},
 *   async send(_kind, records) { records.forEach((r) => console.log(r.key)); },
 *   async close() {},
 * };
 * const flags = parseFlags(Deno.args, { ...CONFIG_FLAGS, ...TRANSFER_FLAGS }, TRANSFER_USAGE);
 * const summary = await runTransfer(loadConfig(flags), parseTransferOptions(flags), printer);
 * summary.totals.acknowledged; // every row read
 * ```
 */
import {
  choiceFlag,
  type Flags,
  type FlagSpec,
  intFlag,
  numberFlag,
  stringFlag,
  tablesFlag,
} from "../core/cli.ts";
import type { Interrupt } from "../core/command.ts";
import { RecordRejectedError, UsageError } from "../core/errors.ts";
import type { PipelineConfig } from "../core/config.ts";
import { join } from "node:path";
import { RunLock } from "../core/run_lock.ts";
import { type Checkpoint, CheckpointStore } from "./checkpoint.ts";
import { type DeliveryTarget } from "./target.ts";
import { outgoing, type OutgoingRecord } from "../core/records.ts";
import { ProgressLine, summaryText, TransferCounters, type TransferSummary } from "./progress.ts";
import { openSource, type RdsSource } from "../source/rds_reader.ts";
import { recordIndex, toRecord } from "../core/records.ts";
import { indexBatches, OriginalSampler, prefetched } from "../source/row_order.ts";
import { pacedBatchSize, RatePacer } from "./pacing.ts";
import { sleep } from "../util/retry.ts";
import type { TableKind } from "../core/tables.ts";

export type { TransferSummary } from "./progress.ts";

/** How a transfer reads and paces rows. */
export interface TransferOptions {
  /** `sequential`: every row once in index order; `random`: the original's sampling. */
  order: "sequential" | "random";
  /** Random order's seed (the original used 100). */
  seed: number;
  /** Random order: offsets are drawn from 0 to this (the original's 11000). */
  maxOffset: number;
  /** Sequential: at most this many rows per table (plus copies of the last index); random: samples. */
  limit?: number;
  /** Rows per second per table (random: samples per second); also disables the random pause. */
  rate?: number;
  /** Sequential: after the last row, keep polling for new rows until stopped. */
  follow: boolean;
  /** Milliseconds between polls with `follow`. */
  pollMs: number;
  /** Ignore saved checkpoints and start from the first row (or sample). */
  fromStart: boolean;
  /** Rows per batch (one acknowledgement and one checkpoint per batch). */
  batchSize: number;
  /** Which tables to transfer. */
  tables: TableKind[];
  /** Print the summary as JSON on stdout. */
  json: boolean;
  /** No progress line and no text summary. */
  quiet: boolean;
}

/**
 * The flags `parseTransferOptions` reads, beside the command shell's output
 * flags (`--json`, `--quiet`) and the target's own.
 */
export const TRANSFER_FLAGS: Record<string, FlagSpec> = {
  order: { type: "string" },
  seed: { type: "string" },
  "max-offset": { type: "string" },
  limit: { type: "string" },
  rate: { type: "string" },
  follow: { type: "boolean" },
  "poll-ms": { type: "string" },
  "poll-interval": { type: "string", deprecated: { use: "poll-ms" } },
  "from-start": { type: "boolean" },
  "batch-size": { type: "string" },
  tables: { type: "string" },
};

/** Help text for `TRANSFER_FLAGS`. */
export const TRANSFER_USAGE = `Transfer flags:
  --order MODE          sequential (every row once, in index order; default)
                        | random (the original's sampling with replacement)
  --seed S              random order's seed (100, as the original)
  --max-offset N        random order draws offsets 0..N (11000, as the original)
  --limit N             at most N rows per table (random: N samples); default all
                        (random: until stopped)
  --rate R              at most R rows/s per table (random: samples/s, and no 0..1 s pause)
  --follow              sequential: keep polling for new rows after the last one
  --poll-ms MS          with --follow, wait between polls (1000)
  --from-start          ignore the checkpoint and start again from the first row
  --batch-size N        rows per acknowledged, checkpointed batch (1000)
  --tables LIST         comma-separated subset of pin,geo,user (all)

Checkpoints: <state-dir>/<id>/<target>/sequential-<table>.json (last acknowledged index)
and random-seed<S>.json (samples acknowledged), written only after the acknowledgement
(temp file, flushed, renamed); a damaged one stops the run (exit 1): remove it or --from-start.
A record refused (exit 5): the rows before it are checkpointed; a rerun stops at it again.
One run per id and target: <state-dir>/<id>/<target>/run.lock names its holder; a second
copy exits 1 at once; a dead holder's lock is taken over.
SIGINT/SIGTERM: the batch in flight is finished and checkpointed, then the command stops (exit 130).`;

/** Reads `TRANSFER_FLAGS` into options; bad values are `UsageError`s naming the flag. */
export function parseTransferOptions(flags: Flags): TransferOptions {
  const order = choiceFlag(flags, "order", ["sequential", "random"] as const, "sequential");
  const limitText = stringFlag(flags, "limit");
  const rateText = stringFlag(flags, "rate");
  const follow = flags.follow === true;
  if (follow && order === "random") {
    throw new UsageError("--follow applies to --order sequential only (random never ends)");
  }
  if (stringFlag(flags, "seed") !== undefined && order !== "random") {
    throw new UsageError("--seed applies to --order random only");
  }
  return {
    order,
    seed: intFlag(flags, "seed", 100, { min: 0 }),
    maxOffset: intFlag(flags, "max-offset", 11_000, { min: 0, max: 2 ** 31 }),
    limit: limitText === undefined ? undefined : intFlag(flags, "limit", 0, { min: 1 }),
    rate: rateText === undefined ? undefined : numberFlag(flags, "rate", 0, { min: 0.001 }),
    follow,
    pollMs: intFlag(flags, "poll-ms", 1000, { min: 10 }),
    fromStart: flags["from-start"] === true,
    batchSize: intFlag(flags, "batch-size", 1000, { min: 1, max: 100_000 }),
    tables: tablesFlag(flags),
    json: flags.json === true,
    quiet: flags.quiet === true,
  };
}

/** What each table's loop shares with the others. */
interface RunState {
  config: PipelineConfig;
  options: TransferOptions;
  target: DeliveryTarget;
  store: CheckpointStore;
  counters: TransferCounters;
  /** Aborted by the interrupt or when another table failed: finish the batch in flight, stop. */
  stop: AbortController;
}

/** The lock of one id and target, beside its checkpoints. */
export const RUN_LOCK_FILE = "run.lock";

/** Lowest possible index, for "after nothing". */
const BEFORE_ALL = Number.MIN_SAFE_INTEGER;

/**
 * Sends one batch and counts it; a failed send counts its records as failed
 * and rethrows. When the target refused one record after acknowledging
 * those before it, `checkpointPrefix` is first given how many of the
 * batch's records, from the first, are in the target, so they are not sent again.
 */
async function deliver(
  state: RunState,
  kind: TableKind,
  batch: OutgoingRecord[],
  filter: ((record: OutgoingRecord) => boolean) | undefined,
  checkpointPrefix?: (length: number) => Promise<void>,
): Promise<number> {
  const counts = state.counters.table(kind);
  const pending = filter ? batch.filter((record) => !filter(record)) : batch;
  counts.alreadyDelivered += batch.length - pending.length;
  if (pending.length === 0) return 0;
  counts.sent += pending.length;
  try {
    await state.target.send(kind, pending);
  } catch (error) {
    const delivered = error instanceof RecordRejectedError ? error.delivered ?? 0 : 0;
    counts.acknowledged += delivered;
    counts.failed += pending.length - delivered;
    if (delivered > 0 && delivered < pending.length && checkpointPrefix) {
      const prefix = wholeIndexPrefix(batch, batch.indexOf(pending[delivered]));
      if (prefix > 0) await checkpointPrefix(prefix);
    }
    throw error;
  }
  counts.acknowledged += pending.length;
  return pending.length;
}

/**
 * The longest prefix of `batch`, up to `length` records, that ends at an
 * index boundary: a checkpoint holds the last index whose rows were all
 * acknowledged, so rows sharing the refused row's index stay after it.
 */
export function wholeIndexPrefix(batch: readonly OutgoingRecord[], length: number): number {
  let end = length;
  while (end > 0 && end < batch.length && batch[end - 1].index === batch[end].index) end--;
  return end;
}

/** The filter for records already in the target since `saved`, if the target can tell. */
function resumeFilter(
  state: RunState,
  kind: TableKind,
  saved: Checkpoint | undefined,
): Promise<((record: OutgoingRecord) => boolean) | undefined> {
  if (!saved || !state.target.resumeFilter || saved.positions[kind] === undefined) {
    return Promise.resolve(undefined);
  }
  return state.target.resumeFilter(kind, saved.positions[kind]);
}

/** Records of the rows of `kind`, in index order, counting reads, in the arrays rows arrive in. */
async function* recordsOf(
  state: RunState,
  source: RdsSource,
  kind: TableKind,
  after: number,
  upTo: number | undefined,
): AsyncGenerator<OutgoingRecord[]> {
  const counts = state.counters.table(kind);
  for await (const rows of source.rowChunksAfter(kind, after, upTo)) {
    const records = new Array<OutgoingRecord>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const record = toRecord(kind, rows[i]);
      counts.read++;
      records[i] = outgoing(kind, recordIndex(kind, record), record);
    }
    yield records;
  }
}

/** Sequential order for one table: every row after the checkpoint, in index order. */
async function runSequential(state: RunState, kind: TableKind): Promise<void> {
  const { options, store, target, counters, stop } = state;
  const counts = counters.table(kind);
  const file = store.sequentialFile(kind);
  const saved = options.fromStart ? undefined : await store.load(file);
  let lastIndex = saved?.lastIndex ?? BEFORE_ALL;
  let acknowledged = saved?.acknowledged[kind] ?? 0;
  if (saved?.lastIndex !== undefined) counts.lastIndex = saved.lastIndex;
  const source = await openSource(state.config.mysql);
  try {
    const filter = await resumeFilter(state, kind, saved);
    const pacer = new RatePacer(options.rate);
    const batchSize = pacedBatchSize(options.batchSize, options.rate);
    let left = options.limit ?? Infinity;
    while (!stop.signal.aborted && left > 0) {
      const upTo = Number.isFinite(left)
        ? await source.indexBound(kind, lastIndex, left)
        : undefined;
      const count = await source.countAfter(kind, lastIndex);
      counts.total = counts.read + Math.min(count, left);
      for await (
        const batch of prefetched(
          indexBatches(recordsOf(state, source, kind, lastIndex, upTo), batchSize),
        )
      ) {
        await pacer.take(batch.length, stop.signal);
        if (stop.signal.aborted) break;
        /** Checkpoints the first `length` records of `batch`, all in the target. */
        const checkpoint = async (length: number) => {
          lastIndex = batch[length - 1].index;
          acknowledged += length;
          left -= length;
          counts.lastIndex = lastIndex;
          await store.save(file, {
            version: 1,
            target: target.name,
            id: state.config.id,
            order: "sequential",
            kind,
            lastIndex,
            acknowledged: { [kind]: acknowledged },
            positions: { [kind]: target.position?.(kind) },
            updatedAt: new Date().toISOString(),
          });
        };
        await deliver(state, kind, batch, filter, checkpoint);
        await checkpoint(batch.length);
      }
      if (!options.follow) break;
      await sleep(options.pollMs, stop.signal);
    }
  } finally {
    await source.close();
  }
}

/** Random order: the original's draws, one row of each table per sample, in batches of samples. */
async function runRandom(state: RunState): Promise<void> {
  const { options, store, target, counters, stop } = state;
  const kinds = options.tables;
  const file = store.randomFile(options.seed);
  const saved = options.fromStart ? undefined : await store.load(file);
  const sampler = new OriginalSampler(options.seed, options.maxOffset);
  sampler.skip(saved?.samples ?? 0);
  const acknowledged: Partial<Record<TableKind, number>> = { ...saved?.acknowledged };
  const filters = Object.fromEntries(
    await Promise.all(kinds.map(async (kind) => [kind, await resumeFilter(state, kind, saved)])),
  ) as Record<TableKind, ((record: OutgoingRecord) => boolean) | undefined>;
  const source = await openSource(state.config.mysql);
  const pacer = new RatePacer(options.rate);
  // Without --rate each sample waits its drawn pause, as the original did, and goes alone.
  const samplesPerBatch = options.rate ? pacedBatchSize(options.batchSize, options.rate) : 1;
  let done = 0;
  counters.samples = 0;
  try {
    while (!stop.signal.aborted && done < (options.limit ?? Infinity)) {
      const batches = Object.fromEntries(kinds.map((kind) => [kind, [] as OutgoingRecord[]]));
      let taken = 0;
      while (taken < samplesPerBatch && done + taken < (options.limit ?? Infinity)) {
        const { pause, offset } = sampler.next();
        if (options.rate) await pacer.take(1, stop.signal);
        else await sleep(pause * 1000, stop.signal);
        if (stop.signal.aborted) break;
        taken++;
        for (const kind of kinds) {
          const row = await source.rowAt(kind, offset);
          const counts = counters.table(kind);
          if (!row) {
            counts.missing++;
            continue;
          }
          const record = toRecord(kind, row);
          counts.read++;
          batches[kind].push(outgoing(kind, recordIndex(kind, record), record));
        }
      }
      if (stop.signal.aborted || taken === 0) break;
      await Promise.all(kinds.map((kind) => deliver(state, kind, batches[kind], filters[kind])));
      done += taken;
      counters.samples = done;
      for (const kind of kinds) {
        acknowledged[kind] = (acknowledged[kind] ?? 0) + batches[kind].length;
      }
      await store.save(file, {
        version: 1,
        target: target.name,
        id: state.config.id,
        order: "random",
        seed: options.seed,
        samples: (saved?.samples ?? 0) + done,
        acknowledged,
        positions: Object.fromEntries(kinds.map((kind) => [kind, target.position?.(kind)])),
        updatedAt: new Date().toISOString(),
      });
    }
  } finally {
    await source.close();
  }
}

/** The state every table's loop shares, with fresh counters. */
function newRunState(
  config: PipelineConfig,
  options: TransferOptions,
  target: DeliveryTarget,
): RunState {
  return {
    config,
    options,
    target,
    store: new CheckpointStore(config.stateDir, config.id, target.name),
    counters: new TransferCounters(
      target.name,
      config.id,
      options.order,
      options.tables,
      (kind) => target.destination?.(kind) ?? kind,
    ),
    stop: new AbortController(),
  };
}

/** Checks the source first: its errors are the cheapest to find and the most common. */
async function checkSource(config: PipelineConfig, tables: readonly TableKind[]): Promise<void> {
  const probe = await openSource(config.mysql);
  try {
    await probe.checkTables(tables);
  } finally {
    await probe.close();
  }
}

/**
 * Runs every table's loop (or the one random loop) to its end; the first
 * failure stops the others after their batch in flight and is returned.
 */
async function runTables(state: RunState): Promise<unknown> {
  const { options, stop } = state;
  const runs = options.order === "random"
    ? [runRandom(state)]
    : options.tables.map((kind) => runSequential(state, kind));
  const results = await Promise.allSettled(
    runs.map((run) =>
      run.catch((error) => {
        stop.abort(); // the other tables finish their batch in flight and stop
        throw error;
      })
    ),
  );
  const rejected = results.find((result) => result.status === "rejected");
  return rejected ? (rejected as PromiseRejectedResult).reason : undefined;
}

/** Prints the summary: text on stderr (once rows flowed, unless quiet), JSON on stdout. */
function report(summary: TransferSummary, options: TransferOptions, started: boolean): void {
  // A failure before the first row (bad password, broker down) is its one error line only.
  if (!options.quiet && started) console.error(summaryText(summary));
  if (options.json) console.log(JSON.stringify(summary));
}

/** Not interrupted: what `runTransfer` runs with when no command shell gives it signals. */
const NO_INTERRUPT: Interrupt = { signal: new AbortController().signal, started: () => {} };

/**
 * Runs a transfer into `target` and reports it: a progress line on a
 * terminal, the summary on stderr (unless `quiet`), the summary as JSON on
 * stdout (with `json`), also when it fails (the text summary only once rows
 * flowed). `interrupt` (the command shell's SIGINT/SIGTERM) finishes each
 * table's batch in flight, checkpoints it and stops. Throws the first error
 * (a `SourceError`, `TargetError`...) after the other tables finished their
 * batch in flight and the target was closed; checkpoints stay as acknowledged.
 */
export async function runTransfer(
  config: PipelineConfig,
  options: TransferOptions,
  target: DeliveryTarget,
  interrupt: Interrupt = NO_INTERRUPT,
): Promise<TransferSummary> {
  const state = newRunState(config, options, target);
  // One copy per id and target: a second would send every record again.
  const lock = await RunLock.acquire(join(state.store.dir, RUN_LOCK_FILE));
  const { counters, stop } = state;
  const onInterrupt = () => {
    counters.interrupted = true;
    stop.abort();
  };
  interrupt.signal.addEventListener("abort", onInterrupt, { once: true });
  let started = false;
  let progress: ProgressLine | undefined;
  let failure: unknown;
  try {
    await checkSource(config, options.tables);
    await target.prepare(options.tables);
    started = true;
    interrupt.started();
    progress = new ProgressLine(counters, !options.quiet && Deno.stderr.isTerminal());
    failure = await runTables(state);
  } catch (error) {
    failure = error;
  } finally {
    progress?.stop();
    interrupt.signal.removeEventListener("abort", onInterrupt);
    await target.close().catch((error) => {
      failure ??= error;
    });
    lock.release();
  }
  if (failure !== undefined) {
    counters.error = failure instanceof Error ? failure.message : String(failure);
  }
  const summary = counters.summary();
  report(summary, options, started);
  if (failure !== undefined) throw failure;
  return summary;
}
