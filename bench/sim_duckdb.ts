/**
 * Cleaning plus the eight queries in DuckDB, timed, for `deno task bench sim`:
 * the simulator's own runner over a bucket directory, in a process of its
 * own so that its peak memory is measured alone.
 *
 * Usage: deno run -A bench/sim_duckdb.ts BUCKET_DIR PIPELINE_ID
 * Prints one JSON line: {"engine": "duckdb", "startup_ms", "clean_ms", "queries_ms", "rows_out"}.
 */
const began = performance.now();
const { openDuckDb, registerRawFromBucket, runCleaning, runQueries } = await import(
  "../src/warehouse/duckdb_runner.ts"
);

if (import.meta.main) {
  const [bucket, id] = Deno.args;
  if (!bucket || !id) {
    console.error("usage: sim_duckdb.ts BUCKET_DIR PIPELINE_ID");
    Deno.exit(2);
  }
  const db = await openDuckDb();
  const started = performance.now();
  await registerRawFromBucket(db, bucket, id);
  const cleaned = await runCleaning(db);
  const cleanedAt = performance.now();
  const answers = await runQueries(db);
  const done = performance.now();
  db.close();
  console.log(JSON.stringify({
    engine: "duckdb",
    startup_ms: Math.round(started - began),
    clean_ms: Math.round(cleanedAt - started),
    queries_ms: Math.round(done - cleanedAt),
    rows_out: Object.fromEntries(Object.entries(cleaned).map(([kind, c]) => [kind, c.rowsOut])),
    answer_rows: answers.reduce((sum, answer) => sum + answer.rows.length, 0),
  }));
}
