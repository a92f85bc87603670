/**
 * `./infra.sh aws plan|apply` (= `deno run -A infra/aws/command.ts plan|apply`):
 * provisions pinpipe's AWS side, idempotently. `plan` prints every step and
 * the exact JSON it would send, with no credentials and no call to AWS;
 * `apply` runs the steps with the AWS SDK, kafkajs (IAM) and the Databricks
 * REST API, skipping those already in place. Settings come from the
 * environment; see docs/aws.md.
 *
 * @example
 * ```ts
 * import { main } from "./command.ts";
 * await main(["plan"]); // prints the plan, returns 0
 * ```
 */
import { parseFlags } from "../../src/core/cli.ts";
import { CliError, HelpRequested, UsageError } from "../../src/core/errors.ts";
import { applyPlan, awsClients, StepFailed } from "./apply.ts";
import { buildPlan, type PlanSources } from "./plan.ts";
import { renderPlan } from "./render_plan.ts";
import {
  applyBlockers,
  AWS_SETTINGS,
  type AwsSettings,
  isPlaceholder,
  readAwsSettings,
} from "./settings.ts";

// The repository root (without the trailing slash). The tests have their own in
// tests/support/processes.ts: infra imports no test code.
const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

const USAGE = `Usage: ./infra.sh aws plan|apply

  plan    print every step and the exact request it would send; calls nothing
  apply   run the steps in order, skipping those already in place; stops at the first failure

Settings (environment): PINPIPE_ID, AWS_REGION (us-east-1), PINPIPE_KAFKA_BROKERS,
PINPIPE_MSK_SUBNETS, PINPIPE_MSK_SECURITY_GROUPS, PINPIPE_MSK_CONNECT_ROLE_ARN,
PINPIPE_S3_SINK_PLUGIN_ZIP, PINPIPE_MWAA_BUCKET, DATABRICKS_HOST; apply also needs
AWS credentials and DATABRICKS_TOKEN. See docs/aws.md.`;

/** The plan for `env`, with the repository's notebooks/ and dags/ (paths shown relative). */
export function planFor(
  env: Record<string, string | undefined>,
  root = ROOT,
): { settings: AwsSettings; text: string; steps: ReturnType<typeof buildPlan> } {
  const settings = readAwsSettings(env);
  const sources: PlanSources = { notebooksDir: "notebooks", dagsDir: "dags" };
  // Paths in the plan are relative to the repository, so it reads the same on any machine.
  const steps = inDirectory(root, () => buildPlan(settings, sources));
  const text = renderPlan({
    id: settings.id,
    region: settings.region,
    steps,
    unset: Object.entries(AWS_SETTINGS)
      .filter(([key]) => isPlaceholder(settings[key as keyof typeof AWS_SETTINGS]))
      .map(([, spec]) => spec.name),
  });
  return { settings, text, steps };
}

function inDirectory<T>(dir: string, work: () => T): T {
  const before = Deno.cwd();
  Deno.chdir(dir);
  try {
    return work();
  } finally {
    Deno.chdir(before);
  }
}

const isFile = (path: string): boolean => {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
};

/** Runs `plan` or `apply`; returns the exit code. */
export async function main(
  args: string[],
  env: Record<string, string | undefined> = Deno.env.toObject(),
): Promise<number> {
  try {
    const flags = parseFlags(args, {}, USAGE, { positionals: true });
    const [command, ...extra] = flags._;
    if ((command !== "plan" && command !== "apply") || extra.length > 0) {
      throw new UsageError(`expected "plan" or "apply", got "${args.join(" ")}"\n\n${USAGE}`);
    }
    const { settings, text, steps } = planFor(env);
    if (command === "plan") {
      console.log(text.trimEnd());
      return 0;
    }
    const blockers = applyBlockers(settings, env, isFile);
    if (blockers.length > 0) {
      throw new CliError(
        `apply needs these before it calls anything:\n  ${blockers.join("\n  ")}\n` +
          "Run `./infra.sh aws plan` to see every step; docs/aws.md says where each value comes from.",
      );
    }
    const clients = awsClients(settings, env.DATABRICKS_TOKEN!.trim());
    Deno.chdir(ROOT);
    try {
      const { ran, skipped } = await applyPlan(steps, clients, (line) => console.log(line));
      console.log(`apply: ${ran} steps done, ${skipped} already in place.`);
    } finally {
      await clients.close();
    }
    return 0;
  } catch (error) {
    if (error instanceof HelpRequested) {
      console.log(error.usage);
      return 0;
    }
    if (error instanceof StepFailed) {
      console.error(
        `infra aws apply: ${error.message}\nSteps before it are in place; fix the cause and rerun apply.`,
      );
      return 1;
    }
    if (error instanceof CliError) {
      console.error(`infra aws: ${error.message}`);
      return error.exitCode;
    }
    console.error(`infra aws: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
