/**
 * infra/aws/cloudformation.ts against moto's CloudFormation (a private moto
 * server): a stack created, deployed again unchanged, updated when its
 * template changes, a deploy CloudFormation refuses reported with the stack
 * and CloudFormation's reason, and deleted (then found gone). (moto answers
 * a resource that fails to create with an HTML error page, not stack
 * events, so the failed-resource path of a real account is not shown here.)
 */
import assert from "node:assert/strict";
import { CloudFormationClient } from "@aws-sdk/client-cloudformation";
import { DescribeStreamSummaryCommand } from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import {
  deleteStack,
  deployStack,
  findStack,
  outputsOf,
  StackFailed,
} from "../../infra/aws/cloudformation.ts";
import { startMoto } from "../../infra/local/stand_ins/moto.ts";
import { kinesisClient } from "../../src/kinesis/client.ts";
import { randomId } from "../support/processes.ts";

const streamTemplate = (name: string, hours: number) =>
  JSON.stringify({
    Resources: {
      Stream: {
        Type: "AWS::Kinesis::Stream",
        Properties: { Name: name, ShardCount: 1, RetentionPeriodHours: hours },
      },
    },
    Outputs: { StreamName: { Value: { Ref: "Stream" } } },
  });

Deno.test("deploy creates, finds nothing to change, updates, reports a refusal, and deletes", async () => {
  const moto = await startMoto(27600 + Math.floor(Math.random() * 100));
  const local = {
    region: "us-east-1",
    endpoint: moto.endpoint,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    requestHandler: new NodeHttpHandler(),
  };
  const client = new CloudFormationClient(local);
  const kinesis = kinesisClient({ region: "us-east-1", endpoint: moto.endpoint });
  const name = `pinpipe-${randomId()}-test`;
  const stream = `${name}-stream`;
  const direct = { changeSets: false, pollMs: 200 };
  try {
    assert.equal(
      await deployStack(client, { name, template: streamTemplate(stream, 24) }, direct),
      "created",
    );
    assert.equal(outputsOf(await findStack(client, name)).StreamName, stream);
    const { StreamDescriptionSummary: made } = await kinesis.send(
      new DescribeStreamSummaryCommand({ StreamName: stream }),
    );
    assert.equal(made?.StreamStatus, "ACTIVE");
    // The same template, its keys in another order: nothing to do.
    const reordered = JSON.stringify({
      Outputs: JSON.parse(streamTemplate(stream, 24)).Outputs,
      ...JSON.parse(streamTemplate(stream, 24)),
    });
    assert.equal(await deployStack(client, { name, template: reordered }, direct), "unchanged");
    assert.equal(
      await deployStack(client, { name, template: streamTemplate(stream, 48) }, direct),
      "updated",
    );

    // A template CloudFormation cannot read: no Resources section.
    const refused = JSON.stringify({ Outputs: { X: { Value: "x" } } });
    await assert.rejects(
      deployStack(client, { name: `${name}-refused`, template: refused }, direct),
      (error: unknown) => {
        assert.ok(error instanceof StackFailed);
        assert.match(
          error.message,
          new RegExp(`^stack ${name}-refused: Template format error: At least one Resources`),
        );
        return true;
      },
    );

    assert.equal(await deleteStack(client, name, direct), true);
    assert.equal(await findStack(client, name), undefined);
    assert.equal(await deleteStack(client, name, direct), false);
  } finally {
    client.destroy();
    kinesis.destroy();
    await moto.close();
  }
});
