/** Pacing: the --rate pacer, and the pacer that answers a service's throttling. */
import assert from "node:assert/strict";
import { pacedBatchSize, RatePacer, ThrottlePacer } from "../../src/transfer/pacing.ts";

Deno.test("the pacer slows down on throttling and recovers on success", () => {
  const pacer = new ThrottlePacer(50, 400);
  assert.equal(pacer.delayMs, 0);
  pacer.throttled();
  assert.equal(pacer.delayMs, 50);
  pacer.throttled();
  pacer.throttled();
  pacer.throttled();
  assert.equal(pacer.delayMs, 400); // capped
  assert.equal(pacer.throttles, 4);
  pacer.succeeded();
  assert.equal(pacer.delayMs, 300);
  for (let i = 0; i < 20; i++) pacer.succeeded();
  assert.equal(pacer.delayMs, 0);
});

Deno.test("RatePacer: 50 items at 100/s take about half a second; no rate, no wait", async () => {
  const paced = new RatePacer(100);
  const start = performance.now();
  for (let i = 0; i < 5; i++) await paced.take(10);
  const elapsed = performance.now() - start;
  assert.ok(elapsed >= 480 && elapsed < 1500, `took ${elapsed} ms`);
  const free = new RatePacer();
  const again = performance.now();
  await free.take(1_000_000);
  assert.ok(performance.now() - again < 50);
  assert.equal(pacedBatchSize(1000, 100), 20);
  assert.equal(pacedBatchSize(1000, 2), 1);
  assert.equal(pacedBatchSize(1000), 1000);
});
