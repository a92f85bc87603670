/**
 * `deno task status --bucket s3://NAME --s3-endpoint URL`: the ledger read
 * from a bucket on a private moto S3 server, which a real `sink` filled:
 * the bucket stage's count per table equals the records in its objects as
 * counted directly (every object listed and its lines read), and equals the
 * committed offsets, nothing behind.
 */
import assert from "node:assert/strict";
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { LOCAL_CREDENTIALS } from "../../infra/aws/local_aws.ts";
import { startMoto } from "../../infra/local/stand_ins/moto.ts";
import { bucketName, topicName } from "../../src/core/names.ts";
import { TABLE_KINDS } from "../../src/core/tables.ts";
import type { Ledger } from "../../src/observe/ledger.ts";
import { s3Client } from "../../src/util/s3_client.ts";
import { deleteTopics } from "../support/kafka.ts";
import { randomId, runMain } from "../support/processes.ts";

/** Rows per table sent: not a multiple of the flush size, so the last objects are part full. */
const ROWS = 130;

Deno.test("status --bucket s3://: the bucket stage counts the records a sink put on S3", async () => {
  const id = randomId();
  const moto = await startMoto(26100 + Math.floor(Math.random() * 100));
  const state = await Deno.makeTempDir({ prefix: "pinpipe-status-s3-" });
  const bucket = bucketName(id);
  const s3 = s3Client({
    region: "us-east-1",
    endpoint: moto.endpoint,
    credentials: {
      accessKeyId: LOCAL_CREDENTIALS.AWS_ACCESS_KEY_ID,
      secretAccessKey: LOCAL_CREDENTIALS.AWS_SECRET_ACCESS_KEY,
    },
  });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const flags = ["--id", id, "--state-dir", state];
    const produced = await runMain(["batch", ...flags, "--limit", String(ROWS), "--quiet"]);
    assert.equal(produced.code, 0, produced.stderr);
    const s3Flags = ["--bucket", `s3://${bucket}`, "--s3-endpoint", moto.endpoint];
    const sink = await runMain([
      "sink",
      "--id",
      id,
      ...s3Flags,
      "--flush-size",
      "50",
      "--rotate-ms",
      "200",
      "--exit-at-end",
      "--quiet",
    ], { ...LOCAL_CREDENTIALS });
    assert.equal(sink.code, 0, sink.stderr);

    const status = await runMain(
      ["status", ...flags, ...s3Flags, "--json", "--quiet"],
      { ...LOCAL_CREDENTIALS },
    );
    const ledger = JSON.parse(status.stdout) as Ledger;
    const bucketServer = ledger.servers.find((server) => server.name === "bucket")!;
    assert.equal(bucketServer.where, `s3://${bucket}`);
    assert.equal(bucketServer.up, true, JSON.stringify(bucketServer));
    for (const kind of TABLE_KINDS) {
      // Counted directly: every object of the topic listed and its lines read.
      const listed = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: `topics/${topicName(id, kind)}/` }),
      );
      let lines = 0;
      for (const object of listed.Contents ?? []) {
        const body = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key }));
        lines += (await body.Body!.transformToString()).trimEnd().split("\n").length;
      }
      assert.equal(listed.Contents?.length, Math.ceil(ROWS / 50), `${kind}: objects of 50`);
      assert.equal(lines, ROWS, `${kind}: records put`);
      const stages = ledger.batch.tables[kind];
      const inBucket = stages.find((stage) => stage.stage === "bucket")!;
      const committed = stages.find((stage) => stage.stage === "committed")!;
      assert.equal(inBucket.count, lines, `${kind}: the bucket stage's count`);
      assert.equal(inBucket.behind, 0, `${kind}: nothing committed is missing from the bucket`);
      assert.equal(committed.count, ROWS, `${kind}: committed`);
    }
  } finally {
    s3.destroy();
    await moto.close();
    await deleteTopics(id);
    await Deno.remove(state, { recursive: true });
  }
});
