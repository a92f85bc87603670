/**
 * The Kinesis delivery target of `deno task stream`: creates the three
 * streams `streaming-<id>-pin|geo|user` if missing and waits until they are
 * ACTIVE, then sends records in calls that respect the service limits.
 * Records a call reports as failed are retried, alone, with exponential
 * backoff and jitter; throttling slows every later call down and never
 * drops a record. `send` resolves only when every record is accepted, so
 * the shared transfer loop checkpoints only what Kinesis holds. How it
 * reaches the streams is its transport: the SDK's PutRecords
 * (`SdkTransport`) or an API Gateway proxy (`ApiTransport`, `--via api`).
 *
 * @example
 * ```ts
 * import { SdkTransport } from "./sdk_transport.ts";
 * import { KinesisTarget } from "./target.ts";
 * const transport = new SdkTransport({ region: "us-east-1", endpoint: "http://127.0.0.1:14567" });
 * const target = new KinesisTarget({ id: "0123456789ab", transport, shards: 1 });
 * await target.prepare(["pin"]);
 * await target.close();
 * ```
 */
import { inLanes } from "../util/lanes.ts";
import { type DeliveryTarget, logToStderr } from "../transfer/target.ts";
import { type OutgoingRecord } from "../core/records.ts";
import { ThrottlePacer } from "../transfer/pacing.ts";
import { RecordRejectedError, TargetError } from "../core/errors.ts";
import { streamName } from "../core/names.ts";
import type { TableKind } from "../core/tables.ts";
import { fittingPrefix, type KinesisEntry, planBatches } from "./batches.ts";
import {
  collectFailures,
  KINESIS_DELIVERY_DEFAULTS,
  type KinesisDeliveryOptions,
  retryUntilAccepted,
  toKinesisEntry,
  waitUntilActive,
} from "./delivery.ts";
import { CallFailure } from "./errors.ts";
import {
  heldRecordsFilter,
  isShardPositions,
  laterSequence,
  type ShardPositions,
  type TailRecord,
} from "./tail.ts";
import { pollUntil } from "../util/retry.ts";
import type { KinesisTransport } from "./transport.ts";
import type { KinesisConfig } from "../core/config.ts";
import { SdkTransport } from "./sdk_transport.ts";
import { stillMissing } from "./unanswered.ts";

/** How many settles at most the stream is read for, for one round of unanswered calls. */
const SETTLE_READS = 10;

/** The entries of a call that got no answer: they may be in the stream, or not. */
class Unanswered extends Error {
  constructor(readonly entries: KinesisEntry[]) {
    super(`${entries.length} record(s) sent without an answer`);
  }
}

/** Settings of a Kinesis target. */
export interface KinesisTargetOptions extends KinesisDeliveryOptions {
  /** How the streams are reached; the target closes it on close. */
  transport: KinesisTransport;
}

/** Sends records to the three Kinesis streams through its transport. */
export class KinesisTarget implements DeliveryTarget {
  readonly name: string;
  readonly #transport: KinesisTransport;
  readonly #options: Required<Omit<KinesisTargetOptions, "transport">>;
  readonly #pacer = new ThrottlePacer();
  /** Per table, the highest acknowledged sequence number of each shard. */
  readonly #positions = new Map<TableKind, ShardPositions>();

  constructor({ transport, ...options }: KinesisTargetOptions) {
    this.#transport = transport;
    this.name = transport.name;
    this.#options = { ...KINESIS_DELIVERY_DEFAULTS, log: logToStderr, ...options };
  }

  /** Creates each missing stream with `shards` shards, then waits for all to be ACTIVE. */
  async prepare(kinds: readonly TableKind[]): Promise<void> {
    const { where } = this.#transport;
    for (const kind of kinds) {
      const stream = streamName(this.#options.id, kind);
      const status = await this.#transport.status(stream);
      if (status === undefined) {
        // Another producer may have created it a moment ago: that is fine.
        if (await this.#transport.create(stream, this.#options.shards)) {
          this.#options.log(
            `${where}created stream ${stream} with ${this.#options.shards} shard(s)`,
          );
        }
      } else if (status === "DELETING") {
        throw new TargetError(
          `${where}stream ${stream} is being deleted; wait for it to go, then run again`,
        );
      }
    }
    for (const kind of kinds) {
      const stream = streamName(this.#options.id, kind);
      await waitUntilActive(
        stream,
        () => this.#transport.status(stream),
        this.#options.activeTimeoutMs,
        where,
      );
    }
  }

  /** The stream a table's records go to, for messages and the summary. */
  destination(kind: TableKind): string {
    return streamName(this.#options.id, kind);
  }

  /** Sends `records` to the stream of `kind`; resolves when Kinesis accepted every one. */
  async send(kind: TableKind, records: OutgoingRecord[]): Promise<void> {
    const stream = streamName(this.#options.id, kind);
    const entries = records.map((record) =>
      toKinesisEntry(kind, record, this.#options.partitionKey)
    );
    const { fitting, refused } = fittingPrefix(entries);
    // A lost answer is looked up after where this send started; in a shard with no position yet
    // (a new stream, a child shard after a reshard), after a moment before it started (clocks
    // differ): an older copy found there is in the stream all the same.
    const started = {
      positions: { ...this.#positions.get(kind) },
      at: new Date(Date.now() - 5000),
    };
    const reading = this.#transport.readTail !== undefined;
    const calls = { acknowledged: [] as KinesisEntry[], unanswered: [] as KinesisEntry[] };
    // A few calls in flight keep the stream busy while answers travel; all must succeed.
    const putAll = (entries: KinesisEntry[]) =>
      inLanes(
        planBatches(entries, this.#transport.recordsPerCall ?? this.#options.batchRecords),
        this.#transport.callsInFlight ?? this.#options.inFlight,
        (batch) => this.#putAll(kind, stream, batch, reading ? calls : undefined),
      );
    await putAll(fitting);
    for (let round = 1; calls.unanswered.length > 0; round++) {
      if (round > this.#options.maxAttempts) {
        throw new TargetError(
          `${this.#transport.putName(stream)}: ${calls.unanswered.length} record(s) still ` +
            `unanswered after ${round - 1} rounds`,
        );
      }
      await putAll(await this.#unanswered(kind, stream, started, calls));
    }
    // Those before the refused record are in the stream: the driver checkpoints them.
    if (refused) throw new RecordRejectedError(`${stream}: ${refused}`, fitting.length);
  }

  /** Each shard's highest acknowledged sequence number: stored in the checkpoint. */
  position(kind: TableKind): ShardPositions {
    return { ...this.#positions.get(kind) };
  }

  /**
   * After a crash: reads what the stream holds beyond the checkpoint's
   * positions (sent, never checkpointed) and answers true for each record
   * among them, once per copy, so it is not sent twice. The position moves
   * on only across what the filter has passed (`heldRecordsFilter`). Shards
   * without a position (children of a reshard since the checkpoint) are read
   * from their start: all they hold came after it. A transport that cannot
   * read a stream gives no filter.
   */
  async resumeFilter(
    kind: TableKind,
    saved: unknown,
  ): Promise<((record: OutgoingRecord) => boolean) | undefined> {
    if (!this.#transport.readTail) return undefined;
    if (!isShardPositions(saved) || Object.keys(saved).length === 0) return undefined;
    const stream = streamName(this.#options.id, kind);
    const held = await this.#transport.readTail(stream, saved);
    const positions = { ...saved };
    this.#positions.set(kind, positions);
    if (held.length > 0) {
      this.#options.log(`${stream}: ${held.length} record(s) already sent after the checkpoint`);
    }
    const isHeld = heldRecordsFilter(held, positions);
    return (record) => isHeld(JSON.stringify(record.record));
  }

  /** Releases the transport's connections. */
  close(): Promise<void> {
    this.#transport.close();
    return Promise.resolve();
  }

  /**
   * After calls that got no answer: what the stream holds beyond where the
   * send started, less what calls acknowledged, is what those calls wrote
   * (one producer per stream, the run lock sees to it); returns the rest, to
   * send again, and moves the positions over what landed.
   */
  async #unanswered(
    kind: TableKind,
    stream: string,
    started: { positions: ShardPositions; at: Date },
    calls: { acknowledged: KinesisEntry[]; unanswered: KinesisEntry[] },
  ): Promise<KinesisEntry[]> {
    const tail = await this.#settledTail(stream, started, calls);
    const decoder = new TextDecoder();
    const text = (entry: KinesisEntry) => decoder.decode(entry.data);
    const missing = stillMissing(
      calls.unanswered.map((entry) => ({ entry, text: text(entry) })),
      calls.acknowledged.map(text),
      tail.map((record) => record.text),
    ).map(({ entry }) => entry);
    const positions = this.#positions.get(kind) ?? {};
    for (const record of tail) {
      positions[record.shard] = laterSequence(positions[record.shard], record.sequence);
    }
    this.#positions.set(kind, positions);
    this.#options.log(
      `${stream}: ${calls.unanswered.length} record(s) sent without an answer: ` +
        `${
          calls.unanswered.length - missing.length
        } found in the stream, ${missing.length} sent again`,
    );
    calls.acknowledged.push(...calls.unanswered.filter((entry) => !missing.includes(entry)));
    calls.unanswered = [];
    return missing;
  }

  /**
   * The stream after where the send started, once it stops growing: a call
   * whose connection was cut may still be written a moment later (the
   * server got it whole and is still at work), and a copy that lands after
   * the look would be sent twice. It is read until two reads a settle apart
   * agree, or it holds every record the send carried.
   */
  async #settledTail(
    stream: string,
    started: { positions: ShardPositions; at: Date },
    calls: { acknowledged: KinesisEntry[]; unanswered: KinesisEntry[] },
  ): Promise<TailRecord[]> {
    const all = calls.acknowledged.length + calls.unanswered.length;
    const read = () => this.#transport.readTail!(stream, started.positions, started.at);
    let tail = await read();
    let looks = 0;
    await pollUntil(async () => {
      if (tail.length >= all) return true;
      // The first look is the read just taken: the next comes a settle later.
      if (looks++ === 0) return false;
      const before = tail.length;
      tail = await read();
      return tail.length === before;
    }, { everyMs: this.#options.settleMs, timeoutMs: SETTLE_READS * this.#options.settleMs });
    return tail;
  }

  /**
   * Puts until every entry is accepted, retrying only the failed ones. With
   * `calls`, a call that got no answer (a lost connection, a timeout, a 5xx:
   * it may have been written) is not sent again blindly: its entries go to
   * `calls.unanswered`, for `send` to look up once every call has settled.
   */
  async #putAll(
    kind: TableKind,
    stream: string,
    entries: KinesisEntry[],
    calls?: { acknowledged: KinesisEntry[]; unanswered: KinesisEntry[] },
  ): Promise<void> {
    try {
      await this.#putUntilAccepted(kind, stream, entries, calls);
    } catch (error) {
      if (!(error instanceof Unanswered) || !calls) throw error;
      calls.unanswered.push(...error.entries);
    }
  }

  #putUntilAccepted(
    kind: TableKind,
    stream: string,
    entries: KinesisEntry[],
    calls?: { acknowledged: KinesisEntry[]; unanswered: KinesisEntry[] },
  ): Promise<void> {
    return retryUntilAccepted(entries, async (pending) => {
      let results;
      try {
        results = await this.#transport.put(stream, pending);
      } catch (error) {
        const lost = error instanceof CallFailure && error.failureClass === "transient";
        if (lost && calls) throw new Unanswered(pending);
        throw error;
      }
      if (results.length !== pending.length) {
        throw new CallFailure(
          "fatal",
          `answered ${results.length} results for ${pending.length} records`,
        );
      }
      const positions = this.#positions.get(kind) ?? {};
      results.forEach((result, i) => {
        if (result.ErrorCode || !result.ShardId || !result.SequenceNumber) return;
        positions[result.ShardId] = laterSequence(positions[result.ShardId], result.SequenceNumber);
        calls?.acknowledged.push(pending[i]);
      });
      this.#positions.set(kind, positions);
      return collectFailures(stream, pending, results);
    }, {
      what: this.#transport.putName(stream),
      pacer: this.#pacer,
      maxAttempts: this.#options.maxAttempts,
      backoff: this.#options.backoff,
      throttleTimeoutMs: this.#options.throttleTimeoutMs,
    });
  }
}

/**
 * Creates the streams of `id` for `kinds` with the SDK where missing, and
 * waits until they are ACTIVE: a target's `prepare` alone, for setups.
 */
export async function prepareStreams(
  kinesis: KinesisConfig,
  id: string,
  kinds: readonly TableKind[],
  shards = 1,
): Promise<void> {
  const transport = new SdkTransport(kinesis);
  const target = new KinesisTarget({ transport, id, shards, log: () => {} });
  try {
    await target.prepare(kinds);
  } finally {
    await target.close();
  }
}
