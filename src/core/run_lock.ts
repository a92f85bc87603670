/**
 * One running copy per pipeline id and target: a lock file that names its
 * holder (pid, command, host, start time). A second copy finds it and stops
 * at once with a `RunLockHeldError` naming the file and the holder; a lock
 * whose holder is dead is taken over with a note; the holder removes it on
 * every way out (return, error, `Deno.exit` at a signal).
 *
 * The file is made with `createNew` (fails if it exists). Judging a found
 * lock and replacing a dead holder's happen under a short `flock` of its
 * directory, so two copies starting at once never both judge it dead and
 * both take it; the kernel drops that flock when a process dies, so it is
 * never stale itself. A holder is dead when `/proc/PID/stat` is missing,
 * says Z or X (a SIGKILLed process lingers as a zombie until reaped, and
 * `kill -0` still succeeds on it), or shows another process start time (the
 * pid was reused).
 *
 * @example
 * ```ts
 * import { RunLock } from "./run_lock.ts";
 * const lock = await RunLock.acquire(".local/state/0123456789ab/kafka/run.lock");
 * try {
 *   // ... the run ...
 * } finally {
 *   lock.release();
 * }
 * ```
 */
import { dirname } from "node:path";
import { hostname } from "node:os";
import { CliError, EXIT_CODES } from "./errors.ts";
import { processStat } from "./process_state.ts";

/** What a lock file holds. */
export interface LockHolder {
  pid: number;
  /** The holder's command line (`batch --id ...`). */
  command: string;
  host: string;
  /** When the holder took the lock (ISO time). */
  startedAt: string;
  /** The process start time in `/proc/PID/stat` (clock ticks after boot), to tell a reused pid. */
  processStart?: string;
}

/** Another live copy holds the lock: exit 1 (no code of its own; nothing failed, nothing was sent). */
export class RunLockHeldError extends CliError {
  constructor(readonly path: string, readonly holder: LockHolder) {
    super(
      `another copy is running: ${path} is held by pid ${holder.pid} on ${holder.host} ` +
        `("${holder.command}", since ${holder.startedAt}); wait for it to end or stop it`,
      EXIT_CODES.failure,
    );
    this.name = "RunLockHeldError";
  }
}

/** Whether `holder` still runs: on this host, alive (not Z or X), and the same process. */
export function holderAlive(holder: LockHolder): boolean {
  if (holder.host !== hostname()) return true; // cannot look: assume it runs
  const stat = processStat(holder.pid);
  if (!stat || stat.state === "Z" || stat.state === "X") return false;
  return holder.processStart === undefined || holder.processStart === stat.start;
}

/** The holder in a lock file's text, or undefined if it is not one (its writer died mid-write). */
function parseHolder(text: string): LockHolder | undefined {
  try {
    const holder = JSON.parse(text) as LockHolder;
    return Number.isSafeInteger(holder.pid) ? holder : undefined;
  } catch {
    return undefined;
  }
}

/** A message naming `path` for a failure of the lock's own file system work. */
function lockFailure(path: string, error: unknown): CliError {
  return new CliError(`cannot take the lock ${path}: ${(error as Error).message}`);
}

/** A held lock; `release()` removes its file. */
export class RunLock {
  #released = false;
  readonly #onUnload = () => this.release();

  private constructor(readonly path: string, readonly holder: LockHolder) {
    // Deno.exit (a signal before work started, or a second signal) runs no finally blocks.
    globalThis.addEventListener("unload", this.#onUnload);
  }

  /**
   * Takes the lock at `path` (its directory is made if missing), or throws
   * `RunLockHeldError` naming a live holder. `log` gets the note when a dead
   * holder's lock is taken over.
   */
  static async acquire(
    path: string,
    log: (line: string) => void = (line) => console.error(line),
  ): Promise<RunLock> {
    const dir = dirname(path);
    let guard: Deno.FsFile;
    try {
      await Deno.mkdir(dir, { recursive: true });
      guard = await Deno.open(dir, { read: true });
      await guard.lock(true);
    } catch (error) {
      throw lockFailure(path, error);
    }
    try {
      const holder: LockHolder = {
        pid: Deno.pid,
        command: Deno.args.join(" "),
        host: hostname(),
        startedAt: new Date().toISOString(),
        processStart: processStat(Deno.pid)?.start,
      };
      if (!(await RunLock.#create(path, holder))) {
        const text = await Deno.readTextFile(path).catch(() => "");
        const found = parseHolder(text);
        if (found && holderAlive(found)) throw new RunLockHeldError(path, found);
        log(
          found
            ? `taking over ${path}: its holder, pid ${found.pid} ("${found.command}", since ${found.startedAt}), is gone`
            : `taking over ${path}: it names no holder (its writer died while writing it)`,
        );
        await Deno.remove(path).catch((error) => {
          if (!(error instanceof Deno.errors.NotFound)) throw lockFailure(path, error);
        });
        if (!(await RunLock.#create(path, holder))) {
          throw new CliError(`cannot take the lock ${path}: it came back while held for takeover`);
        }
      }
      return new RunLock(path, holder);
    } finally {
      guard.close(); // releases the flock
    }
  }

  /** Creates `path` holding `holder`; false if it exists. A failed write leaves no file. */
  static async #create(path: string, holder: LockHolder): Promise<boolean> {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { write: true, createNew: true });
    } catch (error) {
      if (error instanceof Deno.errors.AlreadyExists) return false;
      throw lockFailure(path, error);
    }
    try {
      const bytes = new TextEncoder().encode(JSON.stringify(holder) + "\n");
      for (let written = 0; written < bytes.length;) {
        written += await file.write(bytes.subarray(written));
      }
    } catch (error) {
      file.close();
      await Deno.remove(path).catch(() => {});
      throw lockFailure(path, error);
    }
    file.close();
    return true;
  }

  /** Removes the lock file if it is still this process's; safe to call more than once. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    globalThis.removeEventListener("unload", this.#onUnload);
    try {
      // Only a takeover removes another's file, and only a dead holder's: a live one's stays ours.
      const found = parseHolder(Deno.readTextFileSync(this.path));
      if (found?.pid === this.holder.pid && found.startedAt === this.holder.startedAt) {
        Deno.removeSync(this.path);
      }
    } catch {
      // Already gone (a user removed it): nothing to release.
    }
  }
}
