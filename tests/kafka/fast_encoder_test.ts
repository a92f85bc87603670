/**
 * The producer worker's Encoder methods write exactly kafkajs's bytes: each
 * patched method on edge values, then whole produce requests (records of
 * varied sizes, multi-byte text, several partitions) encoded both ways.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import Encoder from "kafkajs/src/protocol/encoder.js";
import produceV7 from "kafkajs/src/protocol/requests/produce/v7/request.js";
import createRequest from "kafkajs/src/protocol/request.js";
import Long from "kafkajs/src/utils/long.js";
import { installFastEncoder, uninstallFastEncoder } from "../../src/kafka/fast_encoder.ts";
import { kafkajsPath } from "../../src/kafka/kafkajs_internals.ts";

// deno-lint-ignore no-explicit-any
type AnyEncoder = any;

/** The bytes `write` makes with kafkajs's own methods and with the fast ones. */
function both(write: (encoder: AnyEncoder) => void): [Buffer, Buffer] {
  uninstallFastEncoder();
  const original = new Encoder();
  write(original);
  installFastEncoder();
  try {
    const fast = new Encoder();
    write(fast);
    return [original.buffer, fast.buffer];
  } finally {
    uninstallFastEncoder();
  }
}

const INT_EDGES = [
  0,
  1,
  -1,
  63,
  64,
  -64,
  -65,
  127,
  128,
  8191,
  8192,
  2 ** 20,
  2 ** 27,
  2 ** 28,
  2 ** 30 - 1,
  2 ** 30,
  2 ** 31 - 1,
  -(2 ** 31),
  -(2 ** 30),
  -(2 ** 30) - 1,
];

const PATCHED = [
  "writeUVarInt",
  "writeVarLong",
  "writeEncoder",
  "writeEncoderArray",
  "writeBufferInternal",
] as const;

Deno.test("installing replaces kafkajs's methods, uninstalling restores kafkajs's own", () => {
  // The reference encodings below are kafkajs's: the restored methods are the text of its encoder.js.
  const source = Deno.readTextFileSync(kafkajsPath("src/protocol/encoder.js"));
  const methods = () => [...PATCHED.map((name) => Encoder.prototype[name]), Encoder.sizeOfVarLong];
  uninstallFastEncoder();
  const original = methods();
  for (const method of original) assert.ok(source.includes(String(method)), String(method));
  installFastEncoder();
  for (const [i, method] of methods().entries()) assert.notEqual(method, original[i]);
  uninstallFastEncoder();
  assert.deepEqual(methods(), original);
});

Deno.test("varints and varlongs: the same bytes and sizes at every width", () => {
  for (const value of INT_EDGES) {
    const [a, b] = both((e) => e.writeVarInt(value).writeUVarInt(value >>> 0).writeVarLong(value));
    assert.deepEqual(b, a, `value ${value}`);
  }
  // Outside int32 (and Longs): kafkajs's own path, same bytes.
  for (const value of [2 ** 31, -(2 ** 31) - 1, 2 ** 40, -(2 ** 45)]) {
    const [a, b] = both((e) => e.writeVarLong(value));
    assert.deepEqual(b, a, `value ${value}`);
  }
  const [a, b] = both((e) => e.writeVarLong(Long.fromString("-9223372036854775808")));
  assert.deepEqual(b, a);
  for (const value of [...INT_EDGES, 2 ** 40, -(2 ** 33)]) {
    uninstallFastEncoder();
    const original = Encoder.sizeOfVarLong(value);
    installFastEncoder();
    const fast = Encoder.sizeOfVarLong(value);
    uninstallFastEncoder();
    assert.equal(fast, original, `size of ${value}`);
  }
});

Deno.test("nested encoders and buffers, small and large, across growth", () => {
  const nested = (size: number) => {
    const inner = new Encoder(8);
    for (let i = 0; i < size; i++) inner.writeInt8(i % 128);
    return inner;
  };
  for (const size of [0, 1, 47, 48, 49, 511, 512, 513, 5000, 70_000]) {
    const [a, b] = both((e) => {
      e.writeInt32(size).writeEncoder(nested(size));
      e.writeEncoderArray([nested(size), nested(3), nested(size)]);
      e.writeBuffer(Buffer.from(nested(size).buffer));
      e.writeVarIntBytes(Buffer.alloc(size, 7)).writeBytes(Buffer.alloc(size, 9));
    });
    assert.deepEqual(b, a, `size ${size}`);
  }
  assert.throws(() => both((e) => e.writeEncoder({})), /instance of Encoder/);
  assert.throws(() => both((e) => e.writeEncoderArray([null])), /instance of Encoder/);
});

/** A produce request as the idempotent producer sends it, encoded to its final bytes. */
async function produceBytes(
  messages: Array<{ key: string; value: string }>,
  partitions: number,
): Promise<Buffer> {
  const topicData = [{
    topic: "0123456789ab.pin",
    partitions: Array.from({ length: partitions }, (_, partition) => ({
      partition,
      firstSequence: 1000 * partition,
      messages: messages.filter((_, i) => i % partitions === partition),
    })),
  }];
  const request = produceV7({
    acks: -1,
    timeout: 30_000,
    producerId: Long.fromNumber(4242),
    producerEpoch: 3,
    topicData,
  });
  const encoder = await createRequest({ correlationId: 17, clientId: "pinpipe-batch", request });
  return encoder.buffer;
}

Deno.test("whole produce requests: identical bytes", async () => {
  const now = Date.now;
  Date.now = () => 1_795_000_000_000; // the batch's timestamps
  try {
    for (const [count, partitions] of [[1, 1], [500, 1], [2000, 1], [999, 3]]) {
      const messages = Array.from({ length: count }, (_, i) => ({
        key: String(i * 7919),
        value: JSON.stringify({
          index: i,
          title: "é ✓ 𝄞 ".repeat(i % 5) + "x".repeat((i * 37) % 900),
          n: i % 3 ? null : -i,
        }),
      }));
      uninstallFastEncoder();
      const original = await produceBytes(messages, partitions);
      installFastEncoder();
      const fast = await produceBytes(messages, partitions);
      uninstallFastEncoder();
      assert.equal(fast.length, original.length);
      assert.ok(fast.equals(original), `${count} messages over ${partitions} partition(s)`);
    }
  } finally {
    Date.now = now;
  }
});
