/**
 * Resume points, one small JSON file each, written only after the target
 * acknowledged what they record, and atomically (temp file, then rename), so
 * a crash leaves either the old checkpoint or the new one, never half of one.
 *
 * Files: `<state-dir>/<id>/<target>/sequential-<kind>.json` (last index) and
 * `<state-dir>/<id>/<target>/random-seed<S>.json` (samples done).
 *
 * @example
 * ```ts
 * import { CheckpointStore } from "./checkpoint.ts";
 * const store = new CheckpointStore(".local/state", "0123456789ab", "kafka");
 * const saved = await store.load(store.sequentialFile("geo"));
 * ```
 */
import { dirname, join } from "node:path";
import { CliError } from "../core/errors.ts";
import type { TableKind } from "../core/tables.ts";

/** What a checkpoint holds. */
export interface Checkpoint {
  version: 1;
  /** The target's name: kafka, kafka-rest, kinesis... */
  target: string;
  id: string;
  order: "sequential" | "random";
  /** Sequential: the table, and the last index whose rows were all acknowledged. */
  kind?: TableKind;
  lastIndex?: number;
  /** Random: the seed, and how many samples were acknowledged. */
  seed?: number;
  samples?: number;
  /** Rows acknowledged so far, over all runs since the start, per table. */
  acknowledged: Partial<Record<TableKind, number>>;
  /** The target's own positions after the last acknowledged send (`DeliveryTarget.position`). */
  positions: Partial<Record<TableKind, unknown>>;
  updatedAt: string;
}

/** Reads and writes the checkpoints of one pipeline id and target. */
export class CheckpointStore {
  readonly dir: string;

  constructor(stateDir: string, id: string, target: string) {
    this.dir = join(stateDir, id, target);
  }

  /** The file of a sequential run over table `kind`. */
  sequentialFile(kind: TableKind): string {
    return join(this.dir, `sequential-${kind}.json`);
  }

  /** The file of a random run with `seed`. */
  randomFile(seed: number): string {
    return join(this.dir, `random-seed${seed}.json`);
  }

  /** The checkpoint in `path`, or undefined if there is none. A damaged file is an error naming it. */
  async load(path: string): Promise<Checkpoint | undefined> {
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw new CliError(`cannot read checkpoint ${path}: ${(error as Error).message}`);
    }
    try {
      const checkpoint = JSON.parse(text) as Checkpoint;
      if (checkpoint.version !== 1 || typeof checkpoint.acknowledged !== "object") {
        throw new Error("not a pinpipe checkpoint (version 1)");
      }
      return checkpoint;
    } catch (error) {
      throw new CliError(
        `checkpoint ${path} is damaged (${(error as Error).message}); ` +
          `remove it or run with --from-start`,
      );
    }
  }

  /** Writes `checkpoint` to `path` atomically: a temp file in the same folder, then a rename. */
  async save(path: string, checkpoint: Checkpoint): Promise<void> {
    const temp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
    const text = JSON.stringify(checkpoint, null, 2) + "\n";
    // The directory is made when a write finds it missing, not before every save.
    await Deno.writeTextFile(temp, text).catch(async (error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      await Deno.mkdir(dirname(path), { recursive: true });
      await Deno.writeTextFile(temp, text);
    });
    await Deno.rename(temp, path);
  }

  /** Removes the checkpoint at `path`, if any (`--from-start`). */
  async remove(path: string): Promise<void> {
    await Deno.remove(path).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
  }
}
