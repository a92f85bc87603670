/**
 * The errors every command ends with, each with its own exit code, so that
 * scripts can tell failures apart. `main.ts` prints an error's message as one
 * line on stderr and exits with its `exitCode`.
 *
 * @example
 * ```ts
 * import { EXIT_CODES, SourceError } from "./errors.ts";
 * const error = new SourceError("database 127.0.0.1:13306 unreachable");
 * console.assert(error.exitCode === EXIT_CODES.source);
 * ```
 */

/** Exit codes, one per kind of failure. */
export const EXIT_CODES = {
  /** Something unexpected (a bug, or a failure no other code names). */
  failure: 1,
  /** Bad flags (as `UsageError`). */
  usage: 2,
  /** The database: unreachable, wrong password, table missing, bad row. */
  source: 3,
  /** The target: unreachable, authentication, authorization, gave up retrying. */
  target: 4,
  /** A record the target refused for itself (too large, invalid). */
  record: 5,
  /** Stopped by SIGINT or SIGTERM after finishing what was in flight (128 + SIGINT). */
  interrupted: 130,
} as const;

/** What each exit code means to a command: the shared ones, and those of its own work. */
export type ExitMeanings = Partial<Record<number, string>>;

/** The meanings every command shares (1, 2 and 130); a command adds or narrows the rest. */
const SHARED_EXITS: ExitMeanings = {
  [EXIT_CODES.failure]: "other failure",
  [EXIT_CODES.usage]: "bad flags",
  [EXIT_CODES.interrupted]: "stopped by SIGINT/SIGTERM",
};

/**
 * The help's exit-code line for a command whose own codes are `own` (merged over the shared
 * ones), so each help speaks of its own work only.
 *
 * @example
 * ```ts
 * exitCodesUsage({ 4: "Kafka" }); // "Exit codes: 0 done, 1 other failure, 2 bad flags, 4 Kafka, ..."
 * ```
 */
export function exitCodesUsage(own: ExitMeanings = {}): string {
  const meanings: ExitMeanings = { 0: "done", ...SHARED_EXITS, ...own };
  const entries = Object.entries(meanings)
    .map(([code, meaning]) => [Number(code), meaning] as const)
    .sort(([a], [b]) => a - b)
    .map(([code, meaning]) => `${code} ${meaning}`);
  // Wrapped at 96 columns, as the rest of the help.
  const lines: string[] = [];
  let line = "Exit codes:";
  for (const [i, entry] of entries.entries()) {
    const word = ` ${entry}${i < entries.length - 1 ? "," : "."}`;
    if (line.length + word.length > 96) {
      lines.push(line);
      line = word.trimStart();
    } else line += word;
  }
  return [...lines, line].join("\n");
}

/** An error that ends the command with one line and `exitCode`. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT_CODES.failure) {
    super(message);
    this.name = "CliError";
  }
}

/** A bad flag or flag value: exit code 2, as usage errors conventionally are. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT_CODES.usage);
    this.name = "UsageError";
  }
}

/** Thrown by `parseFlags` when `--help` was given; `main.ts` prints it and exits 0. */
export class HelpRequested extends Error {
  constructor(readonly usage: string) {
    super("help requested");
    this.name = "HelpRequested";
  }
}

/** A database failure: one line naming host, user or table; exit 3. */
export class SourceError extends CliError {
  constructor(message: string) {
    super(message, EXIT_CODES.source);
    this.name = "SourceError";
  }
}

/** A target failure: one line naming the target and what failed; exit 4. */
export class TargetError extends CliError {
  constructor(message: string) {
    super(message, EXIT_CODES.target);
    this.name = "TargetError";
  }
}

/**
 * A target failure that may pass if tried again (throttled, a 5xx, a
 * service briefly away): `retriable` tells the retry loops so
 * (`util/retry.ts`'s `isRetriable`), and `retryAfterMs` is the least wait
 * the service asked for. Not retried, or retried in vain, it ends the
 * command as any `TargetError` does.
 */
export class RetriableTargetError extends TargetError {
  readonly retriable = true;
  constructor(message: string, readonly retryAfterMs = 0) {
    super(message);
    this.name = "RetriableTargetError";
  }
}

/**
 * A record the target refused (names table and index); exit 5. `delivered`,
 * when the target knows it: how many of the records given to that send,
 * from the first, it acknowledged before the refused one (the driver
 * checkpoints them, so a rerun neither sends them again nor skips the refused one).
 */
export class RecordRejectedError extends CliError {
  constructor(message: string, readonly delivered?: number) {
    super(message, EXIT_CODES.record);
    this.name = "RecordRejectedError";
  }
}

/**
 * Whether `error` is a full disk (ENOSPC), also when only its message says so (as an error
 * passed on from a worker, or DuckDB's "No space left on device").
 */
export function isDiskFull(error: unknown): boolean {
  if ((error as { code?: unknown })?.code === "ENOSPC") return true;
  return /\(os error 28\)|No space left on device/.test(String((error as Error)?.message ?? error));
}
