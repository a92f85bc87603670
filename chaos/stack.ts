/**
 * The chaos run's own local stack: `infra.sh local` with a directory and
 * ports of its own (as a second stack beside the shared one), kinesalite
 * kept on disk (`PINPIPE_KINESIS_PATH`) so that killing it loses no stream,
 * and the environment that points pinpipe's commands at it.
 *
 * @example
 * ```ts
 * import { ChaosStack } from "./stack.ts";
 * const stack = new ChaosStack("/tmp/chaos", 41300);
 * await stack.up();
 * await stack.down();
 * ```
 */
import { loadConfig, type PipelineConfig } from "../src/core/config.ts";

/** The services `infra.sh local` runs, by the names of its pid files. */
export type Service = "mysql" | "kafka" | "kinesis";
export const SERVICES: readonly Service[] = ["mysql", "kafka", "kinesis"];

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** A stack in `dir` on ports `base` (MariaDB), +1 (Kafka), +2 (its controller), +3 (kinesalite). */
export class ChaosStack {
  /** `infra.sh` runs one at a time: two `up`s at once could both start a service. */
  #infraQueue: Promise<unknown> = Promise.resolve();

  constructor(readonly dir: string, readonly base: number) {}

  /** The environment of `infra.sh` and of every command run against this stack. */
  env(): Record<string, string> {
    const secrets = this.secrets();
    return {
      PINPIPE_LOCAL_DIR: this.dir,
      PINPIPE_MYSQL_PORT: String(this.base),
      PINPIPE_KAFKA_PORT: String(this.base + 1),
      PINPIPE_KAFKA_CONTROLLER_PORT: String(this.base + 2),
      PINPIPE_KINESIS_PORT: String(this.base + 3),
      PINPIPE_KINESIS_PATH: `${this.dir}/kinesalite`,
      PINPIPE_MYSQL_HOST: "127.0.0.1",
      PINPIPE_KAFKA_BROKERS: `127.0.0.1:${this.base + 1}`,
      PINPIPE_KINESIS_ENDPOINT: `http://127.0.0.1:${this.base + 3}`,
      PINPIPE_STATE_DIR: `${this.dir}/state`,
      PINPIPE_BUCKET: `${this.dir}/bucket`,
      PINPIPE_MYSQL_PASSWORD: secrets.PINPIPE_MYSQL_PASSWORD ?? "",
      PINPIPE_MYSQL_ADMIN_USER: secrets.PINPIPE_MYSQL_ADMIN_USER ?? "",
      PINPIPE_MYSQL_ADMIN_PASSWORD: secrets.PINPIPE_MYSQL_ADMIN_PASSWORD ?? "",
      NO_COLOR: "1",
    };
  }

  /** The passwords `infra.sh` generated for this stack (none before the first `up`). */
  secrets(): Record<string, string> {
    try {
      return Object.fromEntries(
        Deno.readTextFileSync(`${this.dir}/stack.env`).split("\n")
          .filter((line) => line.includes("="))
          .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
      );
    } catch {
      return {};
    }
  }

  /** The configuration of pipeline `id` on this stack. */
  config(id: string): PipelineConfig {
    return loadConfig({ _: [], id }, this.env(), {});
  }

  /** `infra.sh local ARGS`, after any still running; its output also goes to `infra.log`. */
  infra(...args: string[]): Promise<{ code: number; output: string }> {
    const run = this.#infraQueue.then(() => this.#infra(args));
    this.#infraQueue = run.catch(() => {});
    return run;
  }

  async #infra(args: string[]): Promise<{ code: number; output: string }> {
    const run = await new Deno.Command("bash", {
      args: ["infra.sh", "local", ...args],
      cwd: new URL("../", import.meta.url).pathname,
      env: this.env(),
      stdout: "piped",
      stderr: "piped",
    }).output();
    const output = decode(run.stdout) + decode(run.stderr);
    await Deno.writeTextFile(
      `${this.dir}/infra.log`,
      `$ infra.sh local ${args.join(" ")}\n${output}`,
      {
        append: true,
      },
    );
    return { code: run.code, output };
  }

  /** Starts (or restarts what is down) and waits until every service answers; throws if not. */
  async up(): Promise<void> {
    const { code, output } = await this.infra("up");
    if (code !== 0) throw new Error(`infra.sh local up failed:\n${output}`);
  }

  /** Stops this stack's services (by their pid files, nothing else). */
  async down(): Promise<void> {
    await this.infra("down");
  }

  /** The pid of a running service, from its pid file. */
  async pid(service: Service): Promise<number | undefined> {
    try {
      return Number((await Deno.readTextFile(`${this.dir}/run/${service}.pid`)).trim());
    } catch {
      return undefined;
    }
  }
}
