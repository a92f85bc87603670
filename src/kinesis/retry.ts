/**
 * Retry timing for the Kinesis targets: exponential backoff with full
 * jitter for failed records, and a pacer that answers throttling
 * (ProvisionedThroughputExceeded, HTTP 429) by slowing every later call
 * down, then speeding up again while calls succeed. Throttled records are
 * retried, never dropped.
 *
 * @example
 * ```ts
 * import { backoffDelay, Pacer } from "./retry.ts";
 * backoffDelay(3, { baseMs: 50, capMs: 5000 }, () => 0.5); // 200
 * const pacer = new Pacer();
 * pacer.throttled(); // later calls wait pacer.delayMs first
 * ```
 */

import { sleep } from "../source/row_order.ts";
import { TargetError } from "../core/errors.ts";

/** Backoff settings: the first delay and the most any one delay may be. */
export interface BackoffOptions {
  baseMs: number;
  capMs: number;
}

/** The defaults: 50 ms doubling up to 5 s. */
export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = { baseMs: 50, capMs: 5_000 };

/**
 * The delay before retry number `attempt` (1 = first retry): a uniform
 * random fraction of `base * 2^attempt`, capped ("full jitter"), so that
 * many clients retrying at once spread out.
 */
export function backoffDelay(
  attempt: number,
  { baseMs, capMs }: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(ceiling * random());
}

/** Resolves after `ms` milliseconds (at once for 0): the transfer driver's sleep. */
export { sleep };

/**
 * Adaptive pacing: each throttle doubles the wait before every call (from
 * `minMs` up to `maxMs`); each success shrinks it by a quarter. Without
 * throttling it costs nothing.
 */
export class Pacer {
  #delayMs = 0;
  /** How many times calls were throttled, for the summary. */
  throttles = 0;

  constructor(readonly minMs = 50, readonly maxMs = 10_000) {}

  /** The current wait before each call. */
  get delayMs(): number {
    return this.#delayMs;
  }

  /** Call before each request. */
  wait(): Promise<void> {
    return sleep(this.#delayMs);
  }

  /** The service said "too fast": slow down. */
  throttled(): void {
    this.throttles++;
    this.#delayMs = Math.min(this.maxMs, Math.max(this.minMs, this.#delayMs * 2));
  }

  /** A call went through unthrottled: speed up again. */
  succeeded(): void {
    this.#delayMs = this.#delayMs < this.minMs ? 0 : Math.floor(this.#delayMs * 0.75);
  }
}

/** Shortens a service message to one line of at most `max` characters. */
export function oneLine(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max)}...` : flat;
}

/** How a failed call should be answered: slow down, retry a few times, or stop. */
export type FailureClass = "throttle" | "transient" | "fatal";

/** A whole call failed; `failureClass` says whether to retry it. */
export class CallFailure extends Error {
  constructor(readonly failureClass: FailureClass, message: string) {
    super(message);
    this.name = "CallFailure";
  }
}

/** What one attempt left undelivered: the entries to retry, and how many were throttled. */
export interface AttemptOutcome<T> {
  failed: T[];
  throttled: number;
  /** The first failure's code and message, for the final error. */
  firstError?: string;
}

/** Retry settings and the counters they update. */
export interface RetryContext {
  /** What is being sent where, e.g. `PutRecords to streaming-x-pin`. */
  what: string;
  pacer: Pacer;
  /** Attempts for failures other than throttling. */
  maxAttempts: number;
  backoff: BackoffOptions;
  /** Give up after being throttled without a pause this long. */
  throttleTimeoutMs: number;
  stats: { calls: number; records: number; retriedRecords: number; throttles: number };
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
  const { what, pacer, maxAttempts, backoff, throttleTimeoutMs, stats } = context;
  let pending = entries;
  let attempts = 0;
  let throttledSince: number | undefined;
  const throttled = () => {
    pacer.throttled();
    stats.throttles++;
    throttledSince ??= Date.now();
    if (Date.now() - throttledSince > throttleTimeoutMs) {
      throw new TargetError(
        `${what}: still throttled after ${Math.round(throttleTimeoutMs / 1000)} s; ` +
          `add shards or lower --rate`,
      );
    }
  };
  while (pending.length > 0) {
    await pacer.wait();
    let outcome: AttemptOutcome<T>;
    try {
      stats.calls++;
      outcome = await attempt(pending);
    } catch (error) {
      if (!(error instanceof CallFailure)) throw error;
      if (error.failureClass === "fatal") throw new TargetError(`${what} failed: ${error.message}`);
      if (error.failureClass === "throttle") throttled();
      else if (++attempts >= maxAttempts) {
        throw new TargetError(`${what} failed ${attempts} times: ${error.message}`);
      }
      await sleep(backoffDelay(Math.max(attempts, 1), backoff));
      continue;
    }
    stats.records += pending.length - outcome.failed.length;
    if (outcome.failed.length === 0) {
      pacer.succeeded();
      return;
    }
    stats.retriedRecords += outcome.failed.length;
    if (outcome.throttled > 0) throttled();
    else throttledSince = undefined;
    if (outcome.throttled < outcome.failed.length && ++attempts >= maxAttempts) {
      throw new TargetError(
        `${what}: ${outcome.failed.length} record(s) still failing after ${attempts} attempts, ` +
          `first ${outcome.failed[0].label}: ${outcome.firstError ?? "unknown error"}`,
      );
    }
    pending = outcome.failed;
    await sleep(backoffDelay(Math.max(attempts, 1), backoff));
  }
}
