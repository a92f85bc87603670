/**
 * `./infra.sh rehearse` (= `deno task rehearse`): the AWS run, dressed
 * rehearsal, on this machine. moto's server is the account (CloudFormation,
 * S3, Kinesis, IAM, API Gateway, EC2), the shared broker stands for MSK's,
 * and a stand-in for Databricks; then, in order, each command run as a user
 * would under a fresh pipeline id: the templates, cfn-lint clean; `aws
 * apply` deploying the stacks to moto's CloudFormation with the steps around
 * them, and `aws apply` again (nothing changes); what moto made, listed, and
 * the REST API's routes read back; the topics made as the client host's
 * user data would (moto runs none); `batch` to them, `sink`
 * to the bucket the stack made, `sim` from it, `stream` to the streams the
 * stack made, `consume`; the DAG's task on real Airflow submitting the
 * notebook apply imported; what moto does not model named "schema-checked
 * only", never passed; and `aws destroy` (everything listed afterwards:
 * nothing may be left), then again (nothing to remove). Prints a table of
 * the steps with pass or fail and times; exits 1 when one fails (the rest
 * are skipped but destroy, which always runs to leave nothing behind).
 *
 * @example
 * ```ts
 * import { rehearse } from "./rehearse.ts";
 * const failed = await rehearse({ rows: 500 }); // 0 when every step passed
 * ```
 */
import { intFlag, parseFlags } from "../../src/core/cli.ts";
import { runProgram } from "../../src/core/command.ts";
import { bucketName } from "../../src/core/names.ts";
import { randomId } from "../local/stack_admin.ts";
import { motoAnswers } from "../local/stand_ins/moto.ts";
import { jobName } from "./databricks_jobs.ts";
import { type LocalAws, prepareLocalAws } from "./local_aws.ts";
import { planFor } from "./command.ts";
import { StackChecks } from "./rehearse_cloudformation.ts";

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

const USAGE = `Usage: ./infra.sh rehearse [--rows N] [--keep-moto]

Runs the AWS deployment and the pipeline against local endpoints, end to end: the local
stack with moto (./infra.sh local up --aws) as the account; the CDK app's templates linted;
aws apply (the stacks deployed to moto's CloudFormation, the topics, uploads and Databricks
imports around them), aws apply again (must change nothing); what the stacks made listed and
the REST API read back; batch, sink to the stack's bucket, sim from it, stream to the stack's
streams, consume, the DAG's task against a Databricks stand-in; aws destroy (then nothing of
the pipeline may be left), aws destroy again. Prints each step with pass/fail and its time
(MSK, MSK Connect and MWAA: "schema-checked only"); exits 1 if any failed.

  --rows N      rows per table that batch and stream send (default 2000)
  --keep-moto   leave moto running when this run started it (default: stop it)

PINPIPE_MOTO_PORT: moto's port (14566); PINPIPE_CFN_LINT: a cfn-lint binary other than
.cache/venv-cfnlint's.`;

/** One line of the table. */
interface StepResult {
  name: string;
  /** "schema-checked only": cfn-lint checked it and no local service made it; never a pass. */
  status: "pass" | "FAIL" | "skipped" | "schema-checked only";
  seconds: number;
  note: string;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command in the repository root with `env` added; output captured. */
async function run(command: string, args: string[], env: Record<string, string>): Promise<Run> {
  const { code, stdout, stderr } = await new Deno.Command(command, {
    args,
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code, stdout: text.decode(stdout), stderr: text.decode(stderr) };
}

const deno = (args: string[], env: Record<string, string>) => run(Deno.execPath(), args, env);

const lastLine = (text: string) => text.trimEnd().split("\n").at(-1) ?? "";

/** The end of a failed command's output, for the failure note. */
const tail = (result: Run) =>
  (result.stderr.trim() || result.stdout.trim()).split("\n").slice(-3).join(" | ").slice(0, 400);

/** Checks a transfer's `--json` summary: every row of each table acknowledged. */
function acknowledged(result: Run, rows: number): string {
  const { totals } = JSON.parse(result.stdout) as { totals: { acknowledged: number } };
  if (totals.acknowledged !== 3 * rows) {
    throw new Error(`${totals.acknowledged} records acknowledged, expected ${3 * rows}`);
  }
  return `${totals.acknowledged} records acknowledged`;
}

/** A step's check: a note when it passed; throws with the reason when it did not. */
type Check = () => Promise<string>;

/** Runs the rehearsal; returns how many steps failed. */
export async function rehearse(
  { rows = 2000, keepMoto = false, print = console.log }: {
    rows?: number;
    keepMoto?: boolean;
    print?: (line: string) => void;
  } = {},
): Promise<number> {
  const id = randomId();
  const motoPort = Number(Deno.env.get("PINPIPE_MOTO_PORT") ?? 14566);
  const endpoint = `http://127.0.0.1:${motoPort}`;
  const brokers = `127.0.0.1:${Deno.env.get("PINPIPE_KAFKA_PORT") ?? 19092}`;
  const work = await Deno.makeTempDir({ prefix: `pinpipe-rehearse-${id}-` });
  const results: StepResult[] = [];
  const motoWasUp = await motoAnswers(endpoint);
  let local: LocalAws | undefined;
  let env: Record<string, string> = {};
  const stepCount = planFor({ PINPIPE_ID: id }).steps.length;
  const bucket = `s3://${bucketName(id)}`;
  const checks = new StackChecks({ id, endpoint, brokers });
  print(`rehearsal of pipeline ${id} (${stepCount} AWS steps, ${rows} rows per table)`);

  const step = async (name: string, check: Check, always = false) => {
    if (!always && results.some((result) => result.status === "FAIL")) {
      results.push({ name, status: "skipped", seconds: 0, note: "an earlier step failed" });
      return;
    }
    const began = performance.now();
    let result: StepResult;
    try {
      const note = await check();
      result = { name, status: "pass", seconds: (performance.now() - began) / 1000, note };
    } catch (error) {
      const note = error instanceof Error ? error.message : String(error);
      result = { name, status: "FAIL", seconds: (performance.now() - began) / 1000, note };
    }
    results.push(result);
    print(`${result.status.padEnd(4)} ${name} (${result.seconds.toFixed(1)} s) ${result.note}`);
  };

  /** Runs a pipeline command; passes when it exits 0. */
  const pipeline = async (args: string[]): Promise<Run> => {
    const result = await deno(["run", "-A", "main.ts", ...args], env);
    if (result.code !== 0) throw new Error(`exit ${result.code}: ${tail(result)}`);
    return result;
  };

  const aws = async (args: string[], expected: string): Promise<string> => {
    const result = await deno(["run", "-A", "infra/aws/command.ts", ...args], local!.env);
    if (result.code !== 0) throw new Error(`exit ${result.code}: ${tail(result)}`);
    const last = lastLine(result.stdout);
    if (last !== expected) throw new Error(`expected "${expected}", got "${last}"`);
    return last;
  };

  try {
    await step("local stack and AWS endpoints", async () => {
      const result = await run("bash", ["infra.sh", "local", "up", "--aws"], {});
      if (result.code !== 0) throw new Error(`infra.sh local up --aws: ${tail(result)}`);
      local = await prepareLocalAws({ id, endpoint, brokers });
      env = {
        ...local.env,
        // The pipeline's own commands use the streams the data stack made, in moto.
        PINPIPE_KINESIS_ENDPOINT: endpoint,
        PINPIPE_STATE_DIR: `${work}/state`,
      };
      return `moto ${endpoint} with the account's VPC (stack ${local.vpcStack}), ` +
        `Databricks ${local.databricks.url}`;
    });
    await step(
      "templates synthesized, cfn-lint clean",
      () => checks.synthAndLint(local!.env, `${work}/templates`),
    );
    await step(
      "aws apply",
      () => aws(["apply"], `apply: ${stepCount} steps done, 0 already in place.`),
    );
    await step(
      "aws apply again (nothing to do)",
      () => aws(["apply"], `apply: 0 steps done, ${stepCount} already in place.`),
    );
    await step("what the stacks made in moto", () => checks.made());
    await step(
      "topics made as the client host's user data would (moto runs none)",
      () => checks.clientHostTopics(),
    );
    await step("REST API routes read back match the seed's", () => checks.apiRoutes());
    await step("batch to the topics", async () => {
      const result = await pipeline(["batch", "--limit", String(rows), "--json", "--quiet"]);
      return acknowledged(result, rows);
    });
    await step(`sink to ${bucket}, the bucket the stack made`, async () => {
      await pipeline([
        "sink",
        "--bucket",
        bucket,
        "--s3-endpoint",
        endpoint,
        "--flush-size",
        "500",
        "--rotate-ms",
        "500",
        "--exit-at-end",
        "--quiet",
      ]);
      const { objects, records } = await checks.recordsInBucket();
      if (records !== 3 * rows) {
        throw new Error(`${records} records in ${bucket}, sent ${3 * rows}`);
      }
      return `${records} records in ${objects} objects`;
    });
    await step(`sim from ${bucket}`, async () => {
      const result = await pipeline([
        "sim",
        "--from",
        "bucket",
        "--bucket",
        bucket,
        "--s3-endpoint",
        endpoint,
        "--out",
        `${work}/sim`,
        "--json",
        "--quiet",
      ]);
      const answer = JSON.parse(result.stdout) as {
        cleaned: Record<string, { rowsIn: number }>;
        checks: { passed: boolean }[];
      };
      const read = Object.values(answer.cleaned).reduce((sum, c) => sum + c.rowsIn, 0);
      if (read !== 3 * rows) throw new Error(`sim read ${read} records, batch sent ${3 * rows}`);
      return `${read} records, ${answer.checks.length} checks passed`;
    });
    await step("stream to the streams the stack made", async () => {
      // One call at a time: moto numbers a shard's records as its highest number + 1 without a
      // lock, so two PutRecords to one shard at once can both be answered and one overwritten.
      const result = await pipeline([
        "stream",
        "--limit",
        String(rows),
        "--in-flight",
        "1",
        "--json",
      ]);
      if (/created stream/.test(result.stderr)) {
        throw new Error(`stream made its own streams: ${tail(result)}`);
      }
      return acknowledged(result, rows);
    });
    await step("consume the streams", async () => {
      const result = await pipeline([
        "consume",
        "--db",
        `${work}/stream.duckdb`,
        "--max-records",
        String(3 * rows),
        "--idle-exit-ms",
        "20000",
        "--json",
        "--quiet",
      ]);
      const { records, rejected } = JSON.parse(result.stdout) as {
        records: number;
        rejected: number;
      };
      if (records !== 3 * rows || rejected !== 0) {
        throw new Error(
          `consumed ${records} records (${rejected} rejected), ${3 * rows} were sent`,
        );
      }
      return `${records} records`;
    });
    await step("the DAG's task on the Databricks stand-in", async () => {
      const python = `${ROOT}/.cache/venv-airflow/bin/python`;
      const result = await run(python, [
        "infra/aws/rehearse_dag.py",
        local!.dagsDir,
        id,
        local!.databricks.url,
        local!.env.DATABRICKS_TOKEN,
      ], { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" });
      if (result.code !== 0) throw new Error(`exit ${result.code}: ${tail(result)}`);
      const name = jobName(id, "batch");
      const job = local!.databricks.jobs().find((job) => job.name === name);
      if (!job?.runs.includes("TERMINATED SUCCESS")) {
        throw new Error(`no successful run of the job ${name}: ${JSON.stringify(job?.runs)}`);
      }
      return `ran the job ${name}`;
    });
    if (!results.some((result) => result.status === "FAIL")) {
      for (const part of checks.schemaOnly()) {
        results.push({
          name: part.name,
          status: "schema-checked only",
          seconds: 0,
          note: part.note,
        });
        print(`schema-checked only: ${part.name} (${part.note})`);
      }
    }
  } finally {
    // Whatever failed, apply's resources go: destroy runs when the endpoints are up.
    if (local) {
      // After a full apply every step has something to remove; after a partial one, some may not.
      const applied = results.some((r) => r.name === "aws apply" && r.status === "pass");
      await step(
        "aws destroy",
        () =>
          applied
            ? aws(["destroy", "--yes"], `destroy: ${stepCount} steps removed, 0 already gone.`)
            : aws(["destroy", "--yes"], "").catch((error) => {
              const got = /got "(destroy: .*)"$/.exec((error as Error).message)?.[1];
              if (got) return got;
              throw error;
            }),
        true,
      );
      await step("nothing of the pipeline left, listed", () => checks.nothingLeft(), true);
      await step(
        "aws destroy again (nothing left)",
        () => aws(["destroy", "--yes"], `destroy: 0 steps removed, ${stepCount} already gone.`),
        true,
      );
      await local.close();
    }
    checks.close();
    if (!motoWasUp && !keepMoto) await run("bash", ["infra.sh", "local", "aws", "down"], {});
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
  print("");
  print(table(results));
  const failed = results.filter((result) => result.status === "FAIL").length;
  print(failed === 0 ? "rehearsal passed" : `rehearsal FAILED: ${failed} step(s)`);
  return failed;
}

/** The steps as a text table: step, result, seconds. */
function table(results: readonly StepResult[]): string {
  const width = Math.max(...results.map((result) => result.name.length), 4);
  const lines = [`${"step".padEnd(width)}  ${"result".padEnd(19)}  seconds`];
  for (const result of results) {
    const timed = result.status === "pass" || result.status === "FAIL";
    lines.push(
      `${result.name.padEnd(width)}  ${result.status.padEnd(19)}  ${
        timed ? result.seconds.toFixed(1).padStart(7) : ""
      }`.trimEnd(),
    );
  }
  const total = results.reduce((sum, result) => sum + result.seconds, 0);
  lines.push(`${"total".padEnd(width)}  ${"".padEnd(19)}  ${total.toFixed(1).padStart(7)}`);
  return lines.join("\n");
}

/** `./infra.sh rehearse`: 0 when every step passed. */
export async function main(args: string[]): Promise<number> {
  const flags = parseFlags(
    args,
    { rows: { type: "string" }, "keep-moto": { type: "boolean" } },
    USAGE,
  );
  const rows = intFlag(flags, "rows", 2000, { min: 1 });
  return (await rehearse({ rows, keepMoto: flags["keep-moto"] === true })) === 0 ? 0 : 1;
}

if (import.meta.main) {
  Deno.exit(await runProgram("rehearse", "deno task rehearse", () => main(Deno.args)));
}
