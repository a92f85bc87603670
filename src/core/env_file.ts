/**
 * The optional settings file `pinpipe.env` at the repository's root (ignored by git; start from
 * `pinpipe.env.example`), or the file `PINPIPE_ENV_FILE` names: `KEY=value` lines, `#` comments,
 * an optional `export ` and optional quotes. Every entry point reads it at start (`runProgram`,
 * and `infra.sh`), and a variable already in the environment wins over the file, so a one-off
 * `PINPIPE_ID=... deno task sim` still does what it says. Variables are the whole interface
 * (docs/configuration.md lists each), so one file serves every command and the processes they
 * start.
 *
 * @example
 * ```ts
 * import { parseEnvFile } from "./env_file.ts";
 * parseEnvFile("# local\nPINPIPE_ID=12c0d092d679\nexport AWS_REGION='us-east-1'\n");
 * // { PINPIPE_ID: "12c0d092d679", AWS_REGION: "us-east-1" }
 * ```
 */
import { fileURLToPath } from "node:url";
import { UsageError } from "./errors.ts";

/** `pinpipe.env` at the repository's root. */
export const DEFAULT_ENV_FILE: string = fileURLToPath(
  new URL("../../pinpipe.env", import.meta.url),
);

/** One `KEY=value` line (with an optional `export `). */
const LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/;

/**
 * The variables of an env file's `text`. A line that is neither blank, a comment nor `KEY=value`
 * is a `UsageError` naming the file and line (a typo would otherwise silently set nothing).
 */
export function parseEnvFile(text: string, path = "pinpipe.env"): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const [index, line] of text.split("\n").entries()) {
    if (/^\s*(#.*)?$/.test(line)) continue;
    const match = LINE.exec(line);
    if (!match) {
      throw new UsageError(`${path}:${index + 1}: not a KEY=value line: "${line.trim()}"`);
    }
    let value = match[2];
    const quoted = /^(["'])(.*)\1$/.exec(value);
    if (quoted) value = quoted[2];
    else value = value.replace(/\s+#.*$/, "");
    variables[match[1]] = value;
  }
  return variables;
}

/**
 * Sets each variable of the env file that the environment does not already have; returns the
 * names it set. The file is `PINPIPE_ENV_FILE` (which must exist), else `pinpipe.env` at the
 * repository's root (none there: nothing set).
 */
export function applyEnvFile(named = Deno.env.get("PINPIPE_ENV_FILE") || undefined): string[] {
  const path = named ?? DEFAULT_ENV_FILE;
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound && named === undefined) return [];
    throw new UsageError(`cannot read the settings file ${path}: ${(error as Error).message}`);
  }
  const set: string[] = [];
  for (const [name, value] of Object.entries(parseEnvFile(text, path))) {
    if (Deno.env.get(name) !== undefined) continue;
    Deno.env.set(name, value);
    set.push(name);
  }
  return set;
}
