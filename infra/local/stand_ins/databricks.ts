/**
 * A stand-in for the Databricks workspace (2.0) and Jobs (2.1) REST APIs on
 * 127.0.0.1: a tree of folders, notebooks and files, jobs, and runs, with
 * each request checked as Databricks' REST reference states (required
 * fields, allowed formats and languages, parents that must exist, a task
 * key's form, a cluster's Spark version and node type among the
 * workspace's, a bearer token) and answered with its error codes
 * (RESOURCE_DOES_NOT_EXIST, RESOURCE_ALREADY_EXISTS, DIRECTORY_NOT_EMPTY,
 * INVALID_PARAMETER_VALUE).
 *
 * A job's run (run-now) of a notebook path that is not a notebook in the
 * workspace ends TERMINATED: FAILED with "Notebook not found", as a real
 * run would. Nothing runs a notebook, so a run of one that exists ends as
 * the notebook would: given the parameter `trigger` = `continuous` (the
 * streaming job) it stays RUNNING until cancelled, otherwise it ends
 * TERMINATED: SUCCESS at once; past the job's max_concurrent_runs a run is
 * SKIPPED, and an idempotency token seen before answers the run it started.
 * Instance profiles are registered, listed and removed by ARN, and a job's
 * cluster may name only a registered one. `deny(call)` makes a call answer
 * PERMISSION_DENIED.
 *
 * @example
 * ```ts
 * import { startDatabricksStandIn } from "./databricks.ts";
 * const standIn = startDatabricksStandIn({ token: "dapi-local" });
 * standIn.url; // the DATABRICKS_HOST to use
 * await standIn.close();
 * ```
 */
import { boolean, check, integer, list, map, type Shape, string, structure } from "./shapes.ts";

const PATH = string({ min: 1, pattern: /^\/.*[^/]$|^\/$/ });

const IMPORT: Shape = structure({
  path: [PATH, true],
  format: [
    string({ values: ["SOURCE", "HTML", "JUPYTER", "DBC", "R_MARKDOWN", "AUTO", "RAW"] }),
    false,
  ],
  language: [string({ values: ["SCALA", "PYTHON", "SQL", "R"] }), false],
  content: [string(), false],
  overwrite: [boolean(), false],
});

const INSTANCE_PROFILE_ARN = /^arn:aws[\w-]*:iam::\d{12}:instance-profile\/[\w+=,.@/-]+$/;

const NEW_CLUSTER: Shape = structure({
  spark_version: [string({ min: 1 }), true],
  node_type_id: [string({ min: 1 }), false],
  instance_pool_id: [string({ min: 1 }), false],
  aws_attributes: [
    structure({
      availability: [string({ values: ["SPOT", "ON_DEMAND", "SPOT_WITH_FALLBACK"] }), false],
      instance_profile_arn: [string({ pattern: INSTANCE_PROFILE_ARN }), false],
    }),
    false,
  ],
});

/** What the workspace answers to clusters/spark-versions and clusters/list-node-types (a part). */
export const SPARK_VERSIONS = [
  "13.3.x-scala2.12",
  "14.3.x-scala2.12",
  "15.4.x-scala2.12",
  "16.4.x-scala2.12",
] as const;
export const NODE_TYPES = [
  "m5d.large",
  "m5d.xlarge",
  "m5.large",
  "m5.xlarge",
  "i3.xlarge",
] as const;

const NOTEBOOK_TASK: Shape = structure({
  notebook_path: [string({ min: 1 }), true],
  base_parameters: [map(string()), false],
  source: [string({ values: ["WORKSPACE", "GIT"] }), false],
});

const JOB_SETTINGS: Shape = structure({
  name: [string({ max: 4096 }), false],
  tags: [map(string({ max: 255 })), false],
  tasks: [
    list(structure({
      task_key: [string({ min: 1, max: 100, pattern: /^[\w\-]+$/ }), true],
      notebook_task: [NOTEBOOK_TASK, false],
      existing_cluster_id: [string({ min: 1 }), false],
      new_cluster: [NEW_CLUSTER, false],
    })),
    false,
  ],
});

/**
 * A cluster spec's problems the shape cannot say: values among the workspace's, sizes, an
 * instance profile the workspace has registered (Databricks finds that out when the cluster
 * starts; the stand-in, which starts none, when the job is made).
 */
function clusterProblem(
  spec: Record<string, unknown>,
  at: string,
  profiles: ReadonlySet<string>,
): string | undefined {
  if (!(SPARK_VERSIONS as readonly string[]).includes(String(spec.spark_version))) {
    return `Invalid spark version ${spec.spark_version} (${at}.spark_version).`;
  }
  if (!spec.node_type_id && !spec.instance_pool_id) {
    return `${at} needs node_type_id or instance_pool_id.`;
  }
  if (spec.node_type_id && !(NODE_TYPES as readonly string[]).includes(String(spec.node_type_id))) {
    return `Node type ${spec.node_type_id} is not supported (${at}.node_type_id).`;
  }
  if (!isCount(spec.num_workers) && spec.autoscale === undefined) {
    return `${at} needs num_workers or autoscale.`;
  }
  const aws = spec.aws_attributes as
    | { first_on_demand?: unknown; instance_profile_arn?: string }
    | undefined;
  if (aws?.instance_profile_arn !== undefined && !profiles.has(aws.instance_profile_arn)) {
    return `Instance profile ${aws.instance_profile_arn} is not registered in the workspace ` +
      `(${at}.aws_attributes.instance_profile_arn).`;
  }
  const onDemand = aws?.first_on_demand;
  if (onDemand !== undefined && !isCount(onDemand)) {
    return `${at}.aws_attributes.first_on_demand must be a whole number, got ${
      JSON.stringify(onDemand)
    }.`;
  }
  return undefined;
}

/** A job's settings' problems beyond their shape: a notebook task, compute, unique task keys. */
function jobProblem(
  settings: Record<string, unknown>,
  at: string,
  profiles: ReadonlySet<string>,
): string | undefined {
  const shape = check(settings, JOB_SETTINGS, at);
  if (shape) return shape;
  const runs = settings.max_concurrent_runs;
  if (runs !== undefined && !(isCount(runs) && Number(runs) <= 1000)) {
    return `max_concurrent_runs must be a whole number from 0 to 1000, got ${
      JSON.stringify(runs)
    }.`;
  }
  const tasks = (settings.tasks ?? []) as Record<string, unknown>[];
  const keys = new Set<string>();
  for (const [index, task] of tasks.entries()) {
    const where = `${at ? `${at}.` : ""}tasks[${index}]`;
    if (keys.has(String(task.task_key))) return `Task key ${task.task_key} is not unique.`;
    keys.add(String(task.task_key));
    if (!task.notebook_task) {
      return `Task ${task.task_key} has no task type: notebook_task must be given (${where}).`;
    }
    if ((task.existing_cluster_id !== undefined) === (task.new_cluster !== undefined)) {
      return `Task ${task.task_key}: exactly one of existing_cluster_id and new_cluster must be given.`;
    }
    if (task.new_cluster) {
      const problem = clusterProblem(
        task.new_cluster as Record<string, unknown>,
        `${where}.new_cluster`,
        profiles,
      );
      if (problem) return problem;
    }
  }
  return undefined;
}

// The Airflow provider sends numbers as strings; the Jobs API takes both.
const isCount = (value: unknown) =>
  (typeof value === "number" && Number.isInteger(value) && value >= 0) ||
  (typeof value === "string" && /^\d+$/.test(value));

interface Item {
  type: "DIRECTORY" | "NOTEBOOK" | "FILE";
  id: number;
  language?: string;
  /** base64 */
  content?: string;
}

interface Job {
  job_id: number;
  settings: Record<string, unknown>;
  created_time: number;
}

interface JobRun {
  run_id: number;
  job_id: number;
  life_cycle_state: "RUNNING" | "TERMINATED" | "SKIPPED";
  result_state?: "SUCCESS" | "FAILED" | "CANCELED";
  message: string;
}

const PROFILE: Shape = structure({
  instance_profile_arn: [string({ pattern: INSTANCE_PROFILE_ARN }), true],
});

const RUN_NOW: Shape = structure({
  job_id: [integer({ min: 0 }), true],
  idempotency_token: [string({ max: 64 }), false],
  notebook_params: [map(string()), false],
});

/** A running stand-in. */
export interface DatabricksStandIn {
  /** The workspace URL (DATABRICKS_HOST). */
  readonly url: string;
  readonly port: number;
  /** Makes a call (e.g. "POST /api/2.0/workspace/import") answer PERMISSION_DENIED until `allow`. */
  deny(call: string): void;
  allow(call: string): void;
  /** Workspace paths and their types, sorted. */
  paths(): [string, string][];
  /** The jobs, by name, with their settings and the life cycle of each of their runs. */
  jobs(): { name: string; jobId: number; settings: Record<string, unknown>; runs: string[] }[];
  /** Calls received (`GET /api/2.0/workspace/get-status`, ...), in order. */
  readonly calls: string[];
  close(): Promise<void>;
}

class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/** Starts the stand-in on 127.0.0.1:`port` (0: any free port), accepting only `token`. */
export function startDatabricksStandIn(
  { port = 0, token }: { port?: number; token: string },
): DatabricksStandIn {
  const tree = new Map<string, Item>([["/", { type: "DIRECTORY", id: 0 }]]);
  const jobs = new Map<number, Job>();
  const profiles = new Set<string>();
  const jobRuns: JobRun[] = [];
  const tokens = new Map<string, number>();
  const denied = new Set<string>();
  const calls: string[] = [];
  let ids = 1;

  const parentOf = (path: string) => path.slice(0, path.lastIndexOf("/")) || "/";
  const get = (path: string) =>
    tree.get(path) ?? fail(404, "RESOURCE_DOES_NOT_EXIST", `Path (${path}) doesn't exist.`);
  const children = (path: string) =>
    [...tree.keys()].filter((key) => key !== path && parentOf(key) === path);

  const mkdirs = (path: string) => {
    const existing = tree.get(path);
    if (existing && existing.type !== "DIRECTORY") {
      fail(400, "RESOURCE_ALREADY_EXISTS", `Path (${path}) already exists and is not a directory.`);
    }
    if (existing) return;
    mkdirs(parentOf(path));
    tree.set(path, { type: "DIRECTORY", id: ids++ });
  };

  const remove = (path: string) => {
    for (const child of children(path)) remove(child);
    tree.delete(path);
  };

  const jobOf = (jobId: number): Job =>
    jobs.get(jobId) ?? fail(400, "INVALID_PARAMETER_VALUE", `Job ${jobId} does not exist.`);

  const jobRunView = (run: JobRun) => ({
    run_id: run.run_id,
    job_id: run.job_id,
    run_page_url: `${url}/#job/${run.job_id}/run/${run.run_id}`,
    state: {
      life_cycle_state: run.life_cycle_state,
      ...(run.result_state ? { result_state: run.result_state } : {}),
      state_message: run.message,
    },
  });

  function handle(call: string, query: URLSearchParams, body: Record<string, unknown>): unknown {
    switch (call) {
      case "GET /api/2.0/workspace/get-status": {
        const path = need(query, "path");
        const item = get(path);
        return {
          path,
          object_type: item.type,
          object_id: item.id,
          ...(item.language ? { language: item.language } : {}),
        };
      }
      case "GET /api/2.0/workspace/list": {
        const path = need(query, "path");
        if (get(path).type !== "DIRECTORY") {
          fail(400, "INVALID_PARAMETER_VALUE", `Path (${path}) is not a directory.`);
        }
        return {
          objects: children(path).map((child) => ({
            path: child,
            object_type: tree.get(child)!.type,
          })),
        };
      }
      case "POST /api/2.0/workspace/mkdirs": {
        invalidIf(check(body, structure({ path: [PATH, true] })));
        mkdirs(String(body.path));
        return {};
      }
      case "POST /api/2.0/workspace/import": {
        invalidIf(check(body, IMPORT));
        const path = String(body.path);
        const format = String(body.format ?? "SOURCE");
        if (format === "SOURCE" && !body.language) {
          fail(400, "INVALID_PARAMETER_VALUE", "The language must be given with format SOURCE.");
        }
        const content = String(body.content ?? "");
        try {
          atob(content);
        } catch {
          fail(400, "INVALID_PARAMETER_VALUE", "The content is not valid base64.");
        }
        const parent = tree.get(parentOf(path));
        if (parent?.type !== "DIRECTORY") {
          fail(
            404,
            "RESOURCE_DOES_NOT_EXIST",
            `The parent folder (${parentOf(path)}) does not exist.`,
          );
        }
        const existing = tree.get(path);
        if (existing?.type === "DIRECTORY") {
          fail(400, "RESOURCE_ALREADY_EXISTS", `Path (${path}) is a directory.`);
        }
        if (existing && body.overwrite !== true) {
          fail(400, "RESOURCE_ALREADY_EXISTS", `Path (${path}) already exists.`);
        }
        const notebook = format !== "AUTO" && format !== "RAW";
        tree.set(path, {
          type: notebook ? "NOTEBOOK" : "FILE",
          id: existing?.id ?? ids++,
          ...(notebook ? { language: String(body.language) } : {}),
          content,
        });
        return {};
      }
      case "GET /api/2.0/workspace/export": {
        const path = need(query, "path");
        const item = get(path);
        if (item.type === "DIRECTORY") {
          fail(400, "INVALID_PARAMETER_VALUE", `Path (${path}) is a directory; export a file.`);
        }
        return { content: item.content, file_type: item.type === "NOTEBOOK" ? "py" : "" };
      }
      case "POST /api/2.0/workspace/delete": {
        invalidIf(
          check(body, structure({ path: [PATH, true], recursive: [boolean(), false] })),
        );
        const path = String(body.path);
        const item = get(path);
        if (item.type === "DIRECTORY" && children(path).length > 0 && body.recursive !== true) {
          fail(400, "DIRECTORY_NOT_EMPTY", `Folder (${path}) is not empty.`);
        }
        remove(path);
        return {};
      }
      case "POST /api/2.0/instance-profiles/add": {
        invalidIf(check(body, PROFILE));
        const arn = String(body.instance_profile_arn);
        if (profiles.has(arn)) {
          fail(400, "RESOURCE_ALREADY_EXISTS", `Instance profile ${arn} already exists.`);
        }
        profiles.add(arn);
        return {};
      }
      case "GET /api/2.0/instance-profiles/list":
        return { instance_profiles: [...profiles].map((arn) => ({ instance_profile_arn: arn })) };
      case "POST /api/2.0/instance-profiles/remove": {
        invalidIf(check(body, PROFILE));
        const arn = String(body.instance_profile_arn);
        if (!profiles.delete(arn)) {
          fail(404, "RESOURCE_DOES_NOT_EXIST", `Instance profile ${arn} does not exist.`);
        }
        return {};
      }
      case "POST /api/2.1/jobs/create": {
        invalidIf(jobProblem(body, "", profiles));
        const job: Job = { job_id: ids++, settings: body, created_time: Date.now() };
        jobs.set(job.job_id, job);
        return { job_id: job.job_id };
      }
      case "GET /api/2.1/jobs/list": {
        const name = query.get("name")?.toLowerCase();
        const found = [...jobs.values()].filter((job) =>
          name === undefined || String(job.settings.name ?? "").toLowerCase() === name
        );
        return { jobs: found, has_more: false };
      }
      case "GET /api/2.1/jobs/get":
        return jobOf(Number(need(query, "job_id")));
      case "POST /api/2.1/jobs/reset": {
        const job = jobOf(Number(requiredId(body, "job_id")));
        if (body.new_settings === undefined) {
          fail(400, "INVALID_PARAMETER_VALUE", "Missing required field: new_settings");
        }
        invalidIf(
          jobProblem(body.new_settings as Record<string, unknown>, "new_settings", profiles),
        );
        job.settings = body.new_settings as Record<string, unknown>;
        return {};
      }
      case "POST /api/2.1/jobs/delete": {
        const job = jobOf(Number(requiredId(body, "job_id")));
        jobs.delete(job.job_id);
        return {};
      }
      case "POST /api/2.1/jobs/run-now": {
        const job = jobOf(Number(requiredId(body, "job_id")));
        invalidIf(check({ ...body, job_id: Number(body.job_id) }, RUN_NOW));
        const token = body.idempotency_token as string | undefined;
        const again = token === undefined ? undefined : tokens.get(token);
        if (again !== undefined) return { run_id: again, number_in_job: again };
        const active = jobRuns.filter((r) =>
          r.job_id === job.job_id && r.life_cycle_state === "RUNNING"
        );
        const task = ((job.settings.tasks ?? []) as {
          notebook_task?: { notebook_path: string; base_parameters?: Record<string, string> };
        }[]).at(0);
        const path = task?.notebook_task?.notebook_path ?? "";
        const parameters = {
          ...task?.notebook_task?.base_parameters,
          ...body.notebook_params as Record<string, string> | undefined,
        };
        const run: JobRun = {
          run_id: 5000 + jobRuns.length,
          job_id: job.job_id,
          life_cycle_state: "RUNNING",
          message: "",
        };
        if (active.length >= Number(job.settings.max_concurrent_runs ?? 1)) {
          run.life_cycle_state = "SKIPPED";
          run.message = "Skipped: the job's maximum concurrent runs are running.";
        } else if (tree.get(path)?.type !== "NOTEBOOK") {
          run.life_cycle_state = "TERMINATED";
          run.result_state = "FAILED";
          run.message = `Notebook not found: ${path}`;
        } else if (parameters.trigger !== "continuous") {
          run.life_cycle_state = "TERMINATED";
          run.result_state = "SUCCESS";
        }
        jobRuns.push(run);
        if (token !== undefined) tokens.set(token, run.run_id);
        return { run_id: run.run_id, number_in_job: run.run_id };
      }
      case "GET /api/2.1/jobs/runs/list": {
        const jobId = query.get("job_id");
        if (jobId !== null) jobOf(Number(jobId));
        const activeOnly = query.get("active_only") === "true";
        const found = jobRuns.filter((run) =>
          (jobId === null || run.job_id === Number(jobId)) &&
          (!activeOnly || run.life_cycle_state === "RUNNING")
        );
        return { runs: found.map(jobRunView), has_more: false };
      }
      case "POST /api/2.1/jobs/runs/cancel-all": {
        const job = jobOf(Number(requiredId(body, "job_id")));
        for (const run of jobRuns) {
          if (run.job_id === job.job_id && run.life_cycle_state === "RUNNING") {
            run.life_cycle_state = "TERMINATED";
            run.result_state = "CANCELED";
            run.message = "Run cancelled.";
          }
        }
        return {};
      }
      case "GET /api/2.1/jobs/runs/get": {
        const runId = Number(need(query, "run_id"));
        const run = jobRuns.find((r) => r.run_id === runId) ??
          fail(404, "RESOURCE_DOES_NOT_EXIST", `Run ${runId} does not exist.`);
        return jobRunView(run);
      }
    }
    return fail(404, "ENDPOINT_NOT_FOUND", `No API found for '${call}'`);
  }

  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, async (request) => {
    const { pathname, searchParams } = new URL(request.url);
    const call = `${request.method} ${pathname}`;
    calls.push(call);
    try {
      if (request.headers.get("authorization") !== `Bearer ${token}`) {
        fail(403, "PERMISSION_DENIED", "Invalid access token.");
      }
      if (denied.has(call)) {
        fail(403, "PERMISSION_DENIED", `User does not have permission to call ${call}.`);
      }
      let body: Record<string, unknown> = {};
      if (request.method === "POST") {
        try {
          body = JSON.parse(await request.text());
        } catch {
          fail(400, "MALFORMED_REQUEST", "The request body is not valid JSON.");
        }
      }
      return Response.json(handle(call, searchParams, body));
    } catch (error) {
      const e = error instanceof ApiError
        ? error
        : new ApiError(500, "INTERNAL_ERROR", String(error));
      return Response.json({ error_code: e.code, message: e.message }, { status: e.status });
    }
  });
  const url = `http://127.0.0.1:${server.addr.port}`;

  return {
    url,
    port: server.addr.port,
    deny: (call) => denied.add(call),
    allow: (call) => denied.delete(call),
    paths: () =>
      [...tree.entries()].map(([path, item]): [string, string] => [path, item.type]).sort(),
    jobs: () =>
      [...jobs.values()].map((job) => ({
        name: String(job.settings.name ?? ""),
        jobId: job.job_id,
        settings: job.settings,
        runs: jobRuns.filter((run) => run.job_id === job.job_id).map((run) =>
          run.result_state ? `${run.life_cycle_state} ${run.result_state}` : run.life_cycle_state
        ),
      })),
    calls,
    close: () => server.shutdown(),
  };
}

function fail(status: number, code: string, message: string): never {
  throw new ApiError(status, code, message);
}

function invalidIf(problem: string | undefined): void {
  if (problem) fail(400, "INVALID_PARAMETER_VALUE", problem);
}

function requiredId(body: Record<string, unknown>, name: string): number {
  const value = body[name];
  if (value === undefined || value === null) {
    fail(400, "INVALID_PARAMETER_VALUE", `Missing required field: ${name}`);
  }
  if (!Number.isSafeInteger(Number(value))) {
    fail(400, "INVALID_PARAMETER_VALUE", `Invalid value for ${name}: ${JSON.stringify(value)}`);
  }
  return Number(value);
}

function need(query: URLSearchParams, name: string): string {
  const value = query.get(name);
  if (!value) fail(400, "INVALID_PARAMETER_VALUE", `Missing required field: ${name}`);
  return value;
}
