/**
 * The rehearsal's CloudFormation part: the CDK app's templates, linted
 * (cfn-lint), deployed to moto's CloudFormation under a pipeline id of
 * their own, deployed again (nothing to change), and then used: the REST
 * API's routes read back through API Gateway's own API and compared with
 * the seed's, `batch` and `sink` writing the bucket the stack made, and
 * `stream` sending to the streams the stack made. What moto does not model
 * (MSK, MSK Connect, MWAA, and a few others it skips) is named as
 * schema-checked only: cfn-lint checked it, nothing created it. Last,
 * `cleanUp` empties the buckets, deletes the stacks and lists what is left
 * (nothing may be).
 *
 * The network stack runs in "an existing VPC" (PINPIPE_VPC_ID) that the
 * rehearsal makes first with a stack of its own, as an account would have
 * one: moto deletes a new VPC's NAT gateway, internet gateway and endpoint
 * after the VPC itself, and refuses, so the new-VPC shape is linted only.
 *
 * @example
 * ```ts
 * import { CloudFormationRehearsal } from "./rehearse_cloudformation.ts";
 * const rehearsal = new CloudFormationRehearsal({
 *   endpoint: "http://127.0.0.1:14566",
 *   brokers: "127.0.0.1:19092",
 *   work: "/tmp/rehearsal",
 * });
 * await rehearsal.deploy(); // "made 41 of 55 resources ..."
 * await rehearsal.cleanUp();
 * ```
 */
import {
  APIGatewayClient,
  DeleteRestApiCommand,
  GetResourcesCommand,
  GetRestApisCommand,
} from "@aws-sdk/client-api-gateway";
import {
  CloudFormationClient,
  ListStackResourcesCommand,
  ListStacksCommand,
} from "@aws-sdk/client-cloudformation";
import {
  DescribeStreamSummaryCommand,
  type KinesisClient,
  ListStreamsCommand,
} from "@aws-sdk/client-kinesis";
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { bucketName, streamName } from "../../src/core/names.ts";
import { TABLE_KINDS } from "../../src/core/tables.ts";
import { kinesisClient } from "../../src/kinesis/client.ts";
import { s3Client } from "../../src/util/s3_client.ts";
import { deleteTopics, randomId } from "../local/stack_admin.ts";
import { API_ROUTES } from "./cdk/constructs/rest_api.ts";
import { resourceNames, stackNames } from "./cdk/names.ts";
import { findingLine, lintTemplates } from "./cfn_lint.ts";
import {
  deleteStack,
  deployStack,
  findStack,
  outputsOf,
  type StackToDeploy,
} from "./cloudformation.ts";
import { LOCAL_CREDENTIALS } from "./local_aws.ts";
import { readStackSettings } from "./settings.ts";
import { synthesize, type SynthesizedStack } from "./synth.ts";

const REGION = "us-east-1";

/** What moto's CloudFormation skips, by service, as the rehearsal's table names it. */
const SKIPPED_SERVICES: Record<string, string> = {
  "AWS::MSK::": "MSK cluster",
  "AWS::KafkaConnect::": "MSK Connect plugin and S3 sink connector",
  "AWS::MWAA::": "MWAA environment",
};

/** The account's VPC: three private and three public subnets, in a stack of the rehearsal's. */
function accountVpcTemplate(): string {
  const subnet = (index: number, kind: string) => ({
    Type: "AWS::EC2::Subnet",
    Properties: {
      VpcId: { Ref: "Vpc" },
      CidrBlock: `10.50.${index}.0/24`,
      AvailabilityZone: `${REGION}${"abc"[index % 3]}`,
      Tags: [{ Key: "Name", Value: `${kind}-${index % 3}` }],
    },
  });
  const resources: Record<string, unknown> = {
    Vpc: { Type: "AWS::EC2::VPC", Properties: { CidrBlock: "10.50.0.0/16" } },
  };
  const outputs: Record<string, unknown> = { VpcId: { Value: { Ref: "Vpc" } } };
  for (let i = 0; i < 6; i++) {
    const kind = i < 3 ? "Private" : "Public";
    resources[`${kind}${i % 3}`] = subnet(i, kind);
    outputs[`${kind}${i % 3}`] = { Value: { Ref: `${kind}${i % 3}` } };
  }
  return JSON.stringify({ Resources: resources, Outputs: outputs });
}

/** One row of the table for a part no local service creates. */
export interface SchemaOnly {
  name: string;
  note: string;
}

export class CloudFormationRehearsal {
  readonly id = randomId();
  readonly bucket = bucketName(this.id);
  readonly #endpoint: string;
  readonly #brokers: string;
  readonly #work: string;
  readonly #cloudformation: CloudFormationClient;
  readonly #s3: S3Client;
  readonly #kinesis: KinesisClient;
  readonly #api: APIGatewayClient;
  #stacks: SynthesizedStack[] = [];
  #made = new Set<string>();
  #deployed: string[] = [];
  /** Properties moto's CloudFormation accepts and does not apply. */
  #unmodeled = new Set<string>();

  constructor(options: { endpoint: string; brokers: string; work: string }) {
    this.#endpoint = options.endpoint;
    this.#brokers = options.brokers;
    this.#work = options.work;
    const credentials = {
      accessKeyId: LOCAL_CREDENTIALS.AWS_ACCESS_KEY_ID,
      secretAccessKey: LOCAL_CREDENTIALS.AWS_SECRET_ACCESS_KEY,
    };
    const local = {
      region: REGION,
      endpoint: options.endpoint,
      credentials,
      requestHandler: new NodeHttpHandler({ connectionTimeout: 5000 }),
    };
    this.#cloudformation = new CloudFormationClient(local);
    this.#api = new APIGatewayClient(local);
    this.#s3 = s3Client({ region: REGION, endpoint: options.endpoint, credentials });
    this.#kinesis = kinesisClient({ region: REGION, endpoint: options.endpoint });
  }

  /** The environment the pipeline's commands run with to use this id's stacks. */
  get env(): Record<string, string> {
    return {
      ...LOCAL_CREDENTIALS,
      PINPIPE_ID: this.id,
      AWS_REGION: REGION,
      PINPIPE_KAFKA_BROKERS: this.#brokers,
      PINPIPE_KAFKA_AUTH: "none",
      PINPIPE_KINESIS_ENDPOINT: this.#endpoint,
      PINPIPE_STATE_DIR: `${this.#work}/state-${this.id}`,
    };
  }

  #deploy = async (stack: StackToDeploy) => {
    // moto's change sets publish no exports, so its CreateStack/UpdateStack are used.
    const result = await deployStack(this.#cloudformation, stack, {
      changeSets: false,
      pollMs: 500,
    });
    if (!this.#deployed.includes(stack.name)) this.#deployed.push(stack.name);
    return result;
  };

  /** Makes the account's VPC, synthesizes the app into it and lints every template. */
  async synthAndLint(): Promise<string> {
    const vpcStack = `pinpipe-${this.id}-rehearsal-account-vpc`;
    await this.#deploy({ name: vpcStack, template: accountVpcTemplate() });
    const out = outputsOf(await findStack(this.#cloudformation, vpcStack));
    const settings = readStackSettings({
      PINPIPE_ID: this.id,
      AWS_REGION: REGION,
      PINPIPE_VPC_ID: out.VpcId,
      PINPIPE_MSK_SUBNETS: [0, 1, 2].map((i) => out[`Private${i}`]).join(","),
      PINPIPE_PUBLIC_SUBNETS: [0, 1, 2].map((i) => out[`Public${i}`]).join(","),
      PINPIPE_AVAILABILITY_ZONES: ["a", "b", "c"].map((z) => `${REGION}${z}`).join(","),
      PINPIPE_KAFKA_BROKERS: this.#brokers,
      PINPIPE_SINK_FLUSH_SIZE: "500",
      PINPIPE_SINK_ROTATE_MS: "500",
    });
    this.#stacks = await synthesize(settings, `${this.#work}/templates-${this.id}`);
    const findings = await lintTemplates(this.#stacks.map((stack) => stack.templateFile));
    // Zones are named here (the account's VPC has them): the one warning that brings is expected.
    const refused = findings.filter((f) => f.level === "Error" || f.rule !== "W3010");
    if (refused.length > 0) throw new Error(`cfn-lint: ${refused.map(findingLine).join("; ")}`);
    const resources = this.#stacks.reduce(
      (sum, stack) => sum + Object.keys(stack.template.Resources).length,
      0,
    );
    return `${this.#stacks.length} templates, ${resources} resources, no cfn-lint error`;
  }

  /** Deploys the three stacks; counts what moto really made, and checks the buckets and streams. */
  async deploy(): Promise<string> {
    let total = 0;
    for (const stack of this.#stacks) {
      await this.#deploy({ name: stack.name, template: JSON.stringify(stack.template) });
      const { StackResourceSummaries = [] } = await this.#cloudformation.send(
        new ListStackResourcesCommand({ StackName: stack.name }),
      );
      for (const resource of StackResourceSummaries) {
        // A type moto skips is listed with no type (some it makes have no physical id).
        if (resource.ResourceType) {
          this.#made.add(`${stack.name}/${resource.LogicalResourceId}`);
        }
      }
      total += Object.keys(stack.template.Resources).length;
    }
    for (const name of [this.bucket, resourceNames(this.id).airflowBucket]) {
      await this.#s3.send(new HeadBucketCommand({ Bucket: name }));
      // moto's CloudFormation makes the bucket but drops its PublicAccessBlockConfiguration.
      const block = await this.#s3.send(new GetPublicAccessBlockCommand({ Bucket: name })).then(
        (answer) => answer.PublicAccessBlockConfiguration,
        (error) => {
          if ((error as Error).name === "NoSuchPublicAccessBlockConfiguration") return undefined;
          throw error;
        },
      );
      if (!block) this.#unmodeled.add("S3::Bucket PublicAccessBlockConfiguration");
      else if (!block.BlockPublicAcls || !block.RestrictPublicBuckets) {
        throw new Error(`bucket ${name} is not closed to the public`);
      }
    }
    for (const kind of TABLE_KINDS) {
      const { StreamDescriptionSummary: summary } = await this.#kinesis.send(
        new DescribeStreamSummaryCommand({ StreamName: streamName(this.id, kind) }),
      );
      if (summary?.StreamStatus !== "ACTIVE") {
        throw new Error(`stream ${streamName(this.id, kind)} is ${summary?.StreamStatus}`);
      }
    }
    return `made ${this.#made.size} of ${total} resources (${this.madeTypes().join(", ")})`;
  }

  /** Every resource type moto made, with counts. */
  madeTypes(): string[] {
    const counts = new Map<string, number>();
    for (const stack of this.#stacks) {
      for (const [logical, resource] of Object.entries(stack.template.Resources)) {
        if (!this.#made.has(`${stack.name}/${logical}`)) continue;
        const type = resource.Type.replace(/^AWS::/, "");
        counts.set(type, (counts.get(type) ?? 0) + 1);
      }
    }
    return [...counts].map(([type, count]) => `${count} ${type}`);
  }

  /** Deploys the same templates again: each stack must be unchanged. */
  async deployAgain(): Promise<string> {
    const results = [];
    for (const stack of this.#stacks) {
      const result = await this.#deploy({
        name: stack.name,
        template: JSON.stringify(stack.template),
      });
      if (result !== "unchanged") throw new Error(`${stack.name} was ${result}`);
      results.push(result);
    }
    return `${results.length} stacks unchanged`;
  }

  /** The REST API's resources and methods, read back, against the seed's routes. */
  async apiRoutes(): Promise<string> {
    const { items: apis = [] } = await this.#api.send(new GetRestApisCommand({}));
    const api = apis.find((item) => item.name === resourceNames(this.id).api);
    if (!api) throw new Error(`no REST API named ${resourceNames(this.id).api}`);
    const { items = [] } = await this.#api.send(
      new GetResourcesCommand({ restApiId: api.id, embed: ["methods"] }),
    );
    const routes: string[] = [];
    for (const resource of items) {
      for (const [verb, method] of Object.entries(resource.resourceMethods ?? {})) {
        const integration = method.methodIntegration;
        routes.push(`${verb} ${resource.path}`);
        const wanted = resource.path === "/{proxy+}"
          ? integration?.type === "HTTP_PROXY" && /:8082\/\{proxy\}$/.test(integration.uri ?? "")
          : integration?.type === "AWS" && /:kinesis:action\/\w+$/.test(integration.uri ?? "");
        if (!wanted) {
          throw new Error(
            `${verb} ${resource.path}: integration ${integration?.type} ${integration?.uri}`,
          );
        }
      }
    }
    const got = routes.sort();
    if (JSON.stringify(got) !== JSON.stringify([...API_ROUTES].sort())) {
      throw new Error(`routes ${got.join(", ")}; the seed's are ${API_ROUTES.join(", ")}`);
    }
    return `${got.length} routes as the seed's: ${got.join(", ")}`;
  }

  /** Records in the bucket's sink objects (one JSON record a line). */
  async recordsInBucket(): Promise<{ objects: number; records: number }> {
    let objects = 0;
    let records = 0;
    let token: string | undefined;
    do {
      const page = await this.#s3.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: "topics/",
          ContinuationToken: token,
        }),
      );
      for (const object of page.Contents ?? []) {
        const body = await this.#s3.send(
          new GetObjectCommand({ Bucket: this.bucket, Key: object.Key }),
        );
        const text = await body.Body!.transformToString();
        records += text.split("\n").filter((line) => line.trim()).length;
        objects++;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return { objects, records };
  }

  /** The parts of the templates no local service made: named, never passed. */
  schemaOnly(): SchemaOnly[] {
    const skipped = new Map<string, string[]>();
    for (const stack of this.#stacks) {
      for (const [logical, resource] of Object.entries(stack.template.Resources)) {
        if (this.#made.has(`${stack.name}/${logical}`)) continue;
        const service = Object.entries(SKIPPED_SERVICES).find(([prefix]) =>
          resource.Type.startsWith(prefix)
        )?.[1] ?? "other types moto skips";
        skipped.set(service, [...(skipped.get(service) ?? []), resource.Type]);
      }
    }
    const parts = [...skipped].map(([name, types]) => ({
      name,
      note: [...new Set(types)].map((type) => type.replace(/^AWS::/, "")).join(", "),
    }));
    if (this.#unmodeled.size > 0) {
      parts.push({ name: "properties moto ignores", note: [...this.#unmodeled].join(", ") });
    }
    return parts;
  }

  /** Empties the buckets, deletes every stack last first, and lists what is left of this id. */
  async cleanUp(): Promise<string> {
    for (const name of [this.bucket, resourceNames(this.id).airflowBucket]) {
      await emptyEveryVersion(this.#s3, name).catch(() => {});
    }
    const names = stackNames(this.id);
    const order = [names.pipeline, names.data, names.network].filter((name) =>
      this.#deployed.includes(name)
    );
    order.push(...this.#deployed.filter((name) => !order.includes(name)));
    let deleted = 0;
    for (const name of order) {
      if (await deleteStack(this.#cloudformation, name, { pollMs: 500 })) deleted++;
    }
    await deleteTopics(this.id, [this.#brokers]).catch(() => {});
    // moto's DeleteStack leaves the REST API (AWS deletes it with the stack): named, then removed.
    const { items = [] } = await this.#api.send(new GetRestApisCommand({}));
    const strays = items.filter((api) => api.name === resourceNames(this.id).api);
    for (const api of strays) await this.#api.send(new DeleteRestApiCommand({ restApiId: api.id }));
    const left = await this.leftovers();
    if (left.length > 0) throw new Error(`left behind: ${left.join(", ")}`);
    return `${deleted} stacks deleted; no bucket, stream, REST API or stack of ${this.id} left` +
      (strays.length > 0
        ? ` (moto's DeleteStack left REST API ${strays[0].id}: deleted by id)`
        : "");
  }

  /** What exists of this id: buckets, streams, REST APIs, stacks. */
  async leftovers(): Promise<string[]> {
    const left: string[] = [];
    const { Buckets = [] } = await this.#s3.send(new ListBucketsCommand({}));
    left.push(...Buckets.filter((b) => b.Name?.includes(this.id)).map((b) => `bucket ${b.Name}`));
    const { StreamNames = [] } = await this.#kinesis.send(new ListStreamsCommand({}));
    left.push(...StreamNames.filter((s) => s.includes(this.id)).map((s) => `stream ${s}`));
    const { items = [] } = await this.#api.send(new GetRestApisCommand({}));
    left.push(...items.filter((a) => a.name?.includes(this.id)).map((a) => `REST API ${a.name}`));
    const { StackSummaries = [] } = await this.#cloudformation.send(new ListStacksCommand({}));
    left.push(
      ...StackSummaries.filter((s) =>
        s.StackName?.includes(this.id) && s.StackStatus !== "DELETE_COMPLETE"
      )
        .map((s) => `stack ${s.StackName} ${s.StackStatus}`),
    );
    return left;
  }

  close(): void {
    this.#cloudformation.destroy();
    this.#s3.destroy();
    this.#kinesis.destroy();
    this.#api.destroy();
  }
}

/** Deletes every object version and delete marker in `bucket` (a versioned one holds both). */
export async function emptyEveryVersion(s3: S3Client, bucket: string): Promise<number> {
  let removed = 0;
  for (;;) {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({
      Key: v.Key!,
      VersionId: v.VersionId,
    }));
    if (objects.length === 0) return removed;
    await s3.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }),
    );
    removed += objects.length;
  }
}
