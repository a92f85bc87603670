/**
 * kafkajs's request queue without its idle timer: requests still flow (one
 * in flight, throttled), nothing is scheduled once the queue is idle and no
 * TimeoutNegativeWarning comes from it, while `process.emitWarning` stays
 * the runtime's and other warnings still reach listeners. In every other
 * state it schedules exactly what kafkajs's own method does.
 */
import assert from "node:assert/strict";
import process from "node:process";
import RequestQueue from "kafkajs/src/network/requestQueue/index.js";
import { kafkaClient } from "../../src/kafka/client.ts";
import {
  KAFKAJS_SCHEDULE,
  scheduleCheckPendingRequests,
} from "../../src/kafka/idle_request_queue.ts";

// Before anything here warns: a thread reports a negative timer once only.
const emitWarning = process.emitWarning;
const warnings: string[] = [];
process.on("warning", (warning) => warnings.push(`${warning.name}: ${warning.message}`));

// deno-lint-ignore no-explicit-any
type Queue = any;

function newQueue(): Queue {
  return new RequestQueue({
    maxInFlightRequests: 1,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: "test",
    broker: "127.0.0.1:1",
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  });
}

/** A request as kafkajs's connection pushes it; `sent` records its id when it goes out. */
function request(correlationId: number, sent: number[]) {
  return {
    entry: {
      correlationId,
      apiName: "Produce",
      apiKey: 0,
      apiVersion: 7,
      resolve() {},
      reject() {},
    },
    expectResponse: true,
    sendRequest: () => sent.push(correlationId),
  };
}

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("through kafkaClient: requests flow, an idle queue schedules nothing and warns not", async () => {
  await kafkaClient({ brokers: ["127.0.0.1:1"], auth: "none" }, "test");
  assert.equal(RequestQueue.prototype.scheduleCheckPendingRequests, scheduleCheckPendingRequests);
  assert.equal(process.emitWarning, emitWarning);
  const queue = newQueue();
  const sent: number[] = [];
  try {
    queue.push(request(1, sent));
    queue.push(request(2, sent)); // waits: one in flight
    assert.deepEqual(sent, [1]);
    queue.fulfillRequest({ correlationId: 1, size: 0, payload: null });
    assert.deepEqual(sent, [1, 2], "sent as soon as the first is answered");
    queue.fulfillRequest({ correlationId: 2, size: 0, payload: null });
    // The check request 2 scheduled while it waited runs once, finds nothing, and stops.
    await tick(40);
    assert.equal(queue.throttleCheckTimeoutId, null, "idle: no timer");
    // Throttled by the broker: a request waits for the throttle's end, then goes.
    queue.maybeThrottle(60);
    queue.push(request(3, sent));
    assert.deepEqual(sent, [1, 2]);
    await tick(150);
    assert.deepEqual(sent, [1, 2, 3]);
    queue.fulfillRequest({ correlationId: 3, size: 0, payload: null });
    await tick(20);
    assert.equal(queue.throttleCheckTimeoutId, null, "idle again: no timer");
  } finally {
    queue.destroy();
  }
  process.emitWarning("still heard", "OtherWarning");
  await tick(10);
  assert.deepEqual(warnings, ["OtherWarning: still heard"]);
  // Other code's negative timer still warns: only kafkajs's own was removed.
  setTimeout(() => {}, -3);
  await tick(10);
  assert.equal(
    warnings[1],
    "TimeoutNegativeWarning: -3 is a negative number.\nTimeout duration was set to 1.",
  );
});

Deno.test("every other state schedules what kafkajs's own method schedules", () => {
  const now = Date.now;
  const at = 1_795_000_000_000;
  Date.now = () => at;
  try {
    for (const pending of [0, 1]) {
      for (const throttledUntil of [-1, at - 5, at, at + 200]) {
        for (const scheduled of [false, true]) {
          const delays = [KAFKAJS_SCHEDULE, scheduleCheckPendingRequests].map((schedule) => {
            const queue = newQueue();
            queue.pending = Array.from({ length: pending }, () => ({}));
            queue.throttledUntil = throttledUntil;
            const existing = scheduled ? setTimeout(() => {}, 5000) : null;
            queue.throttleCheckTimeoutId = existing;
            schedule.call(queue);
            const timer = queue.throttleCheckTimeoutId;
            const delay = scheduled && timer === existing ? "kept" : timer?._idleTimeout ?? "none";
            clearTimeout(timer);
            return delay;
          });
          const state = `pending ${pending}, throttled ${
            throttledUntil - at
          }, scheduled ${scheduled}`;
          if (pending === 0 && throttledUntil <= at && !scheduled) {
            // kafkajs's negative (or zero) delay: a 1 ms check of nothing, rescheduling itself.
            assert.deepEqual(delays, [1, "none"], state);
          } else {
            assert.equal(delays[1], delays[0], state);
          }
        }
      }
    }
  } finally {
    Date.now = now;
  }
});
