/**
 * The sink's S3 path (`--bucket s3://name --s3-endpoint URL`): objects go
 * out as signed PutObject requests with the connector's keys and bodies,
 * after one GetObject at the committed offset (nothing there to adopt).
 * There is no S3 server in this environment; the stand-in here is the
 * smallest honest one: a path-style HTTP endpoint on 127.0.0.1 that accepts
 * only SigV4-signed PUTs to the bucket and keeps each body by key.
 */
import assert from "node:assert/strict";
import { parseObjectKey } from "../../src/core/bucket_layout.ts";
import { deleteTopics } from "../support/kafka.ts";
import { multiset } from "../support/bucket.ts";
import { randomId, runMain } from "../support/processes.ts";
import { sourceRecords } from "../support/source.ts";
import { topicName } from "../../src/core/names.ts";

Deno.test({
  name: "sink --bucket s3://name: signed PutObject per object, connector keys, one record per line",
  fn: async () => {
    const id = randomId();
    const bucketName = `user-${id}-bucket`;
    const objects = new Map<string, string>();
    const refused: string[] = [];
    const gets: string[] = [];
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      async (request) => {
        const path = decodeURIComponent(new URL(request.url).pathname);
        const signed = request.headers.get("authorization")?.startsWith("AWS4-HMAC-SHA256 ") ??
          false;
        if (
          !["GET", "PUT"].includes(request.method) || !path.startsWith(`/${bucketName}/`) || !signed
        ) {
          refused.push(`${request.method} ${path}`);
          await request.body?.cancel();
          return new Response("<Error><Code>AccessDenied</Code></Error>", { status: 403 });
        }
        const key = path.slice(bucketName.length + 2);
        if (request.method === "GET") {
          // The sink reads the object at each partition's committed offset before it writes there.
          gets.push(key);
          const body = objects.get(key);
          return body === undefined
            ? new Response("<Error><Code>NoSuchKey</Code></Error>", { status: 404 })
            : new Response(body);
        }
        objects.set(key, await request.text());
        return new Response(null, { status: 200, headers: { etag: '"0"' } });
      },
    );
    const endpoint = `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`;
    const state = await Deno.makeTempDir({ prefix: "pinpipe-state-" });
    try {
      const produced = await runMain([
        "batch",
        "--id",
        id,
        "--state-dir",
        state,
        "--tables",
        "user",
        "--limit",
        "120",
        "--json",
        "--quiet",
      ]);
      assert.equal(produced.code, 0, produced.stderr);
      const lastIndex = JSON.parse(produced.stdout).tables.user.lastIndex as number;
      const env = { AWS_ACCESS_KEY_ID: "local", AWS_SECRET_ACCESS_KEY: "local" };
      const sink = await runMain([
        "sink",
        "--id",
        id,
        "--tables",
        "user",
        "--bucket",
        `s3://${bucketName}`,
        "--s3-endpoint",
        endpoint,
        "--flush-size",
        "50",
        "--rotate-ms",
        "200",
        "--exit-at-end",
        "--quiet",
      ], env);
      assert.equal(sink.code, 0, sink.stderr);
      assert.deepEqual(refused, []);
      const topic = topicName(id, "user");
      const keys = [...objects.keys()].sort();
      assert.deepEqual(keys.map((key) => parseObjectKey(key)?.startOffset), [0, 50, 100]);
      assert.deepEqual(gets, [keys[0]], "only the object at the committed offset is looked up");
      assert.ok(keys.every((key) => parseObjectKey(key)?.topic === topic));
      const records = keys.flatMap((key) =>
        objects.get(key)!.trimEnd().split("\n").map((l) => JSON.parse(l))
      );
      const expected = (await sourceRecords("user")).filter((r) => Number(r.ind) <= lastIndex);
      assert.deepEqual(multiset(records), multiset(expected));
    } finally {
      await server.shutdown();
      await deleteTopics(id);
      await Deno.remove(state, { recursive: true });
    }
  },
});
