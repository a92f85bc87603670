/**
 * pinpipe's command line: `deno run -A main.ts <command> [flags]`.
 * Each command lives in its own module, loaded only when asked for, so that
 * `sim` starts fast. Errors end as one line on stderr and a non-zero exit.
 */
import { runProgram, VERSION } from "./src/core/command.ts";

type CommandMain = (args: string[]) => Promise<number>;

const COMMANDS: Record<string, { summary: string; load: () => Promise<CommandMain> }> = {
  batch: {
    summary: "stream the RDS tables into the three Kafka topics",
    load: async () => (await import("./src/kafka/batch_command.ts")).main,
  },
  stream: {
    summary: "stream the RDS tables into the three Kinesis streams",
    load: async () => (await import("./src/kinesis/stream_command.ts")).main,
  },
  sim: {
    summary: "replay the data through DuckDB with the notebooks' SQL, offline",
    load: async () => (await import("./sim/sim_command.ts")).main,
  },
  sink: {
    summary: "consume the Kafka topics into the bucket, as the S3 sink connector does",
    load: async () => (await import("./src/sink/sink_command.ts")).main,
  },
  consume: {
    summary:
      "consume the Kinesis streams into cleaned DuckDB tables, as the streaming notebook does",
    load: async () => (await import("./src/consumer/consume_command.ts")).main,
  },
  status: {
    summary: "count every stage of both paths, each against the one before; exit 1 at a gap",
    load: async () => (await import("./src/observe/status_command.ts")).main,
  },
  watch: {
    summary: "serve a live page of every stage's counts, lag, rates and rejects on 127.0.0.1",
    load: async () => (await import("./src/observe/watch/watch_command.ts")).main,
  },
  chaos: {
    summary: "run the whole local pipeline on a stack of its own under faults, then check it",
    load: async () => (await import("./chaos/chaos_command.ts")).main,
  },
  generate: {
    summary: "generate the Pinterest dataset as NDJSON or into MariaDB",
    load: async () => (await import("./sim/datagen/generate_command.ts")).main,
  },
  bench: {
    summary: "the benchmarks (bench <name>; figures in BENCHMARKS.md)",
    load: async () => (await import("./bench.ts")).main,
  },
  rehearse: {
    summary: "rehearse the AWS deployment against moto and the stand-ins, offline",
    load: async () => (await import("./infra/aws/rehearse.ts")).main,
  },
};

/** The deno tasks that are not commands of this file. */
const TASKS: Record<string, string> = {
  check: "deno fmt --check, deno lint, deno check over the whole repository",
  test: "every test, against the local stack (./infra.sh local with ...)",
  "test:unit": "every test that needs no server, root or network",
};

const USAGE = `pinpipe: a Pinterest-style data pipeline, batch and streaming, checked offline first.

Usage: deno run -A main.ts <command> [flags]   (or: deno task <command>)

Commands:
${
  Object.entries(COMMANDS).map(([name, { summary }]) => `  ${name.padEnd(10)}${summary}`).join("\n")
}

Deno tasks (deno task <name>):
${Object.entries(TASKS).map(([name, summary]) => `  ${name.padEnd(11)}${summary}`).join("\n")}

Run a command with --help for its flags; --version prints pinpipe's version.
Settings: flags, then PINPIPE_* variables, then pinpipe.env (docs/configuration.md).`;

/** Runs `args` (a command and its flags); returns the exit code. */
export function run(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(USAGE);
    return Promise.resolve(name === undefined ? 2 : 0);
  }
  if (name === "--version") {
    console.log(`pinpipe ${VERSION}`);
    return Promise.resolve(0);
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`pinpipe: unknown command "${name}" (--help lists the commands)`);
    return Promise.resolve(2);
  }
  return runProgram(name, `deno task ${name}`, async () => (await command.load())(rest));
}

if (import.meta.main) Deno.exit(await run(Deno.args));
