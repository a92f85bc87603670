/**
 * Carries out a plan: for each step, first its check (skip when already in
 * place), then its call, in order, stopping at the first failure with the
 * step's number, name and the service's own error. Clients are passed in,
 * so the same code runs against AWS or, in tests, the local stand-ins.
 *
 * @example
 * ```ts
 * import { applyPlan, awsClients } from "./apply.ts";
 * import { buildPlan } from "./plan.ts";
 * import { readAwsSettings } from "./settings.ts";
 * const settings = readAwsSettings(Deno.env.toObject());
 * const steps = buildPlan(settings, { notebooksDir: "notebooks", dagsDir: "dags" });
 * const clients = awsClients(settings, Deno.env.get("DATABRICKS_TOKEN") ?? "");
 * try {
 *   await applyPlan(steps, clients, console.log); // { ran, skipped }
 * } finally {
 *   await clients.close();
 * }
 * ```
 */
import { createHash } from "node:crypto";
import {
  CreateBucketCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import {
  CreateConnectorCommand,
  CreateCustomPluginCommand,
  DescribeCustomPluginCommand,
  KafkaConnectClient,
  ListConnectorsCommand,
  ListCustomPluginsCommand,
} from "@aws-sdk/client-kafkaconnect";
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
} from "@aws-sdk/client-kinesis";
import type { Admin } from "kafkajs";
import { kafkaClient } from "../../src/kafka/client.ts";
import { sleep } from "../../src/util/retry.ts";
import { DatabricksWorkspace, isNotFound } from "./databricks_workspace.ts";
import { connectNames, type PlanStep, pluginArnPlaceholder, type Request } from "./plan.ts";
import { type AwsSettings, listSetting } from "./settings.ts";

/** The clients `applyPlan` talks through; only those the plan's steps use are touched. */
export interface ApplyClients {
  s3?: S3Client;
  kafkaconnect?: KafkaConnectClient;
  kinesis?: KinesisClient;
  /** A connected kafkajs admin (connected on first use). */
  kafkaAdmin?: () => Promise<Admin>;
  databricks?: DatabricksWorkspace;
  /** The pipeline id, to find the custom plugin's ARN for the connector. */
  id: string;
  /** How long to wait for a plugin to become ACTIVE or a stream ACTIVE, and how often to look. */
  waitMs?: number;
  pollMs?: number;
}

/** The step that failed, its 1-based number, and why. */
export class StepFailed extends Error {
  constructor(readonly number: number, readonly step: PlanStep, override readonly cause: unknown) {
    const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(`step ${number} (${step.name}) failed: ${reason}`);
    this.name = "StepFailed";
  }
}

/** How one kind of step finds itself in place, and how it runs. */
interface Runner {
  inPlace(request: Request, step: PlanStep, clients: ApplyClients): Promise<boolean>;
  run(request: Request, step: PlanStep, clients: ApplyClients): Promise<string | void>;
}

/** Runs `steps` in order; returns how many ran and how many were skipped. */
export async function applyPlan(
  steps: readonly PlanStep[],
  clients: ApplyClients,
  log: (line: string) => void,
): Promise<{ ran: number; skipped: number }> {
  let ran = 0;
  let skipped = 0;
  for (const [index, step] of steps.entries()) {
    const number = index + 1;
    try {
      const runner = RUNNERS[`${step.service} ${step.action}`];
      if (!runner) throw new Error(`no runner for ${step.service} ${step.action}`);
      const request = await withFile(step);
      if (await runner.inPlace(request, step, clients)) {
        log(`${number}. ${step.name}: already in place, skipped`);
        skipped++;
        continue;
      }
      const note = await runner.run(request, step, clients);
      log(`${number}. ${step.name}: done${note ? ` (${note})` : ""}`);
      ran++;
    } catch (error) {
      throw new StepFailed(number, step, error);
    }
  }
  return { ran, skipped };
}

/** The step's request with its file's content in place of the `<file ...>` text. */
async function withFile(step: PlanStep): Promise<Request> {
  const request = structuredClone(step.request);
  if (!step.file) return request;
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(step.file.path);
  } catch (error) {
    throw new Error(`cannot read ${step.file.path}: ${(error as Error).message}`);
  }
  request[step.file.field] = step.file.encoding === "base64"
    ? btoa(Array.from(bytes, (byte) => String.fromCharCode(byte)).join(""))
    : bytes;
  return request;
}

function need<T>(client: T | undefined, what: string): T {
  if (!client) throw new Error(`no ${what} client was given`);
  return client;
}

/** True when an AWS SDK error says the thing does not exist. */
function isAwsNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === "NotFound" || e?.name === "NoSuchKey" || e?.name === "NoSuchBucket" ||
    e?.name === "ResourceNotFoundException" || e?.name === "NoSuchPublicAccessBlockConfiguration" ||
    e?.$metadata?.httpStatusCode === 404;
}

async function notFoundIsFalse(check: () => Promise<boolean>): Promise<boolean> {
  try {
    return await check();
  } catch (error) {
    if (isAwsNotFound(error)) return false;
    throw error;
  }
}

async function waitFor(
  clients: ApplyClients,
  what: string,
  done: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + (clients.waitMs ?? 600_000);
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(clients.pollMs ?? 10_000);
  }
}

/** The ARN and state of the custom plugin named `name`, or undefined. */
async function findPlugin(client: KafkaConnectClient, name: string) {
  let nextToken: string | undefined;
  do {
    const page = await client.send(new ListCustomPluginsCommand({ namePrefix: name, nextToken }));
    const found = page.customPlugins?.find((plugin) => plugin.name === name);
    if (found) return { arn: found.customPluginArn!, state: found.customPluginState };
    nextToken = page.nextToken;
  } while (nextToken);
  return undefined;
}

async function waitForPluginActive(clients: ApplyClients, arn: string): Promise<void> {
  const client = need(clients.kafkaconnect, "MSK Connect");
  await waitFor(clients, `custom plugin ${arn} to become ACTIVE`, async () => {
    const plugin = await client.send(new DescribeCustomPluginCommand({ customPluginArn: arn }));
    if (plugin.customPluginState === "CREATE_FAILED") {
      throw new Error(
        `custom plugin ${arn} is CREATE_FAILED: ${plugin.stateDescription?.message ?? ""}`,
      );
    }
    return plugin.customPluginState === "ACTIVE";
  });
}

const md5 = (bytes: Uint8Array): string => createHash("md5").update(bytes).digest("hex");

const RUNNERS: Record<string, Runner> = {
  "s3 CreateBucket": {
    inPlace: (request, _step, clients) =>
      notFoundIsFalse(async () => {
        await need(clients.s3, "S3").send(
          new HeadBucketCommand({ Bucket: String(request.Bucket) }),
        );
        return true;
      }),
    run: async (request, _step, clients) => {
      await need(clients.s3, "S3").send(new CreateBucketCommand(request as never));
    },
  },
  "s3 PutPublicAccessBlock": {
    inPlace: (request, _step, clients) =>
      notFoundIsFalse(async () => {
        const answer = await need(clients.s3, "S3").send(
          new GetPublicAccessBlockCommand({ Bucket: String(request.Bucket) }),
        );
        const config = answer.PublicAccessBlockConfiguration ?? {};
        return Boolean(
          config.BlockPublicAcls && config.IgnorePublicAcls && config.BlockPublicPolicy &&
            config.RestrictPublicBuckets,
        );
      }),
    run: async (request, _step, clients) => {
      await need(clients.s3, "S3").send(new PutPublicAccessBlockCommand(request as never));
    },
  },
  "s3 PutObject": {
    inPlace: (request, _step, clients) =>
      notFoundIsFalse(async () => {
        const head = await need(clients.s3, "S3").send(
          new HeadObjectCommand({ Bucket: String(request.Bucket), Key: String(request.Key) }),
        );
        // A single-part upload's ETag is the MD5 of its bytes (not under SSE-KMS:
        // then the object is simply uploaded again).
        return head.ETag === `"${md5(request.Body as Uint8Array)}"`;
      }),
    run: async (request, _step, clients) => {
      await need(clients.s3, "S3").send(new PutObjectCommand(request as never));
      return `${(request.Body as Uint8Array).length} bytes`;
    },
  },
  "kafka CreateTopics": {
    inPlace: async (request, _step, clients) => {
      const admin = await need(clients.kafkaAdmin, "Kafka admin")();
      const wanted = (request.topics as { topic: string }[]).map((t) => t.topic);
      const existing = new Set(await admin.listTopics());
      return wanted.every((topic) => existing.has(topic));
    },
    run: async (request, _step, clients) => {
      const admin = await need(clients.kafkaAdmin, "Kafka admin")();
      const topics = request.topics as { topic: string; numPartitions: number }[];
      await admin.createTopics({ topics, waitForLeaders: true });
    },
  },
  "kafkaconnect CreateCustomPlugin": {
    inPlace: async (request, _step, clients) => {
      const found = await findPlugin(
        need(clients.kafkaconnect, "MSK Connect"),
        String(request.name),
      );
      if (!found) return false;
      await waitForPluginActive(clients, found.arn);
      return true;
    },
    run: async (request, _step, clients) => {
      const created = await need(clients.kafkaconnect, "MSK Connect").send(
        new CreateCustomPluginCommand(request as never),
      );
      await waitForPluginActive(clients, created.customPluginArn!);
      return created.customPluginArn;
    },
  },
  "kafkaconnect CreateConnector": {
    inPlace: async (request, _step, clients) => {
      const client = need(clients.kafkaconnect, "MSK Connect");
      const name = String(request.connectorName);
      let nextToken: string | undefined;
      do {
        const page = await client.send(
          new ListConnectorsCommand({ connectorNamePrefix: name, nextToken }),
        );
        if (page.connectors?.some((c) => c.connectorName === name)) return true;
        nextToken = page.nextToken;
      } while (nextToken);
      return false;
    },
    run: async (request, _step, clients) => {
      const client = need(clients.kafkaconnect, "MSK Connect");
      const pluginName = connectNames(clients.id).plugin;
      const plugin = await findPlugin(client, pluginName);
      if (!plugin) {
        throw new Error(`custom plugin ${pluginName} not found; its step must run first`);
      }
      const body = JSON.parse(
        JSON.stringify(request).replaceAll(pluginArnPlaceholder(clients.id), plugin.arn),
      );
      const created = await client.send(new CreateConnectorCommand(body));
      return `${created.connectorArn}; MSK Connect takes about 10 minutes to reach RUNNING`;
    },
  },
  "kinesis CreateStream": {
    inPlace: (request, _step, clients) =>
      notFoundIsFalse(async () => {
        await need(clients.kinesis, "Kinesis").send(
          new DescribeStreamSummaryCommand({ StreamName: String(request.StreamName) }),
        );
        return true;
      }),
    run: async (request, _step, clients) => {
      const kinesis = need(clients.kinesis, "Kinesis");
      await kinesis.send(new CreateStreamCommand(request as never));
      await waitFor(clients, `stream ${request.StreamName} to become ACTIVE`, async () => {
        const { StreamDescriptionSummary: summary } = await kinesis.send(
          new DescribeStreamSummaryCommand({ StreamName: String(request.StreamName) }),
        );
        return summary?.StreamStatus === "ACTIVE";
      });
    },
  },
  "databricks POST /api/2.0/workspace/mkdirs": {
    inPlace: async (request, _step, clients) => {
      try {
        const status = await need(clients.databricks, "Databricks").call(
          "GET",
          "/api/2.0/workspace/get-status",
          { path: request.path },
        );
        if (status.object_type === "DIRECTORY") return true;
        throw new Error(`${request.path} exists and is a ${status.object_type}, not a folder`);
      } catch (error) {
        if (isNotFound(error)) return false;
        throw error;
      }
    },
    run: async (request, _step, clients) => {
      await need(clients.databricks, "Databricks").call(
        "POST",
        "/api/2.0/workspace/mkdirs",
        request,
      );
    },
  },
  "databricks POST /api/2.0/workspace/import": {
    inPlace: async (request, step, clients) => {
      try {
        const exported = await need(clients.databricks, "Databricks").call(
          "GET",
          "/api/2.0/workspace/export",
          step.check.request,
        );
        return exported.content === request.content;
      } catch (error) {
        if (isNotFound(error)) return false;
        throw error;
      }
    },
    run: async (request, _step, clients) => {
      await need(clients.databricks, "Databricks").call(
        "POST",
        "/api/2.0/workspace/import",
        request,
      );
    },
  },
};

/** Clients for the real services, from the AWS credential chain and DATABRICKS_TOKEN. */
export function awsClients(
  settings: AwsSettings,
  databricksToken: string,
): ApplyClients & { close(): Promise<void> } {
  const region = settings.region;
  let admin: Admin | undefined;
  return {
    id: settings.id,
    s3: new S3Client({ region }),
    kafkaconnect: new KafkaConnectClient({ region }),
    kinesis: new KinesisClient({ region }),
    kafkaAdmin: async () => {
      if (!admin) {
        const kafka = await kafkaClient(
          { brokers: listSetting(settings.kafkaBrokers), auth: "iam" },
          "pinpipe-infra",
          region,
        );
        admin = kafka.admin();
        await admin.connect();
      }
      return admin;
    },
    databricks: new DatabricksWorkspace(settings.databricksHost, databricksToken),
    close: async () => {
      await admin?.disconnect();
    },
  };
}
