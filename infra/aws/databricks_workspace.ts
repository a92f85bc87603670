/**
 * The few Databricks workspace REST calls provisioning needs (get-status,
 * mkdirs, export, import), over `fetch` with a bearer token. Errors carry
 * the call, the HTTP status and Databricks' own error code and message.
 *
 * @example
 * ```ts
 * import { DatabricksWorkspace } from "./databricks_workspace.ts";
 * const token = Deno.env.get("DATABRICKS_TOKEN") ?? "";
 * const workspace = new DatabricksWorkspace("https://dbc-1234.cloud.databricks.com", token);
 * await workspace.call("POST", "/api/2.0/workspace/mkdirs", { path: "/Shared/pinpipe" });
 * ```
 */

/** A failed call; `errorCode` is Databricks' (e.g. RESOURCE_DOES_NOT_EXIST). */
export class DatabricksError extends Error {
  constructor(
    readonly call: string,
    readonly status: number,
    readonly errorCode: string,
    message: string,
  ) {
    super(`${call}: HTTP ${status} ${errorCode}: ${message}`);
    this.name = "DatabricksError";
  }
}

/** A workspace at `host`, authenticated with `token` (never logged). */
export class DatabricksWorkspace {
  readonly #token: string;
  constructor(readonly host: string, token: string) {
    this.host = host.replace(/\/+$/, "");
    this.#token = token;
  }

  /** Calls `path`: GET sends `body` as query parameters, POST as JSON. */
  async call(
    method: "GET" | "POST",
    path: string,
    body: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    let url = `${this.host}${path}`;
    const init: RequestInit = {
      method,
      headers: { Authorization: `Bearer ${this.#token}`, "Content-Type": "application/json" },
      signal: AbortSignal.timeout(60_000),
    };
    if (method === "GET") {
      url += `?${new URLSearchParams(Object.entries(body).map(([k, v]) => [k, String(v)]))}`;
    } else {
      init.body = JSON.stringify(body);
    }
    const response = await fetch(url, init);
    const text = await response.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = { message: text.slice(0, 200) };
    }
    if (!response.ok) {
      throw new DatabricksError(
        `${method} ${path}`,
        response.status,
        String(parsed.error_code ?? "ERROR"),
        String(parsed.message ?? response.statusText),
      );
    }
    return parsed;
  }
}

/** True for "no such object", the answer that means "not in place yet". */
export const isNotFound = (error: unknown): boolean =>
  error instanceof DatabricksError &&
  (error.errorCode === "RESOURCE_DOES_NOT_EXIST" || error.status === 404);
