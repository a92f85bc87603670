/**
 * A second local stack for tests that crash servers on purpose: its own
 * directory and ports (`PINPIPE_LOCAL_DIR`, `PINPIPE_*_PORT`), started and
 * stopped with `infra.sh local`, so the shared stack keeps serving the rest.
 * With `kafkaBrokers: 3` its Kafka is a cluster of three nodes (services
 * `kafka`, `kafka2`, `kafka3`; node i on `kafka + 2(i-1)`).
 */
import assert from "node:assert/strict";

export type Service = "mysql" | "kafka" | "kinesis";
/** A Kafka node of a cluster: `kafka` is node 1, `kafka2` node 2, ... */
export type KafkaNode = "kafka" | `kafka${number}`;
export const SERVICES: readonly Service[] = ["mysql", "kafka", "kinesis"];

export interface Ports {
  mysql: number;
  kafka: number;
  controller: number;
  kinesis: number;
}

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** How a private stack is made. */
export interface StackOptions {
  /** Kafka nodes (1, 3 or 5; default 1). */
  kafkaBrokers?: number;
}

export class PrivateStack {
  private constructor(
    readonly dir: string,
    readonly ports: Ports,
    readonly kafkaBrokers: number,
  ) {}

  /** A stack in a fresh temporary directory on `ports` (not started yet). */
  static async create(ports: Ports, options: StackOptions = {}): Promise<PrivateStack> {
    return new PrivateStack(
      await Deno.makeTempDir({ prefix: "pinpipe_stack_" }),
      ports,
      options.kafkaBrokers ?? 1,
    );
  }

  /** The Kafka service of node `node` (1-based) and its broker address. */
  kafkaNode(node: number): { service: KafkaNode; address: string } {
    return {
      service: node === 1 ? "kafka" : `kafka${node}`,
      address: `127.0.0.1:${this.ports.kafka + 2 * (node - 1)}`,
    };
  }

  /** The environment that points infra.sh and pinpipe's commands at this stack. */
  env(): Record<string, string> {
    const secrets = this.#secrets();
    return {
      PINPIPE_LOCAL_DIR: this.dir,
      PINPIPE_MYSQL_PORT: String(this.ports.mysql),
      PINPIPE_KAFKA_PORT: String(this.ports.kafka),
      PINPIPE_KAFKA_CONTROLLER_PORT: String(this.ports.controller),
      PINPIPE_KINESIS_PORT: String(this.ports.kinesis),
      PINPIPE_KAFKA_BROKERS_COUNT: String(this.kafkaBrokers),
      PINPIPE_KAFKA_BROKERS: Array.from(
        { length: this.kafkaBrokers },
        (_, i) => this.kafkaNode(i + 1).address,
      ).join(","),
      PINPIPE_KINESIS_ENDPOINT: `http://127.0.0.1:${this.ports.kinesis}`,
      PINPIPE_STATE_DIR: `${this.dir}/state`,
      // Never the shared stack's secrets: this stack's own, once `up` made them.
      PINPIPE_MYSQL_PASSWORD: secrets.PINPIPE_MYSQL_PASSWORD ?? "",
      PINPIPE_MYSQL_ADMIN_PASSWORD: secrets.PINPIPE_MYSQL_ADMIN_PASSWORD ?? "",
    };
  }

  #secrets(): Record<string, string> {
    try {
      const text = Deno.readTextFileSync(`${this.dir}/stack.env`);
      return Object.fromEntries(
        text.split("\n").filter((line) => line.includes("=")).map((line) => {
          const at = line.indexOf("=");
          return [line.slice(0, at), line.slice(at + 1)];
        }),
      );
    } catch {
      return {};
    }
  }

  /** `bash infra.sh local ARGS...` against this stack. */
  async infra(...args: string[]) {
    const output = await new Deno.Command("bash", {
      args: ["infra.sh", "local", ...args],
      env: this.env(),
      stdout: "piped",
      stderr: "piped",
    }).output();
    return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
  }

  /** Runs `infra.sh local ARGS` and fails the test with its output when it fails. */
  async must(...args: string[]): Promise<string> {
    const run = await this.infra(...args);
    assert.equal(run.code, 0, `infra.sh local ${args.join(" ")}:\n${run.stdout}${run.stderr}`);
    return run.stdout;
  }

  async pid(service: Service | KafkaNode): Promise<number> {
    return Number((await Deno.readTextFile(`${this.dir}/run/${service}.pid`)).trim());
  }

  /** One value from a query run as MariaDB's root over this stack's socket. */
  async scalar(sql: string): Promise<string> {
    const output = await new Deno.Command("mariadb", {
      args: [
        "--no-defaults",
        `--socket=${this.dir}/mariadb/mysqld.sock`,
        "-u",
        "root",
        "-N",
        "-e",
        sql,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(output.code, 0, decode(output.stderr));
    return decode(output.stdout).trim();
  }

  /** Stops the stack and removes its directory. */
  async dispose(): Promise<void> {
    await this.infra("down");
    await Deno.remove(this.dir, { recursive: true });
  }
}

/** Whether a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

/** SIGKILL, then wait (at most 10 s) until the process is gone. */
export async function killHard(pid: number): Promise<void> {
  Deno.kill(pid, "SIGKILL");
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(!alive(pid), `pid ${pid} still running after SIGKILL`);
}
