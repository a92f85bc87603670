/**
 * `deno task bench batch`: MySQL-to-Kafka throughput of `deno task batch`
 * (rows/s end to end, peak RSS) at 11k and 1M rows per table, beside
 * Kafka's own `ProducerPerformance` sending as many records of the same
 * mean size to the same broker in the same run, as a ratio; and, for scale,
 * the original's way (one HTTP request per row through a Kafka REST Proxy v2
 * endpoint) against many records per request, at a small count.
 *
 * Tables other than the seeded 11k go in a database of their own,
 * `pinpipe_bench_<rows>`, created once (as MariaDB's root over the local
 * socket) and loaded by `deno task generate`; later runs reuse it.
 *
 * Usage: deno task bench batch [--sizes 11000,1000000] [--rounds 3] [--rest-rows 300]
 */
import { measureCommand, type MeasuredRun, median } from "./measure.ts";
import { requireStack, ROOT } from "./prerequisites.ts";
import { parseRowList } from "./generate.ts";
import mysql from "mysql2/promise";
import { intFlag, parseFlags, stringFlag } from "../src/core/cli.ts";
import { loadConfig } from "../src/core/config.ts";
import { toRecord } from "../src/core/records.ts";
import { TABLE_KINDS, TABLES } from "../src/core/tables.ts";
import type { TransferSummary } from "../src/transfer/driver.ts";
import { startRestStandIn } from "../infra/local/rest_proxy_stand_in.ts";
import { deleteTopics, randomId, rootSql } from "../infra/local/stack_admin.ts";
import { kafkaClient } from "../src/kafka/client.ts";

const USAGE = `Usage: deno task bench batch [--sizes LIST] [--rounds N] [--rest-rows N]

  --sizes LIST    comma-separated rows per table (default 11000,1000000); sizes other than the
                  seeded one are loaded once into a database pinpipe_bench_<rows>
  --rounds N      rounds per size, pinpipe and ProducerPerformance alternating first (default 3);
                  the table shows the medians
  --rest-rows N   rows sent one request per row through the REST stand-in (default 300)

Needs the local stack up (\`bash infra.sh local up\`).`;

const BROKER = "127.0.0.1:19092";

/** Rows in each table of `database` (the smallest of the three). */
async function tableRows(database: string): Promise<number> {
  const counts = await Promise.all(TABLE_KINDS.map(async (kind) => {
    const text = await rootSql(`SELECT COUNT(*) FROM \`${database}\`.\`${TABLES[kind].table}\``)
      .catch(() => "0");
    return Number(text.trim());
  }));
  return Math.min(...counts);
}

/** A database with `rows` rows per table: the seeded one if it fits, else one made here. */
export async function databaseWith(rows: number): Promise<string> {
  if ((await tableRows("pinterest_data")) === rows) return "pinterest_data";
  const database = `pinpipe_bench_${rows}`;
  if ((await tableRows(database)) === rows) return database;
  console.error(
    `bench batch: loading ${rows.toLocaleString("en-US")} rows per table into ${database}`,
  );
  const schema = await Deno.readTextFile(`${ROOT}infra/local/rds_schema.sql`);
  const env = loadConfig({ _: [] });
  const admin = (await Deno.readTextFile(`${ROOT}.local/stack.env`)).match(
    /^PINPIPE_MYSQL_ADMIN_USER=(.*)$/m,
  )?.[1] ?? "pinpipe_admin";
  await rootSql(
    `CREATE DATABASE IF NOT EXISTS ${database} CHARACTER SET utf8mb4; USE ${database}; ${schema} ` +
      `GRANT ALL ON ${database}.* TO '${admin}'@'127.0.0.1'; ` +
      `GRANT SELECT ON ${database}.* TO '${env.mysql.user}'@'127.0.0.1';`,
  );
  await measured([
    "generate",
    "--to",
    "mysql",
    "--rows",
    String(rows),
    "--mysql-database",
    database,
  ]);
  return database;
}

/** Mean JSON size of a record, over the first 2,000 rows of each table. */
async function meanRecordBytes(database: string): Promise<number> {
  const config = loadConfig({ _: [] }).mysql;
  const connection = await mysql.createConnection({ ...config, database, dateStrings: true });
  let bytes = 0;
  let count = 0;
  try {
    for (const kind of TABLE_KINDS) {
      const spec = TABLES[kind];
      const [rows] = await connection.query(
        `SELECT ${
          spec.columns.map((c) => `\`${c}\``).join(", ")
        } FROM \`${spec.table}\` LIMIT 2000`,
      );
      for (const row of rows as Record<string, string | number | null>[]) {
        bytes += new TextEncoder().encode(JSON.stringify(toRecord(kind, row))).length;
        count++;
      }
    }
  } finally {
    await connection.end();
  }
  return Math.round(bytes / count);
}

/** Runs `main.ts <args>` in a child process, measured; a failure throws with its stderr. */
async function measured(args: string[]): Promise<MeasuredRun & { wallSeconds: number }> {
  const run = await measureCommand(Deno.execPath(), ["run", "-A", "main.ts", ...args], {
    cwd: ROOT,
  });
  return { ...run, wallSeconds: run.wallMs / 1000 };
}

/**
 * The tool's producer settings, doing the work `batch` does: acknowledged by all in-sync
 * replicas, idempotent, and batched as `batch` batches (a produce request of up to 512 KiB, one
 * MySQL batch at a time, so a few milliseconds of lingering while the next one is read).
 */
export const PRODUCER_PERFORMANCE_PROPS = [
  "acks=all",
  "enable.idempotence=true",
  `batch.size=${512 * 1024}`,
  "linger.ms=5",
];

/** Kafka's ProducerPerformance: `records` of `size` bytes, with the settings above, to a fresh topic. */
async function producerPerformance(records: number, size: number): Promise<number> {
  const topic = `pinpipe-bench-${randomId()}`;
  const kafka = await kafkaClient({ brokers: [BROKER], auth: "none" }, "pinpipe-bench");
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic }], waitForLeaders: true });
  try {
    const output = await new Deno.Command("java", {
      args: [
        "-cp",
        `${ROOT}.cache/kafka/libs/*`,
        "org.apache.kafka.tools.ProducerPerformance",
        "--topic",
        topic,
        "--num-records",
        String(records),
        "--record-size",
        String(size),
        "--throughput",
        "-1",
        "--producer-props",
        `bootstrap.servers=${BROKER}`,
        ...PRODUCER_PERFORMANCE_PROPS,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(output.stdout);
    const match = /(\d+) records sent, ([\d.]+) records\/sec/.exec(
      text.trim().split("\n").at(-1) ?? "",
    );
    if (!match) {
      throw new Error(
        `ProducerPerformance said: ${text}${new TextDecoder().decode(output.stderr)}`,
      );
    }
    return Number(match[2]);
  } finally {
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();
  }
}

const number = (value: number) => Math.round(value).toLocaleString("en-US");

/** The flags that point a command at a benchmark's pipeline: its id, database and state. */
export function pipelineFlags(id: string, database: string, state: string): string[] {
  return ["--id", id, "--mysql-database", database, "--state-dir", state];
}

/**
 * One run of `deno task batch` over `database`: records acknowledged, rows/s, peak RSS.
 * `beside(id, state)` starts something to run beside it (its pipeline id and state directory
 * known first) and returns how to stop it.
 */
export async function batchRun(
  database: string,
  beside?: (id: string, state: string) => Promise<() => Promise<void>>,
) {
  const id = randomId();
  const state = await Deno.makeTempDir({ prefix: "pinpipe-bench-" });
  const stopBeside = await beside?.(id, state);
  try {
    const run = await measured([
      "batch",
      ...pipelineFlags(id, database, state),
      "--json",
      "--quiet",
    ]);
    const summary = JSON.parse(run.stdout) as TransferSummary;
    const records = summary.totals.acknowledged;
    return {
      records,
      wallRate: records / run.wallSeconds,
      transferRate: summary.rowsPerSecond,
      rssMiB: run.peakRssMiB,
      cpuSeconds: run.cpuSeconds,
    };
  } finally {
    await stopBeside?.();
    await deleteTopics(id);
    await Deno.remove(state, { recursive: true });
  }
}

/**
 * One size: `rounds` rounds of pinpipe end to end from MySQL and the tool with the same records,
 * the order reversed every other round; the medians, and the ratio of the medians.
 */
async function compareAt(rows: number, rounds: number): Promise<string> {
  const database = await databaseWith(rows);
  const size = await meanRecordBytes(database);
  const loadStart = Deno.loadavg()[0];
  const ours: Awaited<ReturnType<typeof batchRun>>[] = [];
  const tool: number[] = [];
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) ours.push(await batchRun(database));
    const records = ours.at(-1)?.records ?? 3 * rows;
    tool.push(await producerPerformance(records, size));
    if (round % 2 === 1) ours.push(await batchRun(database));
    console.error(
      `${number(rows)} rows, round ${round + 1}: pinpipe ${number(ours.at(-1)!.wallRate)}/s, ` +
        `ProducerPerformance ${number(tool.at(-1)!)}/s`,
    );
  }
  const wall = median(ours.map((run) => run.wallRate));
  const toolRate = median(tool);
  return `| ${number(rows)} | ${number(ours[0].records)} | ${size} B | ${loadStart.toFixed(1)} -> ${
    Deno.loadavg()[0].toFixed(1)
  } | ${number(wall)} | ${number(median(ours.map((run) => run.transferRate)))} | ${
    Math.max(...ours.map((run) => run.rssMiB)).toFixed(0)
  } MiB | ${number(toolRate)} | ${(wall / toolRate).toFixed(2)} |`;
}

/** The original's way (a request per row) against many rows per request, through REST. */
async function restAt(rows: number): Promise<string[]> {
  const proxy = await startRestStandIn([BROKER]);
  const id = randomId();
  const state = await Deno.makeTempDir({ prefix: "pinpipe-bench-" });
  const lines: string[] = [];
  try {
    // One row first, so that the topic exists before the proxy is asked to write to it.
    await measured([
      "batch",
      "--id",
      id,
      "--tables",
      "pin",
      "--limit",
      "1",
      "--state-dir",
      state,
      "--quiet",
    ]);
    for (
      const [label, perRequest, count] of [["one request per row (the original)", 1, rows], [
        "500 rows per request",
        500,
        rows * 20,
      ]] as const
    ) {
      const run = await measured([
        "batch",
        "--id",
        id,
        "--tables",
        "pin",
        "--via",
        "rest",
        proxy.url,
        "--from-start",
        "--limit",
        String(count),
        "--batch-size",
        String(perRequest),
        "--request-records",
        String(perRequest),
        "--state-dir",
        state,
        "--json",
        "--quiet",
      ]);
      const summary = JSON.parse(run.stdout) as TransferSummary;
      lines.push(
        `| ${label} | ${number(summary.totals.acknowledged)} | ${number(summary.rowsPerSecond)} |`,
      );
    }
  } finally {
    await proxy.close();
    await deleteTopics(id);
    await Deno.remove(state, { recursive: true });
  }
  return lines;
}

/** `deno task bench batch [--sizes 11000,1000000] [--rest-rows 300]`. */
export async function main(args: string[]): Promise<number> {
  const flags = parseFlags(
    args,
    { sizes: { type: "string" }, rounds: { type: "string" }, "rest-rows": { type: "string" } },
    USAGE,
  );
  const sizesText = stringFlag(flags, "sizes", "11000,1000000");
  const sizes = parseRowList(sizesText, "--sizes");
  const restRows = intFlag(flags, "rest-rows", 300, { min: 1 });
  const rounds = intFlag(flags, "rounds", 3, { min: 1 });
  await requireStack();
  console.log(
    `deno task bench batch --sizes ${sizesText} --rounds ${rounds} --rest-rows ${restRows}`,
  );
  console.log(
    `${new Date().toISOString()}, ${navigator.hardwareConcurrency} cores, load ${
      Deno.loadavg().map((l) => l.toFixed(1)).join(" ")
    }\n`,
  );
  console.log(
    `medians of ${rounds} round(s), alternating; ProducerPerformance with ${
      PRODUCER_PERFORMANCE_PROPS.join(" ")
    }\n`,
  );
  console.log(
    "| rows per table | records (3 topics) | mean record | load start -> end | pinpipe rows/s (wall, incl. start) | pinpipe rows/s (transfer) | pinpipe peak RSS | ProducerPerformance records/s | ratio |",
  );
  console.log("| ---: | ---: | ---: | :---: | ---: | ---: | ---: | ---: | ---: |");
  for (const rows of sizes) console.log(await compareAt(rows, rounds));
  console.log("\n| through a Kafka REST Proxy v2 endpoint (pin) | rows | rows/s |");
  console.log("| --- | ---: | ---: |");
  for (const line of await restAt(restRows)) console.log(line);
  return 0;
}
