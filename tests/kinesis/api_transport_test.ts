/**
 * The Kinesis target through the API Gateway transport, against a real HTTP
 * server on 127.0.0.1 that answers the proxy's routes from streams it keeps
 * in memory, and can refuse requests (429, 503, a per-record failure, 400)
 * as API Gateway and Kinesis do.
 */
import assert from "node:assert/strict";
import { outgoing } from "../../src/core/records.ts";
import { RecordRejectedError, TargetError } from "../../src/core/errors.ts";
import { ApiTransport } from "../../src/kinesis/api_transport.ts";
import { KinesisTarget } from "../../src/kinesis/target.ts";

const PORT = 28101;
const ID = "0123456789ab";
const STREAM = `streaming-${ID}-geo`;

/** What the stand-in API holds and saw. */
interface ApiState {
  /** Per stream: its status and the records it holds, as the Data text. */
  streams: Map<string, { status: string; records: string[] }>;
  /** Statuses a request to a record route is answered with, in turn, before it reaches the stream. */
  refusals: number[];
  /** Per-record failures: how many of the next records are answered throttled. */
  throttleRecords: number;
  /** Every request, as `METHOD /path`. */
  requests: string[];
}

function startApi(state: ApiState): { close(): Promise<void>; url: string } {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: PORT, onListen: () => {} },
    async (request) => {
      const path = new URL(request.url).pathname;
      state.requests.push(`${request.method} ${path}`);
      const match = /^\/prod\/streams\/([^/]+)(\/records?)?$/.exec(path);
      if (!match) {
        return Response.json({ message: "Missing Authentication Token" }, {
          status: 403,
        });
      }
      const [, name, route] = match;
      const stream = state.streams.get(name);
      if (route === undefined && request.method === "GET") {
        if (!stream) return Response.json({ __type: "ResourceNotFoundException" }, { status: 400 });
        const status = stream.status;
        if (status === "CREATING") stream.status = "ACTIVE"; // active by the next look
        return Response.json({ StreamDescription: { StreamName: name, StreamStatus: status } });
      }
      if (route === undefined && request.method === "POST") {
        state.streams.set(name, { status: "CREATING", records: [] });
        return Response.json({});
      }
      const refusal = state.refusals.shift();
      if (refusal !== undefined) return Response.json({ message: "refused" }, { status: refusal });
      if (!stream) return Response.json({ __type: "ResourceNotFoundException" }, { status: 400 });
      const body = await request.json();
      const put = (data: string) => {
        if (state.throttleRecords > 0) {
          state.throttleRecords--;
          return { ErrorCode: "ProvisionedThroughputExceededException", ErrorMessage: "slow down" };
        }
        stream.records.push(data);
        return { ShardId: "shardId-000000000000", SequenceNumber: String(stream.records.length) };
      };
      if (route === "/record") return Response.json(put(JSON.stringify(body.Data)));
      const results = (body.records as { data: string }[]).map((r) => put(r.data));
      return Response.json({ FailedRecordCount: 0, Records: results });
    },
  );
  return { url: `http://127.0.0.1:${PORT}/prod`, close: () => server.shutdown() };
}

const geo = (ind: number) =>
  outgoing("geo", ind, {
    ind,
    timestamp: "2020-01-01T00:00:00",
    latitude: 1,
    longitude: 2,
    country: "Chad",
  });

async function withApi(fn: (state: ApiState, url: string) => Promise<void>): Promise<void> {
  const state: ApiState = { streams: new Map(), refusals: [], throttleRecords: 0, requests: [] };
  const api = startApi(state);
  try {
    await fn(state, api.url);
  } finally {
    await api.close();
  }
}

const target = (url: string, route: "records" | "record" = "records", batchRecords = 500) =>
  new KinesisTarget({
    transport: new ApiTransport({ url, route, concurrency: 3 }),
    id: ID,
    shards: 1,
    batchRecords,
    backoff: { baseMs: 1, capMs: 5 },
    log: () => {},
  });

Deno.test("the batch route: a missing stream is created and waited for; 429, 503 and throttled records retried, each record once", () =>
  withApi(async (state, url) => {
    const api = target(url, "records", 4);
    assert.equal(api.name, "kinesis-api");
    await api.prepare(["geo"]);
    assert.deepEqual(state.requests.slice(0, 3), [
      `GET /prod/streams/${STREAM}`,
      `POST /prod/streams/${STREAM}`,
      `GET /prod/streams/${STREAM}`,
    ]);
    state.refusals.push(429, 503);
    state.throttleRecords = 2;
    await api.send("geo", Array.from({ length: 10 }, (_, i) => geo(i + 1)));
    const held = state.streams.get(STREAM)!.records.map((text) => JSON.parse(text).ind);
    assert.deepEqual(held.sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // The position is the last sequence number the API acknowledged.
    assert.deepEqual(api.position("geo"), { "shardId-000000000000": "10" });
    // The API cannot read a stream: no resume check.
    assert.equal(await api.resumeFilter("geo", { "shardId-000000000000": "5" }), undefined);
    await api.close();
  }));

Deno.test("the record route: one PUT per record, its Data the record itself", () =>
  withApi(async (state, url) => {
    state.streams.set(STREAM, { status: "ACTIVE", records: [] });
    const api = target(url, "record");
    await api.prepare(["geo"]);
    state.refusals.push(429);
    await api.send("geo", [geo(1), geo(2), geo(3)]);
    const puts = state.requests.filter((r) => r === `PUT /prod/streams/${STREAM}/record`);
    assert.equal(puts.length, 4, "three records and one refused try");
    const held = state.streams.get(STREAM)!.records.map((text) => JSON.parse(text));
    assert.deepEqual(held.map((r) => r.ind).sort(), [1, 2, 3]);
    assert.equal(held[0].country, "Chad");
  }));

Deno.test("a stream being deleted, an API refusing with 400, a record over the limit: each one clear error", () =>
  withApi(async (state, url) => {
    state.streams.set(STREAM, { status: "DELETING", records: [] });
    await assert.rejects(
      target(url).prepare(["geo"]),
      (error) =>
        error instanceof TargetError &&
        error.message ===
          `API ${url}: stream ${STREAM} is being deleted; wait for it to go, then run again`,
    );
    state.streams.set(STREAM, { status: "ACTIVE", records: [] });
    state.refusals.push(400);
    await assert.rejects(
      target(url).send("geo", [geo(1)]),
      (error) =>
        error instanceof TargetError && error.exitCode === 4 &&
        error.message.startsWith(`API ${url} PUT /streams/${STREAM}/records failed: HTTP 400`),
    );
    const huge = outgoing("geo", 2, { ind: 2, country: "x".repeat(1024 * 1024) });
    await assert.rejects(
      target(url).send("geo", [geo(1), huge]),
      (error) => error instanceof RecordRejectedError && error.delivered === 1,
    );
    assert.deepEqual(state.streams.get(STREAM)!.records.map((t) => JSON.parse(t).ind), [1]);
  }));

Deno.test("an API nobody answers is one line naming it, exit 4", async () => {
  const url = `http://127.0.0.1:${PORT}/prod`;
  await assert.rejects(
    target(url).prepare(["geo"]),
    (error) =>
      error instanceof TargetError && error.exitCode === 4 &&
      error.message.startsWith(`API ${url} unreachable: GET /streams/${STREAM}`),
  );
});

Deno.test("an API URL that is not one is refused before any request", () => {
  assert.throws(
    () => new ApiTransport({ url: "not a url" }),
    /--via api: "not a url" is not a URL/,
  );
});
