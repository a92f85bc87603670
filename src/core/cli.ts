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
  /**
   * A deprecated spelling of the flag `use`: its value (a number, times `scale`, as when the old
   * spelling counted seconds and the new one milliseconds) is taken as `use`'s, with a note.
   */
  deprecated?: { use: string; scale?: number };
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
  const options = Object.fromEntries(
    Object.entries(spec).map(([name, { deprecated: _, ...option }]) => [name, option]),
  );
  let parsed: Flags;
  try {
    const { values, positionals: rest } = parseArgs({
      args: joinNegativeValues(args, spec),
      options,
      strict: true,
      allowPositionals: positionals,
    });
    parsed = { ...values, _: rest } as Flags;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(flagProblem(message));
  }
  return renameDeprecated(parsed, spec);
}

/** A value that is a negative number (`-5`, `-0.5`), not a flag. */
const NEGATIVE = /^-[0-9.]/;

/**
 * `--rows -5` as `--rows=-5`: `parseArgs` takes a value that starts with a dash for a flag
 * and refuses it in three lines; joined, the value reaches the flag's own check, which answers
 * in one line naming the flag and the value.
 */
function joinNegativeValues(args: string[], spec: Record<string, FlagSpec>): string[] {
  const takesValue = (arg: string) => {
    const name = arg.startsWith("--")
      ? arg.slice(2)
      : Object.keys(spec).find((key) => arg === `-${spec[key].short}`);
    return name !== undefined && spec[name]?.type === "string";
  };
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--") {
      joined.push(...args.slice(i));
      break;
    }
    if (takesValue(args[i]) && NEGATIVE.test(args[i + 1] ?? "")) {
      joined.push(`${args[i]}=${args[i + 1]}`);
      i++;
    } else joined.push(args[i]);
  }
  return joined;
}

/** The deprecated spellings given, moved to the flags they stand for (with a note on stderr). */
function renameDeprecated(flags: Flags, spec: Record<string, FlagSpec>): Flags {
  for (const [name, { deprecated }] of Object.entries(spec)) {
    if (!deprecated || flags[name] === undefined) continue;
    const { use, scale = 1 } = deprecated;
    if (flags[use] !== undefined) throw new UsageError(`give --${use} or --${name}, not both`);
    const text = stringFlag(flags, name)!;
    if (!DECIMAL.test(text)) throw new UsageError(`--${name} must be a number, got "${text}"`);
    // Seconds to milliseconds: a whole number of them (1.1 s is 1100 ms, not 1100.0000000000002).
    flags[use] = scale === 1 ? text : String(Math.round(Number(text) * scale));
    delete flags[name];
    console.error(
      `note: --${name} is deprecated; use --${use}${scale === 1 ? "" : ` (x ${scale})`}`,
    );
  }
  return flags;
}

/** `parseArgs`' complaint as one short line that names the flag. */
function flagProblem(message: string): string {
  const quoted = /'([^']*)'/.exec(message)?.[1] ?? "";
  if (message.startsWith("Unknown option")) return `unknown flag ${quoted}`;
  if (message.startsWith("Unexpected argument")) return `unexpected argument "${quoted}"`;
  if (message.includes("argument missing") || message.includes("argument is ambiguous")) {
    return `${quoted.split(" ")[0]} needs a value`;
  }
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

/** A whole number as people write it: digits, an optional sign, `_` between digits. */
const INTEGER = /^-?[0-9]+(_[0-9]+)*$/;
/** A decimal number: digits, an optional sign and fraction; no hex, exponent or `Infinity`. */
const DECIMAL = /^-?([0-9]+(\.[0-9]*)?|\.[0-9]+)$/;

/**
 * `text` as a whole number, or undefined when it is not written as one (`0x10`, `1e3`, `1.5`,
 * `""`, which `Number` would take).
 */
export function parseInteger(text: string): number | undefined {
  if (!INTEGER.test(text)) return undefined;
  const value = Number(text.replaceAll("_", ""));
  return Number.isSafeInteger(value) ? value : undefined;
}

/** `text` as a decimal number, or undefined when it is not written as one. */
export function parseDecimal(text: string): number | undefined {
  return DECIMAL.test(text) ? Number(text) : undefined;
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
  const value = parseInteger(text);
  if (value === undefined || value < min || value > max) {
    const range = max < Number.MAX_SAFE_INTEGER
      ? ` from ${min} to ${max}`
      : min > Number.MIN_SAFE_INTEGER
      ? ` of at least ${min}`
      : "";
    throw new UsageError(`--${name} must be a whole number${range}, got "${text}"`);
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
  const value = parseDecimal(text);
  if (value === undefined || value < min) {
    const range = min > -Infinity ? ` of at least ${min}` : "";
    throw new UsageError(`--${name} must be a number${range}, got "${text}"`);
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
