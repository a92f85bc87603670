/**
 * Running `main.ts sim` as a user does, and reading the answers it writes
 * as JSON.
 *
 * @example
 * ```ts
 * import { simJson } from "./sim.ts";
 * const result = await simJson("/tmp/sim-out", "--rows", "500");
 * result.answers.map((answer) => answer.name);
 * ```
 */
import assert from "node:assert/strict";
import { type Finished, runMain } from "./processes.ts";

/** What `sim --json` prints (and `--json-out FILE` writes). */
export interface SimJson {
  source: string;
  cleaned: Record<string, { rowsIn: number; rowsOut: number }>;
  checks: { name: string; passed: boolean; failures: number; detail: string }[];
  answers: { name: string; columns: string[]; rows: unknown[][] }[];
}

/** Runs `main.ts sim --quiet <args>` to the end. */
export function sim(...args: string[]): Promise<Finished> {
  return runMain(["sim", "--quiet", ...args]);
}

/**
 * Runs `sim --out <out> --json` with `args`, which must succeed, and returns
 * its JSON answers: stdout holds the JSON alone, the text summary goes to stderr.
 */
export async function simJson(out: string, ...args: string[]): Promise<SimJson> {
  const { code, stdout, stderr } = await sim("--out", out, "--json", ...args);
  assert.equal(code, 0, `sim failed:\n${stdout}\n${stderr}`);
  assert.match(stderr, /checks: \d+ passed, 0 failed/);
  return JSON.parse(stdout);
}
