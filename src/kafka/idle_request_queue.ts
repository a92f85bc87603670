/**
 * Stops kafkajs 2.2.4's idle request-queue timer, the source of its
 * TimeoutNegativeWarning (kafkajs issues 1704 and 1751, open, no release
 * since). After every answer a connection's queue schedules a check of its
 * pending requests at `throttledUntil - Date.now()`; unthrottled,
 * `throttledUntil` is -1, so the delay is minus the epoch in milliseconds:
 * the runtime warns, sets it to 1 ms, and the check, finding nothing
 * pending, schedules itself again: a warning and a wake-up every
 * millisecond for as long as the connection is open.
 *
 * Here that check is not scheduled when nothing is pending and the queue
 * is not throttled, as it can do nothing then: a request that has to wait
 * (`push`) schedules its own check, and an answer or a timeout checks at
 * once. Every other case schedules exactly as kafkajs does. Nothing outside
 * kafkajs changes: `process.emitWarning` and other code's warnings are
 * untouched.
 *
 * @example
 * ```ts
 * import { stopIdleRequestQueueTimer } from "./idle_request_queue.ts";
 * stopIdleRequestQueueTimer(); // before kafkajs connects (kafkaClient does it)
 * ```
 */
// kafkajs's one request queue class, one instance per connection.
import RequestQueue from "kafkajs/src/network/requestQueue/index.js";
import { assertPatchedKafkajs } from "./kafkajs_internals.ts";

/** The fields of kafkajs's RequestQueue read here. */
interface KafkaRequestQueue {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

const queuePrototype = (RequestQueue as unknown as { prototype: KafkaRequestQueue }).prototype;

/** kafkajs's own method (for the tests that compare both). */
export const KAFKAJS_SCHEDULE = queuePrototype.scheduleCheckPendingRequests;

/** kafkajs's interval for pending requests when not throttled. */
const CHECK_PENDING_REQUESTS_INTERVAL = 10;

/** kafkajs's `scheduleCheckPendingRequests`, returning where its check could do nothing. */
export function scheduleCheckPendingRequests(this: KafkaRequestQueue): void {
  let scheduleAt = this.throttledUntil - Date.now();
  if (this.throttleCheckTimeoutId) return;
  if (this.pending.length > 0) {
    scheduleAt = scheduleAt > 0 ? scheduleAt : CHECK_PENDING_REQUESTS_INTERVAL;
  } else if (scheduleAt <= 0) {
    return;
  }
  this.throttleCheckTimeoutId = setTimeout(() => {
    this.throttleCheckTimeoutId = null;
    this.checkPendingRequests();
  }, scheduleAt);
}

/** Installs the method above on kafkajs's RequestQueue (once; throws on another kafkajs). */
export function stopIdleRequestQueueTimer(): void {
  if (queuePrototype.scheduleCheckPendingRequests === scheduleCheckPendingRequests) return;
  assertPatchedKafkajs("idle_request_queue.ts");
  queuePrototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
}
