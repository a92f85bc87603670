/**
 * The Spark side of the parity tests: runs tests/warehouse/parity/run_spark.py
 * in the venv `.cache/venv-spark`, writes Kinesis-like rows for its streams,
 * and compares its result tables with DuckDB's.
 *
 * @example
 * ```ts
 * import { kinesisRow, runSpark } from "./spark.ts";
 * kinesisRow("streaming-0123456789ab-pin", "1", new TextEncoder().encode("{}"), new Date());
 * await runSpark("/tmp/spec.json", "/tmp/spark.json");
 * ```
 */
import assert from "node:assert/strict";
import type { ResultTable } from "../../../src/warehouse/duckdb_runner.ts";
import { ROOT_URL as ROOT } from "../../support/processes.ts";

const PYTHON = new URL(".cache/venv-spark/bin/python", ROOT).pathname;
const RUN_SPARK = new URL("tests/warehouse/parity/run_spark.py", ROOT).pathname;

/** One row of a stream round as run_spark.py reads it: what the Kinesis source gives. */
export interface KinesisRow {
  data_base64: string;
  stream: string;
  shardId: string;
  sequenceNumber: string;
  approximateArrivalTimestamp: string;
}

/** A Kinesis record as a stream round row (shard `shardId-000000000000` unless given). */
export function kinesisRow(
  stream: string,
  sequenceNumber: string,
  data: Uint8Array,
  arrival: Date,
  shardId = "shardId-000000000000",
): KinesisRow {
  let binary = "";
  for (const byte of data) binary += String.fromCharCode(byte);
  return {
    data_base64: btoa(binary),
    stream,
    shardId,
    sequenceNumber,
    approximateArrivalTimestamp: arrival.toISOString(),
  };
}

/** Runs run_spark.py over the spec file; its output goes to `outPath`. */
export async function runSpark(specPath: string, outPath: string): Promise<void> {
  try {
    await Deno.stat(PYTHON);
  } catch {
    throw new Error(
      `PySpark venv missing: ${PYTHON} not found. Make it with \`bash infra.sh local install\`` +
        " (deno task test runs it first)",
    );
  }
  const { code, stdout, stderr } = await new Deno.Command(PYTHON, {
    args: [RUN_SPARK, specPath, outPath],
    env: { TZ: "UTC", PYSPARK_PYTHON: PYTHON },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    const decoder = new TextDecoder();
    const text = (decoder.decode(stdout) + decoder.decode(stderr)).split("\n").slice(-40).join(
      "\n",
    );
    throw new Error(`run_spark.py exited with ${code}:\n${text}`);
  }
}

/** Equal within 1e-9 (relative to the larger magnitude, at least 1) for numbers; exact otherwise. */
function same(a: unknown, b: unknown): boolean {
  if (typeof a === "number" && typeof b === "number") {
    return a === b || Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => same(item, b[i]));
  }
  return a === b;
}

export function assertSameTable(
  where: string,
  spark: ResultTable,
  duck: ResultTable,
  { ordered }: { ordered: boolean },
): void {
  assert.deepEqual(duck.columns, spark.columns, `${where}: columns differ`);
  const canonical = (rows: unknown[][]) =>
    ordered ? rows : [...rows].sort((x, y) => JSON.stringify(x) < JSON.stringify(y) ? -1 : 1);
  const sparkRows = canonical(spark.rows);
  const duckRows = canonical(duck.rows);
  assert.equal(duckRows.length, sparkRows.length, `${where}: row counts differ`);
  for (let i = 0; i < sparkRows.length; i++) {
    if (!same(sparkRows[i], duckRows[i])) {
      assert.fail(
        `${where}: row ${i} differs\n  spark:  ${JSON.stringify(sparkRows[i])}\n  duckdb: ${
          JSON.stringify(duckRows[i])
        }`,
      );
    }
  }
}
