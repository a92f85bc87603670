/**
 * A stand-in for the Databricks workspace (2.0) and jobs runs (2.1) REST
 * APIs on 127.0.0.1: a tree of folders, notebooks and files, and submitted
 * runs, with each request checked as Databricks' REST reference states
 * (required fields, allowed formats and languages, parents that must exist,
 * a bearer token) and answered with its error codes (RESOURCE_DOES_NOT_EXIST,
 * RESOURCE_ALREADY_EXISTS, DIRECTORY_NOT_EMPTY, INVALID_PARAMETER_VALUE).
 *
 * A submitted notebook run ends TERMINATED: SUCCESS when the notebook path
 * is a notebook in the workspace, else FAILED with "Notebook not found", as
 * a real run would. `deny(call)` makes a call answer PERMISSION_DENIED.
 *
 * @example
 * ```ts
 * import { startDatabricksStandIn } from "./databricks.ts";
 * const standIn = startDatabricksStandIn({ token: "dapi-local" });
 * standIn.url; // the DATABRICKS_HOST to use
 * await standIn.close();
 * ```
 */
import { boolean, check, map, type Shape, string, structure } from "./shapes.ts";

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

const NEW_CLUSTER: Shape = structure({
  spark_version: [string({ min: 1 }), true],
  node_type_id: [string({ min: 1 }), false],
  instance_pool_id: [string({ min: 1 }), false],
});

// The Airflow provider sends numbers as strings; the Jobs API takes both.
const isCount = (value: unknown) =>
  (typeof value === "number" && Number.isInteger(value) && value >= 0) ||
  (typeof value === "string" && /^\d+$/.test(value));

const SUBMIT: Shape = structure({
  run_name: [string(), false],
  idempotency_token: [string({ max: 64 }), false],
  existing_cluster_id: [string({ min: 1 }), false],
  notebook_task: [
    structure({
      notebook_path: [string({ min: 1 }), true],
      base_parameters: [map(string()), false],
      source: [string({ values: ["WORKSPACE", "GIT"] }), false],
    }),
    false,
  ],
});

interface Item {
  type: "DIRECTORY" | "NOTEBOOK" | "FILE";
  id: number;
  language?: string;
  /** base64 */
  content?: string;
}

interface Run {
  run_id: number;
  request: Record<string, unknown>;
  result: "SUCCESS" | "FAILED";
  message: string;
}

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
  /** Submitted runs, in order. */
  runs(): { notebookPath: string; result: string; parameters: unknown }[];
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
  const runs: Run[] = [];
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
      case "POST /api/2.1/jobs/runs/submit": {
        invalidIf(check(body, SUBMIT));
        const task = body.notebook_task as { notebook_path: string } | undefined;
        if (!task) fail(400, "INVALID_PARAMETER_VALUE", "A task (notebook_task) must be given.");
        const cluster = body.existing_cluster_id !== undefined;
        if (cluster === (body.new_cluster !== undefined)) {
          fail(
            400,
            "INVALID_PARAMETER_VALUE",
            "Exactly one of existing_cluster_id and new_cluster must be given.",
          );
        }
        if (body.new_cluster !== undefined) {
          invalidIf(check(body.new_cluster, NEW_CLUSTER, "new_cluster"));
          const spec = body.new_cluster as Record<string, unknown>;
          if (!spec.node_type_id && !spec.instance_pool_id) {
            fail(
              400,
              "INVALID_PARAMETER_VALUE",
              "new_cluster needs node_type_id or instance_pool_id.",
            );
          }
          if (!isCount(spec.num_workers) && spec.autoscale === undefined) {
            fail(400, "INVALID_PARAMETER_VALUE", "new_cluster needs num_workers or autoscale.");
          }
        }
        const token = body.idempotency_token as string | undefined;
        if (token && tokens.has(token)) return { run_id: tokens.get(token) };
        const notebook = tree.get(task.notebook_path)?.type === "NOTEBOOK";
        const run: Run = {
          run_id: 1000 + runs.length,
          request: body,
          result: notebook ? "SUCCESS" : "FAILED",
          message: notebook ? "" : `Notebook not found: ${task.notebook_path}`,
        };
        runs.push(run);
        if (token) tokens.set(token, run.run_id);
        return { run_id: run.run_id };
      }
      case "GET /api/2.1/jobs/runs/get": {
        const runId = Number(need(query, "run_id"));
        const run = runs.find((r) => r.run_id === runId) ??
          fail(404, "RESOURCE_DOES_NOT_EXIST", `Run ${runId} does not exist.`);
        return {
          run_id: run.run_id,
          run_page_url: `${url}/#job/run/${run.run_id}`,
          state: {
            life_cycle_state: "TERMINATED",
            result_state: run.result,
            state_message: run.message,
          },
        };
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
    runs: () =>
      runs.map((run) => ({
        notebookPath: (run.request.notebook_task as { notebook_path: string }).notebook_path,
        result: run.result,
        parameters: (run.request.notebook_task as { base_parameters?: unknown }).base_parameters,
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

function need(query: URLSearchParams, name: string): string {
  const value = query.get(name);
  if (!value) fail(400, "INVALID_PARAMETER_VALUE", `Missing required field: ${name}`);
  return value;
}
