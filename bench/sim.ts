/**
 * `deno task bench sim [--rows 11000,1000000] [--rounds 3]`: the simulator's
 * engine work in DuckDB (read, cleaning, the queries, the checks) beside
 * its ceiling, a bare read of the same objects, and beside local PySpark
 * running the same notebooks/sql files on the same bucket, in the same run,
 * as ratios. Each contender runs in a child process of its own; wall time
 * includes its start-up (a JVM for Spark), and the in-engine time is shown
 * apart. Each size runs `--rounds` rounds, the order of the contenders
 * reversed every other round so that neither always runs on a warmer or
 * busier machine; the table shows the median of the rounds, and the load
 * average when the size started and ended, since a shared machine's
 * figures mean little without it.
 */
import { join } from "node:path";
import { intFlag, parseFlags, stringFlag } from "../src/core/cli.ts";
import { topicName } from "../src/core/names.ts";
import { landGenerated } from "../sim/datagen/land_generated.ts";
import { parseRowList } from "./generate.ts";
import { lastJsonLine, loadAverage, measureCommand, type MeasuredRun, median } from "./measure.ts";
import { requireCommand, requireFile, ROOT } from "./prerequisites.ts";

const ID = "0123456789ab";
const SPARK_PYTHON = ".cache/venv-spark/bin/python";
const SEED = 100;
/** Records per object: large objects, as a sink with a large flush.size writes them. */
const FLUSH_SIZE = 100_000;

const USAGE =
  `Usage: deno task bench sim [--rows LIST] [--rounds N] [--skip-spark] [--spark-as-before]

  --rows LIST    comma-separated row counts per table (default 11000,1000000)
  --rounds N     rounds per size, the contenders' order reversed every other round;
                 the table shows the median of each figure (default 3)
  --skip-spark   DuckDB alone, without the PySpark venv and Java
  --spark-as-before
                 also run Spark as this benchmark ran it before it did the same work as DuckDB
                 (local[2], 4 shuffle partitions, nothing cached, no drift scan), for the old ratio

Columns: bare read = read_json of the same objects, every field as text, without insertion order
as the runner reads them, nothing else (the ceiling); DuckDB in-engine = read + cleaning + queries
+ checks; load = the 1-minute load average when the size's first round started and its last
round ended.
Spark runs from the venv ${SPARK_PYTHON} (made by \`bash infra.sh local install\`).`;

/** What sim_duckdb.ts (engine mode) and sim_spark.py print. */
interface EngineFigures {
  startup_ms: number;
  read_ms?: number;
  clean_ms: number;
  queries_ms: number;
  checks_ms?: number;
  rows_out: Record<string, number>;
  checks_failed?: number;
}

/** One round's figures, in milliseconds and MiB. */
interface Round {
  bareMs: number;
  duckWallMs: number;
  duckEngineMs: number;
  duckRssMiB: number;
  sparkWallMs?: number;
  sparkEngineMs?: number;
  sparkRssMiB?: number;
  sparkBeforeWallMs?: number;
}

async function duSize(dir: string): Promise<string> {
  const output = await new Deno.Command("du", { args: ["-sh", dir], stdout: "piped" }).output();
  return new TextDecoder().decode(output.stdout).split("\t")[0];
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
const ratio = (a: number, b: number) => `${(a / b).toFixed(1)}x`;

/** Runs one round over `bucket`: the contenders in `order`. */
async function runRound(bucket: string, order: string[]): Promise<Round> {
  const round: Partial<Round> = {};
  for (const contender of order) {
    if (contender === "bare") {
      const run = await measureCommand(Deno.execPath(), [
        "run",
        "-A",
        "bench/sim_duckdb.ts",
        "bare",
        bucket,
        ID,
      ], { cwd: ROOT });
      round.bareMs = lastJsonLine<{ bare_ms: number }>(run.stdout).bare_ms;
    } else if (contender === "duckdb") {
      const run = await measureCommand(Deno.execPath(), [
        "run",
        "-A",
        "bench/sim_duckdb.ts",
        "engine",
        bucket,
        ID,
      ], { cwd: ROOT });
      const engine = engineRun(run, "DuckDB");
      [round.duckWallMs, round.duckRssMiB, round.duckEngineMs] = engine.times;
      rowsOut.duckdb = engine.rowsOut;
    } else if (contender === "spark") {
      const run = await measureCommand(
        `${ROOT}${SPARK_PYTHON}`,
        ["bench/sim_spark.py", bucket, ID],
        {
          cwd: ROOT,
        },
      );
      const engine = engineRun(run, "Spark");
      [round.sparkWallMs, round.sparkRssMiB, round.sparkEngineMs] = engine.times;
      rowsOut.spark = engine.rowsOut;
    } else {
      const run = await measureCommand(
        `${ROOT}${SPARK_PYTHON}`,
        ["bench/sim_spark.py", bucket, ID, "--as-before"],
        { cwd: ROOT },
      );
      checked(run, "Spark as before");
      round.sparkBeforeWallMs = run.wallMs;
    }
  }
  if (rowsOut.spark !== undefined && rowsOut.spark !== rowsOut.duckdb) {
    throw new Error(`engines disagree on cleaned rows: ${rowsOut.spark} ${rowsOut.duckdb}`);
  }
  return round as Round;
}

const rowsOut: { duckdb?: string; spark?: string } = {};

function checked(run: MeasuredRun, engine: string): EngineFigures {
  const figures = lastJsonLine<EngineFigures>(run.stdout);
  if (figures.checks_failed) throw new Error(`${engine}: ${figures.checks_failed} checks failed`);
  return figures;
}

/**
 * An engine's run, its checks passed: wall time, peak RSS and the engine's
 * own time (read, clean, queries, checks), and its cleaned row counts as text.
 */
function engineRun(run: MeasuredRun, engine: string) {
  const figures = checked(run, engine);
  const engineMs = figures.read_ms! + figures.clean_ms + figures.queries_ms + figures.checks_ms!;
  return {
    times: [run.wallMs, run.peakRssMiB, engineMs] as const,
    rowsOut: JSON.stringify(figures.rows_out),
  };
}

export async function main(args: string[]): Promise<number> {
  const flags = parseFlags(
    args,
    {
      rows: { type: "string" },
      rounds: { type: "string" },
      "skip-spark": { type: "boolean" },
      "spark-as-before": { type: "boolean" },
    },
    USAGE,
  );
  const sizes = parseRowList(stringFlag(flags, "rows", "11000,1000000"));
  const rounds = intFlag(flags, "rounds", 3, { min: 1 });
  const spark = !flags["skip-spark"];
  const sparkBefore = spark && Boolean(flags["spark-as-before"]);
  if (spark) {
    const install = "run `bash infra.sh local install`, or pass --skip-spark";
    await requireFile(SPARK_PYTHON, "the PySpark venv", install);
    await requireCommand("java", "a Java runtime for Spark", install);
  }
  const work = await Deno.makeTempDir({ prefix: "pinpipe_bench_sim_" });
  const say = (line: string) => console.log(line);
  say(`medians of ${rounds} round(s); ${new Date().toISOString()}, ${Deno.hostname()}`);
  say(
    `| rows per table | bucket | load start -> end | bare read | DuckDB in-engine | in-engine / bare | DuckDB wall | DuckDB peak RSS | Spark wall | Spark peak RSS | Spark / DuckDB wall | Spark in-engine | Spark / DuckDB in-engine |${
      sparkBefore ? " Spark as before / DuckDB wall |" : ""
    }`,
  );
  say(
    `| ---: | ---: | :---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |${
      sparkBefore ? " ---: |" : ""
    }`,
  );
  try {
    for (const rows of sizes) {
      const bucket = join(work, `rows-${rows}`);
      const landStarted = performance.now();
      await landGenerated(bucket, (kind) => topicName(ID, kind), { rows, seed: SEED }, {
        flushSize: FLUSH_SIZE,
      });
      console.error(
        `landed ${rows} rows per table in ${seconds(performance.now() - landStarted)}`,
      );
      const loadStart = loadAverage();
      const results: Round[] = [];
      for (let r = 0; r < rounds; r++) {
        const order = [
          "bare",
          "duckdb",
          ...(spark ? ["spark"] : []),
          ...(sparkBefore ? ["spark-as-before"] : []),
        ];
        if (r % 2 === 1) order.reverse();
        const round = await runRound(bucket, order);
        console.error(`round ${r + 1} (${order.join(", ")}): ${JSON.stringify(round)}`);
        results.push(round);
      }
      const loadEnd = loadAverage();
      const m = (pick: (round: Round) => number | undefined) =>
        median(results.map((round) => pick(round)!));
      const bare = m((round) => round.bareMs);
      const duckEngine = m((round) => round.duckEngineMs);
      const duckWall = m((round) => round.duckWallMs);
      const duckRss = Math.max(...results.map((round) => round.duckRssMiB));
      let sparkCells = ["skipped", "", "", "", ""];
      if (spark) {
        const sparkWall = m((round) => round.sparkWallMs);
        const sparkEngine = m((round) => round.sparkEngineMs);
        sparkCells = [
          seconds(sparkWall),
          `${Math.max(...results.map((round) => round.sparkRssMiB!)).toFixed(0)} MiB`,
          ratio(sparkWall, duckWall),
          seconds(sparkEngine),
          ratio(sparkEngine, duckEngine),
        ];
        if (sparkBefore) sparkCells.push(ratio(m((round) => round.sparkBeforeWallMs), duckWall));
      }
      say(
        `| ${rows.toLocaleString("en")} | ${await duSize(bucket)} | ${loadStart.toFixed(2)} -> ${
          loadEnd.toFixed(2)
        } | ${seconds(bare)} | ${seconds(duckEngine)} | ${ratio(duckEngine, bare)} | ${
          seconds(duckWall)
        } | ${duckRss.toFixed(0)} MiB | ${sparkCells.join(" | ")} |`,
      );
      await Deno.remove(bucket, { recursive: true });
    }
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
  return 0;
}
