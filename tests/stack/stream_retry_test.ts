/**
 * The producer under failure, against real kinesalite: PutRecords entries
 * failed as throttled, whole calls throttled or failing with 500 (through a
 * proxy that really withholds them), the API Gateway path answering 429 and
 * 503; every record still lands exactly once. And the errors that must stop
 * it: one clear line, its exit code, no checkpoint beyond what was accepted.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../src/core/config.ts";
import { kinesisClient } from "../../src/kinesis/client.ts";
import { streamName } from "../../src/core/names.ts";
import { TABLE_KINDS } from "../../src/core/tables.ts";
import { startApiGateway } from "../support/api_gateway_stand_in.ts";
import { deleteStreams, readStream } from "../support/kinesis.ts";
import { randomId, runMain } from "../support/processes.ts";
import { sourceRecords } from "../support/source.ts";
import { startFaultProxy } from "../support/kinesis_fault_proxy.ts";

/** Asserts each stream of `id` holds exactly the first `limit` source records of its table. */
async function assertExactlyOnce(id: string, limit: number): Promise<void> {
  const config = loadConfig({ _: [], id });
  const client = kinesisClient(config.kinesis);
  try {
    for (const kind of TABLE_KINDS) {
      const expected = (await sourceRecords(kind, { limit })).map((r) => JSON.stringify(r));
      const inStream = (await readStream(client, streamName(id, kind)))
        .map((text) => JSON.stringify(JSON.parse(text)));
      assert.equal(inStream.length, expected.length, `${kind}: records in the stream`);
      assert.deepEqual(inStream.sort(), expected.sort(), `${kind}: the same records, once each`);
    }
  } finally {
    client.destroy();
  }
}

async function withStreams(fn: (id: string, dir: string) => Promise<void>): Promise<void> {
  const id = randomId();
  const dir = await Deno.makeTempDir({ prefix: "pinpipe_stream_retry_" });
  const client = kinesisClient(loadConfig({ _: [], id }).kinesis);
  try {
    await fn(id, dir);
  } finally {
    await deleteStreams(client, id);
    client.destroy();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "throttled entries and failed calls are retried until every record is in, once",
  fn: () =>
    withStreams(async (id, dir) => {
      const proxy = startFaultProxy();
      try {
        const run = await runMain([
          "stream",
          "--id",
          id,
          "--state-dir",
          dir,
          "--limit",
          "3000",
          "--put-records",
          "250",
          "--kinesis-endpoint",
          proxy.url,
          "--json",
          "--quiet",
        ]);
        assert.equal(run.code, 0, run.stderr);
        assert.ok(proxy.failedEntries > 0, "some entries were failed");
        assert.ok(proxy.failedCalls > 0, "some calls were failed");
        const summary = JSON.parse(run.stdout);
        assert.equal(summary.totals.acknowledged, 9000);
        assert.equal(summary.totals.failed, 0);
      } finally {
        await proxy.close();
      }
      await assertExactlyOnce(id, 3000);
    }),
});

Deno.test({
  name: "calls answered 500 and written a moment later are looked up in the stream, not sent twice",
  fn: () =>
    withStreams(async (id, dir) => {
      // Every third call is answered 500 at once and written half a second later, as a server
      // still at work on a request whose connection was cut; every fifth is refused, unwritten.
      const proxy = startFaultProxy(undefined, {
        lostAnswerEvery: 3,
        lateByMs: 500,
        entryCallEvery: 1000,
      });
      try {
        const run = await runMain([
          "stream",
          "--id",
          id,
          "--state-dir",
          dir,
          "--limit",
          "2000",
          "--put-records",
          "250",
          "--kinesis-endpoint",
          proxy.url,
        ]);
        assert.equal(run.code, 0, run.stderr);
        assert.ok(proxy.lostAnswers > 0, "some answers were lost");
        assert.ok(proxy.failedCalls > 0, "some calls were refused unwritten");
        assert.match(run.stderr, /sent without an answer: [1-9]\d* found in the stream/);
      } finally {
        await proxy.close();
      }
      await assertExactlyOnce(id, 2000);
    }),
});

Deno.test({
  name: "--via api: the batch route retries 429 and 503 and delivers every record once",
  fn: () =>
    withStreams(async (id, dir) => {
      const client = kinesisClient(loadConfig({ _: [] }).kinesis);
      const gateway = startApiGateway(client, {
        faults: [{ every: 4, status: 429 }, { every: 5, status: 503 }],
      });
      try {
        const run = await runMain([
          "stream",
          "--id",
          id,
          "--state-dir",
          dir,
          "--limit",
          "2000",
          "--put-records",
          "200",
          "--via",
          "api",
          gateway.url,
          "--quiet",
        ]);
        assert.equal(run.code, 0, run.stderr);
        assert.ok((gateway.statuses.get(429) ?? 0) > 0, "429s were answered");
        assert.ok((gateway.statuses.get(503) ?? 0) > 0, "503s were answered");
      } finally {
        await gateway.close();
        client.destroy();
      }
      await assertExactlyOnce(id, 2000);
    }),
});

Deno.test({
  name: "--via api --api-route record: one PUT per record, as the original, with retries",
  fn: () =>
    withStreams(async (id, dir) => {
      const client = kinesisClient(loadConfig({ _: [] }).kinesis);
      const gateway = startApiGateway(client, {
        faults: [{ every: 7, status: 429 }, { every: 11, status: 502 }],
      });
      try {
        const run = await runMain([
          "stream",
          "--id",
          id,
          "--state-dir",
          dir,
          "--limit",
          "150",
          "--via",
          "api",
          gateway.url,
          "--api-route",
          "record",
          "--quiet",
        ]);
        assert.equal(run.code, 0, run.stderr);
        // 450 records, each its own successful PUT, plus the refused attempts.
        assert.equal(gateway.statuses.get(200)! - 6, 450); // 3 GETs + 3 POSTs
        assert.ok((gateway.statuses.get(429) ?? 0) > 0 && (gateway.statuses.get(502) ?? 0) > 0);
      } finally {
        await gateway.close();
        client.destroy();
      }
      await assertExactlyOnce(id, 150);
    }),
});

Deno.test({
  name: "an unreachable Kinesis endpoint is one line, exit 4, and no checkpoint",
  fn: () =>
    withStreams(async (id, dir) => {
      const run = await runMain([
        "stream",
        "--id",
        id,
        "--state-dir",
        dir,
        "--limit",
        "10",
        "--kinesis-endpoint",
        "http://127.0.0.1:9",
      ]);
      assert.equal(run.code, 4, run.stderr);
      const lines = run.stderr.trim().split("\n");
      assert.equal(lines.length, 1, run.stderr);
      assert.match(
        lines[0],
        /^pinpipe stream: cannot describe stream streaming-[0-9a-f]{12}-pin: .*ECONNREFUSED/,
      );
      // No checkpoint, and the run lock released: no file under the pipeline's state directory.
      assert.deepEqual(await filesUnder(`${dir}/${id}`), []);
    }),
});

Deno.test({
  name: "an API that refuses with 4xx stops with one line naming it, exit 4",
  fn: () =>
    withStreams(async (id, dir) => {
      const client = kinesisClient(loadConfig({ _: [] }).kinesis);
      const gateway = startApiGateway(client);
      try {
        const run = await runMain([
          "stream",
          "--id",
          id,
          "--state-dir",
          dir,
          "--limit",
          "10",
          "--via",
          "api",
          `${gateway.url}/no-such-stage`,
        ]);
        assert.equal(run.code, 4, run.stderr);
        assert.match(
          run.stderr.trim(),
          /^pinpipe stream: API http:\/\/127\.0\.0\.1:\d+\/no-such-stage: cannot create stream .* HTTP 404/,
        );
        assert.equal(run.stderr.trim().split("\n").length, 1);
      } finally {
        await gateway.close();
        client.destroy();
      }
    }),
});

Deno.test("bad stream flags are usage errors, exit 2", async () => {
  for (
    const [args, message] of [
      [["--partition-key", "random"], /--partition-key must be one of index, uuid/],
      [["--put-records", "501"], /--put-records must be a whole number from 1 to 500/],
      [["--via", "api"], /--via api needs the API's URL/],
      [["--via", "firehose"], /--via must be kinesis or api URL/],
    ] as [string[], RegExp][]
  ) {
    const run = await runMain(["stream", ...args]);
    assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
    assert.match(run.stderr, message);
  }
});

/** Every file below `dir` (none if it does not exist). */
async function filesUnder(dir: string): Promise<string[]> {
  const files: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      const path = `${dir}/${entry.name}`;
      files.push(...(entry.isDirectory ? await filesUnder(path) : [path]));
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return files;
}
