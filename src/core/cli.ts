/**
 * Command-line plumbing shared by every command: strict flag parsing with
 * `node:util` `parseArgs` (JSR's `@std/cli` is not reachable here), typed
 * value checks that name the flag (errors and exit codes: `errors.ts`).
 *
 * @example
 * ```ts
 * import { parseFlags, intFlag } from "./cli.ts";
 * const flags = parseFlags(["--rows", "10"], { rows: { type: "string" } }, "usage");
 * intFlag(flags, "rows", 11_000, { min: 1 }); // 10
 * ```
 */
import { parseArgs } from "node:util";
import { HelpRequested, UsageError } from "./errors.ts";
import { parseTableKind, TABLE_KINDS, type TableKind } from "./tables.ts";

/** One flag: string or boolean, optionally repeatable, with a short alias. */
export interface FlagSpec {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
}

/** Parsed flags: strings, booleans, or lists of strings; positionals under `_`. */
export type Flags = Record<string, string | boolean | string[] | undefined> & { _: string[] };

/**
 * Parses `args` strictly against `spec`. Unknown flags and missing values
 * become a one-line `UsageError` naming the flag (the entry point adds where
 * `--help` is; the whole help would bury the one word that was wrong);
 * `--help` becomes `HelpRequested`.
 */
export function parseFlags(
  args: string[],
  spec: Record<string, FlagSpec>,
  usage: string,
  { positionals = false } = {},
): Flags {
  if (args.includes("--help") || args.includes("-h")) throw new HelpRequested(usage);
  try {
    const { values, positionals: rest } = parseArgs({
      args,
      options: spec,
      strict: true,
      allowPositionals: positionals,
    });
    return { ...values, _: rest } as Flags;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(flagProblem(message));
  }
}

/** `parseArgs`' complaint as one short line that names the flag. */
function flagProblem(message: string): string {
  const quoted = /'([^']*)'/.exec(message)?.[1] ?? "";
  if (message.startsWith("Unknown option")) return `unknown flag ${quoted}`;
  if (message.startsWith("Unexpected argument")) return `unexpected argument "${quoted}"`;
  if (message.includes("argument missing")) return `${quoted.split(" ")[0]} needs a value`;
  if (message.includes("does not take an argument")) return `${quoted} takes no value`;
  return message.replace(/\. To specify.*$/s, "");
}

/** A string flag's value, or `fallback` when absent. */
export function stringFlag(flags: Flags, name: string, fallback: string): string;
export function stringFlag(flags: Flags, name: string): string | undefined;
export function stringFlag(flags: Flags, name: string, fallback?: string): string | undefined {
  const value = flags[name];
  if (value === undefined) return fallback;
  if (typeof value !== "string") throw new UsageError(`--${name} takes a value`);
  return value;
}

/** An integer flag, checked against `min` and `max`; names the flag when bad. */
export function intFlag(
  flags: Flags,
  name: string,
  fallback: number,
  { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = {},
): number {
  const text = stringFlag(flags, name);
  if (text === undefined) return fallback;
  const value = Number(text.replaceAll("_", ""));
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got "${text}"`);
  }
  return value;
}

/** A number flag (decimals allowed), checked against `min`. */
export function numberFlag(
  flags: Flags,
  name: string,
  fallback: number,
  { min = -Infinity } = {},
): number {
  const text = stringFlag(flags, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min) {
    throw new UsageError(`--${name} must be a number of at least ${min}, got "${text}"`);
  }
  return value;
}

/** A flag whose value must be one of `choices`. */
export function choiceFlag<T extends string>(
  flags: Flags,
  name: string,
  choices: readonly T[],
  fallback: T,
): T {
  const text = stringFlag(flags, name);
  if (text === undefined) return fallback;
  if (!(choices as readonly string[]).includes(text)) {
    throw new UsageError(`--${name} must be one of ${choices.join(", ")}, got "${text}"`);
  }
  return text as T;
}

/** An on/off flag, or undefined when absent (the caller's default applies). */
export function onOffFlag(flags: Flags, name: string): boolean | undefined {
  if (stringFlag(flags, name) === undefined) return undefined;
  return choiceFlag(flags, name, ["on", "off"] as const, "on") === "on";
}

/** A comma-separated list of tables (`pin,geo`), each once; all three when absent. */
export function tablesFlag(flags: Flags, name = "tables"): TableKind[] {
  const text = stringFlag(flags, name);
  if (text === undefined) return [...TABLE_KINDS];
  try {
    return [...new Set(text.split(",").map((table) => parseTableKind(table.trim())))];
  } catch (error) {
    throw new UsageError(`--${name}: ${(error as Error).message}`);
  }
}
