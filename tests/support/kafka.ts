/**
 * Helpers for the batch and sink tests, all against real parts: running
 * `main.ts batch|sink` as a child process, reading the source rows and the
 * bucket back, making topics and databases for one test, and a private
 * Kafka broker (same jars as the local stack, temp directory, free ports,
 * optionally with SASL/SCRAM and ACLs) that a test may stop and start
 * without disturbing the shared broker.
 *
 * @example
 * ```ts
 * import { randomId, runMain } from "./kafka.ts";
 * const { code } = await runMain(["batch", "--id", randomId(), "--limit", "10"]);
 * ```
 */
import mysql from "mysql2/promise";
import { join } from "node:path";
import { loadConfig, readStackEnv } from "../../src/core/config.ts";
import { kafkaClient } from "../../src/kafka/client.ts";
import { topicName } from "../../src/core/names.ts";
import { type SourceRecord, toRecord } from "../../src/core/records.ts";
import { TABLE_KINDS, type TableKind, TABLES } from "../../src/core/tables.ts";
import { parseObjectKey } from "../../src/core/bucket_layout.ts";
// Shared with the benchmarks, so kept beside the local stack.
export { deleteTopics, randomId, rootSql } from "../../infra/local/stack_admin.ts";

/** The repository root. */
export const ROOT = new URL("../..", import.meta.url).pathname;

/** A TCP port nothing listens on right now. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** The result of a finished child process. */
export interface Finished {
  code: number;
  stdout: string;
  stderr: string;
}

/** Starts `deno run -A main.ts <args>` in the repository root. */
export function spawnMain(args: string[], env: Record<string, string> = {}): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Collects a child's exit code and output. */
export async function finish(child: Deno.ChildProcess): Promise<Finished> {
  const { code, stdout, stderr } = await child.output();
  const text = new TextDecoder();
  return { code, stdout: text.decode(stdout), stderr: text.decode(stderr) };
}

/** Runs `main.ts <args>` to the end. */
export function runMain(args: string[], env: Record<string, string> = {}): Promise<Finished> {
  return finish(spawnMain(args, env));
}

/** Waits until `check` returns true, polling every `everyMs`; fails after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 60_000,
  everyMs = 100,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** The JSON in `path`, or undefined if it does not exist (yet). */
export function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(Deno.readTextFileSync(path)) as T;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof SyntaxError) return undefined;
    throw error;
  }
}

/** The records built from every source row of `kind`, as the reader user reads them. */
export async function sourceRecords(
  kind: TableKind,
  database = loadConfig({ _: [] }).mysql.database,
): Promise<SourceRecord[]> {
  const config = loadConfig({ _: [] }).mysql;
  const connection = await mysql.createConnection({ ...config, database, dateStrings: true });
  try {
    const spec = TABLES[kind];
    const [rows] = await connection.query(
      `SELECT ${spec.columns.map((c) => `\`${c}\``).join(", ")} FROM \`${spec.table}\``,
    );
    return (rows as Record<string, string | number | null>[]).map((row) => toRecord(kind, row));
  } finally {
    await connection.end();
  }
}

/** One object of the bucket: its topic, partition, start offset and records. */
export interface BucketObject {
  key: string;
  topic: string;
  partition: number;
  startOffset: number;
  records: unknown[];
}

/** Every object under `topics/<topic>/` in a local bucket, by start offset; other files fail. */
export async function readBucket(dir: string, topic: string): Promise<BucketObject[]> {
  const objects: BucketObject[] = [];
  const base = join(dir, "topics", topic);
  let partitions: Deno.DirEntry[] = [];
  try {
    partitions = [...Deno.readDirSync(base)];
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  for (const folder of partitions) {
    for (const file of Deno.readDirSync(join(base, folder.name))) {
      const key = `topics/${topic}/${folder.name}/${file.name}`;
      const parsed = parseObjectKey(key);
      if (!parsed) throw new Error(`unexpected file in the bucket: ${key}`);
      const text = await Deno.readTextFile(join(dir, key));
      if (!text.endsWith("\n")) throw new Error(`${key} does not end with a newline`);
      objects.push({
        key,
        ...parsed,
        records: text.slice(0, -1).split("\n").map((line) => JSON.parse(line)),
      });
    }
  }
  return objects.sort((a, b) => a.partition - b.partition || a.startOffset - b.startOffset);
}

/** Sorted JSON texts: comparing two of these compares multisets of records. */
export function multiset(records: readonly unknown[]): string[] {
  return records.map((record) => JSON.stringify(record)).sort();
}

/** The end offset of each partition of the pipeline's topics, on `brokers`. */
export async function endOffsets(
  id: string,
  brokers = loadConfig({ _: [] }).kafka.brokers,
  kinds: readonly TableKind[] = TABLE_KINDS,
): Promise<Record<string, number[]>> {
  const kafka = await kafkaClient({ brokers, auth: "none" }, "pinpipe-test");
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends: Record<string, number[]> = {};
    for (const kind of kinds) {
      const topic = topicName(id, kind);
      const offsets = await admin.fetchTopicOffsets(topic);
      ends[topic] = offsets.sort((a, b) => a.partition - b.partition).map((o) => Number(o.high));
    }
    return ends;
  } finally {
    await admin.disconnect();
  }
}

/** Environment for child commands: the reader password from `.local/stack.env`. */
export function stackEnv(): Record<string, string> {
  return readStackEnv(`${ROOT}.local/stack.env`);
}

/** A Kafka broker of its own for one test. */
export interface PrivateBroker {
  port: number;
  brokers: string[];
  /** Stops it (SIGTERM, then SIGKILL after 20 s) and waits for the exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops it and removes its directory. */
  destroy(): Promise<void>;
}

/** SCRAM users for a private broker with SASL: name to password. */
export type ScramUsers = Record<string, string>;

/**
 * Starts a single-node KRaft broker from the stack's jars on free ports in a
 * temp directory. With `scram`, clients connect with SASL_PLAINTEXT and
 * SCRAM-SHA-512, ACLs are enforced, and the user `admin` is a super user.
 */
export async function startPrivateBroker(scram?: ScramUsers): Promise<PrivateBroker> {
  const dir = await Deno.makeTempDir({ prefix: "pinpipe-kafka-" });
  const port = freePort();
  const controller = freePort();
  const internal = freePort();
  const lines = [
    "process.roles=broker,controller",
    "node.id=1",
    `controller.quorum.voters=1@127.0.0.1:${controller}`,
    "controller.listener.names=CONTROLLER",
    `log.dirs=${dir}/data`,
    "num.partitions=1",
    "auto.create.topics.enable=false",
    "offsets.topic.replication.factor=1",
    "offsets.topic.num.partitions=1",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    "group.initial.rebalance.delay.ms=0",
  ];
  if (scram) {
    lines.push(
      `listeners=EXTERNAL://127.0.0.1:${port},INTERNAL://127.0.0.1:${internal},CONTROLLER://127.0.0.1:${controller}`,
      `advertised.listeners=EXTERNAL://127.0.0.1:${port},INTERNAL://127.0.0.1:${internal}`,
      "listener.security.protocol.map=CONTROLLER:PLAINTEXT,INTERNAL:PLAINTEXT,EXTERNAL:SASL_PLAINTEXT",
      "inter.broker.listener.name=INTERNAL",
      "sasl.enabled.mechanisms=SCRAM-SHA-512",
      "listener.name.external.scram-sha-512.sasl.jaas.config=" +
        "org.apache.kafka.common.security.scram.ScramLoginModule required;",
      "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
      "super.users=User:ANONYMOUS;User:admin",
      "allow.everyone.if.no.acl.found=false",
    );
  } else {
    lines.push(
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controller}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
      "inter.broker.listener.name=PLAINTEXT",
    );
  }
  await Deno.writeTextFile(`${dir}/server.properties`, lines.join("\n") + "\n");
  await Deno.writeTextFile(
    `${dir}/log4j.properties`,
    "log4j.rootLogger=WARN, stdout\nlog4j.appender.stdout=org.apache.log4j.ConsoleAppender\n" +
      "log4j.appender.stdout.layout=org.apache.log4j.PatternLayout\n",
  );
  const classpath = `${ROOT}.cache/kafka/libs/*`;
  const java = (args: string[]) =>
    new Deno.Command("java", {
      args: [
        "-Xms128m",
        "-Xmx384m",
        "-XX:TieredStopAtLevel=1",
        `-Dlog4j.configuration=file:${dir}/log4j.properties`,
        "-cp",
        classpath,
        ...args,
      ],
      stdout: "null",
      stderr: "piped",
    });
  const format = [
    "kafka.tools.StorageTool",
    "format",
    "-t",
    crypto.randomUUID().replaceAll("-", "").slice(0, 22),
    "-c",
    `${dir}/server.properties`,
  ];
  for (const [name, password] of Object.entries(scram ?? {})) {
    format.push("--add-scram", `SCRAM-SHA-512=[name=${name},password=${password}]`);
  }
  const formatted = await java(format).output();
  if (formatted.code !== 0) {
    throw new Error(
      `formatting the private broker failed: ${new TextDecoder().decode(formatted.stderr)}`,
    );
  }
  let child: Deno.ChildProcess | undefined;
  const reachable = async () => {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return true;
    } catch {
      return false;
    }
  };
  const broker: PrivateBroker = {
    port,
    brokers: [`127.0.0.1:${port}`],
    async start() {
      child = java(["kafka.Kafka", `${dir}/server.properties`]).spawn();
      child.stderr.cancel();
      await waitFor("the private broker to listen", reachable, 60_000, 200);
    },
    async stop() {
      if (!child) return;
      const running = child;
      child = undefined;
      try {
        running.kill("SIGTERM");
      } catch {
        return; // already gone
      }
      const timer = setTimeout(() => {
        try {
          running.kill("SIGKILL");
        } catch { /* gone */ }
      }, 20_000);
      await running.status;
      clearTimeout(timer);
    },
    async destroy() {
      await broker.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
  await broker.start();
  return broker;
}

export { TABLE_KINDS, topicName };
