/**
 * The Kinesis target's delivery, the same through either transport (the
 * SDK's PutRecords or the API Gateway proxy): its settings, building an entry per record,
 * waiting for a stream to be ACTIVE, reading a PutRecords answer, and
 * retrying until Kinesis accepted every entry: failed entries are retried
 * alone after a jittered backoff, throttling slows every later call down
 * and is retried for as long as `throttleTimeoutMs`, never dropped.
 *
 * @example
 * ```ts
 * import { toKinesisEntry } from "./delivery.ts";
 * import { outgoing } from "../core/records.ts";
 * const entry = toKinesisEntry("pin", outgoing("pin", 7, { index: 7 }), "index");
 * entry.partitionKey; // "7"
 * ```
 */
import type { TargetOptions } from "../transfer/target.ts";
import type { OutgoingRecord } from "../core/records.ts";
import { ThrottlePacer } from "../transfer/pacing.ts";
import { RecordRejectedError, TargetError } from "../core/errors.ts";
import {
  Backoff,
  backoffDelay,
  type BackoffOptions,
  DEFAULT_BACKOFF,
  sleep,
} from "../util/retry.ts";
import type { TableKind } from "../core/tables.ts";
import type { KinesisEntry } from "./batches.ts";
import { CallFailure, isRetryableRecordError, isThrottle, oneLine } from "./errors.ts";

/** How records are spread over shards: by row index (stable) or a random uuid (the original's). */
export type PartitionKeyMode = "index" | "uuid";

/** Settings of the Kinesis target, whatever its transport. */
export interface KinesisDeliveryOptions extends TargetOptions {
  /** Shards of a stream this target creates. */
  shards: number;
  /** Default "index". */
  partitionKey?: PartitionKeyMode;
  /** Records per PutRecords call or batch request, at most 500 (the default). */
  batchRecords?: number;
  /** Calls (batch requests) in flight at once for one table. Default 2. */
  inFlight?: number;
  /** Attempts for a call or record failing for reasons other than throttling. Default 8. */
  maxAttempts?: number;
  /** Give up after being throttled without pause this long. Default 10 minutes. */
  throttleTimeoutMs?: number;
  backoff?: BackoffOptions;
  /** How long to wait for a stream to become ACTIVE. Default 5 minutes. */
  activeTimeoutMs?: number;
  /**
   * After calls that got no answer, how long the stream must stay the same before what it holds
   * is taken as all they wrote. Default 1 s.
   */
  settleMs?: number;
}

/** The defaults of `KinesisDeliveryOptions`. */
export const KINESIS_DELIVERY_DEFAULTS = {
  partitionKey: "index" as PartitionKeyMode,
  batchRecords: 500,
  inFlight: 2,
  maxAttempts: 8,
  throttleTimeoutMs: 600_000,
  backoff: DEFAULT_BACKOFF as BackoffOptions,
  activeTimeoutMs: 300_000,
  settleMs: 1_000,
};

/** Builds the PutRecords entry for an outgoing record. */
export function toKinesisEntry(
  kind: TableKind,
  record: OutgoingRecord,
  mode: PartitionKeyMode,
): KinesisEntry & { source: OutgoingRecord } {
  return {
    data: new TextEncoder().encode(JSON.stringify(record.record)),
    partitionKey: mode === "uuid" ? crypto.randomUUID() : record.key,
    label: `${kind} row ${record.index}`,
    source: record,
  };
}

/**
 * Asks `status` until the stream is ACTIVE (or UPDATING, which takes
 * writes), backing off from 100 ms to 2 s; fails after `timeoutMs` or if
 * the stream is gone. `where` prefixes the error, e.g. `API https://...: `.
 */
export async function waitUntilActive(
  stream: string,
  status: () => Promise<string | undefined>,
  timeoutMs: number,
  where = "",
): Promise<void> {
  const backoff = new Backoff({ baseMs: 50, capMs: 2_000, deadlineMs: timeoutMs });
  for (;;) {
    const now = await status();
    if (now === "ACTIVE" || now === "UPDATING") return;
    if (now === undefined) {
      throw new TargetError(`${where}stream ${stream} vanished while waiting for it`);
    }
    const wait = backoff.next();
    if (wait === undefined) {
      throw new TargetError(`${where}stream ${stream} still ${now} after ${timeoutMs / 1000} s`);
    }
    await sleep(wait);
  }
}

/** What one attempt left undelivered: the entries to retry, and how many were throttled. */
export interface AttemptOutcome<T> {
  failed: T[];
  throttled: number;
  /** The first failure's code and message, for the final error. */
  firstError?: string;
}

/**
 * Reads a PutRecords answer: the entries to retry (throttled or failed
 * inside the service), and a `RecordRejectedError` for any other error code.
 */
export function collectFailures<T extends KinesisEntry>(
  stream: string,
  pending: readonly T[],
  results: readonly { ErrorCode?: string; ErrorMessage?: string }[],
): AttemptOutcome<T> {
  const failed: T[] = [];
  let throttled = 0;
  let firstError: string | undefined;
  results.forEach((result, i) => {
    if (!result.ErrorCode) return;
    const message = `${result.ErrorCode}: ${oneLine(result.ErrorMessage ?? "")}`;
    if (!isRetryableRecordError(result.ErrorCode)) {
      throw new RecordRejectedError(`${stream}: ${pending[i].label} refused: ${message}`);
    }
    if (isThrottle(result.ErrorCode)) throttled++;
    firstError ??= message;
    failed.push(pending[i]);
  });
  return { failed, throttled, firstError };
}

/** Retry settings of `retryUntilAccepted`. */
export interface RetryContext {
  /** What is being sent where, e.g. `PutRecords to streaming-x-pin`. */
  what: string;
  /** Shared by every call of a target, so one throttle slows them all. */
  pacer: ThrottlePacer;
  /** Attempts for failures other than throttling. */
  maxAttempts: number;
  backoff: BackoffOptions;
  /** Give up after being throttled without a pause this long. */
  throttleTimeoutMs: number;
}

/**
 * Calls `attempt` with the pending entries until none are left: the failed
 * ones are retried alone after a jittered exponential backoff; throttling
 * slows the pacer and is retried for up to `throttleTimeoutMs`; a fatal call
 * failure, or failures beyond `maxAttempts`, end in a `TargetError`.
 */
export async function retryUntilAccepted<T extends { label: string }>(
  entries: T[],
  attempt: (pending: T[]) => Promise<AttemptOutcome<T>>,
  context: RetryContext,
): Promise<void> {
  const { what, pacer, maxAttempts, backoff, throttleTimeoutMs } = context;
  let pending = entries;
  let attempts = 0;
  let throttledSince: number | undefined;
  const throttled = () => {
    pacer.throttled();
    throttledSince ??= Date.now();
    if (Date.now() - throttledSince > throttleTimeoutMs) {
      throw new TargetError(
        `${what}: still throttled after ${Math.round(throttleTimeoutMs / 1000)} s; ` +
          `add shards or lower --rate`,
      );
    }
  };
  // Throttles do not count as attempts, but wait at least the first retry's backoff.
  const pause = () => sleep(backoffDelay(Math.max(attempts, 1), backoff));
  while (pending.length > 0) {
    await pacer.wait();
    let outcome: AttemptOutcome<T>;
    try {
      outcome = await attempt(pending);
    } catch (error) {
      if (!(error instanceof CallFailure)) throw error;
      if (!error.retriable) throw new TargetError(`${what} failed: ${error.message}`);
      if (error.failureClass === "throttle") throttled();
      else if (++attempts >= maxAttempts) {
        throw new TargetError(`${what} failed ${attempts} times: ${error.message}`);
      }
      await pause();
      continue;
    }
    if (outcome.failed.length === 0) {
      pacer.succeeded();
      return;
    }
    if (outcome.throttled > 0) throttled();
    else throttledSince = undefined;
    if (outcome.throttled < outcome.failed.length && ++attempts >= maxAttempts) {
      throw new TargetError(
        `${what}: ${outcome.failed.length} record(s) still failing after ${attempts} attempts, ` +
          `first ${outcome.failed[0].label}: ${outcome.firstError ?? "unknown error"}`,
      );
    }
    pending = outcome.failed;
    await pause();
  }
}
