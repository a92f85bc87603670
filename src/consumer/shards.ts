/**
 * Reads Kinesis streams shard by shard, as the streaming notebook's source
 * does: each shard starts after its checkpointed sequence number, else at
 * TRIM_HORIZON (or LATEST when asked, for shards known at start), and one
 * `poll` makes one GetRecords call per open shard. Expired iterators are
 * renewed from the last sequence number read; closed shards end; new
 * shards (after a reshard) are found by listing again and read from the
 * start. Throttled shards are skipped for a moment, never dropped.
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
  ListShardsCommand,
  type Shard,
  type ShardIteratorType,
} from "@aws-sdk/client-kinesis";
import { classifyKinesisError, describeKinesisError } from "../kinesis/errors.ts";
import { backoffDelay, retry } from "../util/retry.ts";
import type { TableKind } from "../core/tables.ts";

/** How long a shard is skipped after a throttled or failed read: up to 400 ms, doubling, at most 5 s. */
const SHARD_BACKOFF = { baseMs: 200, capMs: 5_000 };

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

interface ShardState {
  source: StreamSource;
  shardId: string;
  iterator?: string;
  /** The last sequence number read (committed or not). */
  lastSequence?: string;
  closed: boolean;
  /** Skip this shard until then (throttled). */
  resumeAt: number;
  failures: number;
}

/** Reads many shards of many streams, round by round. */
export class ShardReader {
  readonly #client: KinesisClient;
  readonly #sources: readonly StreamSource[];
  readonly #start: StartPosition;
  readonly #limit: number;
  readonly #checkpoints: Map<string, string>;
  readonly #shards = new Map<string, ShardState>();
  /** Shards found after the first listing: read from TRIM_HORIZON. */
  readonly #fresh = new Set<string>();
  #listedAt = 0;

  /**
   * `checkpoints` maps `stream/shardId` to the last committed sequence
   * number; `limit` is the most records one GetRecords may return.
   */
  constructor(
    client: KinesisClient,
    sources: readonly StreamSource[],
    {
      start = "TRIM_HORIZON" as StartPosition,
      checkpoints = new Map<string, string>(),
      limit = 10_000,
    } = {},
  ) {
    this.#client = client;
    this.#sources = sources;
    this.#start = start;
    this.#limit = limit;
    this.#checkpoints = checkpoints;
  }

  /** Lists every stream's shards, waiting up to `waitMs` for streams that do not exist yet. */
  async open(waitMs = 60_000): Promise<void> {
    const missing = (error: unknown) => (error as Error).name === "ResourceNotFoundException";
    await retry(() => this.#list(true), {
      baseMs: 250,
      capMs: 1_000,
      deadlineMs: waitMs,
      retryIf: missing,
    }).catch((error) => {
      if (!missing(error)) throw error;
      throw new Error(
        `${(error as Error).message} after waiting ${Math.round(waitMs / 1000)} s ` +
          `(run deno task stream first, or raise --wait-streams)`,
      );
    });
  }

  /** Shards still open. */
  get openShards(): number {
    return [...this.#shards.values()].filter((shard) => !shard.closed).length;
  }

  async #list(initial: boolean): Promise<void> {
    for (const source of this.#sources) {
      const shards: Shard[] = [];
      let token: string | undefined;
      do {
        const answer = await this.#client.send(
          new ListShardsCommand(
            token ? { NextToken: token } : { StreamName: source.stream },
          ),
        ).catch((error) => {
          if ((error as Error).name === "ResourceNotFoundException") {
            const e = new Error(`stream ${source.stream} does not exist`);
            e.name = "ResourceNotFoundException";
            throw e;
          }
          throw new Error(`cannot list shards of ${source.stream}: ${describeKinesisError(error)}`);
        });
        shards.push(...answer.Shards ?? []);
        token = answer.NextToken;
      } while (token);
      for (const shard of shards) {
        const key = `${source.stream}/${shard.ShardId}`;
        if (this.#shards.has(key)) continue;
        this.#shards.set(key, {
          source,
          shardId: shard.ShardId!,
          lastSequence: this.#checkpoints.get(key),
          closed: false,
          resumeAt: 0,
          failures: 0,
        });
        // A shard born after we started (a reshard) is read from its start, whatever --from says.
        if (!initial) this.#fresh.add(key);
      }
    }
    this.#listedAt = Date.now();
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

  /**
   * One GetRecords per open shard. `behind` is true when some shard said
   * more records are waiting (a full page, or MillisBehindLatest > 0).
   */
  async poll(): Promise<{ reads: ShardRead[]; behind: boolean }> {
    // Look for new shards now and then (resharding), and when one has closed.
    if (Date.now() - this.#listedAt > 30_000) await this.#list(false);
    const reads: ShardRead[] = [];
    let behind = false;
    for (const [key, shard] of this.#shards) {
      if (shard.closed || Date.now() < shard.resumeAt) continue;
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
          shard.closed = true;
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
        const failure = classifyKinesisError(error);
        if (failure === "fatal" || ++shard.failures > 8) {
          throw new Error(
            `GetRecords on ${shard.source.stream} ${shard.shardId}: ${describeKinesisError(error)}`,
          );
        }
        shard.resumeAt = Date.now() + backoffDelay(shard.failures, SHARD_BACKOFF);
      }
    }
    return { reads, behind };
  }
}
