/**
 * `deno task bench generate [--rows 11000,1000000,10000000] [--jobs 1,2]`: how
 * fast the generator writes the three tables as NDJSON, in one thread and
 * with tables in parallel workers, and whether its memory stays flat as the
 * row count grows. Each run is its own child process
 * (`deno run -A main.ts generate --rows N --jobs J --out DIR`) under
 * `/usr/bin/time -v`, which reports the child's peak resident set size.
 * Output goes to a temporary directory, removed after each size.
 *
 * @example
 * ```ts
 * import { main } from "./generate.ts";
 * await main(["--rows", "11000,100000"]); // prints a table, returns 0
 * ```
 */
import { intFlag, parseFlags, parseInteger, stringFlag } from "../src/core/cli.ts";
import { UsageError } from "../src/core/errors.ts";
import { DEFAULT_DATASET, MAX_ROWS } from "../sim/datagen/generate.ts";
import { requireFile } from "./prerequisites.ts";

const USAGE = `Usage: deno task bench generate [--rows LIST] [--jobs LIST] [--seed S]

  --rows LIST   comma-separated row counts per table (default 11000,1000000,10000000)
  --jobs LIST   comma-separated --jobs values to compare (default 1,2)
  --seed S      generator seed (default ${DEFAULT_DATASET.seed})`;

/** One measured run. */
export interface GenerateRun {
  rows: number;
  jobs: number;
  seconds: number;
  /** Rows of all three tables per second of wall time. */
  rowsPerSecond: number;
  /** User plus system CPU time: steadier than wall time on a shared machine. */
  cpuSeconds: number;
  peakRssMiB: number;
  outputMB: number;
}

/**
 * Parses a comma-separated list of row counts, naming the flag and the bad entry.
 *
 * @example
 * ```ts
 * parseRowList("11000,1_000_000"); // [11000, 1000000]
 * ```
 */
export function parseRowList(text: string, flag = "--rows"): number[] {
  return text.split(",").map((entry) => {
    const rows = parseInteger(entry.trim());
    if (rows === undefined || rows < 1 || rows > MAX_ROWS) {
      throw new UsageError(`${flag}: "${entry}" is not a row count from 1 to ${MAX_ROWS}`);
    }
    return rows;
  });
}

/**
 * Runs the generator once in a child process and measures it.
 *
 * @example
 * ```ts
 * (await measure(11_000, 1, 100)).peakRssMiB; // about 60
 * ```
 */
export async function measure(rows: number, jobs: number, seed: number): Promise<GenerateRun> {
  const root = new URL("..", import.meta.url).pathname;
  const dir = await Deno.makeTempDir({ prefix: "pinpipe_bench_generate_" });
  try {
    const output = await new Deno.Command("/usr/bin/time", {
      args: [
        "-v",
        Deno.execPath(),
        "run",
        "-A",
        "main.ts",
        "generate",
        "--rows",
        String(rows),
        "--seed",
        String(seed),
        "--jobs",
        String(jobs),
        "--out",
        dir,
      ],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const report = new TextDecoder().decode(output.stderr);
    if (!output.success) throw new Error(`generate --rows ${rows} failed:\n${report}`);
    const peakKiB = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(report)?.[1]);
    const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)/.exec(report)?.[1];
    if (!peakKiB || !wall) throw new Error(`no figures in /usr/bin/time's report:\n${report}`);
    const cpu = ["User", "System"].map((kind) =>
      Number(new RegExp(`${kind} time \\(seconds\\): ([\\d.]+)`).exec(report)?.[1])
    );
    const seconds = wall.split(":").reduce((total, part) => total * 60 + Number(part), 0);
    let bytes = 0;
    for await (const entry of Deno.readDir(dir)) {
      bytes += (await Deno.stat(`${dir}/${entry.name}`)).size;
    }
    return {
      rows,
      jobs,
      seconds,
      rowsPerSecond: Math.round((3 * rows) / seconds),
      cpuSeconds: cpu[0] + cpu[1],
      peakRssMiB: Math.round(peakKiB / 1024),
      outputMB: Math.round(bytes / 1e6),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * The bench: measures each size, prints a Markdown table and the RSS ratio.
 *
 * @example
 * ```ts
 * await main(["--rows", "11000,1000000"]); // 0
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const flags = parseFlags(
    args,
    { rows: { type: "string" }, jobs: { type: "string" }, seed: { type: "string" } },
    USAGE,
  );
  const sizes = parseRowList(stringFlag(flags, "rows", "11000,1000000,10000000"));
  const jobList = stringFlag(flags, "jobs", "1,2").split(",").map((entry) => {
    const jobs = parseInteger(entry.trim());
    if (jobs === undefined || ![1, 2, 3].includes(jobs)) {
      throw new UsageError(`--jobs: "${entry}" is not 1, 2 or 3`);
    }
    return jobs;
  });
  const seed = intFlag(flags, "seed", DEFAULT_DATASET.seed);
  // GNU time measures each run's peak memory.
  await requireFile("/usr/bin/time", "GNU time", "run `apt-get install time` (as root)");
  const runs: GenerateRun[] = [];
  console.log(
    "| rows per table | jobs | wall time | rows/s (3 tables) | CPU time | rows per CPU-second | peak RSS | NDJSON output |",
  );
  console.log("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const rows of sizes) {
    for (const jobs of jobList) {
      const run = await measure(rows, jobs, seed);
      runs.push(run);
      console.log(
        `| ${rows.toLocaleString("en")} | ${jobs} | ${run.seconds.toFixed(1)} s | ${
          run.rowsPerSecond.toLocaleString("en")
        } | ${run.cpuSeconds.toFixed(1)} s | ${
          Math.round((3 * rows) / run.cpuSeconds).toLocaleString("en")
        } | ${run.peakRssMiB} MiB | ${run.outputMB.toLocaleString("en")} MB |`,
      );
    }
  }
  // Memory against size, per jobs value; wall time of each jobs value against the first.
  for (const jobs of jobList) {
    const same = runs.filter((run) => run.jobs === jobs);
    if (same.length < 2) continue;
    const [small, large] = [same[0], same[same.length - 1]];
    console.log(
      `\njobs ${jobs}: peak RSS at ${large.rows.toLocaleString("en")} rows / at ${
        small.rows.toLocaleString("en")
      } rows = ${(large.peakRssMiB / small.peakRssMiB).toFixed(2)} (rows x${
        Math.round(large.rows / small.rows)
      })`,
    );
  }
  for (const rows of sizes) {
    const [first, ...others] = runs.filter((run) => run.rows === rows);
    for (const other of others) {
      console.log(
        `${rows.toLocaleString("en")} rows: wall time jobs ${other.jobs} / jobs ${first.jobs} = ${
          (other.seconds / first.seconds).toFixed(2)
        }`,
      );
    }
  }
  return 0;
}
