/**
 * What the Kinesis target asks of the way it reaches a stream: the SDK
 * (`sdk_transport.ts`) or an API Gateway Kinesis proxy (`api_transport.ts`).
 * The target does the rest alike for both: creating and waiting on streams,
 * batching, retrying, positions and the resume check.
 *
 * @example
 * ```ts
 * import type { KinesisTransport } from "./transport.ts";
 * const describe = (transport: KinesisTransport) => transport.status("streaming-0123456789ab-pin");
 * ```
 */
import type { KinesisEntry } from "./batches.ts";
import type { ShardPositions, TailRecord } from "./tail.ts";

/** One entry of a PutRecords answer, in the order of the entries sent. */
export interface PutResult {
  ErrorCode?: string;
  ErrorMessage?: string;
  ShardId?: string;
  SequenceNumber?: string;
}

/** A way to reach Kinesis streams. */
export interface KinesisTransport {
  /** The target's name: "kinesis" or "kinesis-api" (checkpoint files are kept per name). */
  readonly name: string;
  /** What starts this transport's error lines, e.g. `API https://...: ` (empty for the SDK). */
  readonly where: string;
  /** When set, the records a call carries at most, whatever the target's batch size. */
  readonly recordsPerCall?: number;
  /** When set, the calls in flight at once per table, whatever the target's setting. */
  readonly callsInFlight?: number;
  /** The stream's status (ACTIVE, CREATING, DELETING...), undefined if there is none. */
  status(stream: string): Promise<string | undefined>;
  /**
   * Creates the stream; false if it exists already (created a moment ago
   * elsewhere), which is fine.
   */
  create(stream: string, shards: number): Promise<boolean>;
  /** What the call is, for error lines: `PutRecords to <stream>`. */
  putName(stream: string): string;
  /** Sends `entries`; throws a `CallFailure` when the whole call failed. */
  put(stream: string, entries: readonly KinesisEntry[]): Promise<PutResult[]>;
  /**
   * Every record after `positions`, per shard in order (in shards without a position, those
   * that arrived since `since`, or all when not given); absent where the transport cannot read.
   */
  readTail?(stream: string, positions: ShardPositions, since?: Date): Promise<TailRecord[]>;
  close(): void;
}
