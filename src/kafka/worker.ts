/**
 * The Kafka target's producers, run in a Web Worker: kafkajs spends most of
 * the producer's CPU encoding record batches, so doing that on a second
 * thread lets the main thread keep reading and building records meanwhile.
 * `KafkaWorker` (main thread) starts the worker and hands out producer
 * handles; the worker (producer_thread.ts) owns one idempotent kafkajs
 * producer per name and answers send requests. A worker that fails (at
 * start: its kafkajs checks) fails every call after it, at once.
 * Errors cross as plain objects that keep kafkajs's `name`, `type` and
 * `cause` chain, so the target maps them exactly as in-process errors.
 *
 * @example
 * ```ts
 * import { KafkaWorker } from "./worker.ts";
 * const worker = new KafkaWorker({ brokers: ["127.0.0.1:19092"], auth: "none" }, "us-east-1", false);
 * const producer = worker.producer("geo");
 * await producer.connect();
 * await producer.send({ topic: "t", acks: -1, messages: [{ key: "1", value: "{}", partition: 0 }] });
 * await worker.close();
 * ```
 */
import type { CompressionTypes } from "kafkajs";
import { Buffer } from "node:buffer";
import type { KafkaConfig } from "../core/config.ts";

/** What the Kafka target needs of a producer, in-process or in the worker. */
export interface ProducerHandle {
  connect(): Promise<void>;
  send(request: {
    topic: string;
    acks: number;
    compression?: CompressionTypes;
    messages: Array<{ key: string; value: string; partition: number }>;
  }): Promise<Array<{ partition: number; baseOffset?: string }>>;
  disconnect(): Promise<void>;
}

/** An error as it crosses threads: kafkajs's name, type and causes kept. */
export interface CrossedError {
  name: string;
  message: string;
  type?: string;
  retriable?: boolean;
  cause?: CrossedError;
}

type SendRequest = Parameters<ProducerHandle["send"]>[0];

/**
 * A send request's messages as they cross to the worker: every key and
 * value as UTF-8, one after the other in one buffer, with their byte
 * lengths and the partitions in typed arrays; all three buffers are
 * transferred, not copied. kafkajs takes keys and values as Buffers (views
 * of that buffer) and copies their bytes as they are: the text is encoded
 * once, here, instead of being cloned to the worker (an array of message
 * objects cost a walk of every object, one string of them a copy) and then
 * measured and encoded there.
 */
export interface PackedMessages {
  bytes: Uint8Array<ArrayBuffer>;
  /** Key length, value length (bytes) of each message in turn. */
  lengths: Uint32Array<ArrayBuffer>;
  partitions: Int32Array<ArrayBuffer>;
}

const utf8 = new TextEncoder();

/** Packs `messages` for the trip to the worker. */
export function packMessages(messages: SendRequest["messages"]): PackedMessages {
  const lengths = new Uint32Array(messages.length * 2);
  const partitions = new Int32Array(messages.length);
  let units = 0;
  for (const { key, value } of messages) units += key.length + value.length;
  // Most text is ASCII: room for that, and more when a string needs it (at most 3 bytes a unit).
  let bytes = new Uint8Array(units + 1024);
  let at = 0;
  const put = (text: string): number => {
    if (bytes.length - at < text.length * 3) {
      const larger = new Uint8Array(Math.max(bytes.length * 2, at + text.length * 3));
      larger.set(bytes.subarray(0, at));
      bytes = larger;
    }
    const { written } = utf8.encodeInto(text, bytes.subarray(at));
    at += written;
    return written;
  };
  for (let i = 0; i < messages.length; i++) {
    const { key, value, partition } = messages[i];
    lengths[2 * i] = put(key);
    lengths[2 * i + 1] = put(value);
    partitions[i] = partition;
  }
  return { bytes, lengths, partitions };
}

/** A packed message as kafkajs takes it in the worker. */
export interface UnpackedMessage {
  key: Buffer;
  value: Buffer;
  partition: number;
}

/** The messages `packMessages` packed: keys and values are views of the packed bytes. */
export function unpackMessages(packed: PackedMessages): UnpackedMessage[] {
  const { bytes, lengths, partitions } = packed;
  const messages = new Array<UnpackedMessage>(partitions.length);
  let at = bytes.byteOffset;
  for (let i = 0; i < partitions.length; i++) {
    const key = Buffer.from(bytes.buffer, at, lengths[2 * i]);
    at += lengths[2 * i];
    const value = Buffer.from(bytes.buffer, at, lengths[2 * i + 1]);
    at += lengths[2 * i + 1];
    messages[i] = { key, value, partition: partitions[i] };
  }
  return messages;
}

/** What the main thread asks of the producer thread. */
export type Request =
  | { op: "init"; config: KafkaConfig; region: string; tls: boolean }
  | { op: "connect" | "disconnect"; id: number; name: string }
  | {
    op: "send";
    id: number;
    name: string;
    request: Omit<SendRequest, "messages">;
    packed: PackedMessages;
  };

/** `Omit` applied to each member of a union. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** What the producer thread answers, by request id. */
export type Answer = { id: number; ok: true; value?: unknown } | {
  id: number;
  ok: false;
  error: CrossedError;
};

/** Flattens an error and its causes into plain data. */
export function cross(error: unknown, depth = 0): CrossedError {
  const e = error as Record<string, unknown>;
  const inner = e?.cause ?? e?.originalError;
  return {
    name: String(e?.name ?? "Error"),
    message: String(e?.message ?? error),
    ...(typeof e?.type === "string" ? { type: e.type } : {}),
    ...(typeof e?.retriable === "boolean" ? { retriable: e.retriable } : {}),
    ...(inner && depth < 8 ? { cause: cross(inner, depth + 1) } : {}),
  };
}

/** Rebuilds a crossed error as an Error with the same fields. */
function uncross(crossed: CrossedError): Error {
  const error = new Error(crossed.message) as Error & Record<string, unknown>;
  error.name = crossed.name;
  if (crossed.type !== undefined) error.type = crossed.type;
  if (crossed.retriable !== undefined) error.retriable = crossed.retriable;
  if (crossed.cause) error.cause = uncross(crossed.cause);
  return error;
}

/** Main-thread side: one worker, any number of named producers in it. */
export class KafkaWorker {
  #worker: Worker;
  #next = 1;
  #pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();
  #closed = false;
  #failure?: Error;

  constructor(config: KafkaConfig, region: string, tls: boolean) {
    this.#worker = new Worker(new URL("./producer_thread.ts", import.meta.url), { type: "module" });
    this.#worker.onmessage = (event: MessageEvent<Answer>) => {
      const answer = event.data;
      const waiting = this.#pending.get(answer.id);
      if (!waiting) return;
      this.#pending.delete(answer.id);
      if (answer.ok) waiting.resolve(answer.value);
      else waiting.reject(uncross(answer.error));
    };
    this.#worker.onerror = (event) => {
      event.preventDefault();
      const error = new Error(`Kafka producer worker failed: ${event.message}`);
      this.#failure = error;
      for (const waiting of this.#pending.values()) waiting.reject(error);
      this.#pending.clear();
    };
    this.#worker.postMessage({ op: "init", config, region, tls } satisfies Request);
  }

  #call<T>(request: DistributiveOmit<Exclude<Request, { op: "init" }>, "id">): Promise<T> {
    if (this.#closed) return Promise.reject(new Error("Kafka producer worker is closed"));
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      if (request.op === "send") {
        const { bytes, lengths, partitions } = request.packed;
        this.#worker.postMessage({ ...request, id }, {
          transfer: [bytes.buffer, lengths.buffer, partitions.buffer],
        });
      } else {
        this.#worker.postMessage({ ...request, id });
      }
    });
  }

  /** A handle on the worker's producer `name` (created on `connect`). */
  producer(name: string): ProducerHandle {
    return {
      connect: () => this.#call({ op: "connect", name }),
      send: ({ messages, ...request }) =>
        this.#call({ op: "send", name, request, packed: packMessages(messages) }),
      disconnect: () => this.#call({ op: "disconnect", name }),
    };
  }

  /** Ends the worker (disconnect the producers first). */
  close(): Promise<void> {
    this.#closed = true;
    this.#worker.terminate();
    const error = new Error("Kafka producer worker closed");
    for (const waiting of this.#pending.values()) waiting.reject(error);
    this.#pending.clear();
    return Promise.resolve();
  }
}
