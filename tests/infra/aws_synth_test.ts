/**
 * `./infra.sh aws synth`: the CDK app's templates, offline and with no
 * credentials, and what they say: the shape of the network and the MSK
 * cluster in each mode, the buckets and streams going with their stacks,
 * the connector's settings, the REST API's routes, MWAA's per-pipeline
 * requirements, and IAM statements narrowed to the pipeline's resources.
 */
// Templates are untyped JSON, read here by their documented property names.
// deno-lint-ignore-file no-explicit-any
import assert from "node:assert/strict";
import { stackNames } from "../../infra/aws/cdk/names.ts";
import { readStackSettings } from "../../infra/aws/settings.ts";
import { synthesize, type SynthesizedStack, type Template } from "../../infra/aws/synth.ts";
import { ROOT } from "../support/processes.ts";

const ID = "5a17c0de0001";

type Resource = Template["Resources"][string] & { DeletionPolicy?: string };

const ofType = (template: Template, type: string): Resource[] =>
  Object.values(template.Resources).filter((resource) => resource.Type === type);

async function synthFor(env: Record<string, string>): Promise<Record<string, Template>> {
  const out = await Deno.makeTempDir({ prefix: "pinpipe-synth-test-" });
  try {
    const stacks = await synthesize(readStackSettings({ PINPIPE_ID: ID, ...env }), out);
    return Object.fromEntries(
      stacks.map((stack: SynthesizedStack) => [stack.kind, stack.template]),
    );
  } finally {
    await Deno.remove(out, { recursive: true });
  }
}

Deno.test("synth writes each stack's template offline, with no credentials, and the parameters to fill", async () => {
  const out = await Deno.makeTempDir({ prefix: "pinpipe-synth-cli-" });
  const home = await Deno.makeTempDir({ prefix: "pinpipe-synth-home-" });
  try {
    // A clean environment: no AWS variables, and a HOME with no ~/.aws (Deno's cache kept).
    const denoDir = Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`;
    const { code, stdout, stderr } = await new Deno.Command("bash", {
      args: ["infra.sh", "aws", "synth", "--out", out],
      cwd: ROOT,
      clearEnv: true,
      env: {
        PATH: Deno.env.get("PATH")!,
        HOME: home,
        DENO_DIR: denoDir,
        PINPIPE_ID: ID,
        NO_COLOR: "1",
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder();
    assert.equal(code, 0, text.decode(stderr));
    const names = stackNames(ID);
    const files = [...Deno.readDirSync(out)].map((entry) => entry.name).sort();
    assert.deepEqual(files, [
      `${names.data}.template.json`,
      `${names.network}.template.json`,
      `${names.pipeline}.parameters.json`,
      `${names.pipeline}.template.json`,
    ]);
    assert.match(text.decode(stdout), new RegExp(`^${names.network}: \\d+ resources`, "m"));
    const parameters = JSON.parse(
      await Deno.readTextFile(`${out}/${names.pipeline}.parameters.json`),
    );
    assert.equal(parameters.length, 1);
    assert.equal(parameters[0].ParameterKey, "KafkaBootstrapServers");
    assert.match(parameters[0].ParameterValue, /^<set PINPIPE_KAFKA_BROKERS: aws kafka/);
    // No bootstrap stack is needed: no BootstrapVersion parameter or rule.
    const pipeline = JSON.parse(await Deno.readTextFile(`${out}/${names.pipeline}.template.json`));
    assert.equal(pipeline.Parameters.BootstrapVersion, undefined);
    assert.equal(pipeline.Rules, undefined);
  } finally {
    await Deno.remove(out, { recursive: true });
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("the network stack: a new VPC over three zones and three IAM-only TLS brokers", async () => {
  const { network } = await synthFor({});
  assert.equal(ofType(network, "AWS::EC2::VPC").length, 1);
  assert.equal(ofType(network, "AWS::EC2::Subnet").length, 6);
  assert.equal(ofType(network, "AWS::EC2::NatGateway").length, 1);
  const [cluster] = ofType(network, "AWS::MSK::Cluster");
  const props = cluster.Properties as Record<string, any>;
  assert.equal(props.ClusterName, `pinpipe-${ID}`);
  assert.equal(props.NumberOfBrokerNodes, 3);
  assert.equal(props.BrokerNodeGroupInfo.ClientSubnets.length, 3);
  assert.deepEqual(props.ClientAuthentication, {
    Sasl: { Iam: { Enabled: true } },
    Unauthenticated: { Enabled: false },
  });
  assert.deepEqual(props.EncryptionInfo.EncryptionInTransit, {
    ClientBroker: "TLS",
    InCluster: true,
  });
  // The brokers' group lets in 9098 from two groups (client host, connector), nothing else.
  const brokerRules = ofType(network, "AWS::EC2::SecurityGroupIngress")
    .map((rule) => rule.Properties as Record<string, unknown>)
    .filter((rule) => rule.FromPort === 9098);
  assert.equal(brokerRules.length, 2);
  assert.ok(brokerRules.every((rule) => rule.SourceSecurityGroupId && !rule.CidrIp));
});

Deno.test("PINPIPE_MSK_MODE=serverless and PINPIPE_VPC_ID change the network stack", async () => {
  const { network } = await synthFor({
    PINPIPE_MSK_MODE: "serverless",
    PINPIPE_VPC_ID: "vpc-0123456789abcdef0",
    PINPIPE_MSK_SUBNETS:
      "subnet-0aaaaaaaaaaaaaaa1,subnet-0aaaaaaaaaaaaaaa2,subnet-0aaaaaaaaaaaaaaa3",
    PINPIPE_PUBLIC_SUBNETS:
      "subnet-0bbbbbbbbbbbbbbb1,subnet-0bbbbbbbbbbbbbbb2,subnet-0bbbbbbbbbbbbbbb3",
  });
  assert.equal(ofType(network, "AWS::MSK::Cluster").length, 0);
  assert.equal(ofType(network, "AWS::EC2::VPC").length, 0);
  assert.equal(ofType(network, "AWS::EC2::Subnet").length, 0);
  const [cluster] = ofType(network, "AWS::MSK::ServerlessCluster");
  assert.deepEqual((cluster.Properties as any).VpcConfigs[0].SubnetIds, [
    "subnet-0aaaaaaaaaaaaaaa1",
    "subnet-0aaaaaaaaaaaaaaa2",
    "subnet-0aaaaaaaaaaaaaaa3",
  ]);
  for (const group of ofType(network, "AWS::EC2::SecurityGroup")) {
    assert.equal((group.Properties as any).VpcId, "vpc-0123456789abcdef0");
  }
});

Deno.test("a bad stack setting stops synth with one line naming it", async () => {
  for (
    const [env, named] of [
      [
        { PINPIPE_MSK_MODE: "big" },
        /^pinpipe infra aws synth: PINPIPE_MSK_MODE: "big" must be provisioned or serverless$/,
      ],
      [
        { PINPIPE_SINK_FLUSH_SIZE: "0" },
        /^pinpipe infra aws synth: PINPIPE_SINK_FLUSH_SIZE: "0" must be/,
      ],
      [
        { PINPIPE_VPC_ID: "vpc-0123456789abcdef0" },
        /^pinpipe infra aws synth: PINPIPE_MSK_SUBNETS: with PINPIPE_VPC_ID/,
      ],
      [
        { PINPIPE_AVAILABILITY_ZONES: "eu-west-1a" },
        /^pinpipe infra aws synth: PINPIPE_AVAILABILITY_ZONES:/,
      ],
    ] as const
  ) {
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "infra/aws/command.ts", "synth", "--out", "/nonexistent/never-written"],
      cwd: ROOT,
      env: { ...env, NO_COLOR: "1" },
      stderr: "piped",
      stdout: "null",
    }).output();
    const text = new TextDecoder().decode(stderr).trim();
    assert.equal(code, 1, text);
    assert.match(text, named);
    assert.equal(text.split("\n").length, 1, text);
  }
});

Deno.test("the data stack: buckets closed, encrypted, TLS only; streams named; all deleted with it", async () => {
  const { data } = await synthFor({});
  const buckets = ofType(data, "AWS::S3::Bucket");
  assert.deepEqual(
    buckets.map((bucket) => (bucket.Properties as any).BucketName).sort(),
    [`pinpipe-${ID}-airflow`, `user-${ID}-bucket`],
  );
  for (const bucket of buckets) {
    const props = bucket.Properties as any;
    assert.deepEqual(props.PublicAccessBlockConfiguration, {
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    assert.equal(
      props.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault
        .SSEAlgorithm,
      "AES256",
    );
    assert.equal(bucket.DeletionPolicy, "Delete");
  }
  const policies = ofType(data, "AWS::S3::BucketPolicy").map((p) => JSON.stringify(p.Properties));
  assert.equal(policies.length, 2);
  assert.ok(policies.every((policy) => policy.includes('"aws:SecureTransport":"false"')));
  const streams = ofType(data, "AWS::Kinesis::Stream");
  assert.deepEqual(streams.map((stream) => (stream.Properties as any).Name).sort(), [
    `streaming-${ID}-geo`,
    `streaming-${ID}-pin`,
    `streaming-${ID}-user`,
  ]);
  assert.ok(streams.every((stream) => stream.DeletionPolicy === "Delete"));
  assert.ok(streams.every((stream) => (stream.Properties as any).ShardCount === 1));
});

Deno.test("the pipeline stack: connector settings, logs, API routes, MWAA requirements per pipeline", async () => {
  const { pipeline } = await synthFor({
    PINPIPE_SINK_FLUSH_SIZE: "250",
    PINPIPE_SINK_ROTATE_MS: "30000",
    PINPIPE_KAFKA_BROKERS: "b-1.x.kafka.us-east-1.amazonaws.com:9098",
  });
  assert.equal(
    pipeline.Parameters!.KafkaBootstrapServers.Default,
    "b-1.x.kafka.us-east-1.amazonaws.com:9098",
  );
  const [connector] = ofType(pipeline, "AWS::KafkaConnect::Connector");
  const props = connector.Properties as any;
  assert.equal(props.ConnectorConfiguration["flush.size"], "250");
  assert.equal(props.ConnectorConfiguration["rotate.schedule.interval.ms"], "30000");
  assert.equal(props.ConnectorConfiguration["s3.bucket.name"], `user-${ID}-bucket`);
  assert.deepEqual(props.KafkaClusterClientAuthentication, { AuthenticationType: "IAM" });
  assert.equal(props.LogDelivery.WorkerLogDelivery.CloudWatchLogs.Enabled, true);
  const [plugin] = ofType(pipeline, "AWS::KafkaConnect::CustomPlugin");
  assert.equal(
    (plugin.Properties as any).Location.S3Location.FileKey,
    "kafka-connect-s3/confluentinc-kafka-connect-s3-10.5.13.zip",
  );

  // The API's routes: path parts chained from the root, and a method on each.
  const resources = Object.entries(pipeline.Resources).filter(([, r]) =>
    r.Type === "AWS::ApiGateway::Resource"
  );
  const byId = new Map(resources);
  const pathOf = (logicalId: string): string => {
    const props = byId.get(logicalId)!.Properties as any;
    const parent = props.ParentId.Ref as string | undefined;
    return `${parent && byId.has(parent) ? pathOf(parent) : ""}/${props.PathPart}`;
  };
  const routes = ofType(pipeline, "AWS::ApiGateway::Method").map((method) => {
    const props = method.Properties as any;
    return `${props.HttpMethod} ${pathOf(props.ResourceId.Ref)} ${props.Integration.Type} ${
      props.Integration.Type === "AWS"
        ? JSON.stringify(props.Integration.Uri).match(/action\/(\w+)/)![1]
        : ""
    }`.trim();
  }).sort();
  assert.deepEqual(routes, [
    "ANY /{proxy+} HTTP_PROXY",
    "GET /streams AWS ListStreams",
    "GET /streams/{stream-name} AWS DescribeStream",
    "PUT /streams/{stream-name}/record AWS PutRecord",
    "PUT /streams/{stream-name}/records AWS PutRecords",
  ]);

  const [airflow] = ofType(pipeline, "AWS::MWAA::Environment");
  assert.equal(
    (airflow.Properties as any).RequirementsS3Path,
    `requirements/${ID}_requirements.txt`,
  );
  assert.equal((airflow.Properties as any).NetworkConfiguration.SubnetIds.length, 2);
  assert.equal(ofType(pipeline, "AWS::IAM::InstanceProfile").length, 2); // client host, Databricks
});

Deno.test("every IAM statement names its resources; * only where the action takes none", async () => {
  const templates = await synthFor({});
  const onAnything = new Set([
    "kinesis:ListStreams",
    "logs:DescribeLogGroups",
    "cloudwatch:PutMetricData",
    "s3:GetAccountPublicAccessBlock",
  ]);
  let statements = 0;
  for (const template of Object.values(templates)) {
    for (const role of ofType(template, "AWS::IAM::Role")) {
      for (const policy of (role.Properties as any).Policies ?? []) {
        for (const statement of policy.PolicyDocument.Statement) {
          statements++;
          const actions = [statement.Action].flat();
          assert.ok(actions.every((action: string) => !action.endsWith(":*") && action !== "*"));
          if ([statement.Resource].flat().includes("*")) {
            assert.ok(
              actions.every((action: string) => onAnything.has(action)),
              `${actions} on *`,
            );
          }
        }
      }
    }
  }
  assert.ok(statements >= 15, `${statements} statements`);
});
