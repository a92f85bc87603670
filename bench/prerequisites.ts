/**
 * What a benchmark needs before it starts, checked up front so that a
 * missing piece ends in one line naming it and the command that provides
 * it, not in a stack trace halfway through a run.
 *
 * @example
 * ```ts
 * import { requireFile, requireStack } from "./prerequisites.ts";
 * await requireStack();
 * await requireFile(
 *   ".cache/venv-spark/bin/python",
 *   "the PySpark venv",
 *   "run `bash infra.sh local install`",
 * );
 * ```
 */
import { CliError } from "../src/core/errors.ts";

/** The repository root, where `infra.sh` and `.cache/` are. */
export const ROOT = new URL("..", import.meta.url).pathname;

/** Throws a `CliError` naming `what` and the `remedy` unless `path` (from the root) exists. */
export async function requireFile(path: string, what: string, remedy: string): Promise<void> {
  try {
    await Deno.stat(path.startsWith("/") ? path : `${ROOT}${path}`);
  } catch {
    throw new CliError(`needs ${what} (${path} is missing): ${remedy}`);
  }
}

/** Throws a `CliError` naming `what` and the `remedy` unless `name` is a command on PATH. */
export async function requireCommand(name: string, what: string, remedy: string): Promise<void> {
  const found = await new Deno.Command("bash", {
    args: ["-c", 'command -v "$1"', "bash", name],
    stdout: "null",
    stderr: "null",
  }).output();
  if (!found.success) throw new CliError(`needs ${what} (\`${name}\` not found): ${remedy}`);
}

/** Throws a `CliError` unless every service of the local stack answers its health check. */
export async function requireStack(): Promise<void> {
  const status = await new Deno.Command("bash", {
    args: ["infra.sh", "local", "status"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "null",
  }).output();
  if (!status.success) {
    const down = new TextDecoder().decode(status.stdout).split("\n")
      .filter((line) => line && !/^\S+\s+up\s/.test(line)).map((line) => line.split(/\s+/)[0]);
    throw new CliError(
      `needs the local stack up (not up: ${down.join(", ") || "see infra.sh local status"}): ` +
        "run `bash infra.sh local up`",
    );
  }
}
