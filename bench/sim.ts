/**
 * `deno task bench sim [--rows 11000,1000000,10000000]`: the cleaning plus
 * the eight queries in DuckDB (the simulator) beside local PySpark running the
 * same notebooks/sql files on the same bucket, in the same run, as a ratio.
 * Each engine runs in a child process of its own; wall time includes its
 * start-up (a JVM for Spark), and the in-engine time is shown apart.
 */
import { join } from "node:path";
import { parseFlags, stringFlag } from "../src/core/cli.ts";
import { topicName } from "../src/core/names.ts";
import { toRecord } from "../src/core/records.ts";
import { TABLE_KINDS } from "../src/core/tables.ts";
import { generateRows } from "../sim/datagen/generate.ts";
import { parseRowList } from "./generate.ts";
import { landRecords } from "../sim/land_bucket.ts";
import { lastJsonLine, measureCommand } from "./measure.ts";
import { requireCommand, requireFile, ROOT } from "./prerequisites.ts";

const ID = "0123456789ab";
const SPARK_PYTHON = ".cache/venv-spark/bin/python";

const USAGE = `Usage: deno task bench sim [--rows LIST] [--skip-spark]

  --rows LIST    comma-separated row counts per table (default 11000,1000000,10000000)
  --skip-spark   DuckDB alone, without the PySpark venv and Java

Spark runs from the venv ${SPARK_PYTHON} (made by \`bash infra.sh local install\`).`;

interface EngineFigures {
  startup_ms: number;
  clean_ms: number;
  queries_ms: number;
  rows_out: Record<string, number>;
  answer_rows: number;
}

function* recordsOf(kind: (typeof TABLE_KINDS)[number], rows: number) {
  for (const row of generateRows(kind, { rows, seed: 100 })) yield toRecord(kind, row);
}

async function landDataset(dir: string, rows: number): Promise<number> {
  const started = performance.now();
  for (const kind of TABLE_KINDS) {
    await landRecords(dir, topicName(ID, kind), recordsOf(kind, rows), { flushSize: 100_000 });
  }
  return performance.now() - started;
}

async function duSize(dir: string): Promise<string> {
  const output = await new Deno.Command("du", { args: ["-sh", dir], stdout: "piped" }).output();
  return new TextDecoder().decode(output.stdout).split("\t")[0];
}

export async function main(args: string[]): Promise<number> {
  const flags = parseFlags(
    args,
    { rows: { type: "string" }, "skip-spark": { type: "boolean" } },
    USAGE,
  );
  const sizes = parseRowList(stringFlag(flags, "rows", "11000,1000000,10000000"));
  if (!flags["skip-spark"]) {
    const install = "run `bash infra.sh local install`, or pass --skip-spark";
    await requireFile(SPARK_PYTHON, "the PySpark venv", install);
    await requireCommand("java", "a Java runtime for Spark", install);
  }
  const work = await Deno.makeTempDir({ prefix: "pinpipe_bench_sim_" });
  const lines: string[] = [];
  const say = (line: string) => {
    console.log(line);
    lines.push(line);
  };
  say(
    `| rows per table | bucket | DuckDB wall | DuckDB peak RSS | Spark wall | Spark peak RSS | Spark / DuckDB wall | in-engine DuckDB | in-engine Spark | ratio |`,
  );
  say(`| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`);
  try {
    for (const rows of sizes) {
      const bucket = join(work, `rows-${rows}`);
      const landMs = await landDataset(bucket, rows);
      console.error(`landed ${rows} rows per table in ${(landMs / 1000).toFixed(1)} s`);
      const duck = await measureCommand(Deno.execPath(), [
        "run",
        "-A",
        "bench/sim_duckdb.ts",
        bucket,
        ID,
      ], { cwd: ROOT });
      const duckFigures = lastJsonLine<EngineFigures>(duck.stdout);
      const duckEngine = duckFigures.clean_ms + duckFigures.queries_ms;
      let sparkCells = ["skipped", "", "", "", "", ""];
      if (!flags["skip-spark"]) {
        const spark = await measureCommand(`${ROOT}${SPARK_PYTHON}`, [
          "bench/sim_spark.py",
          bucket,
          ID,
        ], {
          cwd: ROOT,
        });
        const sparkFigures = lastJsonLine<EngineFigures>(spark.stdout);
        if (JSON.stringify(sparkFigures.rows_out) !== JSON.stringify(duckFigures.rows_out)) {
          throw new Error(
            `engines disagree on cleaned rows: ${
              JSON.stringify([sparkFigures.rows_out, duckFigures.rows_out])
            }`,
          );
        }
        const sparkEngine = sparkFigures.clean_ms + sparkFigures.queries_ms;
        sparkCells = [
          `${(spark.wallMs / 1000).toFixed(1)} s`,
          `${spark.peakRssMiB.toFixed(0)} MiB`,
          `${(spark.wallMs / duck.wallMs).toFixed(1)}x`,
          `${(duckEngine / 1000).toFixed(2)} s`,
          `${(sparkEngine / 1000).toFixed(2)} s`,
          `${(sparkEngine / duckEngine).toFixed(1)}x`,
        ];
      }
      say(
        `| ${rows.toLocaleString("en")} | ${await duSize(bucket)} | ${
          (duck.wallMs / 1000).toFixed(1)
        } s | ${duck.peakRssMiB.toFixed(0)} MiB | ${sparkCells[0]} | ${sparkCells[1]} | ${
          sparkCells[2]
        } | ${sparkCells[3] || `${(duckEngine / 1000).toFixed(2)} s`} | ${sparkCells[4]} | ${
          sparkCells[5]
        } |`,
      );
      await Deno.remove(bucket, { recursive: true });
    }
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
  return 0;
}
