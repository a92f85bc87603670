/**
 * `./infra.sh aws diff --against DIR`: what a settings change does to each
 * stack, offline, resource by resource; and no change reads as none.
 */
import assert from "node:assert/strict";
import { readStackSettings } from "../../infra/aws/settings.ts";
import { synthesize } from "../../infra/aws/synth.ts";
import { diffTemplates, renderDiff } from "../../infra/aws/template_diff.ts";
import { ROOT } from "../support/processes.ts";

const ID = "d1ff0000beef";

Deno.test("diff names each changed resource and property, and nothing else", async () => {
  const before = await Deno.makeTempDir({ prefix: "pinpipe-diff-before-" });
  try {
    await synthesize(readStackSettings({ PINPIPE_ID: ID }), before);
    const { code, stdout } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "infra/aws/command.ts", "diff", "--against", before],
      cwd: ROOT,
      // Only these settings: a PINPIPE_KAFKA_BROKERS of the local stack would be a change too.
      clearEnv: true,
      env: {
        PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
        HOME: Deno.env.get("HOME") ?? "/tmp",
        ...(Deno.env.get("DENO_DIR") ? { DENO_DIR: Deno.env.get("DENO_DIR")! } : {}),
        PINPIPE_ID: ID,
        PINPIPE_SINK_FLUSH_SIZE: "200",
        PINPIPE_MSK_MODE: "serverless",
      },
      stdout: "piped",
      stderr: "null",
    }).output();
    assert.equal(code, 0);
    assert.equal(
      new TextDecoder().decode(stdout),
      [
        `pinpipe-${ID}-network`,
        "  - ClusterProvisioned01E2BCEA AWS::MSK::Cluster",
        "  + ClusterServerless326EA0CE AWS::MSK::ServerlessCluster",
        "  ~ output ClusterArn",
        `pinpipe-${ID}-data`,
        "  no changes",
        `pinpipe-${ID}-pipeline`,
        "  ~ SinkConnector404D7AA6 AWS::KafkaConnect::Connector",
        '      ConnectorConfiguration.flush.size: "1000" -> "200"',
        "",
      ].join("\n"),
    );
  } finally {
    await Deno.remove(before, { recursive: true });
  }
});

Deno.test("a stack not yet deployed shows every resource added; key order is no change", () => {
  const template = {
    Resources: {
      B: { Type: "AWS::S3::Bucket", Properties: { BucketName: "x", VersioningConfiguration: {} } },
    },
  };
  assert.equal(renderDiff("s", diffTemplates(undefined, template)), "s\n  + B AWS::S3::Bucket\n");
  const reordered = {
    Resources: {
      B: { Properties: { VersioningConfiguration: {}, BucketName: "x" }, Type: "AWS::S3::Bucket" },
    },
  };
  assert.equal(renderDiff("s", diffTemplates(template, reordered)), "s\n  no changes\n");
});
