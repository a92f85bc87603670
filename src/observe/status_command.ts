/**
 * `deno task status`: the ledger once, as a table on stdout (or JSON with
 * `--json`), and an exit code scripts can act on: 0 when every stage has
 * caught up with its upstream, 1 naming the first gap, 3 when the database
 * cannot be reached, 4 when Kafka, Kinesis or the bucket cannot.
 *
 * @example
 * ```ts
 * import { main } from "./status_command.ts";
 * const code = await main(["--id", "0123456789ab", "--json"]);
 * ```
 */
import { stringFlag } from "../core/cli.ts";
import { type Command, runCommand } from "../core/command.ts";
import { loadConfig } from "../core/config.ts";
import { UsageError } from "../core/errors.ts";
import { downServer, firstGap, gapText, ledgerExitCode } from "./gaps.ts";
import { type LedgerOptions, LedgerReader } from "./ledger.ts";
import { ledgerText } from "./ledger_text.ts";

/** The ledger's own flags, shared by `status` and `watch`. */
export const LEDGER_FLAGS = {
  group: { type: "string" as const },
  db: { type: "string" as const },
  "s3-endpoint": { type: "string" as const },
  warehouse: { type: "string" as const },
};

/** Help for `LEDGER_FLAGS`. */
export const LEDGER_USAGE =
  `  --group G             the sink's consumer group (connect-pinpipe-sink-<id>)
  --db FILE             the stream consumer's DuckDB file (out/<id>_stream.duckdb); copied, never opened
  --s3-endpoint URL     an S3-compatible endpoint for --bucket s3://B (default: AWS)
  --warehouse FILE      the incremental runs' state (sim --incremental --state FILE): adds the
                        bronze and silver stages and the quarantine; copied, never opened`;

const USAGE = `Usage: deno task status [flags]

Counts every stage of both paths of one pipeline id, each against the stage before:
batch: source rows, acknowledged (the producer's checkpoint), topic end offsets, the sink
group's committed offsets, records in the bucket (then bronze and silver with --warehouse); stream: source rows, acknowledged, consumed
(each shard's position against the producer's), rows in the cleaned tables. A path is read once
its producer has written a checkpoint. Reads only; writes nothing the pipeline reads.

Exit 0 when every stage has caught up, 1 naming the first gap (table, stage, how many, the
oldest record's age), 3 when the database cannot be reached, 4 when Kafka, Kinesis or the
bucket cannot.

Flags:
${LEDGER_USAGE}`;

/** The ledger options from the flags. */
export function ledgerOptions(flags: Parameters<Command["run"]>[0]): LedgerOptions {
  return {
    group: stringFlag(flags, "group"),
    consumerDb: stringFlag(flags, "db"),
    s3Endpoint: stringFlag(flags, "s3-endpoint"),
    warehouse: stringFlag(flags, "warehouse"),
  };
}

/** Opens a ledger reader for the flags; a bad bucket location is a flag error. */
export async function openLedger(
  flags: Parameters<Command["run"]>[0],
  extra: LedgerOptions = {},
): Promise<LedgerReader> {
  const config = loadConfig(flags);
  return await LedgerReader.open(config, { ...ledgerOptions(flags), ...extra }).catch((error) => {
    throw new UsageError(`--bucket: ${(error as Error).message}`);
  });
}

/** `deno task status`. */
export const COMMAND: Command = {
  name: "status",
  usage: USAGE,
  flags: LEDGER_FLAGS,
  connections: ["id", "mysql", "kafka", "kinesis", "aws", "bucket", "state"],
  exits: {
    1: "a stage has a gap, or another failure",
    3: "the database",
    4: "Kafka, Kinesis or the bucket",
  },
  output: true,
  async run(flags) {
    const reader = await openLedger(flags);
    try {
      const ledger = await reader.read();
      const gap = firstGap(ledger);
      const code = ledgerExitCode(ledger);
      if (flags.json) console.log(JSON.stringify({ ...ledger, gap: gap ?? null, exitCode: code }));
      if (!flags.quiet) (flags.json ? console.error : console.log)(ledgerText(ledger));
      const down = downServer(ledger);
      if (down) console.error(`pinpipe status: ${down.name} ${down.where}: ${down.error}`);
      else if (gap) console.error(`pinpipe status: first gap: ${gapText(gap)}`);
      return code;
    } finally {
      await reader.close();
    }
  },
};

/** `deno task status`: returns the exit code. */
export function main(args: string[]): Promise<number> {
  return runCommand(COMMAND, args);
}
