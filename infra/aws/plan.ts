/**
 * The AWS side of pinpipe as a list of steps, in the order they must exist:
 * the CDK app's three stacks, deployed through CloudFormation, and between
 * and after them the few things CloudFormation cannot do: the uploads the
 * stacks' resources read when they are made (the S3 sink plugin, the DAG
 * and its requirements), the Kafka topics (MSK has no CloudFormation type
 * for them), and the Databricks workspace imports. Each step names the
 * service, the call and the exact request `apply` sends, and how it is
 * found already in place. Building the plan reads only local files and
 * settings: no credentials, no network.
 *
 * @example
 * ```ts
 * import { buildPlan } from "./plan.ts";
 * import { readAwsSettings } from "./settings.ts";
 * const steps = buildPlan(readAwsSettings({}), { notebooksDir: "notebooks", dagsDir: "dags" });
 * steps[0].name; // "deploy stack pinpipe-0123456789ab-network"
 * ```
 */
import { bucketName } from "../../src/core/names.ts";
import { airflowKeys, resourceNames, type StackKind, stackNames } from "./cdk/names.ts";
import { BOOTSTRAP_PARAMETER } from "./cdk/pipeline_stack.ts";
import { instanceProfileArn, type JobKind, jobName, jobSettings } from "./databricks_jobs.ts";
import { S3_SINK_PLUGIN } from "./s3_sink_connector.ts";
import { type AwsSettings, isPlaceholder } from "./settings.ts";
import { workspaceDir, workspaceFolders, workspaceImports } from "./workspace_files.ts";

/** The services a step talks to; `cloudformation` deploys one of the CDK app's stacks. */
export type StepService = "cloudformation" | "s3" | "databricks";

/** A JSON request body. */
export type Request = Record<string, unknown>;

/** One thing to make exist. */
export interface PlanStep {
  /** What the step makes, in words: `deploy stack pinpipe-0123456789ab-data`. */
  name: string;
  service: StepService;
  /** The SDK command (`PutObject`) or REST call (`POST /api/2.0/workspace/import`). */
  action: string;
  /** The exact request; a file's bytes show as `<file PATH>`, filled in by apply. */
  request: Request;
  /** The call that finds the step already in place, and when it counts as in place. */
  check: { action: string; request: Request; inPlaceWhen: string };
  /** The call `destroy` makes to remove what the step made, and what else it does. */
  destroy: { action: string; request: Request; note?: string };
  /** A local file whose content fills `request[field]` (raw bytes or base64) at apply time. */
  file?: { field: string; path: string; encoding: "bytes" | "base64" };
  /** For a cloudformation step: which of the app's stacks it deploys. */
  stack?: StackKind;
}

/** Where the plan's local files are. */
export interface PlanSources {
  notebooksDir: string;
  dagsDir: string;
}

/** The MWAA requirements file (the Databricks provider, under MWAA's Airflow constraints). */
export const MWAA_REQUIREMENTS = "mwaa_requirements.txt";

/** What stands for the brokers until MSK is asked for them (after the network stack exists). */
export const brokersPlaceholder = (id: string): string =>
  `<IAM bootstrap brokers of MSK cluster ${resourceNames(id).cluster}>`;

// A file's content in the printed request; a path not yet set says which variable sets it.
const fileText = (path: string): string =>
  isPlaceholder(path) ? `<file named by ${path.slice(5, -1)} (not set)>` : `<file ${path}>`;

/** Deploys one stack of the CDK app through a change set. */
function stackStep(settings: AwsSettings, kind: StackKind): PlanStep {
  const name = stackNames(settings.id)[kind];
  const parameters = kind === "pipeline"
    ? [{
      ParameterKey: BOOTSTRAP_PARAMETER,
      ParameterValue: settings.kafkaBrokers ?? brokersPlaceholder(settings.id),
    }]
    : [];
  const emptied = kind === "data"
    ? `after deleting every object version in the buckets the stack made (${
      bucketName(settings.id)
    }, ${resourceNames(settings.id).airflowBucket}), then waits until it is gone`
    : "then waits until it is gone";
  return {
    name: `deploy stack ${name}`,
    service: "cloudformation",
    action: "CreateChangeSet + ExecuteChangeSet",
    request: {
      StackName: name,
      TemplateBody: `<${name}.template.json, as ./infra.sh aws synth writes it>`,
      ...(parameters.length > 0 ? { Parameters: parameters } : {}),
      Capabilities: ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
    },
    check: {
      action: "GetTemplate + DescribeStacks",
      request: { StackName: name },
      inPlaceWhen: "the deployed template and parameters are these (or the change set is empty)",
    },
    destroy: { action: "DeleteStack", request: { StackName: name }, note: emptied },
    stack: kind,
  };
}

/** An upload to a bucket of the data stack, which the pipeline stack's resources read. */
function uploadStep(bucket: string, key: string, source: string, what: string): PlanStep {
  return {
    name: `upload ${what} to ${bucket}/${key}`,
    service: "s3",
    action: "PutObject",
    request: { Bucket: bucket, Key: key, Body: fileText(source) },
    check: {
      action: "HeadObject",
      request: { Bucket: bucket, Key: key },
      inPlaceWhen: "its ETag is the local file's MD5",
    },
    destroy: { action: "DeleteObject", request: { Bucket: bucket, Key: key } },
    file: { field: "Body", path: source, encoding: "bytes" },
  };
}

/** The plugin zip for MSK Connect, the DAG and this pipeline's requirements for MWAA. */
function uploadSteps(settings: AwsSettings, sources: PlanSources): PlanStep[] {
  const { id } = settings;
  const airflow = resourceNames(id).airflowBucket;
  const keys = airflowKeys(id);
  return [
    uploadStep(
      bucketName(id),
      S3_SINK_PLUGIN.key,
      settings.sinkPluginZip,
      `the Confluent S3 sink plugin ${S3_SINK_PLUGIN.version}`,
    ),
    uploadStep(airflow, keys.dag, `${sources.dagsDir}/${id}_dag.py`, "the DAG"),
    // This pipeline's own file: never the root requirements.txt another DAG may share.
    uploadStep(
      airflow,
      keys.requirements,
      `${sources.dagsDir}/${MWAA_REQUIREMENTS}`,
      "the DAG's requirements",
    ),
  ];
}

/** The Databricks workspace: its folders, each notebook and file, then the jobs. */
function databricksSteps(id: string, region: string, sources: PlanSources): PlanStep[] {
  const imports = workspaceImports(sources.notebooksDir, workspaceDir(id));
  const folders = workspaceFolders(imports).map((folder): PlanStep => ({
    name: `create workspace folder ${folder}`,
    service: "databricks",
    action: "POST /api/2.0/workspace/mkdirs",
    request: { path: folder },
    check: {
      action: "GET /api/2.0/workspace/get-status",
      request: { path: folder },
      inPlaceWhen: "it is a DIRECTORY",
    },
    // Not recursive: the files inside were removed first (destroy runs in reverse).
    destroy: {
      action: "POST /api/2.0/workspace/delete",
      request: { path: folder, recursive: false },
    },
  }));
  const files = imports.map((item): PlanStep => ({
    name: `import ${item.source} as ${item.language ? "notebook" : "file"} ${item.path}`,
    service: "databricks",
    action: "POST /api/2.0/workspace/import",
    request: {
      path: item.path,
      format: item.format,
      ...(item.language ? { language: item.language } : {}),
      overwrite: true,
      content: `<base64 of file ${item.source}>`,
    },
    check: {
      action: "GET /api/2.0/workspace/export",
      request: { path: item.path, format: item.language ? "SOURCE" : "AUTO" },
      inPlaceWhen: "the exported content equals the local file",
    },
    destroy: { action: "POST /api/2.0/workspace/delete", request: { path: item.path } },
    file: { field: "content", path: item.source, encoding: "base64" },
  }));
  return [...folders, ...files, ...jobSteps(id, region)];
}

/**
 * The instance profile registered in the workspace (the jobs' clusters name it), then the batch
 * and streaming jobs, and the streaming job's run (nothing left to start by hand).
 */
function jobSteps(id: string, region: string): PlanStep[] {
  const profile: PlanStep = {
    name: "register the instance profile the jobs' clusters read AWS with",
    service: "databricks",
    action: "POST /api/2.0/instance-profiles/add",
    request: { instance_profile_arn: instanceProfileArn(id) },
    check: {
      action: "GET /api/2.0/instance-profiles/list",
      request: {},
      inPlaceWhen: "the workspace lists this instance profile",
    },
    destroy: {
      action: "POST /api/2.0/instance-profiles/remove",
      request: { instance_profile_arn: instanceProfileArn(id) },
    },
  };
  const jobId = (kind: JobKind) => `<id of job ${jobName(id, kind)}>`;
  const jobs = (["batch", "stream"] as const).map((kind): PlanStep => ({
    name: `create job ${jobName(id, kind)}`,
    service: "databricks",
    action: "POST /api/2.1/jobs/create",
    request: jobSettings(id, region, kind),
    check: {
      action: "GET /api/2.1/jobs/list",
      request: { name: jobName(id, kind) },
      inPlaceWhen:
        "a job of this name has these settings (other settings: POST /api/2.1/jobs/reset)",
    },
    destroy: {
      action: "POST /api/2.1/jobs/delete",
      request: { job_id: jobId(kind) },
      note: "after POST /api/2.1/jobs/runs/cancel-all",
    },
  }));
  const start: PlanStep = {
    name: `start job ${jobName(id, "stream")}`,
    service: "databricks",
    action: "POST /api/2.1/jobs/run-now",
    request: { job_id: jobId("stream") },
    check: {
      action: "GET /api/2.1/jobs/runs/list",
      request: { job_id: jobId("stream"), active_only: true },
      inPlaceWhen: "a run of the job is active",
    },
    destroy: { action: "POST /api/2.1/jobs/runs/cancel-all", request: { job_id: jobId("stream") } },
  };
  return [profile, ...jobs, start];
}

/**
 * Builds every step, in the order they must exist: the network stack (VPC,
 * MSK), the data stack (buckets, streams), the uploads into its buckets, the
 * pipeline stack (MSK Connect, REST API, client host, MWAA: the plugin and
 * MWAA read the uploads when made), then the Databricks side.
 */
export function buildPlan(settings: AwsSettings, sources: PlanSources): PlanStep[] {
  return [
    stackStep(settings, "network"),
    stackStep(settings, "data"),
    ...uploadSteps(settings, sources),
    stackStep(settings, "pipeline"),
    ...databricksSteps(settings.id, settings.region, sources),
  ];
}
