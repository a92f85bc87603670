/**
 * `deno run -A main.ts generate`: writes the generated dataset as NDJSON
 * files (`pin.ndjson`, `geo.ndjson`, `user.ndjson`, one row per line as the
 * database holds it; see `ndjson_writer.ts`) and/or loads it into MariaDB
 * (`mysql_loader.ts`), with progress on stderr for long runs.
 *
 * @example
 * ```ts
 * import { main } from "./generate_command.ts";
 * await main(["--rows", "1000", "--out", "out/data"]); // 0
 * ```
 */
import { choiceFlag, type Flags, intFlag, stringFlag } from "../../src/core/cli.ts";
import { type Command, runCommand } from "../../src/core/command.ts";
import { UsageError } from "../../src/core/errors.ts";
import { loadConfig } from "../../src/core/config.ts";
import { TABLE_KINDS, type TableKind, TABLES } from "../../src/core/tables.ts";
import { progressWanted, stageProgress } from "../../src/core/stage_progress.ts";
import { type DatasetOptions, DEFAULT_DATASET, MAX_ROWS } from "./generate.ts";
import { type ProgressCallback, writeNdjson } from "./ndjson_writer.ts";

/** Tables written at once by default: one per core, at most the three tables. */
const DEFAULT_JOBS = Math.max(1, Math.min(3, navigator.hardwareConcurrency || 1));

const USAGE = `Usage: deno run -A main.ts generate [--rows N] [--seed S] [--out DIR] [--to mysql]

Generates the three RDS tables (pinterest_data, geolocation_data, user_data),
the same rows for the same seed. Give --out, --to, or both.

  --rows N      rows per table, copies included      (default ${DEFAULT_DATASET.rows})
  --seed S      any integer                          (default ${DEFAULT_DATASET.seed})
  --out DIR     write DIR/pin.ndjson, DIR/geo.ndjson, DIR/user.ndjson (refused when one
                exists, unless --force)
  --force       with --out: overwrite the files there
  --jobs N      tables written at once with --out, 1..3  (default ${DEFAULT_JOBS}, one per core)
  --to mysql    empty the tables and load them, as PINPIPE_MYSQL_ADMIN_USER
                (password PINPIPE_MYSQL_ADMIN_PASSWORD, from the environment or .local/stack.env)
Stage and progress lines go to stderr on a terminal only.`;

/**
 * A progress callback that prints at most once a second to stderr:
 * table, rows done, and the overall rate since `start`. `generate` uses it on a terminal only.
 *
 * @example
 * ```ts
 * const report = progressPrinter("generate");
 * report("pin", 500_000, 1_000_000); // prints only if a second has passed
 * ```
 */
export function progressPrinter(
  label: string,
  start = performance.now(),
  write: (line: string) => void = (line) => console.error(line),
): ProgressCallback {
  let last = start;
  // Tables may run at once: keep each one's count and total.
  const done = new Map<TableKind, number>();
  const totals = new Map<TableKind, number>();
  return (kind, rows, total) => {
    done.set(kind, rows);
    totals.set(kind, total);
    const now = performance.now();
    if (now - last < 1000) return;
    last = now;
    const sum = (counts: Map<TableKind, number>) => [...counts.values()].reduce((a, b) => a + b, 0);
    const rate = Math.round(sum(done) / ((now - start) / 1000));
    const tables = [...done].map(([table, count]) =>
      `${TABLES[table].table} ${Math.floor((100 * count) / totals.get(table)!)}%`
    );
    write(
      `${label}: ${tables.join(", ")}; ${sum(done).toLocaleString("en")} rows, ${
        rate.toLocaleString("en")
      } rows/s`,
    );
  };
}

/** `deno run -A main.ts generate`. */
export const COMMAND: Command = {
  name: "generate",
  usage: USAGE,
  flags: {
    rows: { type: "string" },
    seed: { type: "string" },
    out: { type: "string" },
    to: { type: "string" },
    jobs: { type: "string" },
    force: { type: "boolean" },
  },
  connections: ["mysql"],
  exits: { 1: "other failure (--out unwritable)", 3: "the database (--to mysql)" },
  output: true,
  run: generate,
};

/**
 * The `generate` command. Returns the exit code; bad flags throw a UsageError (exit 2).
 *
 * @example
 * ```ts
 * await main(["--rows", "11000", "--seed", "100", "--to", "mysql"]); // 0
 * ```
 */
export function main(args: string[]): Promise<number> {
  return runCommand(COMMAND, args);
}

/** The NDJSON files `--out DIR` writes, and the one in the way of each (unless `--force`). */
async function refuseExisting(out: string, force: boolean): Promise<void> {
  let stat: Deno.FileInfo | undefined;
  try {
    stat = await Deno.stat(out);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  if (!stat.isDirectory) throw new UsageError(`--out ${out} is a file, not a directory`);
  if (force) return;
  const existing: string[] = [];
  for (const kind of TABLE_KINDS) {
    const path = `${out}/${kind}.ndjson`;
    if (await Deno.stat(path).then(() => true, () => false)) existing.push(path);
  }
  if (existing.length) {
    throw new UsageError(`--out ${out} already holds ${existing.join(", ")} (--force overwrites)`);
  }
}

/** What `--json` prints: the files written and the tables loaded. */
interface GenerateSummary {
  rows: number;
  seed: number;
  files: { path: string; rows: number; bytes: number }[];
  mysql?: { host: string; port: number; database: string; loaded: Record<TableKind, number> };
  seconds: number;
}

/** Writes the files and/or loads the database the flags ask for. */
async function generate(flags: Flags): Promise<number> {
  const options: DatasetOptions = {
    rows: intFlag(flags, "rows", DEFAULT_DATASET.rows, { min: 1, max: MAX_ROWS }),
    seed: intFlag(flags, "seed", DEFAULT_DATASET.seed),
  };
  const jobs = intFlag(flags, "jobs", DEFAULT_JOBS, { min: 1, max: 3 });
  const out = stringFlag(flags, "out");
  if (out === "") throw new UsageError("--out needs a directory");
  const to = flags.to === undefined ? undefined : choiceFlag(flags, "to", ["mysql"], "mysql");
  if (out === undefined && to === undefined) {
    throw new UsageError("give --out DIR, --to mysql, or both");
  }
  if (flags.force === true && out === undefined) throw new UsageError("--force goes with --out");
  // Read the connection settings and look at --out before any work, so a bad flag fails fast.
  const mysqlConfig = to === "mysql" ? loadConfig(flags).mysql : undefined;
  if (out !== undefined) await refuseExisting(out, flags.force === true);
  const label = `generate (seed ${options.seed})`;
  // Text on stderr; with --quiet, neither progress nor the text summary.
  const quiet = flags.quiet === true;
  const say = quiet ? () => {} : (line: string) => console.error(line);
  const stages = stageProgress("generate", progressWanted(quiet));
  const rows = `${TABLE_KINDS.length} x ${options.rows.toLocaleString("en")} rows`;
  const began = performance.now();
  const summary: GenerateSummary = { ...options, files: [], seconds: 0 };

  if (out !== undefined) {
    stages.stage("write", `${rows} to ${out}, ${jobs} at once`);
    const start = performance.now();
    const files = await writeNdjson(out, options, {
      onProgress: stages.enabled ? progressPrinter(label, start, say) : undefined,
      jobs,
    });
    const seconds = (performance.now() - start) / 1000;
    const total = files.reduce((sum, file) => sum + file.rows, 0);
    summary.files = files.map(({ path, rows, bytes }) => ({ path, rows, bytes }));
    say(
      `${label}: wrote ${files.map((file) => file.path).join(", ")}: ` +
        `${files.length} x ${options.rows.toLocaleString("en")} rows, ` +
        `${(files.reduce((sum, file) => sum + file.bytes, 0) / 1e6).toFixed(1)} MB ` +
        `in ${seconds.toFixed(1)} s (${Math.round(total / seconds).toLocaleString("en")} rows/s)`,
    );
  }
  if (mysqlConfig) {
    stages.stage(
      "load",
      `${rows} into ${mysqlConfig.host}:${mysqlConfig.port}/${mysqlConfig.database}`,
    );
    const { loadMysql } = await import("./mysql_loader.ts");
    const start = performance.now();
    const report = progressPrinter(`${label} -> mysql`, start, say);
    const loaded = await loadMysql(mysqlConfig, options, {
      onProgress: stages.enabled ? ({ kind, rows, total }) => report(kind, rows, total) : undefined,
    });
    const seconds = (performance.now() - start) / 1000;
    const { host, port, database } = mysqlConfig;
    summary.mysql = { host, port, database, loaded };
    say(
      `${label}: loaded ${host}:${port}/${database}: ` +
        TABLE_KINDS.map((kind) => `${TABLES[kind].table} ${loaded[kind]}`).join(", ") +
        ` rows in ${seconds.toFixed(1)} s`,
    );
  }
  summary.seconds = Math.round((performance.now() - began) / 10) / 100;
  if (flags.json === true) console.log(JSON.stringify(summary));
  return 0;
}
