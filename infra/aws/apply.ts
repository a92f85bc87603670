/**
 * Carries out a plan, or undoes it. `applyPlan`: for each step, first its
 * check (skip when already in place), then its call, in order. `destroyPlan`:
 * the same steps last first, each removing what it made (skip when already
 * gone). Both stop at the first failure with the step's number and name, the
 * call and the service's own message, so a rerun continues from there. Every
 * kind of step has one runner with all three parts (in place? apply, remove),
 * so no step can be in the plan and missing from apply or destroy. Clients
 * are passed in: the same code runs against AWS or the local endpoints.
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
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  DeletePublicAccessBlockCommand,
  GetPublicAccessBlockCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import {
  CreateConnectorCommand,
  CreateCustomPluginCommand,
  DeleteConnectorCommand,
  DeleteCustomPluginCommand,
  DescribeCustomPluginCommand,
  KafkaConnectClient,
  ListConnectorsCommand,
  ListCustomPluginsCommand,
} from "@aws-sdk/client-kafkaconnect";
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
} from "@aws-sdk/client-kinesis";
import type { Admin } from "kafkajs";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { kafkaClient } from "../../src/kafka/client.ts";
import { kinesisClient } from "../../src/kinesis/client.ts";
import { s3Client } from "../../src/util/s3_client.ts";
import { sleep } from "../../src/util/retry.ts";
import { DatabricksError, DatabricksWorkspace, isNotFound } from "./databricks_workspace.ts";
import { connectNames, type PlanStep, pluginArnPlaceholder, type Request } from "./plan.ts";
import { type AwsEndpoints, type AwsSettings, listSetting } from "./settings.ts";

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

/**
 * The step that failed, its 1-based number, the call that failed (the SDK
 * command or REST call, else the step's own) and the service's message, on
 * one line.
 */
export class StepFailed extends Error {
  readonly call: string;
  constructor(
    readonly number: number,
    readonly step: PlanStep,
    defaultCall: string,
    override readonly cause: unknown,
  ) {
    const call = callOf(cause) ?? defaultCall;
    const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    const line = reason.replace(/\s*\n\s*/g, " ");
    // Databricks' errors begin with their call already.
    const prefix = cause instanceof DatabricksError ? "" : `${call}: `;
    super(`step ${number} (${step.name}) failed: ${prefix}${line}`);
    this.name = "StepFailed";
    this.call = call;
  }
}

/** The call an error came from: the SDK command (tagged by `tagCalls`) or Databricks' REST call. */
function callOf(error: unknown): string | undefined {
  if (error instanceof DatabricksError) return error.call;
  return (error as { $pinpipeCall?: string })?.$pinpipeCall;
}

/** How one kind of step finds itself in place, runs, and removes what it made. */
interface Runner {
  inPlace(request: Request, step: PlanStep, clients: ApplyClients): Promise<boolean>;
  run(request: Request, step: PlanStep, clients: ApplyClients): Promise<string | void>;
  /** Removes what `run` made; false when it was already gone. */
  remove(step: PlanStep, clients: ApplyClients): Promise<boolean>;
}

const runnerKey = (step: PlanStep) => `${step.service} ${step.action}`;

/** The steps of `steps` no runner carries out (none, in a consistent build). */
export const stepsWithoutRunner = (steps: readonly PlanStep[]): string[] =>
  steps.filter((step) => !RUNNERS[runnerKey(step)]).map(runnerKey);

function runnerFor(step: PlanStep): Runner {
  const runner = RUNNERS[runnerKey(step)];
  if (!runner) throw new Error(`no runner for ${runnerKey(step)}`);
  return runner;
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
    let call = step.check.action;
    try {
      const runner = runnerFor(step);
      const request = await withFile(step);
      if (await runner.inPlace(request, step, clients)) {
        log(`${number}. ${step.name}: already in place, skipped`);
        skipped++;
        continue;
      }
      call = step.action;
      const note = await runner.run(request, step, clients);
      log(`${number}. ${step.name}: done${note ? ` (${note})` : ""}`);
      ran++;
    } catch (error) {
      throw new StepFailed(number, step, call, error);
    }
  }
  return { ran, skipped };
}

/** Removes what `steps` made, last step first; returns how many were removed and already gone. */
export async function destroyPlan(
  steps: readonly PlanStep[],
  clients: ApplyClients,
  log: (line: string) => void,
): Promise<{ removed: number; gone: number }> {
  let removed = 0;
  let gone = 0;
  for (let index = steps.length - 1; index >= 0; index--) {
    const step = steps[index];
    const number = index + 1;
    try {
      if (await runnerFor(step).remove(step, clients)) {
        log(`${number}. ${step.name}: removed (${step.destroy.action})`);
        removed++;
      } else {
        log(`${number}. ${step.name}: already gone, skipped`);
        gone++;
      }
    } catch (error) {
      throw new StepFailed(number, step, step.destroy.action, error);
    }
  }
  return { removed, gone };
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

/** Runs a removal; false when the thing (or its bucket) was already gone. */
async function goneIsFalse(work: () => Promise<unknown>): Promise<boolean> {
  try {
    await work();
    return true;
  } catch (error) {
    if (isAwsNotFound(error) || isNotFound(error)) return false;
    throw error;
  }
}

// Looks again after 250 ms, doubling up to pollMs: local endpoints answer at once, AWS in minutes.
async function waitFor(
  clients: ApplyClients,
  what: string,
  done: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + (clients.waitMs ?? 600_000);
  for (let attempt = 0; !(await done()); attempt++) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(Math.min(clients.pollMs ?? 10_000, 250 * 2 ** attempt));
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

/** The ARN of the connector named `name`, or undefined. */
async function findConnector(client: KafkaConnectClient, name: string) {
  let nextToken: string | undefined;
  do {
    const page = await client.send(
      new ListConnectorsCommand({ connectorNamePrefix: name, nextToken }),
    );
    const found = page.connectors?.find((c) => c.connectorName === name);
    if (found) return found.connectorArn!;
    nextToken = page.nextToken;
  } while (nextToken);
  return undefined;
}

/** Deletes every object in `bucket` (the sink's and any other), a page of 1,000 at a time. */
async function emptyBucket(s3: S3Client, bucket: string): Promise<void> {
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }),
    );
    const keys = (page.Contents ?? []).map((object) => ({ Key: object.Key! }));
    if (keys.length > 0) {
      const answer = await s3.send(
        new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }),
      );
      const failed = answer.Errors?.[0];
      if (failed) throw new Error(`DeleteObjects ${failed.Key}: ${failed.Code} ${failed.Message}`);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
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
    inPlace: async (request, step, clients) => {
      const s3 = need(clients.s3, "S3");
      let token: string | undefined;
      do {
        const page = await s3.send(
          new ListBucketsCommand({
            Prefix: String(step.check.request.Prefix),
            ContinuationToken: token,
          }),
        );
        if (page.Buckets?.some((bucket) => bucket.Name === request.Bucket)) return true;
        token = page.ContinuationToken;
      } while (token);
      return false;
    },
    run: async (request, _step, clients) => {
      await need(clients.s3, "S3").send(new CreateBucketCommand(request as never));
    },
    remove: (step, clients) => {
      const s3 = need(clients.s3, "S3");
      const bucket = String(step.destroy.request.Bucket);
      return goneIsFalse(async () => {
        await emptyBucket(s3, bucket);
        await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
      });
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
    remove: async (step, clients) => {
      const s3 = need(clients.s3, "S3");
      const bucket = String(step.destroy.request.Bucket);
      // Deleting an absent configuration succeeds, so look first to report it gone.
      const present = await notFoundIsFalse(async () => {
        await s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket }));
        return true;
      });
      if (!present) return false;
      return goneIsFalse(() => s3.send(new DeletePublicAccessBlockCommand({ Bucket: bucket })));
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
    remove: async (step, clients) => {
      const s3 = need(clients.s3, "S3");
      const target = {
        Bucket: String(step.destroy.request.Bucket),
        Key: String(step.destroy.request.Key),
      };
      // S3 deletes an absent key without complaint, so look first to report it gone.
      const present = await notFoundIsFalse(async () => {
        await s3.send(new HeadObjectCommand(target));
        return true;
      });
      if (!present) return false;
      return goneIsFalse(() => s3.send(new DeleteObjectCommand(target)));
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
    remove: async (step, clients) => {
      const admin = await need(clients.kafkaAdmin, "Kafka admin")();
      const existing = new Set(await admin.listTopics());
      const topics = (step.destroy.request.topics as string[]).filter((t) => existing.has(t));
      if (topics.length === 0) return false;
      await admin.deleteTopics({ topics });
      return true;
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
    remove: async (_step, clients) => {
      const client = need(clients.kafkaconnect, "MSK Connect");
      const name = connectNames(clients.id).plugin;
      const plugin = await findPlugin(client, name);
      if (!plugin) return false;
      await client.send(new DeleteCustomPluginCommand({ customPluginArn: plugin.arn }));
      await waitFor(
        clients,
        `custom plugin ${name} to be deleted`,
        async () => (await findPlugin(client, name)) === undefined,
      );
      return true;
    },
  },
  "kafkaconnect CreateConnector": {
    inPlace: async (request, _step, clients) =>
      (await findConnector(
        need(clients.kafkaconnect, "MSK Connect"),
        String(request.connectorName),
      )) !== undefined,
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
    remove: async (_step, clients) => {
      const client = need(clients.kafkaconnect, "MSK Connect");
      const name = connectNames(clients.id).connector;
      const arn = await findConnector(client, name);
      if (!arn) return false;
      await client.send(new DeleteConnectorCommand({ connectorArn: arn }));
      await waitFor(
        clients,
        `connector ${name} to be deleted`,
        async () => (await findConnector(client, name)) === undefined,
      );
      return true;
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
    remove: (step, clients) => {
      const kinesis = need(clients.kinesis, "Kinesis");
      const StreamName = String(step.destroy.request.StreamName);
      return goneIsFalse(async () => {
        await kinesis.send(new DeleteStreamCommand({ StreamName }));
        await waitFor(clients, `stream ${StreamName} to be deleted`, async () => {
          try {
            await kinesis.send(new DescribeStreamSummaryCommand({ StreamName }));
            return false;
          } catch (error) {
            if (isAwsNotFound(error)) return true;
            throw error;
          }
        });
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
    remove: (step, clients) =>
      goneIsFalse(() =>
        need(clients.databricks, "Databricks").call(
          "POST",
          "/api/2.0/workspace/delete",
          step.destroy.request,
        )
      ),
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
    remove: (step, clients) =>
      goneIsFalse(() =>
        need(clients.databricks, "Databricks").call(
          "POST",
          "/api/2.0/workspace/delete",
          step.destroy.request,
        )
      ),
  },
};

/**
 * Clients for the real services, from the AWS credential chain and
 * DATABRICKS_TOKEN, or for the local endpoints `endpoints` names. Each AWS
 * client tags a failed call's error with the command's name, for StepFailed.
 */
export function awsClients(
  settings: AwsSettings,
  databricksToken: string,
  endpoints: AwsEndpoints = { kafkaAuth: "iam" },
): ApplyClients & { close(): Promise<void> } {
  const region = settings.region;
  let admin: Admin | undefined;
  const local = { requestHandler: new NodeHttpHandler({ connectionTimeout: 5000 }) };
  return {
    id: settings.id,
    s3: tagCalls(s3Client({ region, endpoint: endpoints.s3 })),
    kafkaconnect: tagCalls(
      new KafkaConnectClient(
        endpoints.kafkaconnect
          ? { region, endpoint: endpoints.kafkaconnect, ...local }
          : { region },
      ),
    ),
    kinesis: tagCalls(
      endpoints.kinesis
        ? kinesisClient({ region, endpoint: endpoints.kinesis })
        : new KinesisClient({ region }),
    ),
    kafkaAdmin: async () => {
      if (!admin) {
        const kafka = await kafkaClient(
          { brokers: listSetting(settings.kafkaBrokers), auth: endpoints.kafkaAuth },
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

/** Adds the command's name to any error the client's calls throw (`$pinpipeCall`). */
function tagCalls<T extends S3Client | KafkaConnectClient | KinesisClient>(client: T): T {
  (client.middlewareStack as unknown as {
    add(middleware: unknown, options: { step: string; name: string }): void;
  }).add(
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) =>
    async (args: unknown) => {
      try {
        return await next(args);
      } catch (error) {
        if (error && typeof error === "object" && context.commandName) {
          (error as { $pinpipeCall?: string }).$pinpipeCall ??= context.commandName.replace(
            /Command$/,
            "",
          );
        }
        throw error;
      }
    },
    { step: "initialize", name: "pinpipeCallName" },
  );
  return client;
}
