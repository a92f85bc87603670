/**
 * The pooled Encoder's buffers: zeroed, never handed out twice, their own
 * memory past half a slab; and kafkajs, loaded after the swap, encodes
 * through them (the bytes against kafkajs alone are in producer_thread_test.ts).
 */
import assert from "node:assert/strict";
import { encoderBuffer, verifyPooledEncoder } from "../../src/kafka/pooled_encoder.ts";

Deno.test("encoder buffers are zeroed slices that never overlap", () => {
  const buffers = [512, 1024, 7, 4096, 512].map((size) => encoderBuffer(size));
  for (const buffer of buffers) {
    assert.ok(buffer.every((byte) => byte === 0));
    buffer.fill(0xab);
  }
  for (const [i, buffer] of buffers.entries()) {
    assert.equal(buffer.length, [512, 1024, 7, 4096, 512][i]);
    assert.ok(buffer.every((byte) => byte === 0xab), `buffer ${i} kept its bytes`);
  }
  // Enough to roll over to a new slab: each one zeroed still.
  for (let i = 0; i < 3000; i++) {
    const buffer = encoderBuffer(1024);
    assert.equal(buffer[0] | buffer[1023], 0);
    buffer.fill(1);
  }
  const large = encoderBuffer(600_000);
  assert.equal(large.buffer.byteLength, 600_000, "past half a slab: its own memory");
});

Deno.test("kafkajs's produce requests encode through the pool", async () => {
  await import("kafkajs");
  await verifyPooledEncoder();
});
