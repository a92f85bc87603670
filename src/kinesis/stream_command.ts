/**
 * `deno task stream`: streams the RDS tables into the Kinesis streams
 * `streaming-<id>-pin`, `-geo`, `-user`, directly with PutRecords or, with
 * `--via api URL`, through an API Gateway Kinesis proxy as the original did.
 * Reading, ordering, pacing, checkpoints, progress and the summary are the
 * shared transfer driver's (`transfer.ts`), the same as `batch`.
 *
 * @example
 * ```ts
 * import { main } from "./stream_command.ts";
 * const exitCode = await main(["--limit", "100", "--shards", "2"]);
 * ```
 */
import { choiceFlag, type Flags, intFlag } from "../core/cli.ts";
import { type Command, runCommand } from "../core/command.ts";
import { loadConfig, type PipelineConfig } from "../core/config.ts";
import type { DeliveryTarget } from "../transfer/target.ts";
import { viaFlag } from "../transfer/via.ts";
import { ApiTransport } from "./api_transport.ts";
import { SdkTransport } from "./sdk_transport.ts";
import { KinesisTarget } from "./target.ts";
import {
  parseTransferOptions,
  runTransfer,
  TRANSFER_FLAGS,
  TRANSFER_USAGE,
} from "../transfer/driver.ts";

const STREAM_FLAGS = {
  ...TRANSFER_FLAGS,
  via: { type: "string" as const },
  shards: { type: "string" as const },
  "partition-key": { type: "string" as const },
  "put-records": { type: "string" as const },
  "in-flight": { type: "string" as const },
  "api-route": { type: "string" as const },
  "api-concurrency": { type: "string" as const },
  "throttle-wait-ms": { type: "string" as const },
  "throttle-wait": {
    type: "string" as const,
    deprecated: { use: "throttle-wait-ms", scale: 1000 },
  },
};

const USAGE = `Usage: deno task stream [flags]

Streams the tables pinterest_data, geolocation_data and user_data into the Kinesis
streams streaming-<id>-pin, streaming-<id>-geo and streaming-<id>-user (created if
missing, and waited on until ACTIVE).

Kinesis flags:
  --via kinesis|api URL  kinesis: PutRecords with the AWS SDK (default);
                         api URL: an API Gateway Kinesis proxy (the original's path):
                         PUT /streams/<stream>/records (or /record), GET and POST /streams/<stream>
  --shards N             shards of streams created here (1)
  --partition-key MODE   index (the row index: stable, default) | uuid (random, as the original)
  --put-records N        records per PutRecords call, 1..500 (500); calls also stay under 5 MiB
  --in-flight N          PutRecords calls (--via api: batch requests) in flight per stream (2)
  --api-route R          --via api: records (batch route, default) | record (one PUT per record)
  --api-concurrency N    --via api --api-route record: requests in flight (8)
  --throttle-wait-ms MS  keep retrying throttled records this long before failing (600000)
                         (throttling slows sending down; records are never dropped)
  API key for --via api: PINPIPE_API_KEY (sent as x-api-key), never a flag.

${TRANSFER_USAGE}`;

/** Builds the target `--via` asks for. */
export function streamTarget(config: PipelineConfig, flags: Flags): DeliveryTarget {
  const via = viaFlag(flags, {
    direct: "kinesis",
    proxy: "api",
    urlName: "the API's URL",
    example: "https://...",
  });
  const options = {
    id: config.id,
    shards: intFlag(flags, "shards", 1, { min: 1, max: 10_000 }),
    partitionKey: choiceFlag(flags, "partition-key", ["index", "uuid"] as const, "index"),
    batchRecords: intFlag(flags, "put-records", 500, { min: 1, max: 500 }),
    inFlight: intFlag(flags, "in-flight", 2, { min: 1, max: 16 }),
    throttleTimeoutMs: intFlag(flags, "throttle-wait-ms", 600_000, { min: 1 }),
  };
  if (via.name === "kinesis") {
    return new KinesisTarget({
      ...options,
      transport: new SdkTransport(config.kinesis),
    });
  }
  const apiKey = Deno.env.get("PINPIPE_API_KEY");
  const transport = new ApiTransport({
    url: via.url,
    route: choiceFlag(flags, "api-route", ["records", "record"] as const, "records"),
    concurrency: intFlag(flags, "api-concurrency", 8, { min: 1, max: 256 }),
    headers: apiKey ? { "x-api-key": apiKey } : {},
  });
  return new KinesisTarget({ ...options, transport });
}

/** `deno task stream`. */
export const COMMAND: Command = {
  name: "stream",
  usage: USAGE,
  flags: STREAM_FLAGS,
  connections: ["id", "mysql", "kinesis", "aws", "state"],
  output: true,
  positionals: true,
  async run(flags, interrupt) {
    const config = loadConfig(flags);
    const options = parseTransferOptions(flags);
    await runTransfer(config, options, streamTarget(config, flags), interrupt);
    return 0;
  },
};

/** `deno task stream`: returns the exit code (errors are thrown as `CliError`s). */
export function main(args: string[]): Promise<number> {
  return runCommand(COMMAND, args);
}
