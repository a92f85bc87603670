/**
 * Checks a command makes of the paths in its flags before any work starts, so that a wrong path
 * ends the run at once with one line naming the flag and the path, not after the whole run (an
 * output file that cannot be written) or as a raw "os error 20" halfway (a bucket that is a file).
 *
 * @example
 * ```ts
 * import { requireBucketDir, requireWritableFile } from "./preflight.ts";
 * await requireBucketDir(".local/bucket/user-0123456789ab-bucket"); // throws TargetError if missing
 * await requireWritableFile("out/answers.json", "--json-out"); // throws UsageError if unwritable
 * ```
 */
import { dirname, resolve } from "node:path";
import { TargetError, UsageError } from "./errors.ts";

/** What stands at `path`: a directory, a file (or another non-directory), or nothing. */
async function kindOf(path: string): Promise<"directory" | "file" | "missing"> {
  try {
    return (await Deno.stat(path)).isDirectory ? "directory" : "file";
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "missing";
    // ENOTDIR: a file where a folder of the path should be.
    if ((error as { code?: string }).code === "ENOTDIR") return "missing";
    throw error;
  }
}

/**
 * A bucket directory to read: it must exist and be a directory (exit 4, as the bucket is the
 * target of the command that reads it).
 */
export async function requireBucketDir(path: string, flag = "--bucket"): Promise<void> {
  const kind = await kindOf(path);
  if (kind === "missing") throw new TargetError(`bucket ${path} does not exist (${flag})`);
  if (kind === "file") throw new TargetError(`bucket ${path} is not a directory (${flag})`);
}

/**
 * A bucket directory to write: a directory, made (with its parents) when missing; a file in its
 * place, or a directory that cannot be made or written, is exit 4 naming it.
 */
export async function prepareBucketDir(path: string, flag = "--bucket"): Promise<void> {
  const kind = await kindOf(path);
  if (kind === "file") throw new TargetError(`bucket ${path} is not a directory (${flag})`);
  try {
    if (kind === "missing") await Deno.mkdir(path, { recursive: true });
    await probeDirectory(path);
  } catch (error) {
    throw new TargetError(
      `bucket ${path} cannot be written (${flag}): ${(error as Error).message}`,
    );
  }
}

/** Creates and removes a file in `dir`: that the directory takes new files. */
async function probeDirectory(dir: string): Promise<void> {
  const probe = `${dir}/.pinpipe-probe-${Deno.pid}`;
  await Deno.writeTextFile(probe, "");
  await Deno.remove(probe);
}

/**
 * An output file the run writes at its end: its directory must exist and take files, and the
 * path must not be a directory, checked before the run (exit 2, naming the flag and the path).
 * Nothing is created or changed.
 */
export async function requireWritableFile(path: string, flag: string): Promise<void> {
  const problem = (what: string) => new UsageError(`${flag} ${path}: ${what}`);
  const kind = await kindOf(path);
  if (kind === "directory") throw problem("is a directory");
  const parent = dirname(resolve(path));
  const parentKind = await kindOf(parent);
  if (parentKind !== "directory") throw problem(`its directory ${parent} does not exist`);
  try {
    if (kind === "file") (await Deno.open(path, { write: true })).close();
    else await probeDirectory(parent);
  } catch (error) {
    throw problem(`cannot be written (${(error as Error).message})`);
  }
}

/**
 * An output file whose directory the command makes when missing (as `consume --db` does): the
 * directory is made now, then the file is checked as `requireWritableFile` does.
 */
export async function prepareOutputFile(path: string, flag: string): Promise<void> {
  const parent = dirname(resolve(path));
  if (await kindOf(parent) === "missing") {
    try {
      await Deno.mkdir(parent, { recursive: true });
    } catch (error) {
      throw new UsageError(`${flag} ${path}: cannot make ${parent} (${(error as Error).message})`);
    }
  }
  await requireWritableFile(path, flag);
}
