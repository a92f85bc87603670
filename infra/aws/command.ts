/**
 * `./infra.sh aws plan|apply|destroy` (= `deno run -A infra/aws/command.ts ...`):
 * provisions pinpipe's AWS side, idempotently, and removes it. `plan` prints
 * every step and the exact JSON it would send, with no credentials and no
 * call to AWS; `apply` runs the steps with the AWS SDK, kafkajs (IAM) and the
 * Databricks REST API, skipping those already in place; `destroy` removes
 * what the steps made, last first, skipping what is already gone. Settings
 * come from the environment (PINPIPE_AWS_*_ENDPOINT point the calls at local
 * endpoints, as `./infra.sh rehearse` does); see docs/aws.md.
 *
 * @example
 * ```ts
 * import { main } from "./command.ts";
 * await main(["plan"]); // prints the plan, returns 0
 * ```
 */
import { parseFlags } from "../../src/core/cli.ts";
import { CliError, HelpRequested, UsageError } from "../../src/core/errors.ts";
import { applyPlan, awsClients, destroyPlan, StepFailed } from "./apply.ts";
import { buildPlan, type PlanSources } from "./plan.ts";
import { renderPlan } from "./render_plan.ts";
import { synthesize, type Template } from "./synth.ts";
import { diffTemplates, renderDiff } from "./template_diff.ts";
import {
  applyBlockers,
  AWS_SETTINGS,
  type AwsSettings,
  ENDPOINT_SETTINGS,
  isPlaceholder,
  readAwsSettings,
  readEndpoints,
  readStackSettings,
  STACK_SETTINGS,
} from "./settings.ts";

// The repository root (without the trailing slash). The tests have their own in
// tests/support/processes.ts: infra imports no test code.
const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

const USAGE =
  `Usage: ./infra.sh aws synth --out DIR | diff --against DIR | plan | apply | destroy [--yes]

  synth     write the CDK app's CloudFormation templates to DIR as <stack>.template.json (and
            <stack>.parameters.json for parameters without a default); offline, no credentials
  diff      what changed in each stack's template since the ones in DIR (a previous synth, or
            the deployed ones saved there), resource by resource, like cdk diff; offline
  plan      print every step and the exact request it would send; calls nothing
  apply     run the steps in order, skipping those already in place; stops at the first failure
  destroy   remove what apply made, last step first, skipping what is already gone; asks first
            on a terminal, and needs --yes without one

Settings (environment): PINPIPE_ID, AWS_REGION (us-east-1), PINPIPE_KAFKA_BROKERS,
PINPIPE_MSK_SUBNETS, PINPIPE_MSK_SECURITY_GROUPS, PINPIPE_MSK_CONNECT_ROLE_ARN,
PINPIPE_S3_SINK_PLUGIN_ZIP, PINPIPE_MWAA_BUCKET, DATABRICKS_HOST; apply and destroy also
need AWS credentials and DATABRICKS_TOKEN. Local endpoints instead of AWS (a rehearsal):
${Object.values(ENDPOINT_SETTINGS).join(", ")}, PINPIPE_KAFKA_AUTH=none;
PINPIPE_DAGS_DIR: the folder holding <id>_dag.py (default dags).
The templates also read (all optional): ${
    Object.values(STACK_SETTINGS).map((spec) => spec.name).join(", ")
  }. See docs/aws.md.`;

/** The plan for `env`, with the repository's notebooks/ and dags/ (paths shown relative). */
export function planFor(
  env: Record<string, string | undefined>,
  root = ROOT,
): { settings: AwsSettings; text: string; steps: ReturnType<typeof buildPlan> } {
  const settings = readAwsSettings(env);
  const sources: PlanSources = {
    notebooksDir: "notebooks",
    dagsDir: env.PINPIPE_DAGS_DIR?.trim() || "dags",
  };
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

/**
 * The local files the steps upload that are not there (the DAG named for the pipeline id, its
 * requirements, the notebooks), each with the step that needs it: checked before any call, so
 * apply does not make half the steps and stop at the first upload. The plugin zip is
 * applyBlockers' to report.
 */
function missingFiles(steps: ReturnType<typeof buildPlan>, settings: AwsSettings): string[] {
  return steps.flatMap((step, index) => {
    const path = step.file?.path;
    if (!path || path === settings.sinkPluginZip || isPlaceholder(path)) return [];
    const absolute = path.startsWith("/") ? path : `${ROOT}/${path}`;
    return isFile(absolute) ? [] : [`${path}: not a file (step ${index + 1}, ${step.name})`];
  });
}

/** Asks on the terminal; true when the answer is the pipeline id. */
async function confirmed(id: string, steps: number): Promise<boolean> {
  const question = `Remove pipeline ${id}'s AWS resources (${steps} steps, the bucket's objects ` +
    `included)? Type the pipeline id to confirm: `;
  await Deno.stdout.write(new TextEncoder().encode(question));
  const buffer = new Uint8Array(256);
  const read = await Deno.stdin.read(buffer);
  return new TextDecoder().decode(buffer.subarray(0, read ?? 0)).trim() === id;
}

/** Runs `plan`, `apply` or `destroy`; returns the exit code. */
export async function main(
  args: string[],
  env: Record<string, string | undefined> = Deno.env.toObject(),
  isTerminal: () => boolean = () => Deno.stdin.isTerminal(),
): Promise<number> {
  let command: string | undefined;
  try {
    const flags = parseFlags(
      args,
      { yes: { type: "boolean" }, out: { type: "string" }, against: { type: "string" } },
      USAGE,
      { positionals: true },
    );
    const [first, ...extra] = flags._;
    command = first;
    if (
      !["synth", "diff", "plan", "apply", "destroy"].includes(command ?? "") || extra.length > 0 ||
      (flags.yes !== undefined && command !== "destroy") ||
      (flags.out !== undefined && command !== "synth") ||
      (flags.against !== undefined && command !== "diff")
    ) {
      throw new UsageError(
        `expected "synth --out DIR", "diff --against DIR", "plan", "apply" or "destroy [--yes]", got "${
          args.join(" ")
        }"\n\n${USAGE}`,
      );
    }
    if (command === "synth") {
      const out = typeof flags.out === "string" ? flags.out.trim() : "";
      if (!out) throw new UsageError("synth needs --out DIR, the folder to write the templates to");
      const stacks = await synthesize(readStackSettings(env), out);
      for (const stack of stacks) {
        const files = [stack.templateFile, stack.parametersFile].filter(Boolean).join(", ");
        const count = Object.keys(stack.template.Resources).length;
        console.log(`${stack.name}: ${count} resources -> ${files}`);
        for (const warning of stack.warnings) console.error(`  warning ${warning}`);
      }
      return 0;
    }
    if (command === "diff") {
      const against = typeof flags.against === "string" ? flags.against.trim() : "";
      if (!against) throw new UsageError("diff needs --against DIR, the templates to compare with");
      const out = await Deno.makeTempDir({ prefix: "pinpipe-diff-" });
      try {
        for (const stack of await synthesize(readStackSettings(env), out)) {
          const before = await Deno.readTextFile(`${against}/${stack.name}.template.json`).then(
            (text) => JSON.parse(text) as Template,
            (error) => {
              if (error instanceof Deno.errors.NotFound) return undefined;
              throw error;
            },
          );
          console.log(renderDiff(stack.name, diffTemplates(before, stack.template)).trimEnd());
        }
      } finally {
        await Deno.remove(out, { recursive: true });
      }
      return 0;
    }
    const { settings, text, steps } = planFor(env);
    if (command === "plan") {
      console.log(text.trimEnd());
      return 0;
    }
    const endpoints = readEndpoints(env);
    // destroy reads no local file, so a plugin zip no longer at hand does not stop it.
    const blockers = applyBlockers(settings, env, command === "apply" ? isFile : () => true);
    if (command === "apply") blockers.push(...missingFiles(steps, settings));
    if (blockers.length > 0) {
      throw new CliError(
        `${command} needs these before it calls anything:\n  ${blockers.join("\n  ")}\n` +
          "Run `./infra.sh aws plan` to see every step; docs/aws.md says where each value comes from.",
      );
    }
    if (command === "destroy" && flags.yes !== true) {
      if (!isTerminal()) {
        throw new UsageError(
          `destroy removes pipeline ${settings.id}'s AWS resources and there is no terminal to ` +
            "confirm on: rerun with --yes",
        );
      }
      if (!(await confirmed(settings.id, steps.length))) {
        console.error("infra aws destroy: not confirmed; nothing was removed.");
        return 1;
      }
    }
    const clients = awsClients(settings, env.DATABRICKS_TOKEN!.trim(), endpoints);
    const before = Deno.cwd();
    Deno.chdir(ROOT);
    try {
      if (command === "apply") {
        const { ran, skipped } = await applyPlan(steps, clients, (line) => console.log(line));
        console.log(`apply: ${ran} steps done, ${skipped} already in place.`);
      } else {
        const { removed, gone } = await destroyPlan(steps, clients, (line) => console.log(line));
        console.log(`destroy: ${removed} steps removed, ${gone} already gone.`);
      }
    } finally {
      Deno.chdir(before);
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
        `infra aws ${command}: ${error.message}\n` +
          `Steps ${
            command === "apply" ? "before" : "after"
          } it are done; fix the cause and rerun ${command}.`,
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
