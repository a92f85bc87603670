/**
 * `deno task sink`: the Kafka-to-bucket sink (`sink.ts`) as a command: its
 * flags, the bucket to open, and the summary.
 *
 * @example
 * ```ts
 * import { main } from "./sink_command.ts";
 * await main(["--flush-size", "500", "--exit-at-end"]);
 * ```
 */
import { type Flags, intFlag, onOffFlag, stringFlag, tablesFlag } from "../core/cli.ts";
import { type Command, runCommand } from "../core/command.ts";
import { loadConfig } from "../core/config.ts";
import { UsageError } from "../core/errors.ts";
import { BucketSink, type SinkOptions, type SinkSummary } from "./sink.ts";
import { openBucket } from "./storage.ts";
import { prepareBucketDir } from "../core/preflight.ts";
import { isS3Location } from "../util/s3_location.ts";

const SINK_FLAGS = {
  "flush-size": { type: "string" as const },
  "rotate-ms": { type: "string" as const },
  group: { type: "string" as const },
  tables: { type: "string" as const },
  "exit-at-end": { type: "boolean" as const },
  "s3-endpoint": { type: "string" as const },
  "kafka-tls": { type: "string" as const },
};

const USAGE = `Usage: deno task sink [flags]

Consumes the topics <id>.pin, <id>.geo, <id>.user into the bucket as the Confluent
S3 sink connector names objects: topics/<topic>/partition=<p>/<topic>+<p>+<offset>.json

  --flush-size N        records per object (1000; the original connector used 1)
  --rotate-ms MS        write a partial object when no record came for MS ms (10000; 0: never)
  --group G             consumer group (connect-pinpipe-sink-<id>)
  --tables LIST         comma-separated subset of pin,geo,user (all)
  --exit-at-end         stop once everything in the topics is written and committed
  --s3-endpoint URL     an S3-compatible endpoint for --bucket s3://B (default: AWS)
  --kafka-tls on|off    TLS for SASL (on with --kafka-auth iam|scram)

SIGINT/SIGTERM: the objects being written are finished and committed, then the sink stops
(exit 130); records not yet in an object are read again next time.`;

/** Parses the sink's own flags. */
export function parseSinkOptions(flags: Flags, id: string): SinkOptions {
  return {
    flushSize: intFlag(flags, "flush-size", 1000, { min: 1, max: 1_000_000 }),
    rotateMs: intFlag(flags, "rotate-ms", 10_000, { min: 0 }),
    group: stringFlag(flags, "group", `connect-pinpipe-sink-${id}`),
    kinds: tablesFlag(flags),
    exitAtEnd: flags["exit-at-end"] === true,
    tls: onOffFlag(flags, "kafka-tls"),
  };
}

/** The summary as text, for stderr. */
export function sinkSummaryText(summary: SinkSummary): string {
  return `sink: ${summary.interrupted ? "stopped" : "done"} in ${summary.seconds.toFixed(1)} s, ` +
    `into ${summary.bucket}\n` +
    Object.entries(summary.topics).map(([topic, counts]) =>
      `  ${topic.padEnd(24)} ${counts.objects} objects, ${counts.records} records`
    ).join("\n");
}

/** `deno task sink`. */
export const COMMAND: Command = {
  name: "sink",
  usage: USAGE,
  flags: SINK_FLAGS,
  connections: ["id", "kafka", "aws", "bucket"],
  exits: {
    4: "Kafka or the bucket",
    130: "stopped by SIGINT/SIGTERM (the objects in hand written, their offsets committed)",
  },
  output: true,
  async run(flags, interrupt) {
    const config = loadConfig(flags);
    const options = parseSinkOptions(flags, config.id);
    // A local bucket is made now, or refused now (a file in its place, unwritable), exit 4.
    if (!isS3Location(config.bucket)) await prepareBucketDir(config.bucket);
    const bucket = await openBucket(config.bucket, {
      region: config.aws.region,
      endpoint: stringFlag(flags, "s3-endpoint"),
    }).catch((error) => {
      throw new UsageError(`--bucket: ${(error as Error).message}`);
    });
    interrupt.started();
    const summary = await new BucketSink(config, bucket, options).run(interrupt.signal);
    if (!flags.quiet) console.error(sinkSummaryText(summary));
    if (flags.json) console.log(JSON.stringify(summary));
    return 0;
  },
};

/** `deno task sink`: returns the exit code (errors are thrown as `CliError`s). */
export function main(args: string[]): Promise<number> {
  return runCommand(COMMAND, args);
}
