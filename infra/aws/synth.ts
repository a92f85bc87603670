/**
 * `./infra.sh aws synth --out DIR`: the CDK app's CloudFormation templates,
 * offline, with no credentials. Writes `<stack>.template.json` for each
 * stack, in deployment order, and `<stack>.parameters.json` beside a
 * template whose parameters have no default (in the form `aws
 * cloudformation deploy|create-stack --parameters file://...` reads, each
 * value a `<set ...>` placeholder saying where it comes from). CDK's own
 * validation runs at synthesis, its CloudFormation checks included: an
 * error from it fails the synthesis, naming the construct.
 *
 * @example
 * ```ts
 * import { synthesize } from "./synth.ts";
 * import { readStackSettings } from "./settings.ts";
 * const stacks = await synthesize(readStackSettings({}), "/tmp/pinpipe-templates");
 * stacks.map((stack) => stack.name); // ["pinpipe-0123456789ab-network", ...]
 * ```
 */
import { pinpipeApp } from "./cdk/app.ts";
import { STACK_ORDER, type StackKind } from "./cdk/names.ts";
import { BOOTSTRAP_PARAMETER } from "./cdk/pipeline_stack.ts";
import { BROKERS_SETTING, type StackSettings } from "./settings.ts";

/** A CloudFormation template, as far as the project reads one. */
export interface Template {
  Description?: string;
  Parameters?: Record<string, { Type: string; Default?: unknown; Description?: string }>;
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  Outputs?: Record<string, unknown>;
}

/** One synthesized stack: its name, kind, template and the files written. */
export interface SynthesizedStack {
  kind: StackKind;
  name: string;
  template: Template;
  templateFile: string;
  /** Parameters without a default, as a deploy client reads them (empty: no file written). */
  parameters: { ParameterKey: string; ParameterValue: string }[];
  parametersFile?: string;
  /** CDK's warnings for the stack, each with the construct's path. */
  warnings: string[];
}

/** What fills a parameter without a default, shown in its `.parameters.json`. */
const PARAMETER_SOURCES: Record<string, string> = {
  [BOOTSTRAP_PARAMETER]: `<set ${BROKERS_SETTING.name}: aws kafka get-bootstrap-brokers ` +
    "--cluster-arn <ClusterArn output of the network stack>, BootstrapBrokerStringSaslIam>",
};

/** The synthesis failed CDK's validation; the message lists each error with its construct. */
export class SynthesisFailed extends Error {
  override name = "SynthesisFailed";
}

/** Synthesizes the app for `settings` into `outDir` (made if missing). */
export async function synthesize(
  settings: StackSettings,
  outDir: string,
): Promise<SynthesizedStack[]> {
  const assemblyDir = await Deno.makeTempDir({ prefix: "pinpipe-cdk-" });
  try {
    const { app, stacks } = pinpipeApp(settings, assemblyDir);
    const assembly = app.synth({ validateOnSynthesis: true });
    const errors: string[] = [];
    const results: SynthesizedStack[] = [];
    await Deno.mkdir(outDir, { recursive: true });
    for (const kind of STACK_ORDER) {
      const artifact = assembly.getStackByName(stacks[kind].stackName);
      const said = (level: string) =>
        artifact.messages.filter((message) => message.level === level).map((message) =>
          `${message.id}: ${String(message.entry.data).split("\n")[0]}`
        );
      errors.push(...said("error"));
      const template = artifact.template as Template;
      const templateFile = `${outDir}/${artifact.stackName}.template.json`;
      await Deno.writeTextFile(templateFile, JSON.stringify(template, null, 1) + "\n");
      const parameters = Object.entries(template.Parameters ?? {})
        .filter(([, spec]) => spec.Default === undefined)
        .map(([key]) => ({
          ParameterKey: key,
          ParameterValue: PARAMETER_SOURCES[key] ?? `<set ${key}>`,
        }));
      const result: SynthesizedStack = {
        kind,
        name: artifact.stackName,
        template,
        templateFile,
        parameters,
        warnings: said("warning"),
      };
      if (parameters.length > 0) {
        result.parametersFile = `${outDir}/${artifact.stackName}.parameters.json`;
        await Deno.writeTextFile(result.parametersFile, JSON.stringify(parameters, null, 2) + "\n");
      }
      results.push(result);
    }
    if (errors.length > 0) {
      throw new SynthesisFailed(`CDK validation failed:\n  ${errors.join("\n  ")}`);
    }
    return results;
  } finally {
    await Deno.remove(assemblyDir, { recursive: true }).catch(() => {});
  }
}
