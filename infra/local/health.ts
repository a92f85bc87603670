/**
 * Real protocol health checks for the local stack, used by `infra.sh`:
 * a SQL query on MariaDB, a metadata request on Kafka, a ListStreams on
 * kinesalite. Exits 0 when the service answers, 1 with the reason when not.
 *
 * Usage: deno run -A infra/local/health.ts <mysql|kafka|kinesis> [--wait SECONDS]
 */
import { parseArgs } from "node:util";
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

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: { wait: { type: "string", default: "0" } },
    allowPositionals: true,
  });
  const check = CHECKS[positionals[0]];
  if (!check) {
    console.error(`usage: health.ts <${Object.keys(CHECKS).join("|")}> [--wait SECONDS]`);
    Deno.exit(2);
  }
  try {
    console.log(
      await retry(check, { baseMs: 125, capMs: 250, deadlineMs: Number(values.wait) * 1000 }),
    );
    Deno.exit(0);
  } catch (error) {
    console.error(`${positionals[0]}: ${(error as Error).message}`);
    Deno.exit(1);
  }
}
