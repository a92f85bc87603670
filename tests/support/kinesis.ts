/**
 * Shared pieces of the stream tests: a fresh pipeline id, reading a whole
 * stream back, deleting the streams, the batch cleaning of the source data
 * as the reference, the rows of a consumer table, running `main.ts`, and a
 * fault-injecting proxy in front of kinesalite that fails chosen PutRecords
 * entries for real (they are not forwarded), so retries can be shown.
 *
 * @example
 * ```ts
 * import { randomId } from "./kinesis.ts";
 * randomId(); // "3fa9c2e07b1d"
 * ```
 */
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from "@aws-sdk/client-kinesis";
import { type PipelineConfig } from "../../src/core/config.ts";
import { openSource } from "../../src/source/rds_reader.ts";
import { type SourceRecord, toRecord } from "../../src/core/records.ts";
import { TABLE_KINDS, type TableKind } from "../../src/core/tables.ts";
import {
  openDuckDb,
  registerRawFromRecords,
  runCleaning,
} from "../../src/warehouse/duckdb_runner.ts";
import { cleanTableName } from "../../src/core/names.ts";
// Shared with the benchmarks, so kept beside the local stack.
export { deleteStreams, randomId } from "../../infra/local/stack_admin.ts";

/** The local kinesalite endpoint. */
export const KINESALITE = "http://127.0.0.1:14567";

/** Every record of `stream`, all shards, from TRIM_HORIZON, as text. */
export async function readStream(client: KinesisClient, stream: string): Promise<string[]> {
  const { Shards = [] } = await client.send(new ListShardsCommand({ StreamName: stream }));
  const texts: string[] = [];
  const decoder = new TextDecoder();
  for (const shard of Shards) {
    let iterator = (await client.send(
      new GetShardIteratorCommand({
        StreamName: stream,
        ShardId: shard.ShardId,
        ShardIteratorType: "TRIM_HORIZON",
      }),
    )).ShardIterator;
    while (iterator) {
      const answer = await client.send(
        new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }),
      );
      for (const record of answer.Records ?? []) texts.push(decoder.decode(record.Data));
      if ((answer.Records ?? []).length === 0 && !(answer.MillisBehindLatest ?? 0)) break;
      iterator = answer.NextShardIterator;
    }
  }
  return texts;
}

/** Every source row of `kind` as the record the producers send, in index order. */
export async function sourceRecords(
  config: PipelineConfig,
  kind: TableKind,
  limit = Infinity,
): Promise<SourceRecord[]> {
  const source = await openSource(config.mysql);
  const records: SourceRecord[] = [];
  try {
    for await (const row of source.rowsAfter(kind, Number.MIN_SAFE_INTEGER)) {
      if (records.length >= limit) break;
      records.push(toRecord(kind, row));
    }
  } finally {
    await source.close();
  }
  return records;
}

/** A row as canonical text, for comparing tables as multisets. */
const canonical = (row: unknown[]): string => JSON.stringify(row);

/**
 * The batch path's cleaning (the DuckDB runner's `runCleaning` over every
 * record at once) of `records`: each cleaned table as sorted row texts.
 */
export async function batchCleaning(
  records: Record<TableKind, SourceRecord[]>,
): Promise<Record<TableKind, string[]>> {
  const db = await openDuckDb();
  try {
    for (const kind of TABLE_KINDS) await registerRawFromRecords(db, kind, records[kind]);
    await runCleaning(db);
    const out = {} as Record<TableKind, string[]>;
    for (const kind of TABLE_KINDS) {
      out[kind] = (await db.query(`SELECT * FROM ${kind}`)).rows.map(canonical).sort();
    }
    return out;
  } finally {
    db.close();
  }
}

/** The consumer's tables in the DuckDB file at `path`, as sorted row texts, and its rejects. */
export async function consumerTables(path: string, id: string): Promise<{
  tables: Record<TableKind, string[]>;
  keys: Record<TableKind, number>;
  rejects: {
    stream: string;
    shard_id: string;
    sequence_number: string;
    reason: string;
    data: string;
  }[];
  checkpoints: number;
}> {
  const db = await openDuckDb(path);
  try {
    const tables = {} as Record<TableKind, string[]>;
    const keys = {} as Record<TableKind, number>;
    for (const kind of TABLE_KINDS) {
      tables[kind] = (await db.query(`SELECT * FROM "${cleanTableName(id, kind)}"`)).rows
        .map(canonical).sort();
      keys[kind] = Number(
        (await db.query(`SELECT count(*) FROM "${id}_seen_keys" WHERE kind = '${kind}'`))
          .rows[0][0],
      );
    }
    const rejected = await db.query(
      `SELECT stream, shard_id, sequence_number, reason, data FROM "${id}_rejects"`,
    );
    const rejects = rejected.rows.map((row) =>
      Object.fromEntries(rejected.columns.map((column, i) => [column, String(row[i])]))
    ) as {
      stream: string;
      shard_id: string;
      sequence_number: string;
      reason: string;
      data: string;
    }[];
    const checkpoints = Number(
      (await db.query(`SELECT count(*) FROM "${id}_stream_checkpoints"`)).rows[0][0],
    );
    return { tables, keys, rejects, checkpoints };
  } finally {
    db.close();
  }
}

/** Runs `deno run -A main.ts ...args` to the end. */
export async function runMain(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** Starts `deno run -A main.ts ...args` in the background, stderr piped. */
export function spawnMain(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts", ...args],
    stdout: "null",
    stderr: "piped",
  }).spawn();
}

/** Reads a child's stderr until a line matches `pattern` (or the stream ends); returns all text. */
export async function waitForLine(child: Deno.ChildProcess, pattern: RegExp): Promise<string> {
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return text;
    text += value;
    if (pattern.test(text)) {
      // Keep draining in the background so the child never blocks on a full pipe.
      (async () => {
        while (!(await reader.read()).done) { /* drain */ }
      })().catch(() => {});
      return text;
    }
  }
}

/** What the fault proxy did. */
export interface FaultProxy {
  url: string;
  /** Entries answered as throttled (not forwarded). */
  failedEntries: number;
  /** Whole calls answered 400 ProvisionedThroughputExceeded or 500 (not forwarded). */
  failedCalls: number;
  close(): Promise<void>;
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
  { callEvery = 5, entryCallEvery = 3, entryEvery = 3 } = {},
): FaultProxy {
  let calls = 0;
  let entries = 0;
  const failedBefore = new Set<string>();
  const state = { failedEntries: 0, failedCalls: 0 };
  const amzJson = { "content-type": "application/x-amz-json-1.1" };
  const forward = (request: Request, body: string) =>
    fetch(target, {
      method: "POST",
      headers: {
        "content-type": request.headers.get("content-type") ?? "application/x-amz-json-1.1",
        "x-amz-target": request.headers.get("x-amz-target") ?? "",
        authorization: request.headers.get("authorization") ?? "",
        "x-amz-date": request.headers.get("x-amz-date") ?? "",
      },
      body,
    });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const body = await request.text();
      if (!request.headers.get("x-amz-target")?.endsWith(".PutRecords")) {
        const answer = await forward(request, body);
        return new Response(await answer.text(), { status: answer.status, headers: amzJson });
      }
      calls++;
      if (calls % callEvery === 0) {
        state.failedCalls++;
        return calls % (2 * callEvery) === 0
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
      const request_ = JSON.parse(body) as { StreamName: string; Records: { Data: string }[] };
      const keep: number[] = [];
      const fail = new Set<number>();
      request_.Records.forEach((record, i) => {
        entries++;
        if (
          calls % entryCallEvery === 1 && entries % entryEvery === 0 &&
          !failedBefore.has(record.Data)
        ) {
          failedBefore.add(record.Data);
          fail.add(i);
        } else keep.push(i);
      });
      state.failedEntries += fail.size;
      let forwarded: { SequenceNumber?: string; ShardId?: string; ErrorCode?: string }[] = [];
      if (keep.length > 0) {
        const answer = await forward(
          request,
          JSON.stringify({ ...request_, Records: keep.map((i) => request_.Records[i]) }),
        );
        const text = await answer.text();
        if (answer.status !== 200) {
          return new Response(text, {
            status: answer.status,
            headers: amzJson,
          });
        }
        forwarded = JSON.parse(text).Records;
      }
      let next = 0;
      const records = request_.Records.map((_, i) =>
        fail.has(i)
          ? {
            ErrorCode: "ProvisionedThroughputExceededException",
            ErrorMessage: "Rate exceeded for shard (injected)",
          }
          : forwarded[next++]
      );
      const failedCount = records.filter((record) => record.ErrorCode).length;
      return Response.json({ FailedRecordCount: failedCount, Records: records }, {
        headers: amzJson,
      });
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
