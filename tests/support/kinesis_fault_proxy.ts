/**
 * A fault-injecting proxy in front of kinesalite: it fails chosen PutRecords
 * calls and entries for real (they are not forwarded), so the producer's
 * retries can be shown against a real Kinesis API.
 *
 * @example
 * ```ts
 * import { startFaultProxy } from "./kinesis_fault_proxy.ts";
 * const proxy = startFaultProxy();
 * // run `main.ts stream --kinesis-endpoint ${proxy.url}` ...
 * await proxy.close();
 * ```
 */
import { KINESALITE } from "./kinesis.ts";

/** What the fault proxy did. */
export interface FaultProxy {
  url: string;
  /** Entries answered as throttled (not forwarded). */
  failedEntries: number;
  /** Whole calls answered 400 ProvisionedThroughputExceeded or 500 (not forwarded). */
  failedCalls: number;
  close(): Promise<void>;
}

/** How often the proxy fails: see `startFaultProxy`. */
export interface FaultRates {
  callEvery?: number;
  entryCallEvery?: number;
  entryEvery?: number;
}

/** A PutRecords request body, as far as the proxy reads it. */
interface PutRecordsBody {
  StreamName: string;
  Records: { Data: string }[];
}

/** One entry of a PutRecords answer. */
type EntryResult = { SequenceNumber?: string; ShardId?: string; ErrorCode?: string };

const amzJson = { "content-type": "application/x-amz-json-1.1" };

/** Passes a Kinesis call on to `target` with the request's headers and `body`. */
function forwardTo(target: string, request: Request, body: string): Promise<Response> {
  return fetch(target, {
    method: "POST",
    headers: {
      "content-type": request.headers.get("content-type") ?? "application/x-amz-json-1.1",
      "x-amz-target": request.headers.get("x-amz-target") ?? "",
      authorization: request.headers.get("authorization") ?? "",
      "x-amz-date": request.headers.get("x-amz-date") ?? "",
    },
    body,
  });
}

/** The whole-call failure of PutRecords call number `call`: a 500 or a throttling 400 by turns. */
function failedCall(call: number, callEvery: number): Response {
  return call % (2 * callEvery) === 0
    ? Response.json({ __type: "InternalFailure", message: "injected" }, {
      status: 500,
      headers: amzJson,
    })
    : Response.json(
      { __type: "ProvisionedThroughputExceededException", message: "Rate exceeded (injected)" },
      { status: 400, headers: amzJson },
    );
}

/** Kinesis's answer for the entries kept back, merged with the ones forwarded, in request order. */
function mergedAnswer(count: number, failed: Set<number>, forwarded: EntryResult[]): Response {
  let next = 0;
  const records = Array.from({ length: count }, (_, i) =>
    failed.has(i)
      ? {
        ErrorCode: "ProvisionedThroughputExceededException",
        ErrorMessage: "Rate exceeded for shard (injected)",
      }
      : forwarded[next++]);
  const failedCount = records.filter((record) => record.ErrorCode).length;
  return Response.json({ FailedRecordCount: failedCount, Records: records }, {
    headers: amzJson,
  });
}

/**
 * A Kinesis endpoint on 127.0.0.1 that forwards to `target` (kinesalite),
 * except: every `callEvery`-th PutRecords call is answered with a throttling
 * 400 or a 500, not forwarded; and in every `entryCallEvery`-th call, every
 * `entryEvery`-th entry not failed before is kept back and reported as
 * ProvisionedThroughputExceeded. Each entry fails at most once.
 */
export function startFaultProxy(
  target = KINESALITE,
  { callEvery = 5, entryCallEvery = 3, entryEvery = 3 }: FaultRates = {},
): FaultProxy {
  let calls = 0;
  let entries = 0;
  const failedBefore = new Set<string>();
  const state = { failedEntries: 0, failedCalls: 0 };

  /** The entries of this call to keep back: every `entryEvery`-th, each at most once. */
  const entriesToFail = (body: PutRecordsBody): Set<number> => {
    const fail = new Set<number>();
    body.Records.forEach((record, i) => {
      entries++;
      if (
        calls % entryCallEvery === 1 && entries % entryEvery === 0 &&
        !failedBefore.has(record.Data)
      ) {
        failedBefore.add(record.Data);
        fail.add(i);
      }
    });
    return fail;
  };

  const putRecords = async (request: Request, text: string): Promise<Response> => {
    calls++;
    if (calls % callEvery === 0) {
      state.failedCalls++;
      return failedCall(calls, callEvery);
    }
    const body = JSON.parse(text) as PutRecordsBody;
    const fail = entriesToFail(body);
    state.failedEntries += fail.size;
    const kept = body.Records.filter((_, i) => !fail.has(i));
    let forwarded: EntryResult[] = [];
    if (kept.length > 0) {
      const answer = await forwardTo(target, request, JSON.stringify({ ...body, Records: kept }));
      const answerText = await answer.text();
      if (answer.status !== 200) {
        return new Response(answerText, { status: answer.status, headers: amzJson });
      }
      forwarded = JSON.parse(answerText).Records;
    }
    return mergedAnswer(body.Records.length, fail, forwarded);
  };

  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const text = await request.text();
      if (request.headers.get("x-amz-target")?.endsWith(".PutRecords")) {
        return putRecords(request, text);
      }
      const answer = await forwardTo(target, request, text);
      return new Response(await answer.text(), { status: answer.status, headers: amzJson });
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    get failedEntries() {
      return state.failedEntries;
    },
    get failedCalls() {
      return state.failedCalls;
    },
    close: () => server.shutdown(),
  };
}
