/**
 * `./infra.sh rehearse`, as CI runs it: the AWS deployment and the pipeline
 * against the local endpoints, every step passing, sized small (500 rows
 * per table) to stay well under three minutes; the CDK app's templates on
 * moto's CloudFormation, used by the pipeline; and what moto does not model
 * named "schema-checked only", never passed.
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
  "templates synthesized, cfn-lint clean",
  "CloudFormation deploy to moto",
  "CloudFormation deploy again (nothing to change)",
  "REST API routes read back match the seed's",
  "batch and sink to the bucket the stack made",
  "stream to the streams the stack made",
  "CloudFormation destroy, nothing left",
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
  // What moto made, counted from its own listing, and what it could not.
  assert.match(
    out,
    /^pass CloudFormation deploy to moto .*made \d+ of \d+ resources .*3 Kinesis::Stream/m,
  );
  assert.match(out, /^pass CloudFormation deploy again .*3 stacks unchanged$/m);
  assert.match(
    out,
    /^pass batch and sink to the bucket the stack made .*1500 records in \d+ objects/m,
  );
  for (
    const part of ["MSK cluster", "MSK Connect plugin and S3 sink connector", "MWAA environment"]
  ) {
    assert.match(table, new RegExp(`^${part}\\s+schema-checked only$`, "m"), part);
    assert.doesNotMatch(table, new RegExp(`^${part}.*pass`, "m"), part);
  }
});
