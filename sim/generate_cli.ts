/**
 * `deno run -A main.ts generate`: writes the generated dataset as NDJSON
 * files (`pin.ndjson`, `geo.ndjson`, `user.ndjson`, one row per line as the
 * database holds it) and/or loads it into MariaDB. Output streams to disk in
 * large chunks, so memory stays flat however many rows are asked for; files
 * appear under their final names only once complete.
 *
 * @example
 * ```ts
 * import { main } from "./generate_cli.ts";
 * await main(["--rows", "1000", "--out", "out/data"]); // 0
 * ```
 */
import { choiceFlag, intFlag, parseFlags, stringFlag, UsageError } from "../src/cli.ts";
import { CONFIG_FLAGS, CONFIG_USAGE, loadConfig } from "../src/config.ts";
import { TABLE_KINDS, type TableKind, TABLES } from "../src/tables.ts";
import { type DatasetOptions, DEFAULT_DATASET, generateRows, MAX_ROWS } from "./generate.ts";

const USAGE = `Usage: deno run -A main.ts generate [--rows N] [--seed S] [--out DIR] [--to mysql]

Generates the three RDS tables (pinterest_data, geolocation_data, user_data),
the same rows for the same seed. Give --out, --to, or both.

  --rows N      rows per table, copies included      (default ${DEFAULT_DATASET.rows})
  --seed S      any integer                          (default ${DEFAULT_DATASET.seed})
  --out DIR     write DIR/pin.ndjson, DIR/geo.ndjson, DIR/user.ndjson
  --to mysql    empty the tables and load them, as PINPIPE_MYSQL_ADMIN_USER
                (password PINPIPE_MYSQL_ADMIN_PASSWORD, from the environment or .local/stack.env)

${CONFIG_USAGE}`;

/** One NDJSON file written. */
export interface NdjsonFile {
  kind: TableKind;
  path: string;
  rows: number;
  bytes: number;
}

/** Called now and then while rows are produced: rows done of `total` in table `kind`. */
export type ProgressCallback = (kind: TableKind, rows: number, total: number) => void;

const CHUNK_BYTES = 4 << 20;

/**
 * Writes `<dir>/<kind>.ndjson` for each table: one JSON object per line, the
 * table's columns in order. Each file is written to a `.partial` name and
 * renamed when complete.
 *
 * @example
 * ```ts
 * const files = await writeNdjson("out/data", { rows: 100, seed: 1 });
 * files.map((file) => file.rows); // [100, 100, 100]
 * ```
 */
export async function writeNdjson(
  dir: string,
  options: DatasetOptions,
  onProgress?: ProgressCallback,
  kinds: readonly TableKind[] = TABLE_KINDS,
): Promise<NdjsonFile[]> {
  await Deno.mkdir(dir, { recursive: true });
  const files: NdjsonFile[] = [];
  for (const kind of kinds) {
    files.push(await writeTable(`${dir}/${kind}.ndjson`, kind, options, onProgress));
  }
  return files;
}

async function writeTable(
  path: string,
  kind: TableKind,
  options: DatasetOptions,
  onProgress?: ProgressCallback,
): Promise<NdjsonFile> {
  const partial = `${path}.partial`;
  const file = await Deno.open(partial, { write: true, create: true, truncate: true });
  const encoder = new TextEncoder();
  // Lines are encoded straight into one reused buffer: no per-chunk allocations.
  const buffer = new Uint8Array(CHUNK_BYTES);
  let used = 0;
  let bytes = 0;
  let rows = 0;
  const flush = async (): Promise<void> => {
    for (let done = 0; done < used;) done += await file.write(buffer.subarray(done, used));
    bytes += used;
    used = 0;
  };
  try {
    for (const row of generateRows(kind, options)) {
      const line = JSON.stringify(row) + "\n";
      // A UTF-16 unit never takes more than 3 bytes in UTF-8.
      if (used + line.length * 3 > buffer.length) {
        await flush();
        onProgress?.(kind, rows, options.rows);
      }
      used += encoder.encodeInto(line, buffer.subarray(used)).written;
      rows++;
    }
    await flush();
  } finally {
    file.close();
  }
  await Deno.rename(partial, path);
  onProgress?.(kind, rows, options.rows);
  return { kind, path, rows, bytes };
}

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
  let before = 0; // rows of tables already finished
  let current: TableKind | undefined;
  let currentRows = 0;
  return (kind, rows, total) => {
    if (kind !== current) {
      before += currentRows;
      current = kind;
    }
    currentRows = rows;
    const now = performance.now();
    if (now - last < 1000) return;
    last = now;
    const rate = Math.round((before + rows) / ((now - start) / 1000));
    write(
      `${label}: ${TABLES[kind].table} ${rows.toLocaleString("en")} / ${
        total.toLocaleString("en")
      } rows, ${rate.toLocaleString("en")} rows/s`,
    );
  };
}

/**
 * The `generate` command. Returns the exit code; bad flags throw a UsageError (exit 2).
 *
 * @example
 * ```ts
 * await main(["--rows", "11000", "--seed", "100", "--to", "mysql"]); // 0
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const flags = parseFlags(args, {
    rows: { type: "string" },
    seed: { type: "string" },
    out: { type: "string" },
    to: { type: "string" },
    ...CONFIG_FLAGS,
  }, USAGE);
  const options: DatasetOptions = {
    rows: intFlag(flags, "rows", DEFAULT_DATASET.rows, { min: 1, max: MAX_ROWS }),
    seed: intFlag(flags, "seed", DEFAULT_DATASET.seed),
  };
  const out = stringFlag(flags, "out");
  if (out === "") throw new UsageError(`--out needs a directory\n\n${USAGE}`);
  const to = flags.to === undefined ? undefined : choiceFlag(flags, "to", ["mysql"], "mysql");
  if (out === undefined && to === undefined) {
    throw new UsageError(`give --out DIR, --to mysql, or both\n\n${USAGE}`);
  }
  // Read the connection settings before any work, so a bad flag fails fast.
  const mysqlConfig = to === "mysql" ? loadConfig(flags).mysql : undefined;
  const label = `generate (seed ${options.seed})`;

  if (out !== undefined) {
    const start = performance.now();
    const files = await writeNdjson(out, options, progressPrinter(label, start));
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
