/**
 * A Kafka broker of its own for one test: a single-node KRaft broker from
 * the local stack's jars, in a temp directory, on free ports, optionally
 * with SASL/SCRAM and ACLs. Its output goes to `broker.log` there; a start
 * that fails says so with the log's last lines. A test may stop and start it without disturbing
 * the shared broker.
 *
 * @example
 * ```ts
 * import { startPrivateBroker } from "./private_broker.ts";
 * const broker = await startPrivateBroker();
 * console.log(broker.brokers); // ["127.0.0.1:<port>"]
 * await broker.destroy();
 * ```
 */
import { freePort, ROOT, waitFor } from "./processes.ts";

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

/** The ports a private broker listens on. */
interface BrokerPorts {
  /** Where clients connect. */
  client: number;
  controller: number;
  /** Broker-to-broker traffic, apart from clients only when SASL is on. */
  internal: number;
}

/** The lines of `server.properties` every private broker has: one node, one replica. */
function baseProperties(dir: string, ports: BrokerPorts): string[] {
  return [
    "process.roles=broker,controller",
    "node.id=1",
    `controller.quorum.voters=1@127.0.0.1:${ports.controller}`,
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
}

/** Listeners with SASL/SCRAM-SHA-512 for clients, ACLs enforced, `admin` a super user. */
function scramListeners({ client, internal, controller }: BrokerPorts): string[] {
  return [
    `listeners=EXTERNAL://127.0.0.1:${client},INTERNAL://127.0.0.1:${internal},CONTROLLER://127.0.0.1:${controller}`,
    `advertised.listeners=EXTERNAL://127.0.0.1:${client},INTERNAL://127.0.0.1:${internal}`,
    "listener.security.protocol.map=CONTROLLER:PLAINTEXT,INTERNAL:PLAINTEXT,EXTERNAL:SASL_PLAINTEXT",
    "inter.broker.listener.name=INTERNAL",
    "sasl.enabled.mechanisms=SCRAM-SHA-512",
    "listener.name.external.scram-sha-512.sasl.jaas.config=" +
    "org.apache.kafka.common.security.scram.ScramLoginModule required;",
    "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
    "super.users=User:ANONYMOUS;User:admin",
    "allow.everyone.if.no.acl.found=false",
  ];
}

/** Plaintext listeners, no authentication. */
function plainListeners({ client, controller }: BrokerPorts): string[] {
  return [
    `listeners=PLAINTEXT://127.0.0.1:${client},CONTROLLER://127.0.0.1:${controller}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${client}`,
    "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
    "inter.broker.listener.name=PLAINTEXT",
  ];
}

/** Writes the broker's `server.properties` and a quiet `log4j.properties` into `dir`. */
async function writeConfig(dir: string, ports: BrokerPorts, scram?: ScramUsers): Promise<void> {
  const lines = [
    ...baseProperties(dir, ports),
    ...(scram ? scramListeners(ports) : plainListeners(ports)),
  ];
  await Deno.writeTextFile(`${dir}/server.properties`, lines.join("\n") + "\n");
  await Deno.writeTextFile(
    `${dir}/log4j.properties`,
    "log4j.rootLogger=WARN, stdout\nlog4j.appender.stdout=org.apache.log4j.ConsoleAppender\n" +
      "log4j.appender.stdout.layout=org.apache.log4j.PatternLayout\n",
  );
}

/** A small JVM on the stack's Kafka jars, logging with the config in `dir`. */
function kafkaJava(dir: string, args: string[]): Deno.Command {
  return new Deno.Command("java", {
    args: [
      "-Xms128m",
      "-Xmx384m",
      "-XX:TieredStopAtLevel=1",
      `-Dlog4j.configuration=file:${dir}/log4j.properties`,
      "-cp",
      `${ROOT}.cache/kafka/libs/*`,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  });
}

/** The last `lines` lines of the file at `path` ("" when it does not exist). */
async function tail(path: string, lines = 40): Promise<string> {
  const text = await Deno.readTextFile(path).catch(() => "");
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/** Formats the KRaft storage in `dir`, with the SCRAM users' credentials if any. */
async function formatStorage(dir: string, scram?: ScramUsers): Promise<void> {
  const args = [
    "kafka.tools.StorageTool",
    "format",
    "-t",
    crypto.randomUUID().replaceAll("-", "").slice(0, 22),
    "-c",
    `${dir}/server.properties`,
  ];
  for (const [name, password] of Object.entries(scram ?? {})) {
    args.push("--add-scram", `SCRAM-SHA-512=[name=${name},password=${password}]`);
  }
  const formatted = await kafkaJava(dir, args).output();
  if (formatted.code !== 0) {
    throw new Error(
      `formatting the private broker failed: ${new TextDecoder().decode(formatted.stderr)}`,
    );
  }
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
async function listening(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return true;
  } catch {
    return false;
  }
}

/** Sends SIGTERM, then SIGKILL if `child` is still running after `graceMs`; waits for the exit. */
async function terminate(child: Deno.ChildProcess, graceMs: number): Promise<void> {
  try {
    child.kill("SIGTERM");
  } catch {
    return; // already gone
  }
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, graceMs);
  await child.status;
  clearTimeout(timer);
}

/**
 * Starts a single-node KRaft broker from the stack's jars on free ports in a
 * temp directory. With `scram`, clients connect with SASL_PLAINTEXT and
 * SCRAM-SHA-512, ACLs are enforced, and the user `admin` is a super user.
 */
export async function startPrivateBroker(scram?: ScramUsers): Promise<PrivateBroker> {
  const dir = await Deno.makeTempDir({ prefix: "pinpipe-kafka-" });
  const ports = { client: freePort(), controller: freePort(), internal: freePort() };
  await writeConfig(dir, ports, scram);
  await formatStorage(dir, scram);
  let child: Deno.ChildProcess | undefined;
  const broker: PrivateBroker = {
    port: ports.client,
    brokers: [`127.0.0.1:${ports.client}`],
    async start() {
      // The broker's output goes to broker.log, so that a failed start can say why.
      const log = `${dir}/broker.log`;
      const running = kafkaJava(dir, ["kafka.Kafka", `${dir}/server.properties`]).spawn();
      child = running;
      // One handle per stream (a stream locks what it pipes to); appends interleave by line.
      const append = () => Deno.open(log, { write: true, create: true, append: true });
      const copied = Promise.all([
        running.stdout.pipeTo((await append()).writable),
        running.stderr.pipeTo((await append()).writable),
      ]);
      let exited: number | undefined;
      running.status.then(async ({ code }) => {
        await copied.catch(() => {});
        exited = code;
      });
      try {
        await waitFor(
          `the private broker to listen on 127.0.0.1:${ports.client}`,
          async () => {
            if (exited !== undefined) throw new Error(`exited with code ${exited}`);
            return await listening(ports.client);
          },
          60_000,
          200,
        );
      } catch (error) {
        await broker.stop();
        throw new Error(
          `the private broker (ports ${ports.client}, ${ports.controller}, ${ports.internal}) did not start: ${
            (error as Error).message
          }; the last lines of ${log}:\n${await tail(log)}`,
        );
      }
    },
    async stop() {
      if (!child) return;
      const running = child;
      child = undefined;
      await terminate(running, 20_000);
    },
    async destroy() {
      await broker.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
  await broker.start();
  return broker;
}
