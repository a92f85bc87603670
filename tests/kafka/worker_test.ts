/**
 * The messages a send hands to the producer worker come out of their packed
 * form as the same keys, values and partitions (the text as UTF-8 bytes,
 * which kafkajs writes as they are), and a produce request encoded from
 * them is byte for byte the one encoded from the strings.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import produceV7 from "kafkajs/src/protocol/requests/produce/v7/request.js";
import createRequest from "kafkajs/src/protocol/request.js";
import Long from "kafkajs/src/utils/long.js";
import { packMessages, unpackMessages } from "../../src/kafka/worker.ts";
import { installFastEncoder, uninstallFastEncoder } from "../../src/kafka/fast_encoder.ts";

const MESSAGES = [
  { key: "0", value: "{}", partition: 0 },
  { key: "", value: "", partition: 3 },
  { key: "12345678901234567890", value: '{"title":"é ✓ 𝄞 \\u0000 \u2028"}', partition: 7 },
  // Wholly non-ASCII text, past the room packMessages starts with: the buffer grows.
  { key: "7", value: "✓".repeat(5000) + "𝄞".repeat(3000), partition: 1 },
  ...Array.from({ length: 1000 }, (_, i) => ({
    key: String(i * 104729),
    value: JSON.stringify({ i, text: "𝄞x".repeat(i % 50), more: "é".repeat(i % 7) }),
    partition: i % 5,
  })),
];

Deno.test("packed messages unpack to the same keys, values and partitions", () => {
  const packed = packMessages(MESSAGES);
  assert.equal(packed.partitions.length, MESSAGES.length);
  // What crosses to the worker is a structured clone (the buffers transferred).
  const crossed = structuredClone(packed, {
    transfer: [packed.bytes.buffer, packed.lengths.buffer, packed.partitions.buffer],
  });
  const unpacked = unpackMessages(crossed);
  assert.deepEqual(
    unpacked.map(({ key, value, partition }) => ({
      key: key.toString("utf8"),
      value: value.toString("utf8"),
      partition,
    })),
    MESSAGES,
  );
  for (const message of unpacked) {
    assert.ok(Buffer.isBuffer(message.key) && Buffer.isBuffer(message.value));
  }
  assert.deepEqual(unpackMessages(packMessages([])), []);
});

/** The bytes of a produce request of `messages` (one partition), as kafkajs encodes it. */
async function request(messages: Array<{ key: unknown; value: unknown }>): Promise<Buffer> {
  const produce = produceV7({
    acks: -1,
    timeout: 30_000,
    producerId: Long.fromNumber(99),
    producerEpoch: 0,
    topicData: [{ topic: "t", partitions: [{ partition: 0, firstSequence: 5, messages }] }],
  });
  return (await createRequest({ correlationId: 1, clientId: "pinpipe-batch", request: produce }))
    .buffer;
}

Deno.test("a request from the unpacked Buffers is the request from the strings", async () => {
  const now = Date.now;
  Date.now = () => 1_795_000_000_000;
  try {
    for (const fast of [false, true]) {
      if (fast) installFastEncoder();
      try {
        const fromStrings = await request(MESSAGES);
        const fromBuffers = await request(unpackMessages(packMessages(MESSAGES)));
        assert.ok(fromBuffers.equals(fromStrings), fast ? "fast encoder" : "kafkajs's encoder");
      } finally {
        uninstallFastEncoder();
      }
    }
  } finally {
    Date.now = now;
  }
});
