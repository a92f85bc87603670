/**
 * `sim --from bucket --bucket s3://B --s3-endpoint URL` reads the objects
 * through the AWS SDK from a private moto server and gives exactly the
 * answers, checks and counts that the same objects in a directory give;
 * empty objects fail the records-present checks.
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { LOCAL_CREDENTIALS } from "../../infra/aws/local_aws.ts";
import { startMoto } from "../../infra/local/stand_ins/moto.ts";
import { objectKey } from "../../src/core/bucket_layout.ts";
import { bucketName } from "../../src/core/names.ts";
import { s3Client } from "../../src/util/s3_client.ts";
import { copyS3Objects } from "../../sim/s3_bucket_reader.ts";
import { randomId, runMain } from "../support/processes.ts";
import type { SimJson } from "../support/sim.ts";

async function* files(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* files(path);
    else if (entry.isFile) yield path;
  }
}

async function simJson(args: string[]): Promise<SimJson & { stderr: string }> {
  const { code, stdout, stderr } = await runMain(["sim", "--json", ...args], {
    ...LOCAL_CREDENTIALS,
  });
  assert.equal(code, 0, `sim ${args.join(" ")} failed:\n${stderr}`);
  return { ...JSON.parse(stdout), stderr };
}

Deno.test("sim from s3:// gives exactly the answers of the same objects in a directory", async () => {
  const moto = await startMoto(21900 + Math.floor(Math.random() * 60));
  const out = await Deno.makeTempDir({ prefix: "pinpipe-sim-s3-" });
  const s3 = s3Client({
    region: "us-east-1",
    endpoint: moto.endpoint,
    credentials: {
      accessKeyId: LOCAL_CREDENTIALS.AWS_ACCESS_KEY_ID,
      secretAccessKey: LOCAL_CREDENTIALS.AWS_SECRET_ACCESS_KEY,
    },
  });
  try {
    // Objects in the sink's layout, landed by a generated run (many small objects).
    const landed = await simJson(["--rows", "600", "--flush-size", "20", "--out", `${out}/gen`]);
    assert.deepEqual(landed.checks.filter((check) => !check.passed), []);
    const dir = `${out}/gen/bucket/${bucketName("0123456789ab")}`;

    // The same bytes under the same keys in an S3 bucket.
    const bucket = bucketName(randomId());
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    let uploaded = 0;
    for await (const path of files(dir)) {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: relative(dir, path),
          Body: await Deno.readFile(path),
        }),
      );
      uploaded++;
    }
    assert.equal(uploaded, 3 * 30);

    const fromDir = await simJson(["--from", "bucket", "--bucket", dir, "--out", `${out}/dir`]);
    const fromS3 = await simJson([
      "--from",
      "bucket",
      "--bucket",
      `s3://${bucket}`,
      "--s3-endpoint",
      moto.endpoint,
      "--out",
      `${out}/s3`,
    ]);
    assert.equal(fromS3.source, `bucket s3://${bucket}`);

    // A long copy says how far it is: here every object is "long". (The SDK's chain reads
    // this process's environment.)
    for (const [name, value] of Object.entries(LOCAL_CREDENTIALS)) Deno.env.set(name, value);
    const lines: string[] = [];
    const copied = await copyS3Objects({
      bucket,
      prefixes: ["topics/"],
      toDir: `${out}/copy`,
      region: "us-east-1",
      endpoint: moto.endpoint,
      progress: (line) => lines.push(line),
      progressMs: 0,
    });
    assert.equal(copied.objects, uploaded);
    assert.match(lines.at(0)!, new RegExp(`^reading s3://${bucket}: 1 objects, `));
    assert.match(lines.at(-1)!, new RegExp(`^read s3://${bucket}: ${uploaded} objects, `));
    assert.deepEqual(fromS3.answers, fromDir.answers);
    assert.deepEqual(fromS3.cleaned, fromDir.cleaned);
    assert.deepEqual(fromS3.checks, fromDir.checks);
    assert.deepEqual(fromS3.cleaned.pin, landed.cleaned.pin);

    // A bucket that is not there is S3's own error, not an empty answer.
    const missing = await runMain([
      "sim",
      "--from",
      "bucket",
      "--bucket",
      `s3://${bucketName(randomId())}`,
      "--s3-endpoint",
      moto.endpoint,
      "--out",
      `${out}/missing`,
    ], { ...LOCAL_CREDENTIALS });
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /NoSuchBucket|does not exist/);

    // Objects that hold no records (an upload gone wrong) fail a check, not pass on nothing.
    const empty = bucketName(randomId());
    await s3.send(new CreateBucketCommand({ Bucket: empty }));
    for (const kind of ["pin", "geo", "user"]) {
      await s3.send(
        new PutObjectCommand({
          Bucket: empty,
          Key: objectKey(`0123456789ab.${kind}`, 0, 0),
          Body: new Uint8Array(),
        }),
      );
    }
    const nothing = await runMain([
      "sim",
      "--quiet",
      "--from",
      "bucket",
      "--bucket",
      `s3://${empty}`,
      "--s3-endpoint",
      moto.endpoint,
      "--out",
      `${out}/empty`,
    ], { ...LOCAL_CREDENTIALS });
    assert.equal(nothing.code, 1, nothing.stderr);
    for (const kind of ["pin", "geo", "user"]) {
      assert.match(
        nothing.stdout,
        new RegExp(`FAIL {2}records present ${kind}: no ${kind} records`),
      );
    }

    const usage = await runMain(["sim", "--s3-endpoint", moto.endpoint]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--s3-endpoint goes with --bucket s3:\/\/B/);
  } finally {
    s3.destroy();
    await moto.close();
    await Deno.remove(out, { recursive: true });
  }
});
