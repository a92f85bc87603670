/**
 * The simulator's output directory (`--out`), which it owns: sim writes only
 * below a directory that holds its marker file (`.pinpipe-sim`), and refuses
 * one that holds anything else without it, so that `--out .local` can never
 * replace the sink's bucket. One run at a time holds a directory: a lock
 * file (an advisory `flock`, released by the kernel when the process ends,
 * however it ends) names the holder's pid, and a second run refuses with it.
 * Each run writes its files into a staging folder of its own and renames
 * them into place when they are complete, so that a run that fails (a full
 * disk) leaves the earlier run's files whole and no partial file behind.
 *
 * @example
 * ```ts
 * import { claimOutDir } from "./out_dir.ts";
 * const out = await claimOutDir("out/sim");
 * try {
 *   const staged = await out.stage("bucket/user-0123456789ab-bucket");
 *   await Deno.mkdir(staged, { recursive: true }); // ... write the files there
 *   await out.publish("bucket/user-0123456789ab-bucket");
 * } finally {
 *   await out.release();
 * }
 * ```
 */
import { dirname, join } from "node:path";
import { CliError, UsageError } from "../src/core/errors.ts";

/** The file that marks a directory as sim's own. */
export const OUT_MARKER = ".pinpipe-sim";

/** The lock file: held by the run writing the directory, holding its pid. */
export const OUT_LOCK = ".pinpipe-sim.lock";

/** Staging folders are named this, then the run's pid. */
export const STAGING_PREFIX = ".pinpipe-sim-run-";

const MARKER_TEXT =
  "pinpipe sim output: everything in this directory was written by `deno task sim`, " +
  "and its next run replaces it.\n";

/** A claimed output directory: staging, publishing, and the lock. */
export interface OutDir {
  readonly path: string;
  /** The staging path of `relative` (a path under the directory), its parent folder made. */
  stage(relative: string): Promise<string>;
  /** Moves the staged `relative` into place, replacing what an earlier run left there. */
  publish(relative: string): Promise<void>;
  /** Removes the staging folder and releases the lock. */
  release(): Promise<void>;
}

/**
 * Claims `path` for this run: makes it if missing, refuses it (exit 2) when it holds files and
 * no marker, or (exit 1) when another run holds it; removes staging folders runs killed earlier
 * left behind.
 */
export async function claimOutDir(path: string): Promise<OutDir> {
  const entries = await listOrCreate(path);
  const foreign = entries.filter((name) => name !== OUT_MARKER && name !== OUT_LOCK);
  if (!entries.includes(OUT_MARKER) && foreign.length > 0) {
    const shown = foreign.sort().slice(0, 3).join(", ") + (foreign.length > 3 ? ", ..." : "");
    throw new UsageError(
      `--out ${path} holds files sim did not write (${shown}) and no ${OUT_MARKER} marker: ` +
        "give a new or empty directory",
    );
  }
  const lockPath = join(path, OUT_LOCK);
  const lock = await Deno.open(lockPath, { read: true, write: true, create: true });
  if (!await lock.tryLock(true)) {
    lock.close();
    const holder = await readHolder(lockPath);
    throw new CliError(
      `--out ${path} is in use by another sim run (${holder}): wait for it to end, ` +
        "or give another --out",
    );
  }
  try {
    await lock.truncate(0);
    await lock.write(
      new TextEncoder().encode(`pid ${Deno.pid}, since ${new Date().toISOString()}\n`),
    );
    await Deno.writeTextFile(join(path, OUT_MARKER), MARKER_TEXT);
    // Holding the lock, no other run is writing: staging folders left now are a dead run's.
    for (const name of foreign) {
      if (name.startsWith(STAGING_PREFIX)) await Deno.remove(join(path, name), { recursive: true });
    }
  } catch (error) {
    lock.close();
    throw writeError(path, error);
  }
  const staging = join(path, `${STAGING_PREFIX}${Deno.pid}`);
  return {
    path,
    async stage(relative: string): Promise<string> {
      const staged = join(staging, relative);
      await Deno.mkdir(dirname(staged), { recursive: true }).catch((error) => {
        throw writeError(staged, error);
      });
      return staged;
    },
    async publish(relative: string): Promise<void> {
      const staged = join(staging, relative);
      const target = join(path, relative);
      const earlier = join(staging, ".replaced");
      await Deno.mkdir(dirname(target), { recursive: true });
      // Renames only (no copy, so no space needed): the earlier run's files step aside whole.
      await Deno.rename(target, earlier).catch((error) => {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      });
      await Deno.rename(staged, target);
      await Deno.remove(earlier, { recursive: true }).catch((error) => {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      });
    },
    async release(): Promise<void> {
      try {
        await Deno.remove(staging, { recursive: true }).catch((error) => {
          if (!(error instanceof Deno.errors.NotFound)) throw error;
        });
        // The file stays (removing it would let a run that opened it lock a file no longer
        // there); only the holder's pid goes.
        await lock.truncate(0);
      } finally {
        lock.close();
      }
    },
  };
}

/** A write below `path` that failed, as one line naming it. */
export function writeError(path: string, error: unknown): CliError {
  if (error instanceof CliError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new CliError(`could not write ${path}: ${message}`);
}

/** The names in `path`, which is made (empty) if missing. */
async function listOrCreate(path: string): Promise<string[]> {
  try {
    const names: string[] = [];
    for await (const entry of Deno.readDir(path)) names.push(entry.name);
    return names;
  } catch (error) {
    if (error instanceof Deno.errors.NotADirectory) {
      throw new UsageError(`--out ${path} is a file, not a directory`);
    }
    if (!(error instanceof Deno.errors.NotFound)) throw writeError(path, error);
  }
  await Deno.mkdir(path, { recursive: true }).catch((error) => {
    throw error instanceof Deno.errors.AlreadyExists
      ? new UsageError(`--out ${path} is a file, not a directory`)
      : writeError(path, error);
  });
  return [];
}

/** What the lock file says of its holder (it writes its pid just after locking). */
async function readHolder(lockPath: string): Promise<string> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const text = (await Deno.readTextFile(lockPath).catch(() => "")).trim();
    if (text !== "") return text;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return `see ${lockPath}`;
}
