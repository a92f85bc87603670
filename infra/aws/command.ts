/**
 * `./infra.sh aws synth|diff|plan|apply|destroy` (= `deno run -A
 * infra/aws/command.ts ...`): provisions pinpipe's AWS side, idempotently,
 * and removes it. `plan` shows what each stack's deploy would change and
 * every other step with the exact JSON it would send, with no credentials
 * and no call to AWS; `apply` deploys the CDK app's stacks through
 * CloudFormation in dependency order and runs the steps CloudFormation
 * cannot (uploads, topics, Databricks), skipping what is in place;
 * `destroy` removes what the steps made, last first, skipping what is
 * already gone. Settings come from the environment (PINPIPE_AWS_*_ENDPOINT
 * point the calls at local endpoints, as `./infra.sh rehearse` does); see
 * docs/aws.md.
 *
 * @example
 * ```ts
 * import { main } from "./command.ts";
 * await main(["plan"]); // prints the plan, returns 0
 * ```
 */
import { parseFlags } from "../../src/core/cli.ts";
import { CliError, UsageError } from "../../src/core/errors.ts";
import { reportError, runProgram } from "../../src/core/command.ts";
import { applyPlan, awsClients, destroyPlan, StepFailed } from "./apply.ts";
import { buildPlan, type PlanSources } from "./plan.ts";
import { stackNames } from "./cdk/names.ts";
import { renderPlan } from "./render_plan.ts";
import { synthesize, type Template } from "./synth.ts";
import { diffTemplates, renderDiff } from "./template_diff.ts";
import {
  applyBlockers,
  AWS_SETTINGS,
  type AwsSettings,
  BROKERS_SETTING,
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

const USAGE = `Usage: ./infra.sh aws synth --out DIR | diff --against DIR | plan [--against DIR]
                    | apply | destroy [--yes]

  synth     write the CDK app's CloudFormation templates to DIR as <stack>.template.json (and
            <stack>.parameters.json for parameters without a default); offline, no credentials
  diff      what changed in each stack's template since the ones in DIR (a previous synth, or
            the deployed ones saved there), resource by resource, like cdk diff; offline
  plan      what apply would do: each stack's resources as its deploy would change them
            (against the templates in DIR, else against nothing deployed yet), and every other
            step with the exact request it would send; offline, no credentials
  apply     deploy the stacks through CloudFormation change sets, in order (network, data,
            pipeline), with what CloudFormation cannot do between and after them: the plugin
            zip, DAG and requirements uploads; the Databricks notebooks, the batch and streaming
            jobs (reset when their settings differ), the streaming job started (the client host
            makes the topics); what is unchanged is left as it is; stops at the first failure,
            naming the resource and AWS's reason
  destroy   remove what apply made, last step first (the jobs' runs cancelled, each stack after
            emptying the buckets it made), skipping what is already gone; asks first on a
            terminal, and needs --yes without one

Settings (environment): PINPIPE_ID, AWS_REGION (us-east-1), PINPIPE_S3_SINK_PLUGIN_ZIP,
DATABRICKS_HOST; ${BROKERS_SETTING.name} (default: asked of MSK after the network stack);
apply and destroy also need AWS credentials and DATABRICKS_TOKEN. PINPIPE_DAGS_DIR: the folder
holding <id>_dag.py (default dags). Local endpoints instead of AWS (a rehearsal):
${Object.values(ENDPOINT_SETTINGS).join(", ")}; a local CloudFormation endpoint
is deployed to with CreateStack/UpdateStack (moto's change sets publish no exports).
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

/** Each stack's template against the one in `against` (none there: not deployed yet), as text. */
async function stackChanges(
  env: Record<string, string | undefined>,
  against: string | undefined,
): Promise<string[]> {
  const out = await Deno.makeTempDir({ prefix: "pinpipe-diff-" });
  try {
    const changes: string[] = [];
    for (const stack of await synthesize(readStackSettings(env), out)) {
      const before = against === undefined ? undefined : await Deno.readTextFile(
        `${against}/${stack.name}.template.json`,
      ).then(
        (text) => JSON.parse(text) as Template,
        (error) => {
          if (error instanceof Deno.errors.NotFound) return undefined;
          throw error;
        },
      );
      changes.push(renderDiff(stack.name, diffTemplates(before, stack.template)).trimEnd());
    }
    return changes;
  } finally {
    await Deno.remove(out, { recursive: true });
  }
}

/** Asks on the terminal; true when the answer is the pipeline id. */
async function confirmed(id: string, steps: number): Promise<boolean> {
  const names = stackNames(id);
  const question =
    `Remove pipeline ${id}'s AWS resources (${steps} steps: stacks ${names.pipeline}, ` +
    `${names.data} with its buckets' objects, ${names.network})? Type the pipeline id to confirm: `;
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
      (flags.against !== undefined && command !== "diff" && command !== "plan")
    ) {
      throw new UsageError(
        `expected "synth --out DIR", "diff --against DIR", "plan [--against DIR]", "apply" or "destroy [--yes]", got "${
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
      for (const change of await stackChanges(env, against)) console.log(change);
      return 0;
    }
    const { settings, text, steps } = planFor(env);
    if (command === "plan") {
      const against = typeof flags.against === "string" ? flags.against.trim() : undefined;
      console.log(
        `What each stack's deploy changes (against ${
          against ? `the templates in ${against}` : "nothing deployed yet"
        }; + added, - removed, ~ modified):\n`,
      );
      for (const change of await stackChanges(env, against)) console.log(`${change}\n`);
      console.log(text.trimEnd());
      return 0;
    }
    const endpoints = readEndpoints(env);
    // destroy reads no local file, so a plugin zip no longer at hand does not stop it.
    const blockers = applyBlockers(settings, env, command === "apply" ? isFile : () => true);
    if (command === "apply") blockers.push(...missingFiles(steps, settings));
    let stackSettings;
    try {
      stackSettings = readStackSettings(env);
    } catch (error) {
      blockers.push((error as Error).message);
    }
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
    // Apply deploys the templates synthesized now, from these settings; destroy needs none.
    const templates = await Deno.makeTempDir({ prefix: "pinpipe-templates-" });
    const stacks = command === "apply"
      ? await synthesize(stackSettings!, templates).finally(() =>
        Deno.remove(templates, { recursive: true })
      )
      : (await Deno.remove(templates), []);
    const clients = awsClients(settings, stacks, env.DATABRICKS_TOKEN!.trim(), endpoints);
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
      clients.close();
    }
    return 0;
  } catch (error) {
    const program = command ? `infra aws ${command}` : "infra aws";
    if (!(error instanceof StepFailed)) return reportError(program, "./infra.sh aws", error);
    const done = command === "apply" ? "before" : "after";
    return reportError(
      program,
      "./infra.sh aws",
      new CliError(
        `${error.message}\nSteps ${done} it are done; fix the cause and rerun ${command}.`,
      ),
    );
  }
}

if (import.meta.main) {
  Deno.exit(await runProgram("infra aws", "./infra.sh aws", () => main(Deno.args)));
}
