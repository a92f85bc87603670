/**
 * Running `main.ts` as a child process the way a user does, and the small
 * waits the tests around it need: the repository root, a fresh pipeline id,
 * a free port, polling a condition, reading a checkpoint file that may not
 * exist yet, and watching a child's stderr for a line.
 *
 * @example
 * ```ts
 * import { randomId, runMain } from "./processes.ts";
 * const { code } = await runMain(["batch", "--id", randomId(), "--limit", "10"]);
 * ```
 */
import { pollUntil } from "../../src/util/retry.ts";

// Shared with the benchmarks, so kept beside the local stack.
export { randomId } from "../../infra/local/stack_admin.ts";

/** The repository root as a file URL, to resolve paths under it. */
export const ROOT_URL: URL = new URL("../../", import.meta.url);

/** The repository root's path, with a trailing slash. */
export const ROOT: string = ROOT_URL.pathname;

/**
 * Where `freePort` draws from: below the ephemeral range (32768-60999 on Linux), so that no
 * outgoing connection takes the port between the draw and the server's bind.
 */
const FREE_PORTS = { low: 22600, high: 22999 };
const drawn = new Set<number>();

/** A TCP port nothing listens on right now, never the same twice in one process. */
export function freePort(): number {
  const span = FREE_PORTS.high - FREE_PORTS.low + 1;
  for (let tries = 0; tries < span; tries++) {
    const port = FREE_PORTS.low + Math.floor(Math.random() * span);
    if (drawn.has(port)) continue;
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
    } catch (error) {
      if (error instanceof Deno.errors.AddrInUse) continue;
      throw error;
    }
    drawn.add(port);
    return port;
  }
  throw new Error(`no free port left in ${FREE_PORTS.low}-${FREE_PORTS.high}`);
}

/** The result of a finished child process. */
export interface Finished {
  code: number;
  stdout: string;
  stderr: string;
}

/** Starts `deno run -A main.ts <args>` in the repository root, stdout and stderr piped. */
export function spawnMain(args: string[], env: Record<string, string> = {}): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Collects a child's exit code and output. */
export async function finish(child: Deno.ChildProcess): Promise<Finished> {
  const { code, stdout, stderr } = await child.output();
  const text = new TextDecoder();
  return { code, stdout: text.decode(stdout), stderr: text.decode(stderr) };
}

/** Runs `main.ts <args>` to the end. */
export function runMain(args: string[], env: Record<string, string> = {}): Promise<Finished> {
  return finish(spawnMain(args, env));
}

/** Waits until `check` returns true, polling every `everyMs`; fails after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 60_000,
  everyMs = 100,
): Promise<void> {
  if (!(await pollUntil(check, { everyMs, timeoutMs }))) {
    throw new Error(`timed out waiting for ${what}`);
  }
}

/**
 * Reads a child's stderr until a line matches `pattern` (or the stream
 * ends); returns all text read. The rest is drained in the background so
 * the child never blocks on a full pipe; that drain ends when the child does.
 */
export async function waitForLine(child: Deno.ChildProcess, pattern: RegExp): Promise<string> {
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return text;
    text += value;
    if (pattern.test(text)) {
      (async () => {
        while (!(await reader.read()).done) { /* drain */ }
      })().catch(() => {});
      return text;
    }
  }
}

/** The JSON in `path`, or undefined if it does not exist (yet). */
export function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(Deno.readTextFileSync(path)) as T;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof SyntaxError) return undefined;
    throw error;
  }
}
