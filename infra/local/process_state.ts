/**
 * Whether a process still runs, judged by its state in `/proc/PID/stat`:
 * a killed server stays a zombie until its parent (or a slow init) reaps
 * it, and a signal (`kill -0`) still reaches a zombie, so a signal alone
 * would take a dead server for a running one.
 *
 * @example
 * ```ts
 * import { processRunning } from "./process_state.ts";
 * processRunning(Deno.pid); // true
 * ```
 */

/** True when `pid` exists and is neither a zombie (Z) nor dead (X). */
export function processRunning(pid: number): boolean {
  let stat: string;
  try {
    stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return procMissing() ? signalled(pid) : false;
    // Hidden from this user: a signal tells what it can.
    if (error instanceof Deno.errors.PermissionDenied) return signalled(pid);
    throw error;
  }
  // "PID (COMM) STATE ...": COMM may hold spaces and parentheses, STATE follows the last ")".
  const state = stat.slice(stat.lastIndexOf(")") + 2).charAt(0);
  return state !== "Z" && state !== "X";
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
