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
  /** Calls forwarded whole, then answered 500 as if the answer had been lost on the way. */
  lostAnswers: number;
  close(): Promise<void>;
}

/** How often the proxy fails: see `startFaultProxy`. */
export interface FaultRates {
  callEvery?: number;
  entryCallEvery?: number;
  entryEvery?: number;
  /** Every n-th call is written, then answered 500 (0: never). */
  lostAnswerEvery?: number;
  /** With lostAnswerEvery: answer the 500 first and write the call this much later. */
  lateByMs?: number;
}

/** A PutRecords request body, as far as the proxy reads it. */
interface PutRecordsBody {
  StreamName: string;
  Records: { Data: string }[];
}

/** One entry of a PutRecords answer. */
type EntryResult = {
  SequenceNumber?: string;
  ShardId?: string;
  ErrorCode?: string;
};

const amzJson = { "content-type": "application/x-amz-json-1.1" };

/** Passes a Kinesis call on to `target` with the request's headers and `body`. */
function forwardTo(
  target: string,
  request: Request,
  body: string,
): Promise<Response> {
  return fetch(target, {
    method: "POST",
    headers: {
      "content-type": request.headers.get("content-type") ??
        "application/x-amz-json-1.1",
      "x-amz-target": request.headers.get("x-amz-target") ?? "",
      authorization: request.headers.get("authorization") ?? "",
      "x-amz-date": request.headers.get("x-amz-date") ?? "",
    },
    body,
  });
}

/** Kinesis's answer for the entries kept back, merged with the ones forwarded, in request order. */
function mergedAnswer(
  count: number,
  failed: Set<number>,
  forwarded: EntryResult[],
): Response {
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
 * Which PutRecords calls and entries fail: every `callEvery`-th call as a
 * whole; in every `entryCallEvery`-th call, every `entryEvery`-th entry (by
 * count over all calls) not failed before. Counts what it failed.
 */
class FaultSchedule {
  failedEntries = 0;
  failedCalls = 0;
  lostAnswers = 0;
  #calls = 0;
  #entries = 0;
  #failedBefore = new Set<string>();

  constructor(readonly rates: Required<FaultRates>) {}

  /** Counts a new call; true if it fails as a whole. */
  nextCallFails(): boolean {
    this.#calls++;
    const fails = this.#calls % this.rates.callEvery === 0;
    if (fails) this.failedCalls++;
    return fails;
  }

  /** True if the current call is written and its answer then lost. */
  answerLost(): boolean {
    const lost = this.rates.lostAnswerEvery > 0 && this.#calls % this.rates.lostAnswerEvery === 0;
    if (lost) this.lostAnswers++;
    return lost;
  }

  /** The whole-call failure of the current call: a 500 or a throttling 400 by turns. */
  failedCall(): Response {
    return this.#calls % (2 * this.rates.callEvery) === 0
      ? Response.json({ __type: "InternalFailure", message: "injected" }, {
        status: 500,
        headers: amzJson,
      })
      : Response.json(
        {
          __type: "ProvisionedThroughputExceededException",
          message: "Rate exceeded (injected)",
        },
        { status: 400, headers: amzJson },
      );
  }

  /** The positions of the current call's entries to keep back; each entry fails at most once. */
  entriesToFail(body: PutRecordsBody): Set<number> {
    const { entryCallEvery, entryEvery } = this.rates;
    const fail = new Set<number>();
    body.Records.forEach((record, i) => {
      this.#entries++;
      if (
        this.#calls % entryCallEvery === 1 &&
        this.#entries % entryEvery === 0 &&
        !this.#failedBefore.has(record.Data)
      ) {
        this.#failedBefore.add(record.Data);
        fail.add(i);
      }
    });
    this.failedEntries += fail.size;
    return fail;
  }
}

/** Answers a PutRecords call: fails it, or forwards the entries not kept back and merges. */
async function putRecords(
  schedule: FaultSchedule,
  target: string,
  request: Request,
  text: string,
): Promise<Response> {
  if (schedule.nextCallFails()) return schedule.failedCall();
  if (schedule.answerLost()) {
    const write = async () => await (await forwardTo(target, request, text)).body?.cancel();
    if (schedule.rates.lateByMs > 0) setTimeout(write, schedule.rates.lateByMs);
    else await write();
    return Response.json({ __type: "InternalFailure", message: "answer lost (injected)" }, {
      status: 500,
      headers: amzJson,
    });
  }
  const body = JSON.parse(text) as PutRecordsBody;
  const fail = schedule.entriesToFail(body);
  const kept = body.Records.filter((_, i) => !fail.has(i));
  let forwarded: EntryResult[] = [];
  if (kept.length > 0) {
    const answer = await forwardTo(
      target,
      request,
      JSON.stringify({ ...body, Records: kept }),
    );
    const answerText = await answer.text();
    if (answer.status !== 200) {
      return new Response(answerText, {
        status: answer.status,
        headers: amzJson,
      });
    }
    forwarded = JSON.parse(answerText).Records;
  }
  return mergedAnswer(body.Records.length, fail, forwarded);
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
  { callEvery = 5, entryCallEvery = 3, entryEvery = 3, lostAnswerEvery = 0, lateByMs = 0 }:
    FaultRates = {},
): FaultProxy {
  const schedule = new FaultSchedule({
    callEvery,
    entryCallEvery,
    entryEvery,
    lostAnswerEvery,
    lateByMs,
  });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const text = await request.text();
      if (request.headers.get("x-amz-target")?.endsWith(".PutRecords")) {
        return putRecords(schedule, target, request, text);
      }
      const answer = await forwardTo(target, request, text);
      return new Response(await answer.text(), {
        status: answer.status,
        headers: amzJson,
      });
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    get failedEntries() {
      return schedule.failedEntries;
    },
    get failedCalls() {
      return schedule.failedCalls;
    },
    get lostAnswers() {
      return schedule.lostAnswers;
    },
    close: () => server.shutdown(),
  };
}
