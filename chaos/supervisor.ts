/**
 * One pipeline command (`main.ts batch|stream|sink|consume ...`) kept
 * running against the chaos stack: started again a second after it exits,
 * however it exits (killed, or ended by a fault it noticed), until stopped.
 * A command marked `finishes` that exits 0 has done its work and stays down.
 * Its output goes to `<logDir>/<name>.log`.
 *
 * @example
 * ```ts
 * import { Supervised } from "./supervisor.ts";
 * import { ChaosStack } from "./stack.ts";
 * const sink = new Supervised({ name: "sink", args: ["sink", "--id", "0123456789ab"] },
 *   new ChaosStack("/tmp/chaos", 22300), "/tmp/chaos/logs");
 * sink.start();
 * await sink.stop();
 * ```
 */
import { sleep } from "../src/util/retry.ts";
import type { ChaosStack } from "./stack.ts";

/** What to run. */
export interface ProcessSpec {
  name: string;
  /** Arguments of `main.ts`. */
  args: string[];
  /** Exit 0 means done (a producer with --limit): not started again. */
  finishes?: boolean;
}

const ROOT = new URL("../", import.meta.url).pathname;

/** A supervised command. */
export class Supervised {
  /** Starts so far (the first included). */
  starts = 0;
  /** Exit codes of the runs that ended on their own or on a fault (not stopped or held). */
  readonly exits: number[] = [];
  /** Exited 0 with `finishes`. */
  done = false;
  #child: Deno.ChildProcess | undefined;
  #stopping = false;
  #held = false;
  #loop: Promise<void> = Promise.resolve();

  constructor(
    readonly spec: ProcessSpec,
    readonly stack: ChaosStack,
    readonly logDir: string,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  /** Supervised still: neither stopped nor done. */
  get running(): boolean {
    return !this.#stopping && !this.done;
  }

  /** The running process's pid, if one runs. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  start(): void {
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      while (this.#held && !this.#stopping) await sleep(200);
      if (this.#stopping) break;
      const log = `${this.logDir}/${this.spec.name}.log`;
      await Deno.writeTextFile(
        log,
        `--- start ${this.starts + 1} at ${new Date().toISOString()}\n`,
        {
          append: true,
        },
      );
      if (this.#held) continue; // held while the line was written
      this.starts++;
      // bash only to send the output to the log; exec makes the pid the command's own.
      this.#child = new Deno.Command("bash", {
        args: [
          "-c",
          'exec "$@" >>"$CHAOS_LOG" 2>&1',
          "bash",
          Deno.execPath(),
          "run",
          "-A",
          "main.ts",
          ...this.spec.args,
        ],
        cwd: ROOT,
        env: { ...this.stack.commandEnv(), CHAOS_LOG: log },
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      const { code } = await this.#child.status;
      this.#child = undefined;
      if (!this.#stopping && !this.#held) this.exits.push(code);
      await Deno.writeTextFile(log, `--- exit ${code}\n`, { append: true });
      if (code === 0 && this.spec.finishes) {
        this.done = true;
        return;
      }
      if (!this.#stopping) await sleep(1_000);
    }
  }

  /** Kills the process and starts no other until `release` (a fault that needs it down). */
  async hold(): Promise<void> {
    this.#held = true;
    const child = this.#child;
    if (!child) return;
    this.signal("SIGCONT");
    this.signal("SIGKILL");
    await child.status;
  }

  /** Lets the supervisor start the command again. */
  release(): void {
    this.#held = false;
  }

  /** Sends `signal` to the running process; false when none runs. */
  signal(signal: Deno.Signal): boolean {
    const child = this.#child;
    if (!child) return false;
    try {
      Deno.kill(child.pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Stops supervising and ends the process: SIGCONT (in case it is
   * frozen), SIGTERM, and SIGKILL after `graceMs`. Returns its exit code.
   */
  async stop(graceMs = 60_000): Promise<number | undefined> {
    this.#stopping = true;
    const child = this.#child;
    if (child) {
      this.signal("SIGCONT");
      this.signal("SIGTERM");
      const timer = setTimeout(() => this.signal("SIGKILL"), graceMs);
      await child.status;
      clearTimeout(timer);
    }
    const { code } = child ? await child.status : { code: undefined };
    await this.#loop;
    return code;
  }
}
