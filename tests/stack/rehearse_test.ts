/**
 * `./infra.sh rehearse`, as CI runs it: the AWS deployment and the pipeline
 * against the local endpoints, every step passing, sized small (500 rows
 * per table) to stay well under three minutes.
 */
import assert from "node:assert/strict";
import { ROOT } from "../support/processes.ts";

const STEPS = [
  "local stack and AWS endpoints",
  "aws apply",
  "aws apply again (nothing to do)",
  "batch to the topics apply made",
  "sink to s3://user-",
  "sim from s3://user-",
  "stream to the Kinesis streams apply made",
  "consume the streams",
  "the DAG's task on the Databricks stand-in",
  "aws destroy",
  "aws destroy again (nothing left)",
];

Deno.test("./infra.sh rehearse passes every step and prints the table", async () => {
  const { code, stdout, stderr } = await new Deno.Command("bash", {
    args: ["infra.sh", "rehearse", "--rows", "500"],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(stdout);
  const err = new TextDecoder().decode(stderr);
  assert.equal(code, 0, `rehearse exited ${code}:\n${out}\n${err.slice(-3000)}`);
  const table = out.slice(out.indexOf("\nstep "));
  for (const step of STEPS) {
    assert.match(
      table,
      new RegExp(`^${step.replace(/[()]/g, "\\$&")}.*\\s+pass\\s+\\d+\\.\\d$`, "m"),
      `the table shows "${step}" passed`,
    );
  }
  assert.doesNotMatch(out, /FAIL|skipped/);
  assert.match(out, /^rehearsal passed$/m);
  assert.match(out, /^pass aws apply again.*apply: 0 steps done, \d+ already in place\./m);
});
