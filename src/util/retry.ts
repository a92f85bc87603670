/**
 * The one retry timing of the pipeline: exponential backoff with full
 * jitter (a uniform random fraction of `base * 2^attempt`, capped), so that
 * many clients retrying at once spread out; an optional limit on attempts
 * and an optional deadline; and a sleep that an `AbortSignal` cuts short.
 * `retry` runs a call until it succeeds; `Backoff` serves loops that decide
 * for themselves what a failure is (an HTTP status, a shard to skip);
 * `pollUntil` asks a condition at a steady pace until it holds. Whether a
 * failure is worth another try is the error's to say (`isRetriable`: its
 * `retriable` property, as `core/errors.ts`'s `RetriableTargetError` and
 * the services' call failures carry it), not a list of codes at each loop.
 *
 * @example
 * ```ts
 * import { backoffDelay, retry } from "./retry.ts";
 * backoffDelay(3, { baseMs: 50, capMs: 5000 }, () => 0.5); // 200
 * const answer = await retry(() => fetch("http://127.0.0.1:8082/topics"), {
 *   baseMs: 200,
 *   capMs: 5_000,
 *   deadlineMs: 30_000,
 * });
 * ```
 */

/** Backoff settings: the first delay's ceiling is `2 * baseMs`; no delay is over `capMs`. */
export interface BackoffOptions {
  baseMs: number;
  capMs: number;
}

/** The defaults: 50 ms doubling up to 5 s. */
export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = { baseMs: 50, capMs: 5_000 };

/**
 * The delay before retry number `attempt` (1 = first retry): a uniform
 * random fraction of `base * 2^attempt`, capped ("full jitter").
 */
export function backoffDelay(
  attempt: number,
  { baseMs, capMs }: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(ceiling * random());
}

/** Resolves after `ms` milliseconds (at once for 0 or less), or as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** When to stop retrying, beside the backoff itself. */
export interface RetryLimits extends Partial<BackoffOptions> {
  /** Tries in all, the first included (default: no limit). */
  maxAttempts?: number;
  /** Give up rather than wait past this many ms after the first try (default: no deadline). */
  deadlineMs?: number;
  /** The jitter's random source, for tests. */
  random?: () => number;
}

/** The waits of one retried call: counts failures and answers how long to wait, or to stop. */
export class Backoff {
  readonly #started = Date.now();
  readonly #limits: RetryLimits;
  #failures = 0;

  constructor(limits: RetryLimits = {}) {
    this.#limits = limits;
  }

  /** Failures counted so far. */
  get failures(): number {
    return this.#failures;
  }

  /** Milliseconds since the first try. */
  get elapsedMs(): number {
    return Date.now() - this.#started;
  }

  /**
   * Counts a failure and answers the wait before the next try (at least
   * `atLeastMs`, e.g. a Retry-After), or undefined when the attempts are
   * used up or the wait would end past the deadline.
   */
  next(atLeastMs = 0): number | undefined {
    this.#failures++;
    const { maxAttempts, deadlineMs, random } = this.#limits;
    if (maxAttempts !== undefined && this.#failures >= maxAttempts) return undefined;
    const wait = Math.max(atLeastMs, backoffDelay(this.#failures, this.#options(), random));
    if (deadlineMs !== undefined && this.elapsedMs + wait > deadlineMs) return undefined;
    return wait;
  }

  #options(): BackoffOptions {
    return {
      baseMs: this.#limits.baseMs ?? DEFAULT_BACKOFF.baseMs,
      capMs: this.#limits.capMs ?? DEFAULT_BACKOFF.capMs,
    };
  }
}

/** Whether `error` says trying again may succeed: `retriable: true` on it. */
export function isRetriable(error: unknown): boolean {
  return (error as { retriable?: unknown } | undefined)?.retriable === true;
}

/** The least wait before another try that `error` carries (`retryAfterMs`), else 0. */
function retryAfter(error: unknown): number {
  const ms = (error as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
  return typeof ms === "number" && ms > 0 ? ms : 0;
}

/** Settings of `retry`. */
export interface RetryOptions extends RetryLimits {
  /** Whether a failure is worth another try (default: every failure; `isRetriable` asks the error). */
  retryIf?: (error: unknown) => boolean;
  /** Stops the waiting: the last failure is thrown at once. */
  signal?: AbortSignal;
}

/**
 * Calls `work` until it resolves, waiting with jittered backoff between
 * tries (at least what a failure's `retryAfterMs` asks). Rethrows the last failure when it is not worth retrying, the
 * attempts are used up, the deadline would pass, or `signal` aborted.
 */
export async function retry<T>(
  work: (attempt: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const backoff = new Backoff(options);
  for (;;) {
    try {
      return await work(backoff.failures + 1);
    } catch (error) {
      if (options.signal?.aborted || !(options.retryIf?.(error) ?? true)) throw error;
      const wait = backoff.next(retryAfter(error));
      if (wait === undefined) throw error;
      await sleep(wait, options.signal);
      if (options.signal?.aborted) throw error;
    }
  }
}

/** Settings of `pollUntil`. */
export interface PollOptions {
  /** The pause between two looks. */
  everyMs: number;
  /** Give up after this long without the condition holding. */
  timeoutMs: number;
  /** Stops the polling: answers false at once. */
  signal?: AbortSignal;
}

/**
 * Asks `check` every `everyMs` until it answers true (then true), or until
 * `timeoutMs` passed or `signal` aborted (then false). What `check` throws
 * ends the polling with that error.
 */
export async function pollUntil(
  check: () => boolean | Promise<boolean>,
  { everyMs, timeoutMs, signal }: PollOptions,
): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (signal?.aborted || Date.now() >= until) return false;
    await sleep(Math.min(everyMs, until - Date.now()), signal);
  }
}
