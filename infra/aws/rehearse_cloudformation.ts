/**
 * What the rehearsal checks of the stacks `./infra.sh aws apply` deployed to
 * moto's CloudFormation: the templates (synthesized from the same settings
 * apply reads) cfn-lint clean; what moto really made, from its own listing
 * of each stack's resources, with the buckets and streams the pipeline then
 * uses; the topics, made as the client host's user data would (moto runs
 * none); the REST API's routes read back through API Gateway's own API and
 * compared with the seed's; the records the sink wrote to the stack's
 * bucket; what moto does not model (MSK, MSK Connect, MWAA, and a few others
 * it skips), named as schema-checked only: cfn-lint checked it, nothing
 * created it; and, after `aws destroy`, that nothing of the pipeline id is
 * left (buckets, streams, REST APIs, stacks, topics).
 *
 * The network stack runs in "an existing VPC" (PINPIPE_VPC_ID) that the
 * rehearsal makes first with a stack of its own (local_aws.ts), as an
 * account would have one: moto deletes a new VPC's NAT gateway, internet
 * gateway and endpoint after the VPC itself, and refuses, so the new-VPC
 * shape is linted only.
 *
 * @example
 * ```ts
 * import { StackChecks } from "./rehearse_cloudformation.ts";
 * const checks = new StackChecks({
 *   id: "0123456789ab",
 *   endpoint: "http://127.0.0.1:14566",
 *   brokers: "127.0.0.1:19092",
 * });
 * await checks.made(); // "made 41 of 55 resources ..." (after aws apply)
 * checks.close();
 * ```
 */
import {
  APIGatewayClient,
  DeleteRestApiCommand,
  GetResourcesCommand,
  GetRestApisCommand,
} from "@aws-sdk/client-api-gateway";
import {
  type CloudFormationClient,
  ListStackResourcesCommand,
  ListStacksCommand,
} from "@aws-sdk/client-cloudformation";
import {
  DescribeStreamSummaryCommand,
  type KinesisClient,
  ListStreamsCommand,
} from "@aws-sdk/client-kinesis";
import {
  GetObjectCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  type S3Client,
} from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import type { Admin } from "kafkajs";
import { bucketName, streamName, topicName } from "../../src/core/names.ts";
import { TABLE_KINDS } from "../../src/core/tables.ts";
import { kafkaClient } from "../../src/kafka/client.ts";
import { kinesisClient } from "../../src/kinesis/client.ts";
import { s3Client } from "../../src/util/s3_client.ts";
import { API_ROUTES } from "./cdk/constructs/rest_api.ts";
import { resourceNames, STACK_ORDER, stackNames } from "./cdk/names.ts";
import { findingLine, lintTemplates } from "./cfn_lint.ts";
import { LOCAL_CREDENTIALS, LOCAL_REGION, localCloudFormation } from "./local_aws.ts";
import { readStackSettings } from "./settings.ts";
import { synthesize, type SynthesizedStack } from "./synth.ts";

/** What moto's CloudFormation skips, by service, as the rehearsal's table names it. */
const SKIPPED_SERVICES: Record<string, string> = {
  "AWS::MSK::": "MSK cluster",
  "AWS::KafkaConnect::": "MSK Connect plugin and S3 sink connector",
  "AWS::MWAA::": "MWAA environment",
};

/** One row of the table for a part no local service creates. */
export interface SchemaOnly {
  name: string;
  note: string;
}

export class StackChecks {
  readonly id: string;
  readonly bucket: string;
  readonly #brokers: string;
  readonly #cloudformation: CloudFormationClient;
  readonly #s3: S3Client;
  readonly #kinesis: KinesisClient;
  readonly #api: APIGatewayClient;
  #stacks: SynthesizedStack[] = [];
  #made = new Set<string>();
  /** Properties moto's CloudFormation accepts and does not apply. */
  #unmodeled = new Set<string>();

  constructor(options: { id: string; endpoint: string; brokers: string }) {
    this.id = options.id;
    this.bucket = bucketName(options.id);
    this.#brokers = options.brokers;
    const credentials = {
      accessKeyId: LOCAL_CREDENTIALS.AWS_ACCESS_KEY_ID,
      secretAccessKey: LOCAL_CREDENTIALS.AWS_SECRET_ACCESS_KEY,
    };
    this.#cloudformation = localCloudFormation(options.endpoint);
    this.#api = new APIGatewayClient({
      region: LOCAL_REGION,
      endpoint: options.endpoint,
      credentials,
      requestHandler: new NodeHttpHandler({ connectionTimeout: 5000 }),
    });
    this.#s3 = s3Client({ region: LOCAL_REGION, endpoint: options.endpoint, credentials });
    this.#kinesis = kinesisClient({ region: LOCAL_REGION, endpoint: options.endpoint });
  }

  /** Synthesizes the app from apply's settings into `dir` and lints every template. */
  async synthAndLint(env: Record<string, string>, dir: string): Promise<string> {
    this.#stacks = await synthesize(readStackSettings(env), dir);
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

  /** Counts what moto really made of apply's stacks; checks the buckets and streams. */
  async made(): Promise<string> {
    let total = 0;
    for (const stack of this.#stacks) {
      const { StackResourceSummaries = [] } = await this.#cloudformation.send(
        new ListStackResourcesCommand({ StackName: stack.name }),
      );
      for (const resource of StackResourceSummaries) {
        // A type moto skips is listed with no type (some it makes have no physical id).
        if (resource.ResourceType) this.#made.add(`${stack.name}/${resource.LogicalResourceId}`);
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

  /**
   * The topics, made here as the client host's user data makes them on MSK (kafka-topics.sh,
   * one partition each): moto starts no instance, so no user data runs.
   */
  async clientHostTopics(): Promise<string> {
    const topics = TABLE_KINDS.map((kind) => topicName(this.id, kind));
    await this.#withAdmin(async (admin) => {
      await admin.createTopics({
        topics: topics.map((topic) => ({ topic, numPartitions: 1 })),
        waitForLeaders: true,
      });
    });
    return `made ${topics.join(", ")}, 1 partition each`;
  }

  async #withAdmin<T>(work: (admin: Admin) => Promise<T>): Promise<T> {
    const kafka = await kafkaClient({ brokers: [this.#brokers], auth: "none" }, "pinpipe-infra");
    const admin = kafka.admin();
    await admin.connect();
    try {
      return await work(admin);
    } finally {
      await admin.disconnect();
    }
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

  /**
   * After `aws destroy`: nothing of the id may be left. moto's DeleteStack leaves the REST API
   * (AWS deletes it with the stack): it is named in the note, then deleted by id. The topics go
   * with the MSK cluster on AWS; the local broker outlives the network stack, so they are
   * deleted here.
   */
  async nothingLeft(): Promise<string> {
    await this.#withAdmin(async (admin) => {
      const mine = TABLE_KINDS.map((kind) => topicName(this.id, kind));
      const existing = new Set(await admin.listTopics());
      const topics = mine.filter((topic) => existing.has(topic));
      if (topics.length > 0) await admin.deleteTopics({ topics });
    });
    const { items = [] } = await this.#api.send(new GetRestApisCommand({}));
    const strays = items.filter((api) => api.name === resourceNames(this.id).api);
    for (const api of strays) await this.#api.send(new DeleteRestApiCommand({ restApiId: api.id }));
    const left = await this.leftovers();
    if (left.length > 0) throw new Error(`left behind: ${left.join(", ")}`);
    return `no bucket, stream, REST API, topic or stack of ${this.id} left` +
      (strays.length > 0 ? ` (moto's DeleteStack left REST API ${strays[0].id}: deleted)` : "");
  }

  /** What exists of this id: buckets, streams, REST APIs, the app's stacks, topics. */
  async leftovers(): Promise<string[]> {
    const left: string[] = [];
    const { Buckets = [] } = await this.#s3.send(new ListBucketsCommand({}));
    left.push(...Buckets.filter((b) => b.Name?.includes(this.id)).map((b) => `bucket ${b.Name}`));
    const { StreamNames = [] } = await this.#kinesis.send(new ListStreamsCommand({}));
    left.push(...StreamNames.filter((s) => s.includes(this.id)).map((s) => `stream ${s}`));
    const { items = [] } = await this.#api.send(new GetRestApisCommand({}));
    left.push(...items.filter((a) => a.name?.includes(this.id)).map((a) => `REST API ${a.name}`));
    const stacks = new Set(STACK_ORDER.map((kind) => stackNames(this.id)[kind]));
    const { StackSummaries = [] } = await this.#cloudformation.send(new ListStacksCommand({}));
    left.push(
      ...StackSummaries.filter((s) =>
        stacks.has(s.StackName ?? "") && s.StackStatus !== "DELETE_COMPLETE"
      ).map((s) => `stack ${s.StackName} ${s.StackStatus}`),
    );
    const topics = new Set(await this.#withAdmin((admin) => admin.listTopics()));
    left.push(
      ...TABLE_KINDS.map((kind) => topicName(this.id, kind)).filter((t) => topics.has(t))
        .map((t) => `topic ${t}`),
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
