/**
 * Faster, byte-identical versions of the kafkajs `Encoder` methods a produce
 * request spends its time in, installed on the producer worker's thread only
 * (`installFastEncoder`). kafkajs 2.2.4 encodes every record with a fresh
 * `Encoder`; each varint of it (four or five per record) went through an
 * array and a `Buffer.from`, every nested encoder was copied out through a
 * `Buffer` slice, and the 64-bit varints went through `Long` arithmetic. In
 * Deno each `Buffer` made is dear (a `FastBuffer` construction): these were
 * about a third of the worker's time. The methods below write the same bytes
 * straight into the encoder's buffer; anything outside their fast paths
 * (a `Long`, a value past 32 bits) goes to kafkajs's own method.
 *
 * @example
 * ```ts
 * import { installFastEncoder } from "./fast_encoder.ts";
 * installFastEncoder(); // once, before the producers encode anything
 * ```
 */
// kafkajs keeps one Encoder class for all its requests; its prototype is what is patched here.
import Encoder from "kafkajs/src/protocol/encoder.js";
import { Buffer } from "node:buffer";
import { assertPatchedKafkajs } from "./kafkajs_internals.ts";

/** The fields and methods of kafkajs's Encoder used here. */
export interface KafkaEncoder {
  buf: Buffer;
  offset: number;
  ensureAvailable(length: number): void;
  writeUVarInt(value: number): KafkaEncoder;
  writeVarInt(value: number): KafkaEncoder;
  writeVarLong(value: unknown): KafkaEncoder;
  writeEncoder(value: KafkaEncoder): KafkaEncoder;
  writeEncoderArray(value: KafkaEncoder[]): KafkaEncoder;
  writeBufferInternal(buffer: Uint8Array): void;
  readonly buffer: Buffer;
}

/** The Encoder class as far as this module uses it. */
export interface KafkaEncoderClass {
  new (initialSize?: number): KafkaEncoder;
  prototype: KafkaEncoder;
  sizeOfVarInt(value: number): number;
  sizeOfVarLong(value: unknown): number;
}

const EncoderClass = Encoder as unknown as KafkaEncoderClass;

/** Below this many bytes a loop copies faster than a typed-array view and `set`. */
const SMALL_COPY = 48;

/** Appends `length` bytes of `source` at the encoder's offset. */
function append(encoder: KafkaEncoder, source: Uint8Array, length: number): void {
  encoder.ensureAvailable(length);
  const target = encoder.buf;
  const at = encoder.offset;
  if (length < SMALL_COPY) {
    for (let i = 0; i < length; i++) target[at + i] = source[i];
  } else {
    target.set(
      length === source.length ? source : new Uint8Array(source.buffer, source.byteOffset, length),
      at,
    );
  }
  encoder.offset = at + length;
}

/** True for a number whose 64-bit zigzag varint is its 32-bit one (an int32). */
const isInt32 = (value: unknown): value is number =>
  typeof value === "number" && (value | 0) === value;

/** kafkajs's own methods, kept for the cases outside the fast paths. */
const ORIGINAL = {
  writeUVarInt: EncoderClass.prototype.writeUVarInt,
  writeVarLong: EncoderClass.prototype.writeVarLong,
  writeEncoder: EncoderClass.prototype.writeEncoder,
  writeEncoderArray: EncoderClass.prototype.writeEncoderArray,
  writeBufferInternal: EncoderClass.prototype.writeBufferInternal,
  sizeOfVarLong: EncoderClass.sizeOfVarLong,
};

/**
 * Replaces the Encoder methods on this thread. The bytes written are those
 * of kafkajs's methods (tests/kafka/fast_encoder_test.ts compares them);
 * throws KafkajsVersionError on any kafkajs but the one they copy.
 */
export function installFastEncoder(): void {
  assertPatchedKafkajs("fast_encoder.ts");
  const proto = EncoderClass.prototype;

  proto.writeUVarInt = function (this: KafkaEncoder, value: number) {
    this.ensureAvailable(5);
    const buf = this.buf;
    let at = this.offset;
    while ((value & 0xffffff80) !== 0) {
      buf[at++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    buf[at++] = value & 0x7f;
    this.offset = at;
    return this;
  };

  // For an int32, the 64-bit zigzag equals the 32-bit one: the same bytes as writeVarInt.
  proto.writeVarLong = function (this: KafkaEncoder, value: unknown) {
    return isInt32(value) ? this.writeVarInt(value) : ORIGINAL.writeVarLong.call(this, value);
  };
  EncoderClass.sizeOfVarLong = (value: unknown) =>
    isInt32(value) ? EncoderClass.sizeOfVarInt(value) : ORIGINAL.sizeOfVarLong.call(
      EncoderClass,
      value,
    );

  proto.writeBufferInternal = function (this: KafkaEncoder, buffer: Uint8Array) {
    append(this, buffer, buffer.length);
  };

  // The written part of a nested encoder, without making a Buffer slice of it first.
  proto.writeEncoder = function (this: KafkaEncoder, value: KafkaEncoder) {
    if (value == null || !Buffer.isBuffer(value.buf)) {
      throw new Error("value should be an instance of Encoder");
    }
    append(this, value.buf, value.offset);
    return this;
  };
  proto.writeEncoderArray = function (this: KafkaEncoder, value: KafkaEncoder[]) {
    if (!Array.isArray(value) || value.some((v) => v == null || !Buffer.isBuffer(v.buf))) {
      throw new Error("all values should be an instance of Encoder[]");
    }
    for (const encoder of value) append(this, encoder.buf, encoder.offset);
    return this;
  };
}

/** Puts kafkajs's own methods back (for the tests' reference encodings). */
export function uninstallFastEncoder(): void {
  const { sizeOfVarLong, ...methods } = ORIGINAL;
  Object.assign(EncoderClass.prototype, methods);
  EncoderClass.sizeOfVarLong = sizeOfVarLong;
}
