/**
 * Throwaway pipelines on the local stack, for tests and benchmarks: a fresh
 * pipeline id so runs never see each other's topics and streams, removing
 * them afterwards, and SQL as MariaDB's root over the stack's socket (to
 * make a database or a user for one run).
 *
 * @example
 * ```ts
 * import { deleteTopics, randomId } from "./stack_admin.ts";
 * const id = randomId(); // "3fa9c2e07b1d"
 * // ... deno task batch --id <id> ...
 * await deleteTopics(id);
 * ```
 */
import { DeleteStreamCommand, type KinesisClient } from "@aws-sdk/client-kinesis";
import { loadConfig } from "../../src/core/config.ts";
import { streamName, topicName } from "../../src/core/names.ts";
import { TABLE_KINDS } from "../../src/core/tables.ts";
import { kafkaClient } from "../../src/kafka/client.ts";

/** The MariaDB socket `./infra.sh local up` starts the server on. */
const MARIADB_SOCKET = new URL("../../.local/mariadb/mysqld.sock", import.meta.url).pathname;

/** A fresh 12-hex-digit pipeline id. */
export function randomId(): string {
  return [...crypto.getRandomValues(new Uint8Array(6))]
    .map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Deletes the pipeline's topics (those that exist) on `brokers`, by default the stack's. */
export async function deleteTopics(id: string, brokers?: string[]): Promise<void> {
  const kafka = await kafkaClient(
    { brokers: brokers ?? loadConfig({ _: [] }).kafka.brokers, auth: "none" },
    "pinpipe-test",
  );
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const topics = TABLE_KINDS.map((kind) => topicName(id, kind)).filter((t) => existing.has(t));
    if (topics.length) await admin.deleteTopics({ topics, timeout: 10_000 });
  } finally {
    await admin.disconnect();
  }
}

/** Deletes the three streams of `id`, ignoring the ones that do not exist. */
export async function deleteStreams(client: KinesisClient, id: string): Promise<void> {
  for (const kind of TABLE_KINDS) {
    await client.send(new DeleteStreamCommand({ StreamName: streamName(id, kind) })).catch(
      () => {},
    );
  }
}

/** Runs SQL as MariaDB's root over the local stack's socket; returns the rows as text. */
export async function rootSql(sql: string): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command("mariadb", {
    args: ["--no-defaults", `--socket=${MARIADB_SOCKET}`, "-u", "root", "-N", "-e", sql],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (code !== 0) throw new Error(`mariadb: ${new TextDecoder().decode(stderr)}`);
  return new TextDecoder().decode(stdout);
}
