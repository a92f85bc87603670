/**
 * A local stand-in for the original's API Gateway in front of Kinesis: an
 * HTTP server on 127.0.0.1 with the routes of AWS's "REST API as a Kinesis
 * proxy", each passed to a real Kinesis (kinesalite locally) with the SDK,
 * and the same answers Kinesis gives. It can also answer some requests with
 * 429 or 503 before they reach Kinesis, to show the producer retries them.
 *
 * Routes: `GET /streams/<s>` DescribeStream, `POST /streams/<s>` CreateStream
 * `{ShardCount}`, `PUT /streams/<s>/record` PutRecord `{Data, PartitionKey}`
 * (Data: any JSON, stored as its JSON text, as the mapping template
 * `$util.base64Encode($input.json('$.Data'))` does), `PUT /streams/<s>/records`
 * PutRecords `{records: [{data, "partition-key"}]}` (data: text).
 *
 * @example
 * ```ts
 * import { startApiGateway } from "./api_gateway_stand_in.ts";
 * import { kinesisClient } from "../../src/kinesis/client.ts";
 * const gateway = startApiGateway(kinesisClient({ region: "us-east-1", endpoint: "http://127.0.0.1:14567" }));
 * console.log(gateway.url); // http://127.0.0.1:<port>
 * await gateway.close();
 * ```
 */
import {
  CreateStreamCommand,
  DescribeStreamCommand,
  type KinesisClient,
  PutRecordCommand,
  PutRecordsCommand,
} from "@aws-sdk/client-kinesis";

/** Injected faults: every `every`-th request to a record route is refused with `status`. */
export interface GatewayFaults {
  every: number;
  status: 429 | 500 | 502 | 503 | 504;
}

/** A running gateway. */
export interface ApiGateway {
  url: string;
  /** Requests seen per answer status, for the tests. */
  statuses: Map<number, number>;
  close(): Promise<void>;
}

const encoder = new TextEncoder();

/** A request to a stream route: the stream, the route after it, and the JSON body. */
interface StreamRequest {
  method: string;
  stream: string;
  /** undefined for `/streams/<s>`, else "/record" or "/records". */
  route: string | undefined;
  body: Record<string, unknown>;
}

/** Answers with `status` and counts it in `statuses`. */
type Answer = (status: number, body: unknown) => Response;

/** Kinesis's own answer to `call`: its body without the SDK's metadata, or its error. */
async function kinesisAnswer(answer: Answer, call: () => Promise<unknown>): Promise<Response> {
  try {
    const { $metadata: _, ...body } = (await call()) as Record<string, unknown>;
    return answer(200, body);
  } catch (error) {
    const e = error as {
      name?: string;
      message?: string;
      $metadata?: { httpStatusCode?: number };
    };
    return answer(e.$metadata?.httpStatusCode ?? 502, { __type: e.name, message: e.message });
  }
}

/** `GET` and `POST /streams/<s>`: DescribeStream and CreateStream. */
function streamRoute(
  client: KinesisClient,
  answer: Answer,
  request: StreamRequest,
): Response | Promise<Response> {
  const { stream, body } = request;
  if (request.method === "GET") {
    return kinesisAnswer(
      answer,
      () => client.send(new DescribeStreamCommand({ StreamName: stream })),
    );
  }
  if (request.method === "POST") {
    return kinesisAnswer(answer, () =>
      client.send(
        new CreateStreamCommand({ StreamName: stream, ShardCount: Number(body.ShardCount ?? 1) }),
      ));
  }
  return answer(405, { message: `${request.method} not allowed on /streams/${stream}` });
}

/** `PUT /streams/<s>/record`: PutRecord, Data stored as its JSON text. */
function putRecordRoute(client: KinesisClient, answer: Answer, { stream, body }: StreamRequest) {
  return kinesisAnswer(answer, () =>
    client.send(
      new PutRecordCommand({
        StreamName: stream,
        Data: encoder.encode(JSON.stringify(body.Data)),
        PartitionKey: String(body.PartitionKey),
      }),
    ));
}

/** `PUT /streams/<s>/records`: PutRecords, each `data` stored as text. */
function putRecordsRoute(client: KinesisClient, answer: Answer, { stream, body }: StreamRequest) {
  const records = body.records as { data: unknown; "partition-key": unknown }[] | undefined;
  if (!Array.isArray(records)) return answer(400, { message: "records must be an array" });
  return kinesisAnswer(answer, () =>
    client.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: records.map((r) => ({
          Data: encoder.encode(String(r.data)),
          PartitionKey: String(r["partition-key"]),
        })),
      }),
    ));
}

/** The stream route `request` asks for with its JSON body, or the answer refusing it. */
async function parseRequest(request: Request, answer: Answer): Promise<StreamRequest | Response> {
  const path = new URL(request.url).pathname;
  const match = /^\/streams\/([A-Za-z0-9_.-]+)(\/records?)?$/.exec(path);
  if (!match) return answer(404, { message: `no route ${request.method} ${path}` });
  const [, stream, route] = match;
  let body: Record<string, unknown> = {};
  if (request.method !== "GET") {
    try {
      body = await request.json();
    } catch {
      return answer(400, { message: "body is not JSON" });
    }
  }
  if (route !== undefined && request.method !== "PUT") {
    return answer(405, { message: `${request.method} not allowed on ${path}` });
  }
  return { method: request.method, stream, route, body };
}

/** Starts the gateway on 127.0.0.1 (port 0: any free port). */
export function startApiGateway(
  client: KinesisClient,
  { port = 0, faults = [] as GatewayFaults[] } = {},
): ApiGateway {
  const statuses = new Map<number, number>();
  let recordRequests = 0;
  const answer: Answer = (status, body) => {
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    return Response.json(body, { status });
  };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port, onListen: () => {} },
    async (incoming) => {
      const request = await parseRequest(incoming, answer);
      if (request instanceof Response) return request;
      if (request.route === undefined) return streamRoute(client, answer, request);
      recordRequests++;
      const fault = faults.find((f) => recordRequests % f.every === 0);
      if (fault) return answer(fault.status, { message: "injected fault" });
      return request.route === "/record"
        ? putRecordRoute(client, answer, request)
        : putRecordsRoute(client, answer, request);
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    statuses,
    close: () => server.shutdown(),
  };
}
