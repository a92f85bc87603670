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
import { type DatasetOptions, DEFAULT_DATASET, MAX_ROWS } from "./generate.ts";
import { type ProgressCallback, writeNdjson } from "./ndjson_writer.ts";

/** Tables written at once by default: one per core, at most the three tables. */
const DEFAULT_JOBS = Math.max(1, Math.min(3, navigator.hardwareConcurrency || 1));

const USAGE = `Usage: deno run -A main.ts generate [--rows N] [--seed S] [--out DIR] [--to mysql]

Generates the three RDS tables (pinterest_data, geolocation_data, user_data),
the same rows for the same seed. Give --out, --to, or both.

  --rows N      rows per table, copies included      (default ${DEFAULT_DATASET.rows})
  --seed S      any integer                          (default ${DEFAULT_DATASET.seed})
  --out DIR     write DIR/pin.ndjson, DIR/geo.ndjson, DIR/user.ndjson
  --jobs N      tables written at once with --out, 1..3  (default ${DEFAULT_JOBS}, one per core)
  --to mysql    empty the tables and load them, as PINPIPE_MYSQL_ADMIN_USER
                (password PINPIPE_MYSQL_ADMIN_PASSWORD, from the environment or .local/stack.env)`;

/**
 * A progress callback that prints at most once a second to stderr:
 * table, rows done, and the overall rate since `start`.
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
  },
  connections: ["mysql"],
  exits: { 1: "other failure (--out unwritable)", 3: "the database (--to mysql)" },
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
  // Read the connection settings before any work, so a bad flag fails fast.
  const mysqlConfig = to === "mysql" ? loadConfig(flags).mysql : undefined;
  const label = `generate (seed ${options.seed})`;

  if (out !== undefined) {
    const start = performance.now();
    const files = await writeNdjson(out, options, {
      onProgress: progressPrinter(label, start),
      jobs,
    });
    const seconds = (performance.now() - start) / 1000;
    const total = files.reduce((sum, file) => sum + file.rows, 0);
    console.error(
      `${label}: wrote ${files.map((file) => file.path).join(", ")}: ` +
        `${files.length} x ${options.rows.toLocaleString("en")} rows, ` +
        `${(files.reduce((sum, file) => sum + file.bytes, 0) / 1e6).toFixed(1)} MB ` +
        `in ${seconds.toFixed(1)} s (${Math.round(total / seconds).toLocaleString("en")} rows/s)`,
    );
  }
  if (mysqlConfig) {
    const { loadMysql } = await import("./mysql_loader.ts");
    const start = performance.now();
    const report = progressPrinter(`${label} -> mysql`, start);
    const loaded = await loadMysql(mysqlConfig, options, {
      onProgress: ({ kind, rows, total }) => report(kind, rows, total),
    });
    const seconds = (performance.now() - start) / 1000;
    console.error(
      `${label}: loaded ${mysqlConfig.host}:${mysqlConfig.port}/${mysqlConfig.database}: ` +
        TABLE_KINDS.map((kind) => `${TABLES[kind].table} ${loaded[kind]}`).join(", ") +
        ` rows in ${seconds.toFixed(1)} s`,
    );
  }
  return 0;
}
