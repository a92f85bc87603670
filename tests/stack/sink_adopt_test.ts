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
 * commits it. In a directory bucket the test watches the partition's folder
 * and stops the sink (SIGSTOP) as each object appears; when the group has
 * not committed the newest object, the sink is killed there, else it goes on
 * (SIGCONT) to the next object.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  objectKey,
  parseObjectKey,
  partitionPrefix,
  recordsIn,
} from "../../src/core/bucket_layout.ts";
import { topicName } from "../../src/core/names.ts";
import { readBucket } from "../support/bucket.ts";
import { committedOffsets, deleteTopics, endOffsets } from "../support/kafka.ts";
import {
  finish,
  type Finished,
  randomId,
  runMain,
  spawnMain,
  waitFor,
} from "../support/processes.ts";

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

Deno.test({
  name:
    "sink into a directory: killed between put and commit, restarted with other flush size and rotation, keeps the object's bytes",
  fn: async () => {
    const id = randomId();
    const topic = topicName(id, "user");
    const group = `connect-pinpipe-sink-${id}`;
    const dir = await Deno.makeTempDir({ prefix: "pinpipe-sink-adopt-" });
    const bucket = join(dir, "bucket");
    const folder = join(bucket, partitionPrefix(topic, 0));
    await Deno.mkdir(folder, { recursive: true });
    const rows = 200;
    const sinkArgs = (flushSize: number, rotateMs: number) => [
      "sink",
      "--id",
      id,
      "--tables",
      "user",
      "--group",
      group,
      "--bucket",
      bucket,
      "--flush-size",
      String(flushSize),
      "--rotate-ms",
      String(rotateMs),
      "--quiet",
    ];
    const objectStarts = () =>
      [...Deno.readDirSync(folder)].map((entry) =>
        parseObjectKey(`${partitionPrefix(topic, 0)}/${entry.name}`)?.startOffset
      )
        .filter((start): start is number => start !== undefined);
    const batchChild = spawnMain([
      "batch",
      "--id",
      id,
      "--state-dir",
      join(dir, "state"),
      "--tables",
      "user",
      "--limit",
      String(rows),
      "--rate",
      "40",
      "--quiet",
    ]);
    const batch = finish(batchChild);
    let first: { child: Deno.ChildProcess; result: Promise<Finished> } | undefined;
    const watcher = Deno.watchFs(folder);
    const stopWatching = () => {
      try {
        watcher.close();
      } catch { /* closed already */ }
    };
    const watchdog = setTimeout(stopWatching, 90_000);
    try {
      await waitFor(
        "the topic",
        () => endOffsets(id, undefined, ["user"]).then(() => true, () => false),
        30_000,
        250,
      );
      const child = spawnMain(sinkArgs(7, 0));
      first = { child, result: finish(child) };
      first.result.then(stopWatching);
      let caught: number | undefined;
      let seen = 0;
      for await (const event of watcher) {
        if (!event.paths.some((path) => path.endsWith(".json"))) continue;
        child.kill("SIGSTOP");
        // A commit already sent lands meanwhile; one not sent yet never will.
        await new Promise((resolve) => setTimeout(resolve, 500));
        const [committed] = await committedOffsets(group, topic);
        if (objectStarts().includes(committed)) {
          caught = committed;
          break;
        }
        if (++seen >= 25) break;
        child.kill("SIGCONT");
      }
      if (caught === undefined) {
        const ended = await Promise.race([first.result, Promise.resolve(undefined)]);
        assert.fail(`no kill between put and commit in ${seen} objects ${ended?.stderr ?? ""}`);
      }
      child.kill("SIGKILL");
      await first.result;
      first = undefined;
      const key = objectKey(topic, 0, caught);
      const left = await Deno.readTextFile(join(bucket, key));
      assert.equal(recordsIn(left), 7);
      const produced = await batch;
      assert.equal(produced.code, 0, produced.stderr);
      assert.deepEqual((await endOffsets(id, undefined, ["user"]))[topic], [rows]);

      const second = await runMain([...sinkArgs(50, 200), "--exit-at-end"]);
      assert.equal(second.code, 0, second.stderr);
      assert.equal(await Deno.readTextFile(join(bucket, key)), left, `${key} keeps its bytes`);
      let next = 0;
      for (const object of await readBucket(bucket, topic)) {
        assert.equal(object.startOffset, next, `${object.key}: a gap or an overlap`);
        next += object.records.length;
      }
      assert.equal(next, rows, "the objects reach the end offset");
      assert.deepEqual(await committedOffsets(group, topic), [rows]);
    } finally {
      clearTimeout(watchdog);
      stopWatching();
      if (first) {
        first.child.kill("SIGKILL");
        await first.result;
      }
      try {
        batchChild.kill("SIGKILL");
      } catch { /* already exited */ }
      await batch;
      await deleteTopics(id);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
