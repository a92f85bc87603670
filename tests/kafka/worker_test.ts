/**
 * The messages a send hands to the producer worker come out of their packed
 * form exactly as they went in: keys, values (any text) and partitions.
 */
import assert from "node:assert/strict";
import { packMessages, unpackMessages } from "../../src/kafka/worker.ts";

Deno.test("packed messages unpack to the same keys, values and partitions", () => {
  const messages = [
    { key: "0", value: "{}", partition: 0 },
    { key: "", value: "", partition: 3 },
    { key: "12345678901234567890", value: '{"title":"é ✓ 𝄞 \\u0000 \u2028"}', partition: 7 },
    ...Array.from({ length: 1000 }, (_, i) => ({
      key: String(i * 104729),
      value: JSON.stringify({ i, text: "𝄞x".repeat(i % 50) }),
      partition: i % 5,
    })),
  ];
  const packed = packMessages(messages);
  assert.equal(packed.partitions.length, messages.length);
  // What crosses to the worker is a structured clone: two strings and two typed arrays.
  assert.deepEqual(unpackMessages(structuredClone(packed)), messages);
  assert.deepEqual(unpackMessages(packMessages([])), []);
});
