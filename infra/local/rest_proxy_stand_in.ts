/**
 * The smallest honest stand-in for a Confluent Kafka REST Proxy v2 (which is
 * not on Maven Central): a Deno HTTP server on 127.0.0.1 that checks the
 * content type and body as the proxy does and writes the records to the real
 * Kafka broker with kafkajs, answering with their real offsets. It can be
 * told to answer some requests with an error first (429, 503...), before
 * writing anything, to exercise the client's retries. Used by tests and by
 * `deno task bench batch` for the original's one-request-per-row path.
 *
 * @example
 * ```ts
 * import { startRestStandIn } from "./rest_proxy_stand_in.ts";
 * const proxy = await startRestStandIn(["127.0.0.1:19092"]);
 * // POST `${proxy.url}/topics/<topic>` ...
 * await proxy.close();
 * ```
 */
import { type Admin, type Producer } from "kafkajs";
import { kafkaClient } from "../../src/kafka/client.ts";
import { KAFKA_JSON_V2 } from "../../src/kafka/rest_target.ts";

/** A running stand-in. */
export interface RestStandIn {
  url: string;
  /** Status codes to answer the next POSTs with, in order, before writing anything. */
  failNext: number[];
  /** Every POST seen: its topic, content type, record count and the status answered. */
  requests: Array<{ topic: string; contentType: string | null; records: number; status: number }>;
  close(): Promise<void>;
}

/** A REST Proxy v2 JSON answer. */
function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/vnd.kafka.v2+json" },
  });
}

/** The records of a v2 JSON body, or the message saying why there are none. */
async function readRecords(
  request: Request,
): Promise<Array<{ key?: unknown; value?: unknown }> | string> {
  try {
    const records = (await request.json()).records;
    if (!Array.isArray(records) || records.some((r) => r === null || !("value" in r))) {
      return "records must be a list of {value}";
    }
    return records;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Writes `records` to `topic` and answers with their offsets. */
async function produce(
  producer: Producer,
  topic: string,
  records: Array<{ key?: unknown; value?: unknown }>,
): Promise<{ status: number; body: unknown }> {
  const metadata = await producer.send({
    topic,
    acks: -1,
    messages: records.map((record) => ({
      key: record.key === undefined || record.key === null ? null : String(record.key),
      value: JSON.stringify(record.value),
    })),
  });
  const base = Number(metadata[0].baseOffset);
  return {
    status: 200,
    body: {
      key_schema_id: null,
      value_schema_id: null,
      offsets: records.map((_, i) => ({ partition: metadata[0].partition, offset: base + i })),
    },
  };
}

/**
 * `POST /topics/<topic>`: checks the content type and body as the proxy
 * does, answers with the next injected failure if any, else writes the
 * records. Logs the request in `standIn.requests`.
 */
async function postRecords(
  standIn: RestStandIn,
  producer: Producer,
  topic: string,
  request: Request,
): Promise<Response> {
  const contentType = request.headers.get("content-type");
  const log = { topic, contentType, records: 0, status: 200 };
  standIn.requests.push(log);
  const answer = (status: number, body: unknown) => {
    log.status = status;
    return json(status, body);
  };
  if (contentType !== KAFKA_JSON_V2) {
    return answer(415, { error_code: 415, message: "HTTP 415 Unsupported Media Type" });
  }
  const records = await readRecords(request);
  if (typeof records === "string") return answer(422, { error_code: 42201, message: records });
  log.records = records.length;
  const fail = standIn.failNext.shift();
  if (fail !== undefined) return answer(fail, { error_code: fail, message: "injected failure" });
  const { status, body } = await produce(producer, topic, records);
  return answer(status, body);
}

/** Starts the stand-in in front of `brokers`. */
export async function startRestStandIn(brokers: string[]): Promise<RestStandIn> {
  const kafka = await kafkaClient({ brokers, auth: "none" }, "pinpipe-rest-stand-in");
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const admin: Admin = kafka.admin();
  await producer.connect();
  await admin.connect();
  const standIn: RestStandIn = { url: "", failNext: [], requests: [], close: async () => {} };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const match = /^\/topics\/([^/]+)$/.exec(new URL(request.url).pathname);
    if (!match) return json(404, { error_code: 404, message: "HTTP 404 Not Found" });
    const topic = decodeURIComponent(match[1]);
    if (request.method === "GET") {
      const exists = (await admin.listTopics()).includes(topic);
      return exists
        ? json(200, { name: topic })
        : json(404, { error_code: 40401, message: "Topic not found." });
    }
    if (request.method !== "POST") {
      return json(405, { error_code: 405, message: "Method Not Allowed" });
    }
    return postRecords(standIn, producer, topic, request);
  });
  standIn.url = `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`;
  standIn.close = async () => {
    await server.shutdown();
    await producer.disconnect();
    await admin.disconnect();
  };
  return standIn;
}
