/**
 * Run as a Worker by producer_thread_test.ts, named for what it loads:
 * "stock" (kafkajs alone), "patched" (the producer thread, producer_thread.ts,
 * as KafkaWorker starts it) or "late" (kafkajs first, then each patch that
 * swaps a kafkajs module). It posts one `ProbeReport` of what it saw in its
 * own thread: produce requests encoded by kafkajs's modules, what
 * `Buffer.alloc` returns after them, which warnings reached a listener.
 */
import { Buffer } from "node:buffer";
import process from "node:process";

/** What the probe saw, posted once. */
export interface ProbeReport {
  /** Produce requests as kafkajs encodes them, in `REQUESTS` order. */
  encodings: Uint8Array[];
  /** After the encodings: every `Buffer.alloc(n)` all zeros, for each size tried. */
  allocZeroed: boolean[];
  /** `Buffer.alloc`, `Buffer.poolSize`, `process.emitWarning` as before the imports. */
  globalsUnchanged: { alloc: boolean; poolSize: boolean; emitWarning: boolean };
  /** The warnings a `process.on("warning")` listener got, in order: name, then the message's first line. */
  warnings: string[];
  /** "late" only: the errors the swapping patches threw. */
  lateErrors: string[];
}

const mode = (self as unknown as { name: string }).name;
const before = {
  alloc: Buffer.alloc,
  poolSize: Buffer.poolSize,
  emitWarning: process.emitWarning,
};

const lateErrors: string[] = [];
if (mode === "patched") {
  await import("../../src/kafka/producer_thread.ts");
  // What the thread does on "init": a client (it stops kafkajs's idle queue timer).
  const { kafkaClient } = await import("../../src/kafka/client.ts");
  await kafkaClient({ brokers: ["127.0.0.1:1"], auth: "none" }, "probe");
  // The thread's own start-up checks, again, now that they have run.
  const { verifyPooledEncoder } = await import("../../src/kafka/pooled_encoder.ts");
  const { verifyLinearGrouping } = await import("../../src/kafka/linear_grouping.ts");
  await verifyPooledEncoder();
  verifyLinearGrouping();
} else if (mode === "late") {
  await import("kafkajs");
  for (const patch of ["pooled_encoder.ts", "linear_grouping.ts"]) {
    try {
      await import(`../../src/kafka/${patch}`);
      lateErrors.push(`${patch}: no error`);
    } catch (error) {
      lateErrors.push(`${patch}: ${(error as Error).message}`);
    }
  }
}

const { default: produceV7 } = await import("kafkajs/src/protocol/requests/produce/v7/request.js");
const { default: createRequest } = await import("kafkajs/src/protocol/request.js");
const { default: Long } = await import("kafkajs/src/utils/long.js");
const { default: RequestQueue } = await import("kafkajs/src/network/requestQueue/index.js");

/** Messages of varied sizes and text: small, across the encoder's growth, and past half a slab. */
function messages(count: number, large: boolean): Array<{ key: string; value: string }> {
  return Array.from({ length: count }, (_, i) => ({
    key: String(i * 7919),
    value: JSON.stringify({
      i,
      title: "é ✓ 𝄞 ".repeat(i % 5) + "x".repeat((i * 37) % 1500),
      body: large && i === 1 ? "y".repeat(700_000) : null,
    }),
  }));
}

/** [message count, partitions, one message past half a slab] of each request encoded. */
const REQUESTS: Array<[number, number, boolean]> = [[1, 1, false], [500, 1, false], [999, 3, true]];

async function encode([count, partitions, large]: [number, number, boolean]): Promise<Uint8Array> {
  const all = messages(count, large);
  const request = produceV7({
    acks: -1,
    timeout: 30_000,
    producerId: Long.fromNumber(4242),
    producerEpoch: 3,
    topicData: [{
      topic: "0123456789ab.pin",
      partitions: Array.from({ length: partitions }, (_, partition) => ({
        partition,
        firstSequence: 1000 * partition,
        messages: all.filter((_, i) => i % partitions === partition),
      })),
    }],
  });
  const encoder = await createRequest({ correlationId: 17, clientId: "pinpipe-batch", request });
  return new Uint8Array(encoder.buffer);
}

const now = Date.now;
Date.now = () => 1_795_000_000_000; // the records' timestamps
const encodings: Uint8Array[] = [];
try {
  for (const request of REQUESTS) encodings.push(await encode(request));
} finally {
  Date.now = now;
}

const allocZeroed = [1, 7, 100, 511, 512, 1024, 4096, 8192, 65_536, 600_000].map((size) =>
  Buffer.alloc(size).every((byte) => byte === 0)
);

// An idle kafkajs request queue, a negative timer of other code's, and another warning.
const warnings: string[] = [];
process.on(
  "warning",
  (warning) => warnings.push(`${warning.name}: ${warning.message.split("\n")[0]}`),
);
const queue = new RequestQueue({
  maxInFlightRequests: 1,
  requestTimeout: 30_000,
  enforceRequestTimeout: false,
  clientId: "probe",
  broker: "127.0.0.1:1",
  logger: { debug() {}, info() {}, warn() {}, error() {} },
});
queue.scheduleCheckPendingRequests();
setTimeout(() => {}, -5);
process.emitWarning("from the probe", "ProbeWarning");
await new Promise((resolve) => setTimeout(resolve, 100));
queue.destroy();

const report: ProbeReport = {
  encodings,
  allocZeroed,
  globalsUnchanged: {
    alloc: Buffer.alloc === before.alloc,
    poolSize: Buffer.poolSize === before.poolSize,
    emitWarning: process.emitWarning === before.emitWarning,
  },
  warnings,
  lateErrors,
};
(self as unknown as { postMessage(report: ProbeReport): void }).postMessage(report);
