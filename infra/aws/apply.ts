/**
 * Carries out a plan, or undoes it. `applyPlan` runs each step in order:
 * a stack is deployed through CloudFormation (unchanged when its change set
 * is empty), every other step is first checked (skipped when already in
 * place), then made. `destroyPlan` runs the same steps last first, each
 * removing what it made (skipped when already gone); a stack is deleted
 * after its buckets are emptied. Both stop at the first failure with the
 * step's number and name, the call and the service's own message (for a
 * stack: the resource that failed and CloudFormation's reason), so a rerun
 * continues from there. Clients are passed in: the same code runs against
 * AWS or local endpoints.
 *
 * @example
 * ```ts
 * import { applyPlan, awsClients } from "./apply.ts";
 * import { buildPlan } from "./plan.ts";
 * import { readAwsSettings, readEndpoints, readStackSettings } from "./settings.ts";
 * import { synthesize } from "./synth.ts";
 * const env = Deno.env.toObject();
 * const settings = readAwsSettings(env);
 * const steps = buildPlan(settings, { notebooksDir: "notebooks", dagsDir: "dags" });
 * const stacks = await synthesize(readStackSettings(env), "/tmp/pinpipe-templates");
 * const clients = awsClients(settings, stacks, env.DATABRICKS_TOKEN ?? "", readEndpoints(env));
 * try {
 *   await applyPlan(steps, clients, console.log); // { ran, skipped }
 * } finally {
 *   clients.close();
 * }
 * ```
 */
import { createHash } from "node:crypto";
import {
  DeleteObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { CloudFormationClient, ListStackResourcesCommand } from "@aws-sdk/client-cloudformation";
import { GetBootstrapBrokersCommand, KafkaClient } from "@aws-sdk/client-kafka";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { s3Client } from "../../src/util/s3_client.ts";
import { stackNames } from "./cdk/names.ts";
import { BOOTSTRAP_PARAMETER } from "./cdk/pipeline_stack.ts";
import {
  deleteStack,
  deployStack,
  findStack,
  outputsOf,
  StackFailed,
  type WaitOptions,
} from "./cloudformation.ts";
import { emptyEveryVersion } from "./empty_bucket.ts";
import { DatabricksError, DatabricksWorkspace, isNotFound } from "./databricks_workspace.ts";
import type { PlanStep, Request } from "./plan.ts";
import type { AwsEndpoints, AwsSettings } from "./settings.ts";
import type { SynthesizedStack } from "./synth.ts";

/** The clients `applyPlan` talks through; only those the plan's steps use are touched. */
export interface ApplyClients {
  cloudformation?: CloudFormationClient;
  s3?: S3Client;
  /** The brokers' IAM bootstrap string: the setting, else asked of MSK. */
  brokers?: () => Promise<string>;
  databricks?: DatabricksWorkspace;
  /** The pipeline id, for the names of the stacks' buckets. */
  id: string;
  /** The synthesized templates, by stack name. */
  templates?: Record<string, string>;
  /** How stacks are deployed and waited on. */
  wait?: WaitOptions;
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
    // Databricks' errors begin with their call already, a stack's with the stack.
    const prefix = cause instanceof DatabricksError || cause instanceof StackFailed
      ? ""
      : `${call}: `;
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

/** How one kind of step makes itself exist (or finds itself in place), and removes what it made. */
interface Runner {
  apply(request: Request, step: PlanStep, clients: ApplyClients): Promise<Applied>;
  /** Removes what `apply` made; false when it was already gone. */
  remove(step: PlanStep, clients: ApplyClients): Promise<boolean>;
}

/** Whether a step was already in place, and a note for the log. */
interface Applied {
  inPlace: boolean;
  note?: string;
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

/** Runs `steps` in order; returns how many ran and how many were already in place. */
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
      const request = await withOutputs(await withFile(step), clients);
      const { inPlace, note } = await runnerFor(step).apply(request, step, clients);
      if (inPlace) {
        log(`${number}. ${step.name}: already in place${note ? ` (${note})` : ""}, skipped`);
        skipped++;
      } else {
        log(`${number}. ${step.name}: done${note ? ` (${note})` : ""}`);
        ran++;
      }
    } catch (error) {
      throw new StepFailed(number, step, step.action, error);
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

/** A request names a stack's output that is not there (the stack is not deployed yet, or gone). */
class MissingOutput extends Error {
  override name = "MissingOutput";
}

/**
 * `request` with each `<output KEY of STACK>` text replaced by that stack's output: what only
 * exists once an earlier step deployed the stack (the plan shows the placeholder).
 */
async function withOutputs(request: Request, clients: ApplyClients): Promise<Request> {
  // One DescribeStacks per stack, however many of its outputs the request names.
  const outputs = new Map<string, Promise<Record<string, string>>>();
  const resolve = async (value: unknown): Promise<unknown> => {
    if (Array.isArray(value)) return await Promise.all(value.map(resolve));
    if (value && typeof value === "object" && !(value instanceof Uint8Array)) {
      const entries = await Promise.all(
        Object.entries(value).map(async ([key, item]) => [key, await resolve(item)]),
      );
      return Object.fromEntries(entries);
    }
    const named = typeof value === "string" ? /^<output (\w+) of ([\w-]+)>$/.exec(value) : null;
    if (!named) return value;
    const [, key, stack] = named;
    if (!outputs.has(stack)) {
      const cloudformation = need(clients.cloudformation, "CloudFormation");
      outputs.set(stack, findStack(cloudformation, stack).then(outputsOf));
    }
    const output = (await outputs.get(stack)!)[key];
    if (output === undefined) {
      throw new MissingOutput(`stack ${stack} has no output ${key} (is it deployed?)`);
    }
    return output;
  };
  return await resolve(request) as Request;
}

function need<T>(client: T | undefined, what: string): T {
  if (!client) throw new Error(`no ${what} client was given`);
  return client;
}

/** True when an AWS SDK error says the thing does not exist. */
function isAwsNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === "NotFound" || e?.name === "NoSuchKey" || e?.name === "NoSuchBucket" ||
    e?.name === "ResourceNotFoundException" || e?.$metadata?.httpStatusCode === 404;
}

/** Runs a check; false when the thing (an AWS resource, a workspace path) does not exist. */
async function notFoundIsFalse(check: () => Promise<boolean>): Promise<boolean> {
  try {
    return await check();
  } catch (error) {
    if (isAwsNotFound(error) || isNotFound(error)) return false;
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

/** The Databricks workspace client, which the Databricks steps need. */
const databricks = (clients: ApplyClients): DatabricksWorkspace =>
  need(clients.databricks, "Databricks");

/** Removes a step's workspace path; false when it was already gone. */
const deleteWorkspacePath = (step: PlanStep, clients: ApplyClients): Promise<boolean> =>
  goneIsFalse(() =>
    databricks(clients).call("POST", "/api/2.0/workspace/delete", step.destroy!.request)
  );

/** A runner from a check and a call: in place when the check says so, else the call runs. */
function checked(
  inPlace: (request: Request, step: PlanStep, clients: ApplyClients) => Promise<boolean>,
  run: (request: Request, step: PlanStep, clients: ApplyClients) => Promise<string | void>,
  remove: Runner["remove"],
): Runner {
  return {
    apply: async (request, step, clients) => {
      if (await inPlace(request, step, clients)) return { inPlace: true };
      return { inPlace: false, note: (await run(request, step, clients)) ?? undefined };
    },
    remove,
  };
}

const md5 = (bytes: Uint8Array): string => createHash("md5").update(bytes).digest("hex");

/**
 * The buckets the stack itself made (its resources of type AWS::S3::Bucket), emptied, every
 * version, before CloudFormation can delete them; never a bucket of the same name it did not make.
 */
async function stackBuckets(cloudformation: CloudFormationClient, name: string) {
  const buckets: string[] = [];
  let token: string | undefined;
  do {
    const page = await cloudformation.send(
      new ListStackResourcesCommand({ StackName: name, NextToken: token }),
    );
    for (const resource of page.StackResourceSummaries ?? []) {
      if (
        resource.ResourceType === "AWS::S3::Bucket" && resource.PhysicalResourceId &&
        /^(CREATE|UPDATE)_COMPLETE$/.test(resource.ResourceStatus ?? "")
      ) {
        buckets.push(resource.PhysicalResourceId);
      }
    }
    token = page.NextToken;
  } while (token);
  return buckets;
}

const RUNNERS: Record<string, Runner> = {
  "cloudformation CreateChangeSet + ExecuteChangeSet": {
    apply: async (request, _step, clients) => {
      const name = String(request.StackName);
      const template = clients.templates?.[name];
      if (!template) throw new Error(`no synthesized template for stack ${name}`);
      const parameters: Record<string, string> = {};
      for (const { ParameterKey } of (request.Parameters ?? []) as { ParameterKey: string }[]) {
        if (ParameterKey === BOOTSTRAP_PARAMETER) {
          parameters[ParameterKey] = await need(clients.brokers, "MSK")();
        }
      }
      const result = await deployStack(
        need(clients.cloudformation, "CloudFormation"),
        { name, template, parameters },
        clients.wait,
      );
      // "unchanged": the change set was empty (or the template and parameters are the deployed).
      return { inPlace: result === "unchanged", note: result };
    },
    remove: async (step, clients) => {
      const cloudformation = need(clients.cloudformation, "CloudFormation");
      const name = String(step.destroy.request.StackName);
      if (!(await findStack(cloudformation, name))) return false;
      for (const bucket of await stackBuckets(cloudformation, name)) {
        await goneIsFalse(() => emptyEveryVersion(need(clients.s3, "S3"), bucket));
      }
      return await deleteStack(cloudformation, name, clients.wait);
    },
  },
  "s3 PutObject": checked(
    (request, _step, clients) =>
      notFoundIsFalse(async () => {
        const head = await need(clients.s3, "S3").send(
          new HeadObjectCommand({ Bucket: String(request.Bucket), Key: String(request.Key) }),
        );
        // A single-part upload's ETag is the MD5 of its bytes (not under SSE-KMS:
        // then the object is simply uploaded again).
        return head.ETag === `"${md5(request.Body as Uint8Array)}"`;
      }),
    async (request, _step, clients) => {
      await need(clients.s3, "S3").send(new PutObjectCommand(request as never));
      return `${(request.Body as Uint8Array).length} bytes`;
    },
    async (step, clients) => {
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
  ),
  "databricks POST /api/2.0/workspace/mkdirs": checked(
    (request, _step, clients) =>
      notFoundIsFalse(async () => {
        const status = await databricks(clients).call(
          "GET",
          "/api/2.0/workspace/get-status",
          { path: request.path },
        );
        if (status.object_type === "DIRECTORY") return true;
        throw new Error(`${request.path} exists and is a ${status.object_type}, not a folder`);
      }),
    async (request, _step, clients) => {
      await databricks(clients).call("POST", "/api/2.0/workspace/mkdirs", request);
    },
    deleteWorkspacePath,
  ),
  "databricks POST /api/2.0/workspace/import": checked(
    (request, step, clients) =>
      notFoundIsFalse(async () => {
        const exported = await databricks(clients).call(
          "GET",
          "/api/2.0/workspace/export",
          step.check.request,
        );
        return exported.content === request.content;
      }),
    async (request, _step, clients) => {
      await databricks(clients).call("POST", "/api/2.0/workspace/import", request);
    },
    deleteWorkspacePath,
  ),
  "databricks POST /api/2.0/instance-profiles/add": {
    apply: async (request, _step, clients) => {
      const arn = String(request.instance_profile_arn);
      if ((await instanceProfiles(databricks(clients))).includes(arn)) return { inPlace: true };
      await databricks(clients).call("POST", "/api/2.0/instance-profiles/add", request);
      return { inPlace: false, note: arn };
    },
    remove: async (step, clients) => {
      let request: Request;
      try {
        request = await withOutputs(step.destroy.request, clients);
      } catch (error) {
        // The stack is gone, and its instance profile with it: destroy removed the registration
        // before the stack, so a rerun finds nothing of it to remove.
        if (error instanceof MissingOutput) return false;
        throw error;
      }
      const arn = String(request.instance_profile_arn);
      if (!(await instanceProfiles(databricks(clients))).includes(arn)) return false;
      await databricks(clients).call("POST", "/api/2.0/instance-profiles/remove", request);
      return true;
    },
  },
  "databricks POST /api/2.1/jobs/create": {
    apply: async (request, _step, clients) => {
      const workspace = need(clients.databricks, "Databricks");
      const jobId = await findJob(workspace, jobNameIn(request));
      if (jobId === undefined) {
        const { job_id } = await workspace.call("POST", "/api/2.1/jobs/create", request);
        return { inPlace: false, note: `job ${job_id}` };
      }
      const { settings } = await workspace.call("GET", "/api/2.1/jobs/get", { job_id: jobId });
      if (hasSettings(settings, request)) return { inPlace: true };
      await workspace.call("POST", "/api/2.1/jobs/reset", {
        job_id: jobId,
        new_settings: request,
      });
      return { inPlace: false, note: `job ${jobId} reset to these settings` };
    },
    remove: async (step, clients) => {
      const workspace = need(clients.databricks, "Databricks");
      const jobId = await findJob(workspace, jobNameIn(step.request));
      if (jobId === undefined) return false;
      await workspace.call("POST", "/api/2.1/jobs/runs/cancel-all", { job_id: jobId });
      await workspace.call("POST", "/api/2.1/jobs/delete", { job_id: jobId });
      return true;
    },
  },
  "databricks POST /api/2.1/jobs/run-now": {
    apply: async (_request, step, clients) => {
      const workspace = need(clients.databricks, "Databricks");
      const jobId = await namedJob(step, clients);
      if (jobId === undefined) throw new Error(`${step.request.job_id}: no such job`);
      if ((await activeRuns(workspace, jobId)).length > 0) return { inPlace: true };
      const { run_id } = await workspace.call("POST", "/api/2.1/jobs/run-now", { job_id: jobId });
      return { inPlace: false, note: `run ${run_id}` };
    },
    remove: async (step, clients) => {
      const workspace = need(clients.databricks, "Databricks");
      const jobId = await namedJob(step, clients);
      if (jobId === undefined || (await activeRuns(workspace, jobId)).length === 0) return false;
      await workspace.call("POST", "/api/2.1/jobs/runs/cancel-all", { job_id: jobId });
      return true;
    },
  },
};

/** The ARNs of the instance profiles registered in the workspace. */
async function instanceProfiles(workspace: DatabricksWorkspace): Promise<string[]> {
  const { instance_profiles = [] } = await workspace.call(
    "GET",
    "/api/2.0/instance-profiles/list",
    {},
  ) as { instance_profiles?: { instance_profile_arn: string }[] };
  return instance_profiles.map((profile) => profile.instance_profile_arn);
}

/** The id of the job named `name`, or undefined (jobs/list filters by exact name). */
async function findJob(workspace: DatabricksWorkspace, name: string): Promise<number | undefined> {
  const { jobs = [] } = await workspace.call("GET", "/api/2.1/jobs/list", { name }) as {
    jobs?: { job_id: number; settings?: { name?: string } }[];
  };
  return jobs.find((job) => job.settings?.name === name)?.job_id;
}

/** True when every field of `wanted` is in `got` with the same value (the API adds defaults). */
function hasSettings(got: unknown, wanted: unknown): boolean {
  if (typeof wanted !== "object" || wanted === null) return got === wanted;
  if (typeof got !== "object" || got === null) return false;
  if (Array.isArray(wanted)) {
    return Array.isArray(got) && got.length === wanted.length &&
      wanted.every((item, index) => hasSettings(got[index], item));
  }
  return Object.entries(wanted).every(([key, value]) =>
    hasSettings((got as Record<string, unknown>)[key], value)
  );
}

/** The active runs of a job. */
async function activeRuns(workspace: DatabricksWorkspace, jobId: number): Promise<number[]> {
  const { runs = [] } = await workspace.call("GET", "/api/2.1/jobs/runs/list", {
    job_id: jobId,
    active_only: true,
  }) as { runs?: { run_id: number }[] };
  return runs.map((run) => run.run_id);
}

const jobNameIn = (request: Request): string => String(request.name);

/** The job a run-now or cancel step names as `<id of job NAME>`. */
async function namedJob(step: PlanStep, clients: ApplyClients): Promise<number | undefined> {
  const name = /^<id of job (.+)>$/.exec(String(step.request.job_id))?.[1];
  if (!name) throw new Error(`${step.name}: no job named in ${step.request.job_id}`);
  return await findJob(need(clients.databricks, "Databricks"), name);
}

/**
 * Clients for the real services, from the AWS credential chain and
 * DATABRICKS_TOKEN, or for the local endpoints `endpoints` names. Each AWS
 * client tags a failed call's error with the command's name, for StepFailed.
 * A local CloudFormation endpoint (moto) is deployed to with
 * CreateStack/UpdateStack: moto's change sets publish no exports.
 */
export function awsClients(
  settings: AwsSettings,
  stacks: readonly SynthesizedStack[],
  databricksToken: string,
  endpoints: AwsEndpoints = {},
): ApplyClients & { close(): void } {
  const region = settings.region;
  let brokers: string | undefined = settings.kafkaBrokers;
  const local = { requestHandler: new NodeHttpHandler({ connectionTimeout: 5000 }) };
  const at = (endpoint: string | undefined) =>
    endpoint ? { region, endpoint, ...local } : { region };
  const cloudformation = tagCalls(new CloudFormationClient(at(endpoints.cloudformation)));
  const kafka = tagCalls(new KafkaClient(at(endpoints.kafka)));
  const s3 = tagCalls(s3Client({ region, endpoint: endpoints.s3 }));
  const clients: ApplyClients = {
    id: settings.id,
    cloudformation,
    s3,
    templates: Object.fromEntries(
      stacks.map((stack) => [stack.name, JSON.stringify(stack.template)]),
    ),
    wait: endpoints.cloudformation ? { changeSets: false, pollMs: 500 } : {},
    brokers: async () => {
      if (brokers) return brokers;
      const network = await findStack(cloudformation, stackNames(settings.id).network);
      const clusterArn = outputsOf(network).ClusterArn;
      if (!clusterArn) {
        throw new Error(`stack ${stackNames(settings.id).network} has no ClusterArn output yet`);
      }
      const answer = await kafka.send(new GetBootstrapBrokersCommand({ ClusterArn: clusterArn }));
      brokers = answer.BootstrapBrokerStringSaslIam;
      if (!brokers) throw new Error(`MSK cluster ${clusterArn} has no IAM bootstrap brokers`);
      return brokers;
    },
    databricks: new DatabricksWorkspace(settings.databricksHost, databricksToken),
  };
  return {
    ...clients,
    close: () => {
      cloudformation.destroy();
      kafka.destroy();
      s3.destroy();
    },
  };
}

/** Adds the command's name to any error the client's calls throw (`$pinpipeCall`). */
function tagCalls<T extends S3Client | CloudFormationClient | KafkaClient>(client: T): T {
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
