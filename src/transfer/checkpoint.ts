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
      const problem = shapeProblem(checkpoint);
      if (problem) throw new Error(problem);
      return checkpoint;
    } catch (error) {
      throw new CliError(
        `checkpoint ${path} is damaged (${(error as Error).message}); ` +
          `remove it or run with --from-start`,
      );
    }
  }

  /**
   * Writes `checkpoint` to `path` atomically: a temp file in the same folder,
   * flushed to disk, then renamed over the old one, so a crash or a full
   * disk leaves the previous checkpoint whole. A failure (a full disk) is one
   * line naming `path`, and leaves no temp file behind.
   */
  async save(path: string, checkpoint: Checkpoint): Promise<void> {
    const temp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
    const bytes = new TextEncoder().encode(JSON.stringify(checkpoint, null, 2) + "\n");
    try {
      // The directory is made when a write finds it missing, not before every save.
      await writeFlushed(temp, bytes).catch(async (error) => {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
        await Deno.mkdir(dirname(path), { recursive: true });
        await writeFlushed(temp, bytes);
      });
      await Deno.rename(temp, path);
    } catch (error) {
      await Deno.remove(temp).catch(() => {});
      throw new CliError(`cannot write checkpoint ${path}: ${(error as Error).message}`);
    }
  }

  /** Removes the checkpoint at `path`, if any (`--from-start`). */
  async remove(path: string): Promise<void> {
    await Deno.remove(path).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
  }
}

/**
 * What is wrong with a parsed checkpoint, or undefined: a file cut short or
 * overwritten must stop the run, never read as "nothing done yet".
 */
function shapeProblem(checkpoint: Checkpoint): string | undefined {
  if (typeof checkpoint !== "object" || checkpoint === null || checkpoint.version !== 1) {
    return "not a pinpipe checkpoint (version 1)";
  }
  if (typeof checkpoint.acknowledged !== "object" || checkpoint.acknowledged === null) {
    return "no acknowledged counts";
  }
  if (checkpoint.order === "sequential" && !Number.isSafeInteger(checkpoint.lastIndex)) {
    return "no last index";
  }
  if (
    checkpoint.order === "random" &&
    !(Number.isSafeInteger(checkpoint.samples) && checkpoint.samples! >= 0)
  ) {
    return "no sample count";
  }
  if (checkpoint.order !== "sequential" && checkpoint.order !== "random") return "no order";
  return undefined;
}

/** Writes `bytes` to a new file `path` and flushes them to disk before returning. */
async function writeFlushed(path: string, bytes: Uint8Array): Promise<void> {
  const file = await Deno.open(path, { write: true, createNew: true });
  try {
    for (let written = 0; written < bytes.length;) {
      written += await file.write(bytes.subarray(written));
    }
    // Renamed before its data is on disk, a crash could leave an empty file under the final name.
    await file.syncData();
  } finally {
    file.close();
  }
}
