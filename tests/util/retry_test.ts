/**
 * The one retry timing: backoff bounds, full jitter within them, attempt
 * limits, the deadline, retrying only what is worth it, and a sleep that a
 * signal cuts short.
 */
import assert from "node:assert/strict";
import {
  Backoff,
  backoffDelay,
  isRetriable,
  pollUntil,
  retry,
  sleep,
} from "../../src/util/retry.ts";
import { RetriableTargetError, TargetError } from "../../src/core/errors.ts";

Deno.test("backoff grows exponentially with full jitter, capped", () => {
  const options = { baseMs: 50, capMs: 1_000 };
  assert.equal(backoffDelay(1, options, () => 0.999999), 100);
  assert.equal(backoffDelay(3, options, () => 0.5), 200);
  assert.equal(backoffDelay(10, options, () => 0.999999), 1_000);
  assert.equal(backoffDelay(4, options, () => 0), 0);
  for (let attempt = 1; attempt < 12; attempt++) {
    const delay = backoffDelay(attempt, options);
    assert.ok(delay >= 0 && delay <= Math.min(1_000, 50 * 2 ** attempt));
  }
});

Deno.test("jitter spreads delays over the whole range, never past the ceiling", () => {
  const options = { baseMs: 100, capMs: 10_000 };
  const delays = Array.from({ length: 2_000 }, () => backoffDelay(2, options));
  assert.ok(delays.every((delay) => delay >= 0 && delay <= 400));
  assert.ok(delays.some((delay) => delay < 100), "some in the lowest quarter");
  assert.ok(delays.some((delay) => delay > 300), "some in the highest quarter");
  assert.ok(new Set(delays).size > 100, "not a handful of fixed values");
});

Deno.test("Backoff: counts failures, stops at maxAttempts, waits at least a Retry-After", () => {
  const backoff = new Backoff({ baseMs: 10, capMs: 1_000, maxAttempts: 3, random: () => 1 });
  assert.equal(backoff.next(), 20);
  assert.equal(backoff.next(500), 500);
  assert.equal(backoff.next(), undefined, "the third try was the last");
  assert.equal(backoff.failures, 3);
});

Deno.test("Backoff: no wait that would end past the deadline", () => {
  const backoff = new Backoff({ baseMs: 1_000, capMs: 60_000, deadlineMs: 5_000, random: () => 1 });
  assert.equal(backoff.next(), 2_000);
  assert.equal(backoff.next(), 4_000, "4 s still ends before the 5 s deadline");
  assert.equal(backoff.next(), undefined, "8 s would not");
});

Deno.test("retry: tries again until the work succeeds", async () => {
  const attempts: number[] = [];
  const answer = await retry((attempt) => {
    attempts.push(attempt);
    return attempt < 3 ? Promise.reject(new Error(`try ${attempt}`)) : Promise.resolve("done");
  }, { baseMs: 1, capMs: 5 });
  assert.equal(answer, "done");
  assert.deepEqual(attempts, [1, 2, 3]);
});

Deno.test("retry: rethrows at once what retryIf says is not worth it", async () => {
  let calls = 0;
  await assert.rejects(
    retry(() => {
      calls++;
      return Promise.reject(new Error("fatal"));
    }, { baseMs: 1, retryIf: (error) => (error as Error).message !== "fatal" }),
    /fatal/,
  );
  assert.equal(calls, 1);
});

Deno.test("retry: gives up with the last failure when maxAttempts or the deadline is reached", async () => {
  let calls = 0;
  await assert.rejects(
    retry(() => Promise.reject(new Error(`failure ${++calls}`)), { baseMs: 1, maxAttempts: 4 }),
    /failure 4/,
  );
  assert.equal(calls, 4);
  const started = Date.now();
  await assert.rejects(
    retry(() => Promise.reject(new Error("down")), { baseMs: 20, capMs: 40, deadlineMs: 300 }),
    /down/,
  );
  const took = Date.now() - started;
  assert.ok(took < 1_000, `stopped near the 300 ms deadline, took ${took} ms`);
});

Deno.test("sleep: waits the time asked, or less when the signal aborts", async () => {
  let started = performance.now();
  await sleep(100);
  assert.ok(performance.now() - started >= 95);
  const stop = new AbortController();
  started = performance.now();
  setTimeout(() => stop.abort(), 50);
  await sleep(10_000, stop.signal);
  const took = performance.now() - started;
  assert.ok(took < 1_000, `aborted after ${took} ms`);
  started = performance.now();
  await sleep(10_000, stop.signal); // already aborted: at once
  await sleep(-5);
  assert.ok(performance.now() - started < 50);
});

Deno.test("retry: an aborted signal ends the waiting with the last failure", async () => {
  const stop = new AbortController();
  setTimeout(() => stop.abort(), 50);
  const started = performance.now();
  await assert.rejects(
    retry(() => Promise.reject(new Error("still down")), {
      baseMs: 5_000,
      capMs: 5_000,
      random: () => 1,
      signal: stop.signal,
    }),
    /still down/,
  );
  assert.ok(performance.now() - started < 1_000);
});

Deno.test("pollUntil: true once the condition holds, false after the timeout or an abort", async () => {
  let looks = 0;
  assert.equal(await pollUntil(() => ++looks === 3, { everyMs: 1, timeoutMs: 5_000 }), true);
  assert.equal(looks, 3);
  const started = performance.now();
  assert.equal(await pollUntil(() => false, { everyMs: 10, timeoutMs: 60 }), false);
  assert.ok(performance.now() - started >= 55);
  const stop = new AbortController();
  setTimeout(() => stop.abort(), 20);
  assert.equal(
    await pollUntil(() => false, { everyMs: 5_000, timeoutMs: 60_000, signal: stop.signal }),
    false,
  );
  assert.ok(performance.now() - started < 2_000);
  await assert.rejects(
    pollUntil(() => Promise.reject(new Error("broken")), { everyMs: 1, timeoutMs: 100 }),
    /broken/,
  );
});

Deno.test("isRetriable asks the error; retry waits at least the retryAfterMs a failure carries", async () => {
  assert.equal(isRetriable(new RetriableTargetError("503")), true);
  assert.equal(isRetriable(new TargetError("403")), false);
  assert.equal(isRetriable(new Error("plain")), false);
  assert.equal(isRetriable(undefined), false);
  let tries = 0;
  const started = performance.now();
  const answer = await retry(() => {
    if (++tries === 1) return Promise.reject(new RetriableTargetError("429", 150));
    return Promise.resolve("in");
  }, { baseMs: 1, capMs: 1, retryIf: isRetriable });
  assert.equal(answer, "in");
  assert.ok(performance.now() - started >= 140, "waited what the failure asked");
  await assert.rejects(
    retry(() => {
      tries++;
      return Promise.reject(new TargetError("refused"));
    }, { retryIf: isRetriable }),
    /refused/,
  );
});
