/**
 * The producer worker's thread (started by `KafkaWorker`, worker.ts): one
 * idempotent kafkajs producer per name, with the same settings as
 * in-process (client.ts), answering the main thread's requests. kafkajs
 * here encodes through the patches that make it fast (pooled_encoder.ts,
 * fast_encoder.ts, linear_grouping.ts); each checks the kafkajs version
 * and the two module-cache swaps are verified before the first request is
 * served, so a kafkajs they do not fit stops the worker at start, loudly.
 *
 * @example
 * ```ts
 * const worker = new Worker(new URL("./producer_thread.ts", import.meta.url), { type: "module" });
 * ```
 */
// First, before any other kafkajs module loads: each takes a kafkajs module's place in the cache.
import { verifyPooledEncoder } from "./pooled_encoder.ts";
import { verifyLinearGrouping } from "./linear_grouping.ts";
import type { Kafka, Producer } from "kafkajs";
import { IDEMPOTENT_PRODUCER, kafkaClient, producerClientOptions } from "./client.ts";
import { installFastEncoder } from "./fast_encoder.ts";
import { type Answer, cross, type Request, unpackMessages } from "./worker.ts";

/** Installs the fast encoder and verifies the swaps; rejects if any does not fit this kafkajs. */
async function installPatches(): Promise<void> {
  installFastEncoder();
  await verifyPooledEncoder();
  verifyLinearGrouping();
}

/**
 * Serves requests once the patches are in. The handler is set at once:
 * messages that arrive before a worker has one are lost.
 */
function serve(): void {
  const ready = installPatches();
  // Unanswered, a failed start still reaches the main thread (its onerror) as it is thrown.
  ready.catch((error) => {
    throw error;
  });
  const producers = new Map<string, Producer>();
  let client: Promise<Kafka> | undefined;
  const scope = self as unknown as {
    onmessage: (event: MessageEvent<Request>) => void;
    postMessage: (answer: Answer) => void;
  };
  scope.onmessage = async (event) => {
    const request = event.data;
    if (request.op === "init") {
      client = ready.then(() =>
        kafkaClient(
          request.config,
          "pinpipe-batch",
          request.region,
          producerClientOptions(request.tls),
        )
      );
      // Its failure is the one `ready` reports; a connect then answers with it.
      client.catch(() => {});
      return;
    }
    try {
      let value: unknown;
      if (request.op === "connect") {
        const producer = (await client!).producer(IDEMPOTENT_PRODUCER);
        producers.set(request.name, producer);
        await producer.connect();
      } else if (request.op === "send") {
        const metadata = await producers.get(request.name)!.send({
          ...request.request,
          messages: unpackMessages(request.packed),
        });
        value = metadata.map(({ partition, baseOffset }) => ({ partition, baseOffset }));
      } else {
        await producers.get(request.name)?.disconnect();
      }
      scope.postMessage({ id: request.id, ok: true, value });
    } catch (error) {
      scope.postMessage({ id: request.id, ok: false, error: cross(error) });
    }
  };
}

serve();
