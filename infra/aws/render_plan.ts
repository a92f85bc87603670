/**
 * Prints a plan as text: one numbered block per step with the call and its
 * exact JSON request, then the check apply makes first. The output depends
 * only on the plan, so it can be compared with a committed golden file
 * (what each stack's deploy would change is `./infra.sh aws plan`'s other
 * part, from template_diff.ts).
 *
 * @example
 * ```ts
 * import { renderPlan } from "./render_plan.ts";
 * renderPlan({ id: "0123456789ab", region: "us-east-1", steps: [], unset: [] });
 * ```
 */
import type { PlanStep } from "./plan.ts";
import { AWS_SECRETS, AWS_SETTINGS, BROKERS_SETTING } from "./settings.ts";

/** What a rendered plan is made of. */
export interface PlanView {
  id: string;
  region: string;
  steps: readonly PlanStep[];
  /** Variables the plan shows as `<set NAME>`. */
  unset: readonly string[];
}

const SERVICE_LABEL: Record<PlanStep["service"], string> = {
  cloudformation: "CloudFormation",
  s3: "S3",
  databricks: "Databricks REST",
};

/** The plan as text, ending in a newline. */
export function renderPlan(view: PlanView): string {
  const lines = [
    `pinpipe AWS plan: pipeline ${view.id}, region ${view.region}, ${view.steps.length} steps.`,
    "Nothing was called. `./infra.sh aws apply` runs these in order: each stack through a",
    "CloudFormation change set (left as it is when the change set is empty), each other step",
    "skipped when its check finds it in place; it stops at the first failure. `./infra.sh aws",
    "destroy` makes each step's destroy call, last step first, skipping what is already gone.",
  ];
  view.steps.forEach((step, index) => {
    lines.push(
      "",
      `${index + 1}. ${step.name}`,
      `   ${SERVICE_LABEL[step.service]} ${step.action}`,
      indent(JSON.stringify(step.request, null, 2), "   "),
      `   skip if ${step.check.action} ${
        JSON.stringify(step.check.request)
      }: ${step.check.inPlaceWhen}`,
      `   destroy: ${step.destroy.action} ${JSON.stringify(step.destroy.request)}${
        step.destroy.note ? `, ${step.destroy.note}` : ""
      }`,
    );
  });
  lines.push("");
  const help = new Map(
    [...Object.values(AWS_SETTINGS), ...AWS_SECRETS, BROKERS_SETTING].map((
      spec,
    ) => [spec.name, spec.help]),
  );
  if (view.unset.length > 0) {
    lines.push("Not set (apply refuses to start until they are):");
    for (const name of view.unset) lines.push(`  ${name.padEnd(30)}${help.get(name) ?? ""}`);
  } else {
    lines.push("Every setting is given.");
  }
  lines.push(
    "Apply also needs, never printed: AWS credentials (AWS_PROFILE or AWS_ACCESS_KEY_ID/...)",
    "and DATABRICKS_TOKEN.",
  );
  return lines.join("\n") + "\n";
}

function indent(text: string, prefix: string): string {
  return text.split("\n").map((line) => prefix + line).join("\n");
}
