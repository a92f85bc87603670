/**
 * A local stack beside the shared one: `infra.sh local` with a directory and
 * ports of its own (`PINPIPE_LOCAL_DIR`, `PINPIPE_*_PORT`), and the
 * environment that points pinpipe's commands at it. The crash tests and the
 * chaos run each build on this, so that killing its servers disturbs nothing
 * else. With `kafkaBrokers: 3`, Kafka is a cluster of three nodes (services
 * `kafka`, `kafka2`, `kafka3`; node i on the Kafka port + 2(i-1)).
 *
 * @example
 * ```ts
 * import { LocalStack } from "./local_stack.ts";
 * const stack = new LocalStack("/tmp/stack", { mysql: 23306, kafka: 29092, controller: 29093, kinesis: 24567 });
 * const { code } = await stack.runInfra(["up"]);
 * console.log(code, await stack.pid("kafka"));
 * ```
 */
import { readStackEnv } from "../../src/core/config.ts";

/** The services `infra.sh local` runs, by the names of their pid files. */
export type Service = "mysql" | "kafka" | "kinesis";
export const SERVICES: readonly Service[] = ["mysql", "kafka", "kinesis"];
/** A Kafka node of a cluster: `kafka` is node 1, `kafka2` node 2, ... */
export type KafkaNode = "kafka" | `kafka${number}`;

export interface StackPorts {
  mysql: number;
  kafka: number;
  controller: number;
  kinesis: number;
}

/** How a stack is made. */
export interface StackOptions {
  /** Kafka nodes (1, 3 or 5; default 1). */
  kafkaBrokers?: number;
  /** Keep kinesalite's streams on disk here, so that killing it loses none (default: in memory). */
  kinesisPath?: string;
}

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const REPOSITORY = new URL("../../", import.meta.url).pathname;

export class LocalStack {
  readonly kafkaBrokers: number;

  constructor(
    readonly dir: string,
    readonly ports: StackPorts,
    readonly options: StackOptions = {},
  ) {
    this.kafkaBrokers = options.kafkaBrokers ?? 1;
  }

  /** The Kafka service of node `node` (1-based) and its broker address. */
  kafkaNode(node: number): { service: KafkaNode; address: string } {
    return {
      service: node === 1 ? "kafka" : `kafka${node}`,
      address: `127.0.0.1:${this.ports.kafka + 2 * (node - 1)}`,
    };
  }

  /** The environment of `infra.sh` and of every command run against this stack. */
  env(): Record<string, string> {
    const secrets = this.secrets();
    const brokers = Array.from({ length: this.kafkaBrokers }, (_, i) => this.kafkaNode(i + 1));
    return {
      PINPIPE_LOCAL_DIR: this.dir,
      PINPIPE_MYSQL_PORT: String(this.ports.mysql),
      PINPIPE_KAFKA_PORT: String(this.ports.kafka),
      PINPIPE_KAFKA_CONTROLLER_PORT: String(this.ports.controller),
      PINPIPE_KINESIS_PORT: String(this.ports.kinesis),
      PINPIPE_KAFKA_BROKERS_COUNT: String(this.kafkaBrokers),
      ...(this.options.kinesisPath ? { PINPIPE_KINESIS_PATH: this.options.kinesisPath } : {}),
      PINPIPE_MYSQL_HOST: "127.0.0.1",
      PINPIPE_KAFKA_BROKERS: brokers.map((broker) => broker.address).join(","),
      PINPIPE_KINESIS_ENDPOINT: `http://127.0.0.1:${this.ports.kinesis}`,
      PINPIPE_STATE_DIR: `${this.dir}/state`,
      // Never the shared stack's secrets: this stack's own, once `up` made them.
      PINPIPE_MYSQL_PASSWORD: secrets.PINPIPE_MYSQL_PASSWORD ?? "",
      PINPIPE_MYSQL_ADMIN_USER: secrets.PINPIPE_MYSQL_ADMIN_USER ?? "",
      PINPIPE_MYSQL_ADMIN_PASSWORD: secrets.PINPIPE_MYSQL_ADMIN_PASSWORD ?? "",
    };
  }

  /** The passwords `infra.sh` generated for this stack (none before the first `up`). */
  secrets(): Record<string, string> {
    return readStackEnv(`${this.dir}/stack.env`);
  }

  /** `bash infra.sh local ARGS...` against this stack. */
  async runInfra(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const output = await new Deno.Command("bash", {
      args: ["infra.sh", "local", ...args],
      cwd: REPOSITORY,
      env: this.env(),
      stdout: "piped",
      stderr: "piped",
    }).output();
    return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
  }

  /**
   * The last `lines` lines of each server log in `logs/`, headed by its path: the evidence
   * a failed start or a failed test prints before the stack's directory goes.
   */
  async logTails(lines = 40): Promise<string> {
    const logs = `${this.dir}/logs`;
    const names: string[] = [];
    try {
      for await (const entry of Deno.readDir(logs)) if (entry.isFile) names.push(entry.name);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return `(no logs in ${logs})`;
      throw error;
    }
    const tails = await Promise.all(
      names.sort().map(async (name) => {
        const text = (await Deno.readTextFile(`${logs}/${name}`)).trimEnd();
        return `--- the last ${lines} lines of ${logs}/${name}\n` +
          text.split("\n").slice(-lines).join("\n");
      }),
    );
    return tails.join("\n");
  }

  /** The pid of a service from its pid file, or undefined when it has none. */
  async pid(service: Service | KafkaNode): Promise<number | undefined> {
    try {
      return Number((await Deno.readTextFile(`${this.dir}/run/${service}.pid`)).trim());
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    }
  }
}
