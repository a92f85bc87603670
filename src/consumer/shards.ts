/**
 * Reads Kinesis streams shard by shard, as the streaming notebook's source
 * does: each shard starts after its checkpointed sequence number, else at
 * TRIM_HORIZON (or LATEST when asked, for shards known at start), and one
 * `poll` makes one GetRecords call per readable shard. Expired iterators
 * are renewed from the last sequence number read; throttled shards are
 * skipped for a moment, never dropped.
 *
 * Resharding (SplitShard, MergeShards, UpdateShardCount): a closed shard
 * ends once read to its end, which lists the shards again; a child shard
 * (one with a ParentShardId or AdjacentParentShardId) is read only from
 * the poll after every listed parent ended, and from its start, so a
 * partition key's records are read parent first, as the KCL does.
 *
 * A stream deleted and created again (kinesalite keeps streams in memory,
 * so a restart loses them) is noticed when its shards are not the ones
 * read or checkpointed: a checkpointed shard that now starts after its
 * checkpoint, every checkpointed shard gone, or a stream that vanished
 * while being read and came back. The reader then says so in one line and
 * reads the new stream from TRIM_HORIZON; the store drops the stream's old
 * checkpoints and its content keys drop rows already in the tables.
 * Failures are `TargetError`s (exit 4).
 *
 * @example
 * ```ts
 * import { ShardReader } from "./shards.ts";
 * import { kinesisClient } from "../kinesis/client.ts";
 * const client = kinesisClient({ region: "us-east-1", endpoint: "http://127.0.0.1:14567" });
 * const reader = new ShardReader(client, [{ kind: "pin", stream: "streaming-0123456789ab-pin" }]);
 * await reader.open();
 * const { reads } = await reader.poll();
 * ```
 */
import {
  type _Record,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  type Shard,
  type ShardIteratorType,
} from "@aws-sdk/client-kinesis";
import { TargetError } from "../core/errors.ts";
import type { TableKind } from "../core/tables.ts";
import { describeKinesisError, kinesisFailure } from "../kinesis/errors.ts";
import { listShards } from "../kinesis/list_shards.ts";
import { backoffDelay, retry } from "../util/retry.ts";

/** How long a shard is skipped after a throttled or failed read: up to 400 ms, doubling, at most 5 s. */
const SHARD_BACKOFF = { baseMs: 200, capMs: 5_000 };

/** How long a listing during the run retries an unreachable service before giving up. */
const RELIST_DEADLINE_MS = 30_000;

/** Where a shard without a checkpoint starts. */
export type StartPosition = "TRIM_HORIZON" | "LATEST";

/** A stream to read and the table its records belong to. */
export interface StreamSource {
  kind: TableKind;
  stream: string;
}

/** What one GetRecords call on one shard returned. */
export interface ShardRead {
  kind: TableKind;
  stream: string;
  shardId: string;
  records: _Record[];
}

/** Settings of a `ShardReader`. */
export interface ShardReaderOptions {
  /** Where shards known at start and without a checkpoint begin (TRIM_HORIZON). */
  start?: StartPosition;
  /** `stream/shardId` to the last committed sequence number. */
  checkpoints?: Map<string, string>;
  /** The most records one GetRecords may return (10000). */
  limit?: number;
  /** How long to wait for a stream that does not exist (yet, or again): 60 s. */
  waitStreamsMs?: number;
  /** Where the one-line notices go (a stream recreated, a stream gone). */
  warn?: (line: string) => void;
  /** Stops waiting for a vanished stream. */
  signal?: AbortSignal;
}

interface ShardState {
  source: StreamSource;
  shardId: string;
  /** The shard's first sequence number: with its id, what tells one incarnation from another. */
  startingSequence: string;
  /** Keys (`stream/shardId`) of the parents that must end before this shard is read. */
  parents: string[];
  iterator?: string;
  /** The last sequence number read (committed or not). */
  lastSequence?: string;
  /** Read to its end (a closed shard whose last GetRecords gave no next iterator). */
  ended: boolean;
  /** Skip this shard until then (throttled). */
  resumeAt: number;
  failures: number;
}

/** Kinesis said the stream (or a shard of it) does not exist. */
const isMissing = (error: unknown) => (error as Error)?.name === "ResourceNotFoundException";

/** kinesalite's answer to a sequence number of an earlier stream of the same name. */
const isForeignSequence = (error: unknown) =>
  (error as Error)?.name === "InvalidArgumentException" &&
  /did not come from this stream/.test((error as Error).message);

/** A stream was not found while listing it. */
class StreamMissing extends Error {
  constructor(readonly stream: string) {
    super(`stream ${stream} does not exist`);
    this.name = "ResourceNotFoundException";
  }
}

/** A listing failure other than a missing stream, as the one line it ends the run with. */
function listFailure(stream: string, error: unknown): TargetError {
  if (error instanceof TargetError) return error;
  return new TargetError(`cannot list shards of ${stream}: ${describeKinesisError(error)}`);
}

/** Whether sequence number `a` is before `b` (both decimal strings). */
function before(a: string, b: string): boolean {
  return BigInt(a) < BigInt(b);
}

/** Reads many shards of many streams, round by round. */
export class ShardReader {
  readonly #client: KinesisClient;
  readonly #sources: readonly StreamSource[];
  readonly #start: StartPosition;
  readonly #limit: number;
  readonly #waitMs: number;
  readonly #warn: (line: string) => void;
  readonly #signal?: AbortSignal;
  readonly #checkpoints: Map<string, string>;
  readonly #shards = new Map<string, ShardState>();
  /** Shards found after the first listing, or of a recreated stream: read from TRIM_HORIZON. */
  readonly #fresh = new Set<string>();
  /** Streams found recreated whose old checkpoints the store has not dropped yet. */
  readonly #recreated = new Set<string>();
  #listedAt = 0;

  constructor(
    client: KinesisClient,
    sources: readonly StreamSource[],
    options: ShardReaderOptions = {},
  ) {
    this.#client = client;
    this.#sources = sources;
    this.#start = options.start ?? "TRIM_HORIZON";
    this.#limit = options.limit ?? 10_000;
    this.#waitMs = options.waitStreamsMs ?? 60_000;
    this.#warn = options.warn ?? ((line) => console.error(line));
    this.#signal = options.signal;
    this.#checkpoints = options.checkpoints ?? new Map();
  }

  /** Lists every stream's shards, waiting up to `waitMs` for streams that do not exist yet. */
  async open(waitMs = this.#waitMs): Promise<void> {
    const until = Date.now() + waitMs;
    for (const source of this.#sources) {
      await retry(() => this.#list(source, true), {
        baseMs: 250,
        capMs: 1_000,
        deadlineMs: Math.max(0, until - Date.now()),
        retryIf: isMissing,
        signal: this.#signal,
      }).catch((error) => {
        if (!isMissing(error)) throw listFailure(source.stream, error);
        throw new TargetError(
          `${(error as Error).message} after waiting ${Math.round(waitMs / 1000)} s ` +
            `(run deno task stream first, or raise --wait-streams-ms)`,
        );
      });
    }
    this.#listedAt = Date.now();
  }

  /** Shards not read to their end yet. */
  get openShards(): number {
    return [...this.#shards.values()].filter((shard) => !shard.ended).length;
  }

  /**
   * The streams found recreated since the last call: their checkpoints
   * belong to shards that are gone, so the next commit drops them.
   */
  takeRecreated(): string[] {
    const streams = [...this.#recreated];
    this.#recreated.clear();
    return streams;
  }

  /** Every shard of `stream`, all pages. */
  async #listShards(stream: string): Promise<Shard[]> {
    return await listShards(this.#client, stream).catch((error) => {
      throw isMissing(error) ? new StreamMissing(stream) : error;
    });
  }

  /** Lists `source`'s shards; adds the new ones, and starts over if the stream was recreated. */
  async #list(source: StreamSource, initial: boolean, vanished = false): Promise<void> {
    const shards = await this.#listShards(source.stream);
    if (vanished || this.#wasRecreated(source.stream, shards, initial)) {
      this.#warn(
        `stream ${source.stream} was recreated: its checkpointed shards are gone; reading ` +
          `it again from TRIM_HORIZON (rows already in the tables are dropped as duplicates)`,
      );
      for (const key of [...this.#shards.keys()]) {
        if (this.#shards.get(key)!.source.stream === source.stream) this.#shards.delete(key);
      }
      for (const key of [...this.#checkpoints.keys()]) {
        if (key.startsWith(`${source.stream}/`)) this.#checkpoints.delete(key);
      }
      this.#recreated.add(source.stream);
      initial = false; // every shard of the new stream from its start
    }
    const listed = new Set(shards.map((shard) => `${source.stream}/${shard.ShardId}`));
    for (const shard of shards) {
      const key = `${source.stream}/${shard.ShardId}`;
      if (this.#shards.has(key)) continue;
      this.#shards.set(key, {
        source,
        shardId: shard.ShardId!,
        startingSequence: shard.SequenceNumberRange?.StartingSequenceNumber ?? "0",
        // A parent no longer listed (trimmed past the retention) has nothing left to read.
        parents: [shard.ParentShardId, shard.AdjacentParentShardId]
          .filter((id): id is string => id !== undefined)
          .map((id) => `${source.stream}/${id}`)
          .filter((parent) => listed.has(parent)),
        lastSequence: this.#checkpoints.get(key),
        ended: false,
        resumeAt: 0,
        failures: 0,
      });
      // A shard born after we started (a reshard) is read from its start, whatever --from says.
      if (!initial) this.#fresh.add(key);
    }
  }

  /**
   * Whether `shards` are another incarnation of `stream` than the one read
   * or checkpointed: a known shard id that now starts elsewhere, a
   * checkpoint before its shard's first sequence number, or (at start)
   * every checkpointed shard gone.
   */
  #wasRecreated(stream: string, shards: readonly Shard[], initial: boolean): boolean {
    const byId = new Map(shards.map((shard) => [shard.ShardId!, shard]));
    const first = (id: string) => byId.get(id)?.SequenceNumberRange?.StartingSequenceNumber;
    for (const state of this.#shards.values()) {
      if (state.source.stream !== stream) continue;
      const now = first(state.shardId);
      if (now !== undefined && now !== state.startingSequence) return true;
    }
    if (!initial) return false;
    const checkpointed = [...this.#checkpoints]
      .filter(([key]) => key.startsWith(`${stream}/`))
      .map(([key, sequence]) => [key.slice(stream.length + 1), sequence]);
    if (checkpointed.length === 0) return false;
    if (checkpointed.some(([id, sequence]) => first(id) && before(sequence, first(id)!))) {
      return true;
    }
    return checkpointed.every(([id]) => !byId.has(id));
  }

  /** Lists every stream again (new shards after a reshard), retrying an unreachable service. */
  async #relist(): Promise<void> {
    for (const source of this.#sources) {
      await retry(() => this.#list(source, false), {
        baseMs: 250,
        capMs: 2_000,
        deadlineMs: RELIST_DEADLINE_MS,
        retryIf: (error) => !isMissing(error) && kinesisFailure(error).retriable,
        signal: this.#signal,
      }).catch((error) => {
        if (isMissing(error)) return this.#awaitRecreated(source);
        throw listFailure(source.stream, error);
      });
    }
    this.#listedAt = Date.now();
  }

  /** `source`'s stream vanished while read: waits for it to be created again, then starts over. */
  async #awaitRecreated(source: StreamSource): Promise<void> {
    const seconds = Math.round(this.#waitMs / 1000);
    this.#warn(`stream ${source.stream} is gone; waiting up to ${seconds} s for it to come back`);
    await retry(() => this.#list(source, false, true), {
      baseMs: 250,
      capMs: 1_000,
      deadlineMs: this.#waitMs,
      retryIf: isMissing,
      signal: this.#signal,
    }).catch((error) => {
      if (this.#signal?.aborted) return;
      if (!isMissing(error)) throw listFailure(source.stream, error);
      throw new TargetError(
        `stream ${source.stream} was deleted and not created again within ${seconds} s`,
      );
    });
  }

  async #iterator(key: string, shard: ShardState): Promise<string> {
    const type: ShardIteratorType = shard.lastSequence
      ? "AFTER_SEQUENCE_NUMBER"
      : this.#fresh.has(key)
      ? "TRIM_HORIZON"
      : this.#start;
    const answer = await this.#client.send(
      new GetShardIteratorCommand({
        StreamName: shard.source.stream,
        ShardId: shard.shardId,
        ShardIteratorType: type,
        StartingSequenceNumber: shard.lastSequence,
      }),
    );
    return answer.ShardIterator!;
  }

  /** Whether every parent of `shard` was read to its end. */
  #parentsEnded(shard: ShardState): boolean {
    return shard.parents.every((parent) => this.#shards.get(parent)?.ended ?? true);
  }

  /**
   * One GetRecords per readable shard. `behind` is true when some shard
   * said more records are waiting (a full page, or MillisBehindLatest > 0).
   */
  async poll(): Promise<{ reads: ShardRead[]; behind: boolean }> {
    // Look for new shards now and then (resharding), and when one has ended.
    if (Date.now() - this.#listedAt > 30_000) await this.#relist();
    // Which shards may be read is settled before any is: a child waits one poll after its parents end.
    const readable = [...this.#shards].filter(([, shard]) =>
      !shard.ended && Date.now() >= shard.resumeAt && this.#parentsEnded(shard)
    );
    const reads: ShardRead[] = [];
    let behind = false;
    // Streams whose shards were not found, or whose checkpoint another stream of the name refused.
    const vanished = new Set<StreamSource>();
    const recreated = new Set<StreamSource>();
    for (const [key, shard] of readable) {
      if (vanished.has(shard.source) || recreated.has(shard.source)) continue;
      try {
        shard.iterator ??= await this.#iterator(key, shard);
        const answer = await this.#client.send(
          new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: this.#limit }),
        );
        const records = answer.Records ?? [];
        shard.failures = 0;
        shard.iterator = answer.NextShardIterator;
        if (records.length > 0) shard.lastSequence = records.at(-1)!.SequenceNumber;
        if (!shard.iterator) {
          shard.ended = true;
          this.#listedAt = 0;
        }
        if (records.length >= this.#limit || (answer.MillisBehindLatest ?? 0) > 0) behind = true;
        if (records.length > 0) {
          reads.push({
            kind: shard.source.kind,
            stream: shard.source.stream,
            shardId: shard.shardId,
            records,
          });
        }
      } catch (error) {
        const name = (error as Error).name;
        if (name === "ExpiredIteratorException") {
          shard.iterator = undefined; // renewed from lastSequence on the next poll
          continue;
        }
        if (isForeignSequence(error)) {
          recreated.add(shard.source); // settled below, after this round's reads
          continue;
        }
        if (isMissing(error)) {
          vanished.add(shard.source);
          continue;
        }
        if (!kinesisFailure(error).retriable || ++shard.failures > 8) {
          throw new TargetError(
            `GetRecords on ${shard.source.stream} ${shard.shardId}: ${describeKinesisError(error)}`,
          );
        }
        shard.resumeAt = Date.now() + backoffDelay(shard.failures, SHARD_BACKOFF);
      }
    }
    for (const source of vanished) await this.#settleVanished(source);
    for (const source of recreated) {
      if (!vanished.has(source)) {
        await this.#list(source, false, true).catch(async (error) => {
          if (!isMissing(error)) throw listFailure(source.stream, error);
          await this.#awaitRecreated(source);
        });
      }
    }
    return { reads, behind };
  }

  /** A shard of `source` was not found: the stream is gone, or was recreated under us. */
  async #settleVanished(source: StreamSource): Promise<void> {
    try {
      // Still there under the same name: the listing tells whether it is another stream.
      await this.#list(source, false);
      for (const state of this.#shards.values()) {
        if (state.source === source) state.iterator = undefined;
      }
    } catch (error) {
      if (!isMissing(error)) throw listFailure(source.stream, error);
      await this.#awaitRecreated(source);
    }
  }
}
