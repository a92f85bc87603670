/**
 * cfn-lint over CloudFormation templates: the offline check against AWS's
 * published resource schemas (property names and types, required
 * properties, patterns, enums) and its best-practice rules. Runs the pinned
 * `.cache/venv-cfnlint` (made by `./infra.sh local install` from
 * infra/aws/cfnlint_requirements.txt), or the binary PINPIPE_CFN_LINT names.
 *
 * @example
 * ```ts
 * import { lintTemplates } from "./cfn_lint.ts";
 * const findings = await lintTemplates(["/tmp/out/pinpipe-0123456789ab-data.template.json"]);
 * findings.filter((finding) => finding.level === "Error"); // [] for a template CloudFormation takes
 * ```
 */

const ROOT = new URL("../../", import.meta.url).pathname;

/** Where `./infra.sh local install` puts cfn-lint. */
export const CFN_LINT = `${ROOT}.cache/venv-cfnlint/bin/cfn-lint`;

/** One thing cfn-lint found: its rule, level, file, where in the template, and what. */
export interface LintFinding {
  rule: string;
  level: "Error" | "Warning" | "Informational";
  file: string;
  path: string;
  message: string;
}

/** The finding as one line: `E3031 Error file Resources/B/Properties/BucketName: message`. */
export const findingLine = (finding: LintFinding): string =>
  `${finding.rule} ${finding.level} ${
    finding.file.split("/").at(-1)
  } ${finding.path}: ${finding.message}`;

/** Runs cfn-lint on `files`; resolves with every finding (none: clean). */
export async function lintTemplates(
  files: string[],
  binary = Deno.env.get("PINPIPE_CFN_LINT") || CFN_LINT,
): Promise<LintFinding[]> {
  try {
    await Deno.stat(binary);
  } catch {
    throw new Error(`no cfn-lint at ${binary}: make it with \`bash infra.sh local install\``);
  }
  const { code, stdout, stderr } = await new Deno.Command(binary, {
    args: ["--format", "json", "--", ...files],
    stdout: "piped",
    stderr: "piped",
  }).output();
  // Its exit code is a bit mask of the levels found (2 error, 4 warning, 8 informational); 1 is
  // cfn-lint itself failing.
  if (code === 1 || code > 14) {
    throw new Error(`cfn-lint exited ${code}: ${new TextDecoder().decode(stderr).trim()}`);
  }
  const found = JSON.parse(new TextDecoder().decode(stdout) || "[]") as {
    Filename: string;
    Level: LintFinding["level"];
    Location: { Path: (string | number)[] };
    Message: string;
    Rule: { Id: string };
  }[];
  return found.map((finding) => ({
    rule: finding.Rule.Id,
    level: finding.Level,
    file: finding.Filename,
    path: finding.Location.Path.join("/"),
    message: finding.Message,
  }));
}
