/**
 * DuckDB's side of `deno task bench sim`, in a process of its own so that
 * its peak memory is measured alone. Two modes:
 *
 * - `engine`: the simulator's own runner over a bucket directory: read,
 *   cleaning, the queries and the checks, each timed;
 * - `bare`: the ceiling, a bare read of the same objects, every field as
 *   text (`CREATE TABLE t AS SELECT * FROM read_json(...)`) for the three
 *   topics, without insertion order as the runner reads them, and nothing
 *   else.
 *
 * Usage: deno run -A bench/sim_duckdb.ts engine|bare BUCKET_DIR PIPELINE_ID
 * Prints one JSON line: {"engine": "duckdb", "startup_ms", "read_ms", "clean_ms", "queries_ms",
 * "checks_ms", "rows_out", "answer_rows"} or {"engine": "duckdb-bare", "bare_ms", "rows_in"}.
 */
const began = performance.now();
import { parseFlags } from "../src/core/cli.ts";
import { runProgram } from "../src/core/command.ts";
import { UsageError } from "../src/core/errors.ts";
const {
  listObjects,
  openDuckDb,
  RAW_COLUMNS,
  registerRawFromBucket,
  runCleaning,
  runQualityChecks,
  runQueries,
} = await import("../src/warehouse/duckdb_runner.ts");
const { TABLE_KINDS } = await import("../src/core/tables.ts");
const { topicName } = await import("../src/core/names.ts");

const USAGE = `Usage: deno run -A bench/sim_duckdb.ts engine|bare BUCKET_DIR PIPELINE_ID

DuckDB's side of \`deno task bench sim\` (which runs it): the simulator's runner over BUCKET_DIR
(engine), or a bare read of the same objects (bare). Prints one JSON line of timings.`;

const quote = (text: string) => `'${text.replaceAll("'", "''")}'`;

if (import.meta.main) {
  Deno.exit(
    await runProgram("bench sim_duckdb", "deno run -A bench/sim_duckdb.ts", () => main(Deno.args)),
  );
}

async function main(args: string[]): Promise<number> {
  const [mode, bucket, id, ...rest] = parseFlags(args, {}, USAGE, { positionals: true })._;
  if (!["engine", "bare"].includes(mode) || !bucket || !id || rest.length > 0) {
    throw new UsageError(`expected engine|bare BUCKET_DIR PIPELINE_ID, got: ${args.join(" ")}`);
  }
  const db = await openDuckDb();
  const started = performance.now();
  let at = started;
  const lap = () => {
    const now = performance.now();
    const ms = Math.round(now - at);
    at = now;
    return ms;
  };
  if (mode === "bare") {
    const rowsIn: Record<string, number> = {};
    // Like for like: the runner reads the raw records without insertion order (nothing reads
    // them in order), so the ceiling does too.
    await db.connection.run("SET preserve_insertion_order = false");
    for (const kind of TABLE_KINDS) {
      const objects = await listObjects(`${bucket}/topics/${topicName(id, kind)}`);
      const columns = RAW_COLUMNS[kind].map((column) => `"${column}": 'VARCHAR'`).join(", ");
      await db.connection.run(
        `CREATE TABLE bare_${kind} AS SELECT * FROM read_json([${
          objects.map(quote).join(", ")
        }], format = 'newline_delimited', records = true, columns = {${columns}})`,
      );
    }
    const bareMs = lap();
    for (const kind of TABLE_KINDS) {
      rowsIn[kind] = Number((await db.query(`SELECT count(*) FROM bare_${kind}`)).rows[0][0]);
    }
    db.close();
    console.log(JSON.stringify({ engine: "duckdb-bare", bare_ms: bareMs, rows_in: rowsIn }));
  } else {
    await registerRawFromBucket(db, bucket, id);
    const readMs = lap();
    const cleaned = await runCleaning(db);
    const cleanMs = lap();
    const answers = await runQueries(db);
    const queriesMs = lap();
    const checks = await runQualityChecks(db);
    const checksMs = lap();
    db.close();
    console.log(JSON.stringify({
      engine: "duckdb",
      startup_ms: Math.round(started - began),
      read_ms: readMs,
      clean_ms: cleanMs,
      queries_ms: queriesMs,
      checks_ms: checksMs,
      rows_out: Object.fromEntries(Object.entries(cleaned).map(([kind, c]) => [kind, c.rowsOut])),
      answer_rows: answers.reduce((sum, answer) => sum + answer.rows.length, 0),
      checks_failed: checks.filter((check) => !check.passed).length,
    }));
  }
  return 0;
}
