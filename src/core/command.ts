/**
 * The shell every command runs in, so that they all behave alike:
 * - flags parsed strictly, with only the connection flags the command uses
 *   (an unknown flag is one line naming it; `--help` prints the help);
 * - `--json` means one thing: the command's summary as JSON on stdout;
 * - SIGINT and SIGTERM: once the command has work in flight (`started()`),
 *   the first signal aborts `interrupt.signal`, the command finishes what is
 *   in flight, checkpoints and returns, and the shell exits 130; before that,
 *   or at a second signal, there is nothing to finish and it exits 130 at once;
 * - the help ends with what each exit code means for this command (`exits`).
 *
 * Every entry point (`main.ts`, `bench.ts`, the helpers under `infra/`) ends in
 * `runProgram`, the one top-level runner: one error prefix (`pinpipe NAME:`),
 * the `see ... --help` hint on usage errors, the exit codes, exit 130 on a
 * signal, and the settings file read first.
 *
 * @example
 * ```ts
 * import { type Command, runCommand } from "./command.ts";
 * const hello: Command = {
 *   name: "hello",
 *   usage: "Usage: deno task hello [--id ID]",
 *   flags: {},
 *   connections: ["id"],
 *   run: (_flags, interrupt) => {
 *     interrupt.started();
 *     return Promise.resolve(0);
 *   },
 * };
 * await runCommand(hello, ["--id", "0123456789ab"]); // 0
 * ```
 */
import { type Flags, type FlagSpec, parseFlags } from "./cli.ts";
import { CONFIG_FLAGS, CONFIG_USAGE } from "./config.ts";
import {
  CliError,
  EXIT_CODES,
  exitCodesUsage,
  type ExitMeanings,
  HelpRequested,
  UsageError,
} from "./errors.ts";
import { applyEnvFile } from "./env_file.ts";
import denoJson from "../../deno.json" with { type: "json" };

/** pinpipe's version, from deno.json (`--version` prints it). */
export const VERSION: string = denoJson.version;

/** The connection flags of `config.ts`, by what they connect to. */
export const CONNECTIONS = {
  id: ["id"],
  mysql: ["mysql-host", "mysql-port", "mysql-user", "mysql-database"],
  kafka: ["brokers", "kafka-auth"],
  kinesis: ["kinesis-endpoint"],
  aws: ["region"],
  bucket: ["bucket"],
  state: ["state-dir"],
} as const;

/** One group of connection flags. */
export type Connection = keyof typeof CONNECTIONS;

/** `--json` and `--quiet`, for the commands that print a summary. */
export const OUTPUT_FLAGS: Record<string, FlagSpec> = {
  json: { type: "boolean" },
  quiet: { type: "boolean" },
};

/** Help text for `OUTPUT_FLAGS`. */
export const OUTPUT_USAGE = `Output flags:
  --json                print the summary as JSON on stdout (text goes to stderr)
  --quiet               no progress line, no text summary`;

/** What a command's work sees of SIGINT and SIGTERM. */
export interface Interrupt {
  /** Aborted at the first SIGINT or SIGTERM after `started()`. */
  readonly signal: AbortSignal;
  /**
   * From now on there is work in flight to finish and checkpoint: a signal
   * aborts `signal` instead of exiting at once.
   */
  started(): void;
}

/** One command of `main.ts`. */
export interface Command {
  /** As typed after `deno task` (for messages). */
  name: string;
  /** The help: what it does and its own flags (connection flags and exit codes are added). */
  usage: string;
  /** Its own flags. */
  flags: Record<string, FlagSpec>;
  /** Which connection flags it takes (only those it uses). */
  connections: readonly Connection[];
  /** Whether it prints a summary (takes `--json` and `--quiet`). */
  output?: boolean;
  /** Whether it takes positional arguments. */
  positionals?: boolean;
  /** What its exit codes mean for its work (beside 0, 1, 2 and 130), for its help. */
  exits?: ExitMeanings;
  /** Does the work: returns 0, or a failure's exit code; errors are thrown as `CliError`s. */
  run(flags: Flags, interrupt: Interrupt): Promise<number>;
}

/** The connection flags of `groups`, and their lines of `CONFIG_USAGE`. */
export function connectionFlags(
  groups: readonly Connection[],
): { flags: Record<string, FlagSpec>; usage: string } {
  const names = new Set<string>(groups.flatMap((group) => CONNECTIONS[group]));
  const flags = Object.fromEntries(
    Object.entries(CONFIG_FLAGS).filter(([name]) => names.has(name)),
  );
  // CONFIG_USAGE is a heading, then one block per flag: its "  --name" line and deeper-indented
  // lines under it. Keep the blocks of the flags taken, so the help is written once.
  const [heading, ...lines] = CONFIG_USAGE.split("\n");
  const kept: string[] = [];
  let keep = false;
  for (const line of lines) {
    const flag = /^ {2}--([a-z-]+)/.exec(line)?.[1];
    if (flag !== undefined) keep = names.has(flag);
    if (keep) kept.push(line);
  }
  return { flags, usage: kept.length ? [heading, ...kept].join("\n") : "" };
}

/** The whole help of `command`: its usage, output and connection flags, exit codes. */
export function commandUsage(command: Command): string {
  return [
    command.usage,
    command.output ? OUTPUT_USAGE : "",
    connectionFlags(command.connections).usage,
    exitCodesUsage(command.exits),
  ].filter(Boolean).join("\n\n");
}

/** How many `SignalInterrupt`s are listening: while one is, it answers the signals. */
let graceful = 0;

/** SIGINT and SIGTERM, turned into an `Interrupt` while a command runs. */
class SignalInterrupt implements Interrupt {
  readonly #controller = new AbortController();
  readonly #signals: Deno.Signal[] = Deno.build.os === "windows"
    ? ["SIGINT"]
    : ["SIGINT", "SIGTERM"];
  #started = false;

  constructor() {
    graceful++;
    for (const name of this.#signals) Deno.addSignalListener(name, this.#onSignal);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  started(): void {
    this.#started = true;
  }

  #onSignal = () => {
    // Nothing in flight yet, or asked twice: nothing to finish (checkpoints are on disk).
    if (!this.#started || this.signal.aborted) Deno.exit(EXIT_CODES.interrupted);
    this.#controller.abort();
  };

  close(): void {
    graceful--;
    for (const name of this.#signals) Deno.removeSignalListener(name, this.#onSignal);
  }
}

/**
 * Parses `args` for `command` and runs it: the exit code it returns, or 130
 * when a signal stopped it. Errors (`UsageError`, `HelpRequested`, ...) are
 * thrown to `main.ts`, which prints them.
 */
export async function runCommand(command: Command, args: string[]): Promise<number> {
  if (args[0] === "--version") {
    console.log(`pinpipe ${VERSION}`);
    return 0;
  }
  const flags = parseFlags(
    args,
    {
      ...connectionFlags(command.connections).flags,
      ...(command.output ? OUTPUT_FLAGS : {}),
      ...command.flags,
    },
    commandUsage(command),
    { positionals: command.positionals },
  );
  const interrupt = new SignalInterrupt();
  try {
    const code = await command.run(flags, interrupt);
    return interrupt.signal.aborted ? EXIT_CODES.interrupted : code;
  } finally {
    interrupt.close();
  }
}

/** The signals a program answers with exit 130. */
const STOP_SIGNALS: Deno.Signal[] = Deno.build.os === "windows"
  ? ["SIGINT"]
  : ["SIGINT", "SIGTERM"];

/**
 * The one top-level runner of every entry point (`main.ts`, `bench.ts`, the helpers under
 * `infra/`): runs `work` and turns how it ended into an exit code and at most one line on stderr,
 * `pinpipe PROGRAM: message`.
 * - `HelpRequested`: the help on stdout, exit 0;
 * - `UsageError`: its first line and where the help is (`see HINT --help`), exit 2;
 * - any other `CliError`: its message, its exit code; anything else: its message, exit 1
 *   (and the stack with `PINPIPE_DEBUG` set);
 * - before `work`, the settings file's variables the environment lacks are set (`env_file.ts`);
 * - SIGINT or SIGTERM: exit 130 at once, unless a command run by `runCommand` is listening
 *   (it finishes what is in flight, then returns 130 itself).
 *
 * @example
 * ```ts
 * import { runProgram } from "./command.ts";
 * const code = await runProgram("rehearse", "deno task rehearse", () => Promise.resolve(0));
 * // if (import.meta.main) Deno.exit(code);
 * ```
 */
export async function runProgram(
  program: string,
  helpHint: string,
  work: () => Promise<number>,
): Promise<number> {
  const onSignal = () => {
    if (graceful === 0) Deno.exit(EXIT_CODES.interrupted);
  };
  for (const name of STOP_SIGNALS) Deno.addSignalListener(name, onSignal);
  try {
    applyEnvFile();
    return await work();
  } catch (error) {
    return reportError(program, helpHint, error);
  } finally {
    for (const name of STOP_SIGNALS) Deno.removeSignalListener(name, onSignal);
  }
}

/** Prints how `error` ended `program` (see `runProgram`) and returns its exit code. */
export function reportError(program: string, helpHint: string, error: unknown): number {
  if (error instanceof HelpRequested) {
    console.log(error.usage);
    return 0;
  }
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof UsageError) {
    // One line: what was wrong, and where the flags are (the whole help would bury it).
    console.error(`pinpipe ${program}: ${message.split("\n")[0]} (see ${helpHint} --help)`);
    return error.exitCode;
  }
  console.error(`pinpipe ${program}: ${message}`);
  if (error instanceof CliError) return error.exitCode;
  if (Deno.env.get("PINPIPE_DEBUG")) console.error(error);
  return EXIT_CODES.failure;
}
