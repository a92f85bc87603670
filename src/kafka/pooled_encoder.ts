/**
 * kafkajs's `Encoder` with its buffers cut from a pool of its own, for the
 * producer thread. kafkajs 2.2.4 makes a fresh Encoder for every record
 * (512 bytes, 1 KiB once it grows) with `Buffer.alloc`, and in Deno each
 * `Buffer.alloc` makes its own ArrayBuffer: that was a fifth of the producer
 * worker's time. Here the Encoder's constructor and `ensureAvailable` take
 * their buffers from a 1 MiB slab instead; nothing else on the thread is
 * touched (`Buffer.alloc` stays Node's, zero-filled, for every other caller).
 * The slab is zero-filled and no byte of it is handed out twice, so even the
 * encoder's buffers start zeroed.
 *
 * The constructor cannot be patched in place, so `PooledEncoder` (the same
 * prototype and statics) takes Encoder's place in the CommonJS module cache:
 * this module must be evaluated before any other kafkajs module requires
 * `encoder.js`, and it throws if one already has. `verifyPooledEncoder`
 * proves, once kafkajs is loaded, that its produce requests encode through
 * the pool, and throws otherwise.
 *
 * @example
 * ```ts
 * import { verifyPooledEncoder } from "./pooled_encoder.ts"; // first import of the producer thread
 * await verifyPooledEncoder(); // once kafkajs is loaded
 * ```
 */
import { Buffer } from "node:buffer";
// The one Encoder class every kafkajs request is written with.
import Encoder from "kafkajs/src/protocol/encoder.js";
import {
  assertPatchedKafkajs,
  cachedKafkajsModule,
  loadedKafkajsModules,
} from "./kafkajs_internals.ts";

/** The fields of kafkajs's Encoder used here. */
interface KafkaEncoder {
  buf: Buffer;
  offset: number;
  ensureAvailable(length: number): void;
}

/** kafkajs's Encoder class as far as this module uses it. */
interface KafkaEncoderClass {
  new (initialSize?: number): KafkaEncoder;
  prototype: KafkaEncoder;
  nextPowerOfTwo(value: number): number;
}

const ENCODER_FILE = "src/protocol/encoder.js";

/** kafkajs modules that may be loaded before the swap: none of them requires encoder.js. */
const LOADED_BEFORE_SWAP_OK = new Set([
  "package.json",
  ENCODER_FILE,
  "src/utils/long.js",
  "src/producer/groupMessagesPerPartition.js",
]);

/** 1 MiB: a slab lasts a thousand records (an 8 KiB one was replaced every few). */
const SLAB_BYTES = 1024 * 1024;

let slab = Buffer.alloc(SLAB_BYTES);
let used = 0;
/** Buffers cut so far (for `verifyPooledEncoder`). */
let cut = 0;

/** `size` zeroed bytes for an encoder: a slice of the slab, or their own for large sizes. */
export function encoderBuffer(size: number): Buffer {
  if (size > SLAB_BYTES / 2) return Buffer.alloc(size);
  if (used + size > SLAB_BYTES) {
    slab = Buffer.alloc(SLAB_BYTES);
    used = 0;
  }
  const buffer = slab.subarray(used, used + size);
  used += size;
  cut++;
  return buffer;
}

const EncoderClass = Encoder as unknown as KafkaEncoderClass;

/** kafkajs's constructor, with the buffer from the pool. */
function PooledEncoder(this: KafkaEncoder, initialSize = 511): void {
  this.buf = encoderBuffer(EncoderClass.nextPowerOfTwo(initialSize));
  this.offset = 0;
}
// Its instances are Encoders (same methods, `instanceof Encoder`); its statics are Encoder's.
PooledEncoder.prototype = EncoderClass.prototype;
Object.setPrototypeOf(PooledEncoder, EncoderClass);

assertPatchedKafkajs("pooled_encoder.ts");
const early = loadedKafkajsModules().filter((file) => !LOADED_BEFORE_SWAP_OK.has(file));
if (early.length > 0) {
  throw new Error(
    `src/kafka/pooled_encoder.ts must be imported before the rest of kafkajs, which keeps the ` +
      `Encoder it first required: already loaded ${early.join(", ")}`,
  );
}
cachedKafkajsModule(ENCODER_FILE)!.exports = PooledEncoder;

// kafkajs's ensureAvailable, with the grown buffer from the pool.
EncoderClass.prototype.ensureAvailable = function (this: KafkaEncoder, length: number) {
  if (this.offset + length > this.buf.length) {
    const grown = encoderBuffer(EncoderClass.nextPowerOfTwo(this.offset + length));
    this.buf.copy(grown, 0, 0, this.offset);
    this.buf = grown;
  }
};

/** Pool buffers a produce request of `count` small messages takes, through kafkajs's own modules. */
async function cutFor(count: number): Promise<{ cut: number; pooled: boolean }> {
  const { default: produce } = await import("kafkajs/src/protocol/requests/produce/v7/request.js");
  const { default: createRequest } = await import("kafkajs/src/protocol/request.js");
  const before = cut;
  const request = produce({
    acks: -1,
    timeout: 1000,
    topicData: [{
      topic: "t",
      partitions: [{
        partition: 0,
        messages: Array.from({ length: count }, () => ({ key: "k", value: "v" })),
      }],
    }],
  });
  const encoder = await createRequest({ correlationId: 1, clientId: "c", request });
  return { cut: cut - before, pooled: encoder.buf.buffer === slab.buffer };
}

/**
 * Throws unless kafkajs's produce requests take their encoders from the
 * pool: the request's own (its bytes lie in the slab) and one per record.
 */
export async function verifyPooledEncoder(): Promise<void> {
  const one = await cutFor(1);
  const three = await cutFor(3);
  if (!one.pooled || !three.pooled || three.cut - one.cut !== 2) {
    throw new Error(
      "kafkajs's produce requests do not encode through src/kafka/pooled_encoder.ts " +
        "(was kafkajs loaded before it?)",
    );
  }
}
