/**
 * `deno task batch`: streams the RDS tables into the Kafka topics
 * `<id>.pin`, `<id>.geo`, `<id>.user`, directly with kafkajs or, with
 * `--via rest URL`, through a Kafka REST Proxy v2 endpoint as the original
 * did through API Gateway. Resumable: see `transfer.ts`.
 *
 * @example
 * ```ts
 * import { main } from "./batch_command.ts";
 * const exitCode = await main(["--limit", "100", "--json"]);
 * ```
 */
import { choiceFlag, type Flags, intFlag, onOffFlag } from "../core/cli.ts";
import { type Command, runCommand } from "../core/command.ts";
import { loadConfig, type PipelineConfig } from "../core/config.ts";
import type { DeliveryTarget } from "../transfer/target.ts";
import { KafkaTarget } from "./target.ts";
import { KafkaRestTarget } from "./rest_target.ts";
import { viaFlag } from "../transfer/via.ts";
import {
  parseTransferOptions,
  runTransfer,
  TRANSFER_FLAGS,
  TRANSFER_USAGE,
} from "../transfer/driver.ts";

const BATCH_FLAGS = {
  ...TRANSFER_FLAGS,
  via: { type: "string" as const },
  partitions: { type: "string" as const },
  "replication-factor": { type: "string" as const },
  compression: { type: "string" as const },
  "broker-wait-ms": { type: "string" as const },
  "broker-wait": { type: "string" as const, deprecated: { use: "broker-wait-ms", scale: 1000 } },
  "kafka-tls": { type: "string" as const },
  "request-records": { type: "string" as const },
  "producer-thread": { type: "string" as const },
};

const USAGE = `Usage: deno task batch [flags]

Streams the tables pinterest_data, geolocation_data and user_data into the Kafka
topics <id>.pin, <id>.geo and <id>.user (key: the row index; value: the record).

Kafka flags:
  --via kafka|rest URL  kafka: kafkajs, idempotent producer, acks=all (default);
                        rest URL: POST /topics/<topic> to a Kafka REST Proxy v2
                        (the original's API Gateway path), many records per request
  --partitions N        partitions of topics created here (1)
  --replication-factor N  replication factor of topics created here (1; 3 on MSK)
  --compression C       none | gzip (none)
  --broker-wait-ms MS   keep retrying an unreachable broker this long, then fail (120000)
  --kafka-tls on|off    TLS for SASL (on with --kafka-auth iam|scram, as MSK needs)
  --request-records N   --via rest: records per HTTP request (500)
  --producer-thread T   worker (kafkajs encodes on a second thread; default) | main

${TRANSFER_USAGE}`;

/** Builds the target `--via` asks for. */
export function batchTarget(config: PipelineConfig, flags: Flags): DeliveryTarget {
  const via = viaFlag(flags, {
    direct: "kafka",
    proxy: "rest",
    urlName: "the endpoint URL",
    example: "http://host:port",
  });
  const waitMs = intFlag(flags, "broker-wait-ms", 120_000, { min: 1 });
  if (via.name === "rest") {
    return new KafkaRestTarget({
      id: config.id,
      url: via.url.href,
      recordsPerRequest: intFlag(flags, "request-records", 500, { min: 1, max: 100_000 }),
      giveUpAfterMs: waitMs,
    });
  }
  return new KafkaTarget({
    id: config.id,
    kafka: config.kafka,
    region: config.aws.region,
    partitions: intFlag(flags, "partitions", 1, { min: 1, max: 10_000 }),
    replicationFactor: intFlag(flags, "replication-factor", 1, { min: 1, max: 32 }),
    compression: choiceFlag(flags, "compression", ["none", "gzip"] as const, "none"),
    brokerWaitMs: waitMs,
    worker:
      choiceFlag(flags, "producer-thread", ["worker", "main"] as const, "worker") === "worker",
    tls: onOffFlag(flags, "kafka-tls"),
  });
}

/** `deno task batch`. */
export const COMMAND: Command = {
  name: "batch",
  usage: USAGE,
  flags: BATCH_FLAGS,
  connections: ["id", "mysql", "kafka", "aws", "state"],
  exits: {
    1: "other failure; another copy holds the run lock; a checkpoint damaged or unwritable",
    3: "the database",
    4: "Kafka",
    5: "a record Kafka refused",
    130: "stopped by SIGINT/SIGTERM (the batch in flight sent and checkpointed)",
  },
  output: true,
  positionals: true,
  async run(flags, interrupt) {
    const config = loadConfig(flags);
    const options = parseTransferOptions(flags);
    await runTransfer(config, options, batchTarget(config, flags), interrupt);
    return 0;
  },
};

/** `deno task batch`: returns the exit code (errors are thrown as `CliError`s). */
export function main(args: string[]): Promise<number> {
  return runCommand(COMMAND, args);
}
