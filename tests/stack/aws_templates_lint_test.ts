/**
 * Every template the CDK app synthesizes, in each shape it can take, passes
 * cfn-lint (AWS's published resource schemas) with no error and no warning.
 * A warning is allowed only in the shape that causes it, with the reason
 * (one: zones named by the user are hard-coded zones). A broken template is caught, so the check is live.
 *
 * Runs `.cache/venv-cfnlint/bin/cfn-lint` (`./infra.sh local install`), or
 * the one PINPIPE_CFN_LINT names.
 */
import assert from "node:assert/strict";
import { findingLine, lintTemplates } from "../../infra/aws/cfn_lint.ts";
import { readStackSettings } from "../../infra/aws/settings.ts";
import { synthesize } from "../../infra/aws/synth.ts";

/** A shape of the settings, and the warnings accepted in it (by rule id, with the reason). */
interface Shape {
  env: Record<string, string>;
  allowedWarnings?: Record<string, string>;
}

const SHAPES: Record<string, Shape> = {
  "new VPC, provisioned MSK": { env: {} },
  "existing VPC, serverless MSK, brokers known, another region": {
    env: {
      AWS_REGION: "eu-west-1",
      PINPIPE_MSK_MODE: "serverless",
      PINPIPE_VPC_ID: "vpc-0123456789abcdef0",
      PINPIPE_MSK_SUBNETS:
        "subnet-0aaaaaaaaaaaaaaa1,subnet-0aaaaaaaaaaaaaaa2,subnet-0aaaaaaaaaaaaaaa3",
      PINPIPE_PUBLIC_SUBNETS:
        "subnet-0bbbbbbbbbbbbbbb1,subnet-0bbbbbbbbbbbbbbb2,subnet-0bbbbbbbbbbbbbbb3",
      PINPIPE_KAFKA_BROKERS: "b-1.x.kafka-serverless.eu-west-1.amazonaws.com:9098",
      PINPIPE_SINK_FLUSH_SIZE: "1",
      PINPIPE_SINK_ROTATE_MS: "0",
    },
  },
  "zones named": {
    env: { PINPIPE_AVAILABILITY_ZONES: "us-east-1a,us-east-1b,us-east-1d" },
    allowedWarnings: {
      W3010: "the zones are hard-coded because PINPIPE_AVAILABILITY_ZONES names them; " +
        "by default the templates take the region's first three with Fn::GetAZs",
    },
  },
};

for (const [shape, { env, allowedWarnings = {} }] of Object.entries(SHAPES)) {
  Deno.test(`cfn-lint finds no error or warning in any template: ${shape}`, async () => {
    const out = await Deno.makeTempDir({ prefix: "pinpipe-lint-test-" });
    try {
      const stacks = await synthesize(
        readStackSettings({ PINPIPE_ID: "1a2b3c4d5e6f", ...env }),
        out,
      );
      assert.equal(stacks.length, 3);
      const findings = await lintTemplates(stacks.map((stack) => stack.templateFile));
      const refused = findings.filter((f) => f.level === "Error" || !allowedWarnings[f.rule]);
      assert.deepEqual(refused.map(findingLine), []);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  });
}

Deno.test("cfn-lint refuses a template AWS would refuse", async () => {
  const out = await Deno.makeTempDir({ prefix: "pinpipe-lint-bad-" });
  try {
    const [, data] = await synthesize(readStackSettings({ PINPIPE_ID: "1a2b3c4d5e6f" }), out);
    const template = JSON.parse(await Deno.readTextFile(data.templateFile));
    const [streamId] = Object.keys(template.Resources).filter((key) =>
      template.Resources[key].Type === "AWS::Kinesis::Stream"
    );
    template.Resources[streamId].Properties.ShardCount = "one";
    template.Resources[streamId].Properties.StreamModeDetails = { StreamMode: "SOMETIMES" };
    await Deno.writeTextFile(data.templateFile, JSON.stringify(template));
    const errors = (await lintTemplates([data.templateFile])).filter((f) => f.level === "Error");
    const paths = errors.map((finding) => finding.path);
    assert.ok(paths.includes(`Resources/${streamId}/Properties/ShardCount`), paths.join(", "));
    assert.ok(
      paths.includes(`Resources/${streamId}/Properties/StreamModeDetails/StreamMode`),
      paths.join(", "),
    );
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
