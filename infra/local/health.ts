/**
 * Real protocol health checks for the local stack, used by `infra.sh`:
 * a SQL query on MariaDB, a metadata request on Kafka, a ListStreams on
 * kinesalite. Exits 0 when the service answers, 4 with the reason when not
 * (2 for bad arguments), through the commands' one runner (`runProgram`).
 *
 * Usage: deno run -A infra/local/health.ts <mysql|kafka|kinesis> [--wait-ms MS]
 */
import { intFlag, parseFlags } from "../../src/core/cli.ts";
import { runProgram } from "../../src/core/command.ts";
import { TargetError, UsageError } from "../../src/core/errors.ts";
import { loadConfig } from "../../src/core/config.ts";
import { kinesisClient } from "../../src/kinesis/client.ts";
import { ListStreamsCommand } from "@aws-sdk/client-kinesis";
import { KAFKA_RETRY, kafkaClient } from "../../src/kafka/client.ts";
import { retry } from "../../src/util/retry.ts";
import mysql from "mysql2/promise";

const config = loadConfig({ _: [] });

const CHECKS: Record<string, () => Promise<string>> = {
  async mysql() {
    const connection = await mysql.createConnection({ ...config.mysql, connectTimeout: 2000 });
    try {
      const [tables] = await connection.query(
        "SELECT table_name AS name, table_rows AS estimate FROM information_schema.tables" +
          " WHERE table_schema = ? ORDER BY table_name",
        [config.mysql.database],
      );
      const names = (tables as { name: string }[]).map((table) => table.name);
      return `query ok, ${config.mysql.database}: ${names.length} table(s) ${names.join(", ")}`;
    } finally {
      await connection.end();
    }
  },
  async kafka() {
    const kafka = await kafkaClient(config.kafka, "pinpipe-health", config.aws.region, {
      connectionTimeout: 2000,
      retry: KAFKA_RETRY.none,
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const cluster = await admin.describeCluster();
      return `metadata ok, ${cluster.brokers.length} broker(s), controller ${cluster.controller}`;
    } finally {
      await admin.disconnect();
    }
  },
  async kinesis() {
    const client = kinesisClient(config.kinesis);
    try {
      const answer = await client.send(new ListStreamsCommand({}));
      return `ListStreams ok, ${answer.StreamNames?.length ?? 0} stream(s)`;
    } finally {
      client.destroy();
    }
  },
};

const USAGE = `Usage: deno run -A infra/local/health.ts <${
  Object.keys(CHECKS).join("|")
}> [--wait-ms MS]

Asks the local service for a real answer (a query, a metadata request, ListStreams) and prints it.
  --wait-ms MS   keep asking this long before giving up (0: once)

Exit codes: 0 it answered, 2 bad arguments, 4 it did not answer (the reason on stderr).`;

/** Asks the service named in `args` until it answers or `--wait-ms` has passed. */
async function health(args: string[]): Promise<number> {
  const flags = parseFlags(
    args,
    {
      wait: { type: "string", deprecated: { use: "wait-ms", scale: 1000 } },
      "wait-ms": { type: "string" },
    },
    USAGE,
    { positionals: true },
  );
  const [service, ...rest] = flags._;
  const check = CHECKS[service];
  if (!check || rest.length) {
    throw new UsageError(
      `give one service of ${Object.keys(CHECKS).join(", ")}, got "${flags._.join(" ")}"`,
    );
  }
  const waitMs = intFlag(flags, "wait-ms", 0, { min: 0 });
  try {
    console.log(await retry(check, { baseMs: 125, capMs: 250, deadlineMs: waitMs }));
    return 0;
  } catch (error) {
    throw new TargetError(`${service}: ${(error as Error).message}`);
  }
}

if (import.meta.main) {
  Deno.exit(
    await runProgram("health", "deno run -A infra/local/health.ts", () => health(Deno.args)),
  );
}
