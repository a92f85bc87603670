/**
 * `deno task consume`: the streaming consumer (`consumer.ts`) as a command:
 * its flags and its summary. It reads `streaming-<id>-pin|geo|user`, cleans
 * each micro-batch with the notebooks' SQL files and appends to
 * `<id>_pin_table`, `<id>_geo_table`, `<id>_user_table` in a DuckDB file,
 * with the shards' checkpoint committed in the same transaction. Records
 * that are not JSON or not of the table's shape go to `<id>_rejects`, with a
 * reason of `notebooks/sql/quarantine_reasons.json`; a field the table does
 * not have is ignored and counted in `<id>_schema_drift` (schema drift).
 *
 * @example
 * ```ts
 * import { main } from "./consume_command.ts";
 * await main(["--id", "0123456789ab", "--db", "out/stream.duckdb", "--idle-exit-ms", "5000"]);
 * ```
 */
import {
  choiceFlag,
  type Flags,
  type FlagSpec,
  intFlag,
  numberFlag,
  stringFlag,
} from "../core/cli.ts";
import { type Command, runCommand } from "../core/command.ts";
import { loadConfig } from "../core/config.ts";
import { prepareOutputFile } from "../core/preflight.ts";
import { TABLE_KINDS } from "../core/tables.ts";
import { type ConsumerOptions, type ConsumerSummary, runConsumer } from "./consumer.ts";
import type { StartPosition } from "./shards.ts";
import { DEFAULT_DEDUP } from "./store.ts";

/** Flags of `consume`, beside the connection and output flags. */
export const CONSUMER_FLAGS: Record<string, FlagSpec> = {
  db: { type: "string" },
  from: { type: "string" },
  "poll-ms": { type: "string" },
  limit: { type: "string" },
  "idle-exit-ms": { type: "string" },
  "idle-exit": { type: "string", deprecated: { use: "idle-exit-ms", scale: 1000 } },
  "max-records": { type: "string" },
  "dedup-hours": { type: "string" },
  "dedup-max-keys": { type: "string" },
  "wait-streams-ms": { type: "string" },
  "wait-streams": { type: "string", deprecated: { use: "wait-streams-ms", scale: 1000 } },
};

const USAGE = `Usage: deno task consume [flags]

Reads the three Kinesis streams streaming-<id>-pin|geo|user and appends the cleaned rows to
<id>_pin_table, <id>_geo_table, <id>_user_table in a DuckDB file, in micro-batches, with the
per-shard checkpoint in the same file and transaction. Bad records go to <id>_rejects with a
reason (notebooks/sql/quarantine_reasons.json); a field a table does not have is ignored and
counted as schema drift in <id>_schema_drift.

Flags:
  --db FILE             the DuckDB file                  (out/<id>_stream.duckdb)
  --from POSITION       trim_horizon | latest, for shards without a checkpoint (trim_horizon)
  --poll-ms MS          pause between polls when caught up (250)
  --limit N             most records per GetRecords call, 1..10000 (10000)
  --idle-exit-ms MS     stop after this long with no new records; 0 runs until Ctrl-C (0)
  --max-records N       stop after reading this many records; 0 for no limit (0)
  --dedup-hours H       keep de-duplication keys this long, by arrival time (24)
  --dedup-max-keys N    keep at most this many keys (5000000)
  --wait-streams-ms MS  wait this long for the streams to exist (60000)

One consumer per DuckDB file: <db>.lock names its holder; a second copy exits 1 at once.
SIGINT/SIGTERM: the micro-batch in hand is committed with its checkpoint, then the consumer
stops (exit 130).`;

/** Reads the consumer's flags. */
export function parseConsumerOptions(flags: Flags, id: string): ConsumerOptions {
  return {
    db: stringFlag(flags, "db", `out/${id}_stream.duckdb`),
    start: choiceFlag(flags, "from", ["trim_horizon", "latest"] as const, "trim_horizon")
      .toUpperCase() as StartPosition,
    pollMs: intFlag(flags, "poll-ms", 250, { min: 0, max: 60_000 }),
    limit: intFlag(flags, "limit", 10_000, { min: 1, max: 10_000 }),
    idleExitMs: intFlag(flags, "idle-exit-ms", 0, { min: 0 }),
    maxRecords: intFlag(flags, "max-records", 0, { min: 0 }),
    dedup: {
      retentionMs: numberFlag(flags, "dedup-hours", DEFAULT_DEDUP.retentionMs / 3600_000, {
        min: 0,
      }) * 3600_000,
      maxKeys: intFlag(flags, "dedup-max-keys", DEFAULT_DEDUP.maxKeys, { min: 1 }),
    },
    waitStreamsMs: intFlag(flags, "wait-streams-ms", 60_000, { min: 0 }),
  };
}

/** The summary as one line. */
export function consumerSummaryText(summary: ConsumerSummary, db: string): string {
  const tables = TABLE_KINDS.map((kind) =>
    `${kind} +${summary.appended[kind]} (${summary.duplicates[kind]} dup)`
  ).join(", ");
  const drift = Object.entries(summary.schemaDrift).map(([field, n]) => `${field} (${n})`);
  const driftText = drift.length > 0 ? `, schema drift: ${drift.join(", ")} kept without it` : "";
  return `consumed ${summary.records} record(s) in ${summary.microBatches} micro-batch(es), ${
    summary.seconds.toFixed(1)
  } s: ${tables}, ${summary.rejected} rejected${driftText}; tables in ${db}`;
}

/** `deno task consume`. */
export const COMMAND: Command = {
  name: "consume",
  usage: USAGE,
  flags: CONSUMER_FLAGS,
  connections: ["id", "kinesis", "aws"],
  exits: {
    1: "other failure; another consumer holds the DuckDB file; it is unwritable",
    4: "Kinesis",
    130: "stopped by SIGINT/SIGTERM (the micro-batch in hand committed)",
  },
  output: true,
  async run(flags, interrupt) {
    const config = loadConfig(flags);
    const options = parseConsumerOptions(flags, config.id);
    const quiet = flags.quiet === true;
    await prepareOutputFile(options.db, "--db");
    interrupt.started();
    const summary = await runConsumer(config, options, {
      signal: interrupt.signal,
      log: quiet ? () => {} : undefined,
    });
    // The text summary on stdout, unless stdout carries the JSON.
    if (flags.json) console.log(JSON.stringify(summary));
    if (!quiet) {
      (flags.json ? console.error : console.log)(consumerSummaryText(summary, options.db));
    }
    return 0;
  },
};

/** `deno task consume`: returns the exit code (errors are thrown as `CliError`s). */
export function main(args: string[]): Promise<number> {
  return runCommand(COMMAND, args);
}
