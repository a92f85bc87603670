/**
 * `./infra.sh aws apply|destroy` run for real against a private moto (its
 * CloudFormation, S3, Kinesis, IAM, API Gateway, EC2) and the Databricks
 * stand-in: apply deploys the three stacks and the
 * steps around them, apply again changes nothing, destroy empties the
 * stacks' buckets and removes everything last first, destroy again finds
 * everything gone; a stack CloudFormation refuses, with its reason (moto
 * refuses at CreateStack, so the failed-resource path of a real account's
 * stack events is not shown here); a step that fails and the rerun that
 * continues from it.
 */
import assert from "node:assert/strict";
import { DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import { ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { main, planFor } from "../../infra/aws/command.ts";
import { stackNames } from "../../infra/aws/cdk/names.ts";
import { findStack } from "../../infra/aws/cloudformation.ts";
import {
  LOCAL_CREDENTIALS,
  type LocalAws,
  localCloudFormation,
  prepareLocalAws,
} from "../../infra/aws/local_aws.ts";
import { startMoto } from "../../infra/local/stand_ins/moto.ts";
import { bucketName } from "../../src/core/names.ts";
import { s3Client } from "../../src/util/s3_client.ts";
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

Deno.test("aws apply deploys the stacks, apply again changes nothing, destroy leaves nothing; failures name their step", async (t) => {
  // The SDK's credential chain reads this process's environment.
  for (const [name, value] of Object.entries(LOCAL_CREDENTIALS)) Deno.env.set(name, value);
  const base = 21600 + Math.floor(Math.random() * 100) * 3;
  const moto = await startMoto(base);
  const id = randomId();
  const names = stackNames(id);
  let local: LocalAws | undefined;
  const s3 = s3Client({ region: "us-east-1", endpoint: moto.endpoint });
  const cloudformation = localCloudFormation(moto.endpoint);
  try {
    local = await prepareLocalAws({
      id,
      endpoint: moto.endpoint,
      brokers: "127.0.0.1:19092",
      databricksPort: base + 1,
    });
    const env = local.env;
    const STEPS = planFor(env).steps.length;
    const stackStatus = async (name: string) =>
      (await findStack(cloudformation, name))?.StackStatus;
    const keys = async (bucket: string) =>
      ((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? [])
        .map((object) => object.Key).sort();

    await t.step(
      "apply deploys each stack and step in order; a second apply changes nothing",
      async () => {
        const first = await aws(["apply"], env);
        assert.equal(first.code, 0, first.stderr);
        assert.equal(lastLine(first.stdout), `apply: ${STEPS} steps done, 0 already in place.`);
        const done = first.stdout.split("\n").filter((line) => /^\d+\. /.test(line));
        assert.deepEqual(done.slice(0, 2), [
          `1. deploy stack ${names.network}: done (created)`,
          `2. deploy stack ${names.data}: done (created)`,
        ]);
        assert.match(
          first.stdout,
          new RegExp(`^6\\. deploy stack ${names.pipeline}: done \\(created\\)$`, "m"),
        );
        for (const name of Object.values(names)) {
          assert.equal(await stackStatus(name), "CREATE_COMPLETE");
        }
        // The pipeline stack got MSK's brokers as its parameter.
        const { Stacks = [] } = await cloudformation.send(
          new DescribeStacksCommand({ StackName: names.pipeline }),
        );
        const parameter = Stacks[0].Parameters?.find((p) =>
          p.ParameterKey === "KafkaBootstrapServers"
        );
        assert.equal(parameter?.ParameterValue, "127.0.0.1:19092");
        assert.deepEqual(await keys(bucketName(id)), [
          "kafka-connect-s3/confluentinc-kafka-connect-s3-10.5.13.zip",
        ]);
        assert.deepEqual(await keys(`pinpipe-${id}-airflow`), [
          `dags/${id}_dag.py`,
          `requirements/${id}_requirements.txt`,
        ]);
        const paths = new Map(local!.databricks.paths());
        assert.equal(paths.get(`/Shared/pinpipe/${id}/batch_notebook`), "NOTEBOOK");

        const second = await aws(["apply"], env);
        assert.equal(second.code, 0, second.stderr);
        assert.equal(lastLine(second.stdout), `apply: 0 steps done, ${STEPS} already in place.`);
        assert.match(
          second.stdout,
          new RegExp(
            `^1\\. deploy stack ${names.network}: already in place \\(unchanged\\), skipped$`,
            "m",
          ),
        );
        for (const name of Object.values(names)) {
          assert.equal(await stackStatus(name), "CREATE_COMPLETE");
        }
      },
    );

    await t.step(
      "destroy needs --yes, empties the stacks' buckets, removes last first, and is idempotent",
      async () => {
        const refused = await aws(["destroy"], env);
        assert.equal(refused.code, 2);
        assert.match(refused.stderr, /no terminal to confirm on: rerun with --yes/);
        assert.equal(
          await stackStatus(names.data),
          "CREATE_COMPLETE",
          "a refused destroy removes nothing",
        );

        // What the sink writes: the bucket must be emptied before CloudFormation can delete it.
        await s3.send(
          new PutObjectCommand({
            Bucket: bucketName(id),
            Key: `topics/${id}.pin/x.json`,
            Body: "{}",
          }),
        );
        const first = await aws(["destroy", "--yes"], env);
        assert.equal(first.code, 0, first.stderr);
        assert.equal(lastLine(first.stdout), `destroy: ${STEPS} steps removed, 0 already gone.`);
        const numbers = first.stdout.split("\n").map((line) => Number(/^(\d+)\./.exec(line)?.[1]))
          .filter((n) => n > 0);
        assert.deepEqual(numbers, Array.from({ length: STEPS }, (_, i) => STEPS - i));
        for (const name of Object.values(names)) assert.equal(await stackStatus(name), undefined);
        assert.ok(
          !local!.databricks.paths().some(([path]) => path.startsWith(`/Shared/pinpipe/${id}`)),
        );

        const again = await aws(["destroy", "--yes"], env);
        assert.equal(again.code, 0, again.stderr);
        assert.equal(lastLine(again.stdout), `destroy: 0 steps removed, ${STEPS} already gone.`);
      },
    );

    await t.step(
      "a denied call stops apply at its step in one line; the rerun continues there",
      async () => {
        local!.databricks.deny("POST /api/2.0/workspace/mkdirs");
        const failed = await aws(["apply"], env);
        assert.equal(failed.code, 1);
        // CDK's validation report (a zone named in the account's VPC) may come first.
        const [line, hint] = failed.stderr.slice(failed.stderr.indexOf("infra aws apply:")).split(
          "\n",
        );
        assert.match(
          line,
          new RegExp(
            `^infra aws apply: step 7 \\(create workspace folder /Shared/pinpipe/${id}\\) failed: ` +
              "DatabricksError: POST /api/2.0/workspace/mkdirs: HTTP 403 PERMISSION_DENIED",
          ),
        );
        assert.match(hint, /Steps before it are done; fix the cause and rerun apply\./);
        assert.match(failed.stdout, /^6\. deploy stack .*: done \(created\)$/m);
        local!.databricks.allow("POST /api/2.0/workspace/mkdirs");
        const rerun = await aws(["apply"], env);
        assert.equal(rerun.code, 0, rerun.stderr);
        assert.equal(lastLine(rerun.stdout), `apply: ${STEPS - 6} steps done, 6 already in place.`);
        assert.equal((await aws(["destroy", "--yes"], env)).code, 0);
      },
    );

    await t.step(
      "a stack CloudFormation refuses stops apply at its step, with CloudFormation's reason",
      async () => {
        // The sink's bucket name, taken by another account: the data stack cannot make it.
        const taken = await fetch(`${moto.endpoint}/${bucketName(id)}`, {
          method: "PUT",
          headers: { "x-moto-account-id": "222233334444" },
        });
        await taken.body?.cancel();
        assert.equal(taken.status, 200);
        const failed = await aws(["apply"], env);
        assert.equal(failed.code, 1);
        assert.match(
          failed.stderr.slice(failed.stderr.indexOf("infra aws apply:")).split("\n")[0],
          new RegExp(
            `^infra aws apply: step 2 \\(deploy stack ${names.data}\\) failed: StackFailed: ` +
              `stack ${names.data}: .*The requested bucket name is not available`,
          ),
        );
        assert.doesNotMatch(failed.stdout, /^3\./m, "nothing after the failed stack ran");
        // moto answers DescribeStacks for a stack whose create it refused with an HTML error page,
        // so no destroy follows here: the private moto goes with the test.
      },
    );
  } finally {
    await local?.close();
    cloudformation.destroy();
    s3.destroy();
    await moto.close();
  }
});
