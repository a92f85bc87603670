/**
 * `./infra.sh aws apply|destroy` run for real against local endpoints: a
 * private moto for S3, the stack's kinesalite and broker, and the MSK Connect
 * and Databricks stand-ins. Apply twice (the second changes nothing),
 * destroy twice (the second finds everything gone) and apply again, a step
 * that fails and the rerun that continues from it, and a bucket name another
 * account owns.
 */
import assert from "node:assert/strict";
import { HeadBucketCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { DescribeStreamSummaryCommand } from "@aws-sdk/client-kinesis";
import { main, planFor } from "../../infra/aws/command.ts";
import { LOCAL_CREDENTIALS, type LocalAws, prepareLocalAws } from "../../infra/aws/local_aws.ts";
import { startMoto } from "../../infra/local/stand_ins/moto.ts";
import { bucketName, streamName, topicName } from "../../src/core/names.ts";
import { kafkaClient } from "../../src/kafka/client.ts";
import { kinesisClient } from "../../src/kinesis/client.ts";
import { s3Client } from "../../src/util/s3_client.ts";
import { deleteTopics } from "../support/kafka.ts";
import { deleteStreams, KINESALITE } from "../support/kinesis.ts";
import { randomId } from "../support/processes.ts";

/** Runs `./infra.sh aws ...` in this process, output captured, with no terminal. */
async function aws(args: string[], env: Record<string, string>) {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...parts: unknown[]) => out.push(parts.join(" "));
  console.error = (...parts: unknown[]) => err.push(parts.join(" "));
  try {
    const code = await main(args, env, () => false);
    return { code, stdout: out.join("\n"), stderr: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

const lastLine = (text: string) => text.trimEnd().split("\n").at(-1);

Deno.test("aws apply, apply again, destroy, destroy again, apply again; a failing step and its rerun", async (t) => {
  // The SDK's credential chain reads this process's environment.
  for (const [name, value] of Object.entries(LOCAL_CREDENTIALS)) Deno.env.set(name, value);
  const base = 21600 + Math.floor(Math.random() * 100) * 3;
  const moto = await startMoto(base);
  const id = randomId();
  let local: LocalAws | undefined;
  const s3 = s3Client({ region: "us-east-1", endpoint: moto.endpoint });
  const kinesis = kinesisClient({ region: "us-east-1", endpoint: KINESALITE });
  const admin = (await kafkaClient({ brokers: ["127.0.0.1:19092"], auth: "none" }, "test")).admin();
  await admin.connect();
  try {
    local = await prepareLocalAws({
      id,
      s3Endpoint: moto.endpoint,
      kinesisEndpoint: KINESALITE,
      brokers: "127.0.0.1:19092",
      ports: { kafkaconnect: base + 1, databricks: base + 2 },
    });
    const env = local.env;
    // Every step of the plan, however many the notebooks/ folder makes.
    const STEPS = planFor(env).steps.length;
    assert.ok(STEPS > 40, `a plan of ${STEPS} steps`);
    const bucketExists = () =>
      s3.send(new HeadBucketCommand({ Bucket: bucketName(id) })).then(() => true, () => false);
    const streamExists = () =>
      kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName(id, "pin") }))
        .then(() => true, () => false);
    const topicExists = async () => (await admin.listTopics()).includes(topicName(id, "geo"));
    const mwaaKeys = async () =>
      ((await s3.send(new ListObjectsV2Command({ Bucket: local!.mwaaBucket }))).Contents ?? [])
        .map((object) => object.Key).sort();

    await t.step("apply makes every step; a second apply finds all in place", async () => {
      const first = await aws(["apply"], env);
      assert.equal(first.code, 0, first.stderr);
      assert.equal(lastLine(first.stdout), `apply: ${STEPS} steps done, 0 already in place.`);
      assert.ok(await bucketExists());
      assert.ok(await streamExists());
      assert.ok(await topicExists());
      assert.deepEqual(await mwaaKeys(), [
        `dags/${id}_dag.py`,
        `requirements/${id}_requirements.txt`,
      ]);
      assert.deepEqual(local!.kafkaconnect.state(), {
        plugins: [`pinpipe-${id}-confluent-s3-sink`],
        connectors: [`pinpipe-${id}-s3-sink`],
      });
      const paths = new Map(local!.databricks.paths());
      assert.equal(paths.get(`/Shared/pinpipe/${id}/batch_notebook`), "NOTEBOOK");
      assert.equal(paths.get(`/Shared/pinpipe/${id}/sql/manifest.json`), "FILE");

      const calls = local!.kafkaconnect.calls.length;
      const second = await aws(["apply"], env);
      assert.equal(second.code, 0, second.stderr);
      assert.equal(lastLine(second.stdout), `apply: 0 steps done, ${STEPS} already in place.`);
      assert.ok(
        local!.kafkaconnect.calls.slice(calls).every((call) => /^(List|Describe)/.test(call)),
        "a second apply only reads MSK Connect",
      );
    });

    await t.step(
      "destroy needs --yes without a terminal, removes in reverse, and is idempotent",
      async () => {
        const refused = await aws(["destroy"], env);
        assert.equal(refused.code, 2);
        assert.match(refused.stderr, /no terminal to confirm on: rerun with --yes/);
        assert.ok(await bucketExists(), "a refused destroy removes nothing");

        const first = await aws(["destroy", "--yes"], env);
        assert.equal(first.code, 0, first.stderr);
        assert.equal(lastLine(first.stdout), `destroy: ${STEPS} steps removed, 0 already gone.`);
        const numbers = first.stdout.split("\n").map((line) => Number(/^(\d+)\./.exec(line)?.[1]))
          .filter((n) => n > 0);
        assert.deepEqual(numbers, Array.from({ length: STEPS }, (_, i) => STEPS - i));
        assert.equal(await bucketExists(), false);
        assert.equal(await streamExists(), false);
        assert.equal(await topicExists(), false);
        assert.deepEqual(await mwaaKeys(), []);
        assert.deepEqual(local!.kafkaconnect.state(), { plugins: [], connectors: [] });
        assert.ok(
          !local!.databricks.paths().some(([path]) => path.startsWith(`/Shared/pinpipe/${id}`)),
        );

        const again = await aws(["destroy", "--yes"], env);
        assert.equal(again.code, 0, again.stderr);
        assert.equal(lastLine(again.stdout), `destroy: 0 steps removed, ${STEPS} already gone.`);

        const reapplied = await aws(["apply"], env);
        assert.equal(reapplied.code, 0, reapplied.stderr);
        assert.equal(lastLine(reapplied.stdout), `apply: ${STEPS} steps done, 0 already in place.`);
      },
    );

    await t.step(
      "a denied call stops apply at its step in one line; the rerun continues there",
      async () => {
        assert.equal((await aws(["destroy", "--yes"], env)).code, 0);
        local!.kafkaconnect.deny("CreateConnector");
        const failed = await aws(["apply"], env);
        assert.equal(failed.code, 1);
        const [line, hint] = failed.stderr.split("\n");
        assert.match(
          line,
          new RegExp(
            `^infra aws apply: step 8 \\(create MSK Connect connector pinpipe-${id}-s3-sink\\) ` +
              "failed: CreateConnector: ForbiddenException: User: .* is not authorized to perform: " +
              "kafkaconnect:CreateConnector",
          ),
        );
        assert.match(hint, /Steps before it are done; fix the cause and rerun apply\./);
        assert.match(failed.stdout, /^7\. create MSK Connect custom plugin .*: done/m);
        assert.doesNotMatch(failed.stdout, /^8\./m);

        local!.kafkaconnect.allow("CreateConnector");
        const rerun = await aws(["apply"], env);
        assert.equal(rerun.code, 0, rerun.stderr);
        assert.equal(lastLine(rerun.stdout), `apply: ${STEPS - 7} steps done, 7 already in place.`);

        local!.databricks.deny("POST /api/2.0/workspace/delete");
        const stuck = await aws(["destroy", "--yes"], env);
        assert.equal(stuck.code, 1);
        assert.match(
          stuck.stderr,
          new RegExp(
            `^infra aws destroy: step ${STEPS} \\(import .*\\) failed: DatabricksError: ` +
              "POST /api/2.0/workspace/delete: HTTP 403 PERMISSION_DENIED",
          ),
        );
        local!.databricks.allow("POST /api/2.0/workspace/delete");
        const finished = await aws(["destroy", "--yes"], env);
        assert.equal(finished.code, 0, finished.stderr);
        assert.equal(lastLine(finished.stdout), `destroy: ${STEPS} steps removed, 0 already gone.`);
      },
    );

    await t.step(
      "a bucket name another account owns fails CreateBucket with S3's own error",
      async () => {
        const taken = await fetch(`${moto.endpoint}/${bucketName(id)}`, {
          method: "PUT",
          headers: { "x-moto-account-id": "222233334444" },
        });
        await taken.body?.cancel();
        assert.equal(taken.status, 200);
        const failed = await aws(["apply"], env);
        assert.equal(failed.code, 1);
        assert.match(
          failed.stderr.split("\n")[0],
          new RegExp(
            `^infra aws apply: step 1 \\(create bucket ${
              bucketName(id)
            }\\) failed: CreateBucket: ` +
              "BucketAlreadyExists: The requested bucket name is not available",
          ),
        );
        assert.equal(failed.stdout, "");
      },
    );
  } finally {
    await local?.close();
    await admin.disconnect();
    await deleteTopics(id);
    await deleteStreams(kinesis, id).catch(() => {});
    kinesis.destroy();
    s3.destroy();
    await moto.close();
  }
});
