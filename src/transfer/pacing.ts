/**
 * How fast records go out. Two different concerns: `RatePacer` holds a
 * transfer to the rate the user asked for (`--rate`), and `ThrottlePacer`
 * answers a service's "too fast" (Kinesis ProvisionedThroughputExceeded,
 * HTTP 429) by slowing every later call down, then speeding up again while
 * calls succeed. Throttled records are retried, never dropped.
 *
 * @example
 * ```ts
 * import { RatePacer, ThrottlePacer } from "./pacing.ts";
 * const rate = new RatePacer(100);
 * await rate.take(10); // returns once 10 more items fit in 100 per second
 * const throttle = new ThrottlePacer();
 * throttle.throttled(); // later calls wait throttle.delayMs first
 * ```
 */
import { sleep } from "../util/retry.ts";

/**
 * Paces work to `rate` items per second overall (undefined: no limit):
 * `await pacer.take(n)` returns when n more items may go.
 */
export class RatePacer {
  #start = performance.now();
  #taken = 0;

  constructor(readonly rate?: number) {}

  /** Waits until `count` more items fit in the rate; `signal` ends the wait early. */
  async take(count: number, signal?: AbortSignal): Promise<void> {
    this.#taken += count;
    if (!this.rate) return;
    const due = this.#start + (this.#taken / this.rate) * 1000;
    await sleep(due - performance.now(), signal);
  }
}

/** The batch size to use at `rate` rows/s: about five batches a second, at most `size`. */
export function pacedBatchSize(size: number, rate?: number): number {
  return rate ? Math.max(1, Math.min(size, Math.floor(rate / 5))) : size;
}

/**
 * Adaptive pacing: each throttle doubles the wait before every call (from
 * `minMs` up to `maxMs`); each success shrinks it by a quarter. Without
 * throttling it costs nothing.
 */
export class ThrottlePacer {
  #delayMs = 0;
  /** How many times calls were throttled. */
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
