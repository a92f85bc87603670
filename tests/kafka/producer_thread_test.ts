/**
 * The producer thread, with every kafkajs patch in place, against kafkajs
 * alone, each in a worker of its own (producer_thread_probe.ts): the same
 * produce request bytes; `Buffer.alloc` still Node's, zero-filled, for
 * everyone else on the thread; `process.emitWarning` untouched, other
 * warnings still heard, and kafkajs's idle queue no longer warning. And a
 * patch loaded after kafkajs refuses to swap, loudly.
 */
import assert from "node:assert/strict";
import type { ProbeReport } from "./producer_thread_probe.ts";

/** The report of a probe worker named `mode`. */
function probe(mode: "stock" | "patched" | "late"): Promise<ProbeReport> {
  const worker = new Worker(new URL("./producer_thread_probe.ts", import.meta.url), {
    type: "module",
    name: mode,
  });
  return new Promise<ProbeReport>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<ProbeReport>) => resolve(event.data);
    worker.onerror = (event) => {
      event.preventDefault();
      reject(new Error(`${mode} probe failed: ${event.message}`));
    };
  }).finally(() => worker.terminate());
}

const stock = await probe("stock");
const patched = await probe("patched");

Deno.test("the producer thread encodes produce requests byte for byte as kafkajs alone", () => {
  assert.equal(patched.encodings.length, 3);
  for (const [i, bytes] of stock.encodings.entries()) {
    assert.ok(bytes.length > 0);
    assert.deepEqual(patched.encodings[i], bytes, `request ${i}`);
  }
});

Deno.test("after the producer thread's patches, Buffer.alloc is Node's and zero-fills", () => {
  assert.deepEqual(patched.globalsUnchanged, { alloc: true, poolSize: true, emitWarning: true });
  assert.ok(patched.allocZeroed.length > 0);
  assert.ok(patched.allocZeroed.every(Boolean), JSON.stringify(patched.allocZeroed));
});

Deno.test("kafkajs's idle queue stops warning; other warnings still reach listeners", () => {
  // kafkajs alone: its idle queue's negative timer warns too (and again each millisecond).
  // kafkajs alone: its idle queue's negative timer warns (a thread warns of negative timers once).
  assert.match(stock.warnings[0], /^TimeoutNegativeWarning: -\d{13} is a negative number/);
  // Patched: the other code's negative timer is the first, then the other warning.
  assert.deepEqual(patched.warnings, [
    "TimeoutNegativeWarning: -5 is a negative number.",
    "ProbeWarning: from the probe",
  ]);
});

Deno.test("a patch imported after kafkajs has loaded refuses to swap, naming why", async () => {
  const late = await probe("late");
  assert.equal(late.lateErrors.length, 2);
  assert.match(
    late.lateErrors[0],
    /^pooled_encoder\.ts: src\/kafka\/pooled_encoder\.ts must be imported before the rest of kafkajs.*src\/protocol\/request\.js/,
  );
  assert.match(
    late.lateErrors[1],
    /^linear_grouping\.ts: .*must be imported before kafkajs's producer.*sendMessages\.js is already loaded/,
  );
});
