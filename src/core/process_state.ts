/**
 * Whether a process still runs, judged by its state in `/proc/PID/stat`:
 * a killed process stays a zombie until its parent (or a slow init) reaps
 * it, and a signal (`kill -0`) still reaches a zombie, so a signal alone
 * would take a dead server (or a lock's dead holder) for a running one.
 *
 * @example
 * ```ts
 * import { processRunning } from "./process_state.ts";
 * processRunning(Deno.pid); // true
 * ```
 */

/** State and start time (clock ticks after boot, to tell a reused pid) of `pid`, or undefined if gone. */
export function processStat(pid: number): { state: string; start: string } | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return undefined;
  }
  // "PID (COMM) STATE ...": COMM may hold spaces and parentheses, STATE follows the last ")".
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0], start: fields[19] }; // fields 3 and 22 of proc(5)
}

/** True when `pid` exists and is neither a zombie (Z) nor dead (X). */
export function processRunning(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}/stat`);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return procMissing() ? signalled(pid) : false;
    // Hidden from this user: a signal tells what it can.
    if (error instanceof Deno.errors.PermissionDenied) return signalled(pid);
    throw error;
  }
  const stat = processStat(pid);
  return stat !== undefined && stat.state !== "Z" && stat.state !== "X";
}

/** No /proc on this system (not Linux): only a signal can tell. */
function procMissing(): boolean {
  try {
    Deno.statSync("/proc/self/stat");
    return false;
  } catch {
    return true;
  }
}

function signalled(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}
