/**
 * A second local stack for tests that crash servers on purpose: its own
 * directory and ports (`PINPIPE_LOCAL_DIR`, `PINPIPE_*_PORT`), started and
 * stopped with `infra.sh local`, so the shared stack keeps serving the rest.
 * With `kafkaBrokers: 3` its Kafka is a cluster of three nodes (services
 * `kafka`, `kafka2`, `kafka3`; node i on `kafka + 2(i-1)`).
 */
import assert from "node:assert/strict";
import {
  type KafkaNode,
  LocalStack,
  type Service,
  type StackOptions,
  type StackPorts,
} from "../../infra/local/local_stack.ts";
import { processRunning } from "../../src/core/process_state.ts";
import { pollUntil } from "../../src/util/retry.ts";

export { type KafkaNode, type Service, SERVICES } from "../../infra/local/local_stack.ts";
export type Ports = StackPorts;

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** A local stack in a temporary directory, with the assertions tests want. */
export class PrivateStack extends LocalStack {
  /** A stack in a fresh temporary directory on `ports` (not started yet). */
  static async create(ports: Ports, options: StackOptions = {}): Promise<PrivateStack> {
    return new PrivateStack(await Deno.makeTempDir({ prefix: "pinpipe_stack_" }), ports, options);
  }

  /** `bash infra.sh local ARGS...` against this stack. */
  infra(...args: string[]) {
    return this.runInfra(args);
  }

  /**
   * A stack on `ports` for the length of `body`: when `body` fails, the tail of each server
   * log goes to stderr before the stack and its directory are removed.
   */
  static async use(
    ports: Ports,
    options: StackOptions,
    body: (stack: PrivateStack) => Promise<void>,
  ): Promise<void> {
    const stack = await PrivateStack.create(ports, options);
    try {
      await body(stack);
    } catch (error) {
      console.error(`private stack in ${stack.dir} failed; its logs:\n${await stack.logTails()}`);
      throw error;
    } finally {
      await stack.dispose();
    }
  }

  /** Runs `infra.sh local ARGS` and fails the test with its output when it fails. */
  async must(...args: string[]): Promise<string> {
    const run = await this.infra(...args);
    assert.equal(run.code, 0, `infra.sh local ${args.join(" ")}:\n${run.stdout}${run.stderr}`);
    return run.stdout;
  }

  /** The pid of a running service; fails the test when it has none. */
  override async pid(service: Service | KafkaNode): Promise<number> {
    const pid = await super.pid(service);
    assert.ok(pid !== undefined, `${service} has no pid file in ${this.dir}/run`);
    return pid;
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

/** Whether a process with this pid runs (a zombie does not). */
export const alive: (pid: number) => boolean = processRunning;

/** SIGKILL, then wait (at most 10 s) until the process is gone (a zombie counts as gone). */
export async function killHard(pid: number): Promise<void> {
  Deno.kill(pid, "SIGKILL");
  await pollUntil(() => !alive(pid), { everyMs: 100, timeoutMs: 10_000 });
  assert.ok(!alive(pid), `pid ${pid} still running after SIGKILL`);
}
