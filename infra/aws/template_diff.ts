/**
 * What would change between two versions of a stack's template, readable,
 * as `cdk diff` shows it: resources added, removed and modified (with each
 * changed property path, and whether the change replaces the resource's
 * name), parameters and outputs. Pure: it compares two parsed templates.
 *
 * @example
 * ```ts
 * import { diffTemplates, renderDiff } from "./template_diff.ts";
 * const before = { Resources: { B: { Type: "AWS::S3::Bucket", Properties: { BucketName: "a" } } } };
 * const after = { Resources: { B: { Type: "AWS::S3::Bucket", Properties: { BucketName: "b" } } } };
 * renderDiff("data", diffTemplates(before, after)); // "data\n  ~ B AWS::S3::Bucket\n      BucketName: \"a\" -> \"b\"\n"
 * ```
 */
import type { Template } from "./synth.ts";

/** One resource's change. */
export interface ResourceChange {
  logicalId: string;
  type: string;
  kind: "added" | "removed" | "modified";
  /** For a modification: each changed path, with the old and new value. */
  properties: { path: string; before: unknown; after: unknown }[];
}

export interface TemplateDiff {
  resources: ResourceChange[];
  parameters: { name: string; kind: "added" | "removed" | "modified" }[];
  outputs: { name: string; kind: "added" | "removed" | "modified" }[];
}

type Json = unknown;

const same = (a: Json, b: Json): boolean => JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));

// Object keys sorted, so key order never reads as a change.
function sorted(value: Json): Json {
  if (Array.isArray(value)) return value.map(sorted);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value).sort().map((key) => [key, sorted((value as Record<string, Json>)[key])]),
    );
  }
  return value;
}

/** The leaf paths where `a` and `b` differ (objects walked; arrays compared whole). */
function changedPaths(a: Json, b: Json, path: string, out: ResourceChange["properties"]): void {
  const isObject = (v: Json) => v !== null && typeof v === "object" && !Array.isArray(v);
  if (isObject(a) && isObject(b)) {
    const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
    for (const key of [...keys].sort()) {
      changedPaths(
        (a as Record<string, Json>)[key],
        (b as Record<string, Json>)[key],
        path ? `${path}.${key}` : key,
        out,
      );
    }
    return;
  }
  if (!same(a, b)) out.push({ path, before: a, after: b });
}

type Kind = "added" | "removed" | "modified";

function keyed<T>(
  before: Record<string, T> = {},
  after: Record<string, T> = {},
): { name: string; kind: Kind }[] {
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return names.flatMap((name): { name: string; kind: Kind }[] => {
    if (!(name in before)) return [{ name, kind: "added" }];
    if (!(name in after)) return [{ name, kind: "removed" }];
    return same(before[name], after[name]) ? [] : [{ name, kind: "modified" }];
  });
}

/** The changes from `before` (undefined: the stack does not exist yet) to `after`. */
export function diffTemplates(before: Template | undefined, after: Template): TemplateDiff {
  const old = before?.Resources ?? {};
  const resources: ResourceChange[] = [];
  for (const { name, kind } of keyed(old, after.Resources)) {
    const type = (after.Resources[name] ?? old[name]).Type;
    const properties: ResourceChange["properties"] = [];
    if (kind === "modified") changedPaths(old[name], after.Resources[name], "", properties);
    resources.push({ logicalId: name, type, kind, properties });
  }
  return {
    resources,
    parameters: keyed(before?.Parameters, after.Parameters),
    outputs: keyed(before?.Outputs, after.Outputs),
  };
}

const SIGN = { added: "+", removed: "-", modified: "~" } as const;

const shown = (value: Json): string => {
  const text = value === undefined ? "(none)" : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
};

/** The diff as text: a heading per stack, a line per change; "no changes" when there are none. */
export function renderDiff(stack: string, diff: TemplateDiff): string {
  const lines = [stack];
  for (const change of diff.resources) {
    lines.push(`  ${SIGN[change.kind]} ${change.logicalId} ${change.type}`);
    for (const property of change.properties) {
      const path = property.path.replace(/^Properties\./, "");
      lines.push(`      ${path}: ${shown(property.before)} -> ${shown(property.after)}`);
    }
  }
  for (const [what, items] of [["parameter", diff.parameters], ["output", diff.outputs]] as const) {
    for (const item of items) lines.push(`  ${SIGN[item.kind]} ${what} ${item.name}`);
  }
  if (lines.length === 1) lines.push("  no changes");
  return lines.join("\n") + "\n";
}
