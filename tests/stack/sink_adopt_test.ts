/**
 * Objects are immutable once written: a sink killed between the put of an
 * object and the commit of its offsets leaves an object the group never
 * committed. The sink started again, with another rotation timing, adopts
 * it: the object at the committed offset keeps its bytes (a reader that
 * took it already misses nothing), and the objects tile the offsets.
 *
 * The kill lands between put and commit for certain: the bucket is
 * `s3://` on an S3 stand-in (as in sink_s3_test.ts: path-style, SigV4-signed
 * requests only) that stores the first PutObject and holds its answer until
 * the sink is killed, so the sink never learns the put landed and never
 * commits it. (A directory bucket takes the same path through the sink; its
 * `get` is tested in tests/sink/. Catching a directory put before its commit
 * would depend on timing, so it is not a stack test.)
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseObjectKey, recordsIn } from "../../src/core/bucket_layout.ts";
import { topicName } from "../../src/core/names.ts";
import { committedOffsets, deleteTopics, endOffsets } from "../support/kafka.ts";
import { finish, type Finished, randomId, runMain, spawnMain } from "../support/processes.ts";

/** An S3 stand-in keeping each object by key; it can hold the answer to the next PutObject. */
function s3StandIn(bucketName: string) {
  const objects = new Map<string, string>();
  /** Every body put, by key, in order. */
  const puts = new Map<string, string[]>();
  const refused: string[] = [];
  let holding: { resolve: (put: { key: string; body: string }) => void } | undefined;
  const held: Array<() => void> = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      const path = decodeURIComponent(new URL(request.url).pathname);
      const signed = request.headers.get("authorization")?.startsWith("AWS4-HMAC-SHA256 ") ??
        false;
      const key = path.slice(bucketName.length + 2);
      if (!path.startsWith(`/${bucketName}/`) || !signed) {
        refused.push(`${request.method} ${path}`);
        await request.body?.cancel();
        return new Response("<Error><Code>AccessDenied</Code></Error>", { status: 403 });
      }
      if (request.method === "GET") {
        const body = objects.get(key);
        return body === undefined
          ? new Response("<Error><Code>NoSuchKey</Code></Error>", {
            status: 404,
            headers: { "content-type": "application/xml" },
          })
          : new Response(body, { status: 200, headers: { etag: '"0"' } });
      }
      if (request.method !== "PUT") {
        refused.push(`${request.method} ${path}`);
        return new Response("<Error><Code>AccessDenied</Code></Error>", { status: 403 });
      }
      const body = await request.text();
      objects.set(key, body);
      puts.set(key, [...puts.get(key) ?? [], body]);
      if (holding) {
        // Stored, but the sink is never told: it is killed before the answer.
        holding.resolve({ key, body });
        holding = undefined;
        await new Promise<void>((release) => held.push(release));
        return new Response("<Error><Code>InternalError</Code></Error>", { status: 500 });
      }
      return new Response(null, { status: 200, headers: { etag: '"0"' } });
    },
  );
  return {
    objects,
    puts,
    refused,
    endpoint: `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`,
    /** The next put is stored and left unanswered; resolves with it. */
    holdNextPut: () =>
      new Promise<{ key: string; body: string }>((resolve) => holding = { resolve }),
    async close() {
      held.forEach((release) => release());
      await server.shutdown();
    },
  };
}

Deno.test({
  name:
    "sink: killed between put and commit, restarted with other rotation, keeps the object's bytes and tiles the offsets",
  fn: async () => {
    const id = randomId();
    const topic = topicName(id, "user");
    const group = `connect-pinpipe-sink-${id}`;
    const bucketName = `user-${id}-bucket`;
    const s3 = s3StandIn(bucketName);
    const dir = await Deno.makeTempDir({ prefix: "pinpipe-sink-adopt-" });
    const env = { AWS_ACCESS_KEY_ID: "local", AWS_SECRET_ACCESS_KEY: "local" };
    const batch = async (rows: number) => {
      const run = await runMain([
        "batch",
        "--id",
        id,
        "--state-dir",
        join(dir, "state"),
        "--tables",
        "user",
        "--limit",
        String(rows),
        "--quiet",
      ]);
      assert.equal(run.code, 0, run.stderr);
    };
    const sinkArgs = (rotateMs: number) => [
      "sink",
      "--id",
      id,
      "--tables",
      "user",
      "--group",
      group,
      "--bucket",
      `s3://${bucketName}`,
      "--s3-endpoint",
      s3.endpoint,
      "--flush-size",
      "1000",
      "--rotate-ms",
      String(rotateMs),
      "--quiet",
    ];
    let first: { child: Deno.ChildProcess; result: Promise<Finished> } | undefined;
    try {
      await batch(6);
      const firstPut = s3.holdNextPut();
      const child = spawnMain(sinkArgs(300), env);
      first = { child, result: finish(child) };
      // The 6 records, cut by rotation after 300 ms, are stored; the sink dies before the commit.
      const put = await Promise.race([firstPut, first.result]);
      if (!("key" in put)) assert.fail(`the sink ended before its put: ${put.stderr}`);
      child.kill("SIGKILL");
      await first.result;
      first = undefined;
      assert.equal(parseObjectKey(put.key)?.startOffset, 0);
      assert.equal(recordsIn(put.body), 6);
      assert.deepEqual(await committedOffsets(group, topic), [-1], "the put was never committed");

      // More records: rotating on its own clock, the restarted sink would cut them all into
      // one object at offset 0 and replace the 6 records a reader may have taken already.
      await batch(31);
      assert.deepEqual((await endOffsets(id, undefined, ["user"]))[topic], [37]);
      const second = await runMain([...sinkArgs(100), "--exit-at-end"], env);
      assert.equal(second.code, 0, second.stderr);

      assert.deepEqual(s3.refused, []);
      assert.equal(s3.objects.get(put.key), put.body, "the object at offset 0 keeps its bytes");
      for (const [key, bodies] of s3.puts) {
        assert.ok(bodies.every((body) => body === bodies[0]), `${key} written with other content`);
      }
      const keys = [...s3.objects.keys()].sort();
      let next = 0;
      for (const key of keys) {
        assert.equal(parseObjectKey(key)?.startOffset, next, `${key}: a gap or an overlap`);
        next += recordsIn(s3.objects.get(key)!);
      }
      assert.equal(next, 37, "the objects reach the end offset");
      assert.ok(keys.length >= 2, `${keys.length} objects`);
      assert.deepEqual(await committedOffsets(group, topic), [37]);
    } finally {
      if (first) {
        first.child.kill("SIGKILL");
        await first.result;
      }
      await s3.close();
      await deleteTopics(id);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
