/**
 * `deno task bench <name>`: the benchmarks. Each one prints its figures and
 * the comparison the issue asks for, as a ratio measured in the same run,
 * since these machines are shared and noisy. No benchmark runs from the
 * tests (they check only `--help` and flag errors). Each answers `--help`
 * with its flags; a bad flag or a missing prerequisite ends in one line on
 * stderr and a non-zero exit.
 */
import { runProgram } from "./src/core/command.ts";

type BenchMain = (args: string[]) => Promise<number>;

const BENCHES: Record<string, { summary: string; load: () => Promise<BenchMain> }> = {
  generate: {
    summary: "the dataset generator: rows/s and peak memory, one thread and parallel",
    load: async () => (await import("./bench/generate.ts")).main,
  },
  sim: {
    summary: "cleaning and the eight queries: DuckDB beside local PySpark on the same bucket",
    load: async () => (await import("./bench/sim.ts")).main,
  },
  batch: {
    summary: "MySQL to Kafka: deno task batch beside Kafka's ProducerPerformance (stack up)",
    load: async () => (await import("./bench/batch.ts")).main,
  },
  stream: {
    summary: "MySQL to Kinesis: throughput beside a bare PutRecords loop, and latency (stack up)",
    load: async () => (await import("./bench/stream.ts")).main,
  },
  stack: {
    summary: "how long ./infra.sh local up takes from cold",
    load: async () => (await import("./bench/stack.ts")).main,
  },
  incremental: {
    summary: "30 daily runs over a growing bucket: incremental beside a full recompute, per day",
    load: async () => (await import("./bench/incremental.ts")).main,
  },
  watch: {
    summary: "what deno task watch costs batch: rows/s alone and watched (stack up)",
    load: async () => (await import("./bench/watch.ts")).main,
  },
};

const USAGE = `Usage: deno task bench <name> [flags]

Benchmarks:
${Object.entries(BENCHES).map(([name, { summary }]) => `  ${name.padEnd(13)}${summary}`).join("\n")}

Run a benchmark with --help for its flags; figures are in BENCHMARKS.md.`;

/** `deno task bench NAME [flags]`: runs one benchmark; returns the exit code. */
export function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "--help" || name === "-h") {
    console.log(USAGE);
    return Promise.resolve(name === undefined ? 2 : 0);
  }
  const bench = BENCHES[name];
  if (!bench) {
    console.error(
      `pinpipe bench: unknown benchmark "${name}" (one of ${Object.keys(BENCHES).join(", ")})`,
    );
    return Promise.resolve(2);
  }
  return runProgram(
    `bench ${name}`,
    `deno task bench ${name}`,
    async () => (await bench.load())(rest),
  );
}

if (import.meta.main) Deno.exit(await main(Deno.args));
