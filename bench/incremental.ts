/**
 * `deno task bench incremental [--days 30] [--rows 100000] [--flush-size 10000] [--full-days all]`:
 * a bucket that grows by `--rows` records per table each day, for `--days` days. Each day, the
 * incremental run (src/warehouse/incremental.ts, the daily run's semantics: only new objects,
 * silver merged, answers from all of silver) and a full recompute (the one-shot run over every
 * object so far) run on the same bucket, in the same process, one after the other; both times are
 * printed per day. The target: day N's incremental run within 1.5x of day 1's, while the full
 * recompute grows with the days.
 */
import { join } from "node:path";
import { intFlag, parseFlags, parseInteger, stringFlag } from "../src/core/cli.ts";
import { UsageError } from "../src/core/errors.ts";
import { objectBody, objectKey } from "../src/core/bucket_layout.ts";
import { topicName } from "../src/core/names.ts";
import { type Row, toRecord } from "../src/core/records.ts";
import { TABLE_KINDS, type TableKind } from "../src/core/tables.ts";
import {
  openDuckDb,
  registerRawFromBucket,
  runCleaning,
  runQualityChecks,
  runQueries,
} from "../src/warehouse/duckdb_runner.ts";
import { runIncremental } from "../src/warehouse/incremental.ts";
import { generateRows } from "../sim/datagen/generate.ts";

const ID = "0123456789ab";

const USAGE = `Usage: deno task bench incremental [flags]

A bucket that grows day by day; each day the incremental run and a full recompute, timed.

  --days N          days                                               (default 30)
  --rows N          rows per table added each day                      (default 100000)
  --flush-size N    records per object, as the sink's flush.size       (default 10000)
  --full-days LIST  days on which to time the full recompute too, e.g. 1,10,20,30, or all
                    (default all)
  --dir DIR         where the bucket and the state go (default: a temporary directory, removed)`;

/** One day's figures. */
export interface DayFigures {
  day: number;
  incrementalMs: number;
  fullMs?: number;
  silverRows: number;
  bronzeAdded: number;
}

async function writeDay(
  bucket: string,
  kind: TableKind,
  rows: Iterator<Row>,
  first: number,
  count: number,
  flushSize: number,
): Promise<void> {
  for (let start = first; start < first + count; start += flushSize) {
    const records = [];
    for (let i = start; i < Math.min(start + flushSize, first + count); i++) {
      const next = rows.next();
      if (next.done) throw new Error(`the generator ran out of ${kind} rows at ${i}`);
      records.push(toRecord(kind, next.value));
    }
    const path = join(bucket, objectKey(topicName(ID, kind), 0, start));
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(path, objectBody(records));
  }
}

async function fullRecompute(bucket: string): Promise<void> {
  const db = await openDuckDb();
  try {
    await registerRawFromBucket(db, bucket, ID);
    await runCleaning(db);
    await runQueries(db);
    await runQualityChecks(db);
  } finally {
    db.close();
  }
}

function parseDays(text: string, days: number): Set<number> {
  if (text === "all") return new Set(Array.from({ length: days }, (_, i) => i + 1));
  const list = text.split(",").map((part) => parseInteger(part.trim()) ?? NaN);
  if (list.some((day) => !Number.isInteger(day) || day < 1 || day > days)) {
    throw new UsageError(`--full-days: "${text}" must be "all" or days between 1 and ${days}`);
  }
  return new Set(list);
}

export async function main(args: string[]): Promise<number> {
  const flags = parseFlags(
    args,
    {
      days: { type: "string" },
      rows: { type: "string" },
      "flush-size": { type: "string" },
      "full-days": { type: "string" },
      dir: { type: "string" },
    },
    USAGE,
  );
  const days = intFlag(flags, "days", 30, { min: 1, max: 1000 });
  const rows = intFlag(flags, "rows", 100_000, { min: 1 });
  const flushSize = intFlag(flags, "flush-size", 10_000, { min: 1 });
  const fullDays = parseDays(stringFlag(flags, "full-days", "all"), days);
  const given = stringFlag(flags, "dir");
  const dir = given ?? await Deno.makeTempDir({ prefix: "pinpipe_bench_incremental_" });
  const bucket = join(dir, "bucket");
  const state = join(dir, "state.duckdb");
  await Deno.remove(state).catch(() => {});
  console.log(
    `incremental: ${days} days of ${rows} rows per table, objects of ${flushSize} records; ` +
      `load average ${Deno.loadavg().map((n) => n.toFixed(1)).join(" ")}`,
  );
  console.log("day  incremental_ms  full_ms  silver_rows_per_table  incremental_phases_ms");
  const generators = {} as Record<TableKind, Iterator<Row>>;
  for (const kind of TABLE_KINDS) {
    generators[kind] = generateRows(kind, { rows: days * rows, seed: 100 })[Symbol.iterator]();
  }
  const figures: DayFigures[] = [];
  try {
    for (let day = 1; day <= days; day++) {
      for (const kind of TABLE_KINDS) {
        await writeDay(bucket, kind, generators[kind], (day - 1) * rows, rows, flushSize);
      }
      let started = performance.now();
      const run = await runIncremental(state, bucket, ID);
      const incrementalMs = performance.now() - started;
      let fullMs: number | undefined;
      if (fullDays.has(day)) {
        started = performance.now();
        await fullRecompute(bucket);
        fullMs = performance.now() - started;
      }
      figures.push({
        day,
        incrementalMs,
        fullMs,
        silverRows: run.silverRows.pin,
        bronzeAdded: run.added.pin.bronze,
      });
      console.log(
        `${String(day).padStart(3)}  ${incrementalMs.toFixed(0).padStart(14)}  ${
          (fullMs === undefined ? "-" : fullMs.toFixed(0)).padStart(7)
        }  ${run.silverRows.pin}  ${JSON.stringify(run.timings)}`,
      );
    }
  } finally {
    if (given === undefined) await Deno.remove(dir, { recursive: true });
  }
  const first = figures[0];
  const last = figures[figures.length - 1];
  const ratio = last.incrementalMs / first.incrementalMs;
  console.log(
    `day ${last.day} incremental / day 1 incremental: ${ratio.toFixed(2)}x (target <= 1.5x: ${
      ratio <= 1.5 ? "met" : "not met"
    })`,
  );
  if (first.fullMs !== undefined && last.fullMs !== undefined) {
    console.log(
      `day ${last.day} full recompute / day 1 full recompute: ${
        (last.fullMs / first.fullMs).toFixed(2)
      }x; day ${last.day} full / incremental: ${(last.fullMs / last.incrementalMs).toFixed(2)}x`,
    );
  }
  console.log(`load average at the end ${Deno.loadavg().map((n) => n.toFixed(1)).join(" ")}`);
  console.log(JSON.stringify({ days, rows, flushSize, figures }));
  return 0;
}
