/**
 * The Kinesis delivery target of `deno task stream`: creates the three
 * streams `streaming-<id>-pin|geo|user` if missing and waits until they are
 * ACTIVE, then sends records with PutRecords in calls that respect the
 * service limits. Records a call reports as failed are retried, alone, with
 * exponential backoff and jitter; throttling slows every later call down and
 * never drops a record. `send` resolves only when every record is accepted,
 * so the shared transfer loop checkpoints only what Kinesis holds.
 *
 * @example
 * ```ts
 * import { kinesisClient } from "./client.ts";
 * import { KinesisTarget } from "./target.ts";
 * const client = kinesisClient({ region: "us-east-1", endpoint: "http://127.0.0.1:14567" });
 * const target = new KinesisTarget({ id: "0123456789ab", client, shards: 1 });
 * await target.prepare(["pin"]);
 * await target.close();
 * ```
 */
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
  PutRecordsCommand,
  type PutRecordsResultEntry,
} from "@aws-sdk/client-kinesis";
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
import { CallFailure, classifyKinesisError, describeKinesisError } from "./errors.ts";
import { isShardPositions, laterSequence, readTail, type ShardPositions } from "./tail.ts";

/** Settings of a Kinesis target. */
export interface KinesisTargetOptions extends KinesisDeliveryOptions {
  /** The SDK client (`kinesisClient(config.kinesis)`); the target destroys it on close. */
  client: KinesisClient;
}

/** Sends records to the three Kinesis streams with the SDK. */
export class KinesisTarget implements DeliveryTarget {
  readonly name = "kinesis";
  readonly #client: KinesisClient;
  readonly #options: Required<Omit<KinesisTargetOptions, "client">>;
  readonly #pacer = new ThrottlePacer();
  /** Per table, the highest acknowledged sequence number of each shard. */
  readonly #positions = new Map<TableKind, ShardPositions>();

  constructor({ client, ...options }: KinesisTargetOptions) {
    this.#client = client;
    this.#options = { ...KINESIS_DELIVERY_DEFAULTS, log: logToStderr, ...options };
  }

  /** Creates each missing stream with `shards` shards, then waits for all to be ACTIVE. */
  async prepare(kinds: readonly TableKind[]): Promise<void> {
    for (const kind of kinds) {
      const stream = streamName(this.#options.id, kind);
      const status = await this.#status(stream);
      if (status === undefined) {
        try {
          await this.#client.send(
            new CreateStreamCommand({ StreamName: stream, ShardCount: this.#options.shards }),
          );
          this.#options.log(`created stream ${stream} with ${this.#options.shards} shard(s)`);
        } catch (error) {
          // Another producer may have created it a moment ago: that is fine.
          if ((error as Error).name !== "ResourceInUseException") {
            throw new TargetError(`cannot create stream ${stream}: ${describeKinesisError(error)}`);
          }
        }
      } else if (status === "DELETING") {
        throw new TargetError(
          `stream ${stream} is being deleted; wait for it to go, then run again`,
        );
      }
    }
    for (const kind of kinds) {
      const stream = streamName(this.#options.id, kind);
      await waitUntilActive(stream, () => this.#status(stream), this.#options.activeTimeoutMs);
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
    const batches = planBatches(fitting, this.#options.batchRecords);
    // A few calls in flight keep the stream busy while answers travel; all must succeed.
    await inLanes(batches, this.#options.inFlight, (batch) => this.#putAll(kind, stream, batch));
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
   * among them, once per copy, so it is not sent twice. Shards without a
   * position are not read: at worst a record goes twice (the consumer drops
   * it), never is a record skipped that Kinesis does not hold.
   */
  async resumeFilter(
    kind: TableKind,
    saved: unknown,
  ): Promise<((record: OutgoingRecord) => boolean) | undefined> {
    if (!isShardPositions(saved) || Object.keys(saved).length === 0) return undefined;
    const stream = streamName(this.#options.id, kind);
    let tail: { texts: string[]; last: ShardPositions };
    try {
      tail = await readTail(this.#client, stream, saved);
    } catch (error) {
      throw new TargetError(
        `cannot read ${stream} after the checkpoint: ${describeKinesisError(error)}`,
      );
    }
    this.#positions.set(kind, tail.last);
    const held = new Map<string, number>();
    for (const text of tail.texts) held.set(text, (held.get(text) ?? 0) + 1);
    if (tail.texts.length > 0) {
      this.#options.log(
        `${stream}: ${tail.texts.length} record(s) already sent after the checkpoint`,
      );
    }
    return (record) => {
      const text = JSON.stringify(record.record);
      const count = held.get(text) ?? 0;
      if (count === 0) return false;
      held.set(text, count - 1);
      return true;
    };
  }

  /** Releases the client's connections. */
  close(): Promise<void> {
    this.#client.destroy();
    return Promise.resolve();
  }

  async #status(stream: string): Promise<string | undefined> {
    try {
      const answer = await this.#client.send(
        new DescribeStreamSummaryCommand({ StreamName: stream }),
      );
      return answer.StreamDescriptionSummary?.StreamStatus;
    } catch (error) {
      if ((error as Error).name === "ResourceNotFoundException") return undefined;
      throw new TargetError(`cannot describe stream ${stream}: ${describeKinesisError(error)}`);
    }
  }

  /** PutRecords until every entry is accepted, retrying only the failed ones. */
  #putAll(kind: TableKind, stream: string, entries: KinesisEntry[]): Promise<void> {
    return retryUntilAccepted(entries, async (pending) => {
      let results: PutRecordsResultEntry[];
      try {
        const answer = await this.#client.send(
          new PutRecordsCommand({
            StreamName: stream,
            Records: pending.map((entry) => ({
              Data: entry.data,
              PartitionKey: entry.partitionKey,
            })),
          }),
        );
        results = answer.Records ?? [];
      } catch (error) {
        throw new CallFailure(classifyKinesisError(error), describeKinesisError(error));
      }
      if (results.length !== pending.length) {
        throw new CallFailure(
          "fatal",
          `answered ${results.length} results for ${pending.length} records`,
        );
      }
      const positions = this.#positions.get(kind) ?? {};
      for (const result of results) {
        if (result.ErrorCode || !result.ShardId || !result.SequenceNumber) continue;
        positions[result.ShardId] = laterSequence(positions[result.ShardId], result.SequenceNumber);
      }
      this.#positions.set(kind, positions);
      return collectFailures(stream, pending, results);
    }, {
      what: `PutRecords to ${stream}`,
      pacer: this.#pacer,
      maxAttempts: this.#options.maxAttempts,
      backoff: this.#options.backoff,
      throttleTimeoutMs: this.#options.throttleTimeoutMs,
    });
  }
}
