/**
 * `./infra.sh rehearse`, as CI runs it: `aws apply` deploying the CDK app's
 * stacks to moto's CloudFormation, the pipeline using what they made, and
 * `aws destroy` leaving nothing, every step passing, sized small (500 rows
 * per table) to stay well under a minute; what moto does not model named
 * "schema-checked only", never passed.
 */
import assert from "node:assert/strict";
import { ROOT } from "../support/processes.ts";

const STEPS = [
  "local stack and AWS endpoints",
  "templates synthesized, cfn-lint clean",
  "aws apply",
  "aws apply again (nothing to do)",
  "what the stacks made in moto",
  "REST API routes read back match the seed's",
  "topics made as the client host's user data would",
  "batch to the topics",
  "sink to s3://user-",
  "sim from s3://user-",
  "stream to the streams the stack made",
  "consume the streams",
  "the DAG's task on the Databricks stand-in",
  "aws destroy",
  "nothing of the pipeline left, listed",
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
  assert.match(out, /^pass aws apply .*apply: \d+ steps done, 0 already in place\./m);
  assert.match(out, /^pass aws apply again.*apply: 0 steps done, \d+ already in place\./m);
  // What moto made, counted from its own listing, and what it could not.
  assert.match(
    out,
    /^pass what the stacks made in moto .*made \d+ of \d+ resources .*3 Kinesis::Stream/m,
  );
  assert.match(
    out,
    /^pass sink to s3:\/\/user-\w+-bucket, the bucket the stack made .*1500 records in \d+ objects/m,
  );
  assert.match(out, /^pass stream to the streams the stack made .*1500 records acknowledged/m);
  assert.match(out, /^pass aws destroy .*destroy: \d+ steps removed, 0 already gone\./m);
  assert.match(
    out,
    /^pass nothing of the pipeline left, listed .*no bucket, stream, REST API, topic or stack/m,
  );
  for (
    const part of ["MSK cluster", "MSK Connect plugin and S3 sink connector", "MWAA environment"]
  ) {
    assert.match(table, new RegExp(`^${part}\\s+schema-checked only$`, "m"), part);
    assert.doesNotMatch(table, new RegExp(`^${part}.*pass`, "m"), part);
  }
});
