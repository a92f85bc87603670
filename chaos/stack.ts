/**
 * The chaos run's own local stack: `infra.sh local` with a directory and
 * ports of its own (as a second stack beside the shared one), kinesalite
 * kept on disk (`PINPIPE_KINESIS_PATH`) so that killing it loses no stream,
 * and the environment that points pinpipe's commands at it.
 *
 * @example
 * ```ts
 * import { ChaosStack } from "./stack.ts";
 * const stack = new ChaosStack("/tmp/chaos", 22300);
 * await stack.up();
 * await stack.down();
 * ```
 */
import { loadConfig, type PipelineConfig } from "../src/core/config.ts";
import { LocalStack } from "../infra/local/local_stack.ts";

export { type Service, SERVICES } from "../infra/local/local_stack.ts";

/** A stack in `dir` on ports `base` (MariaDB), +1 (Kafka), +2 (its controller), +3 (kinesalite). */
export class ChaosStack extends LocalStack {
  /** `infra.sh` runs one at a time: two `up`s at once could both start a service. */
  #infraQueue: Promise<unknown> = Promise.resolve();

  constructor(dir: string, base: number) {
    super(dir, { mysql: base, kafka: base + 1, controller: base + 2, kinesis: base + 3 }, {
      kinesisPath: `${dir}/kinesalite`,
    });
  }

  /** The environment of `infra.sh` and of every command run against this stack. */
  override env(): Record<string, string> {
    return { ...super.env(), PINPIPE_BUCKET: `${this.dir}/bucket`, NO_COLOR: "1" };
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
    const run = await this.runInfra(args);
    const output = run.stdout + run.stderr;
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
}
