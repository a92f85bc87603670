/**
 * Runs a command and returns its wall time, the peak resident memory of its
 * whole process tree (sampled from /proc every 50 ms, so that Spark's JVM
 * counts with its Python driver) and its output. Benchmarks measure every
 * contender in a child process of its own this way.
 *
 * @example
 * ```ts
 * import { measureCommand } from "./measure.ts";
 * const run = await measureCommand("deno", ["--version"]);
 * console.log(run.wallMs, run.peakRssMiB);
 * ```
 */

/** What one measured command did. */
export interface MeasuredRun {
  wallMs: number;
  /** The largest sum of resident memory over the command's process tree. */
  peakRssMiB: number;
  /** CPU seconds (user and system) of the command's own process, as last sampled. */
  cpuSeconds: number;
  stdout: string;
  stderr: string;
}

const PAGE_KIB = 4;

/** Resident KiB of `root` and all its descendants, from /proc. */
export function treeRssKiB(root: number): number {
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      // Fields after the command name, which is in parentheses and may hold spaces.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const pid = Number(entry.name);
      const ppid = Number(fields[1]);
      rss.set(pid, Number(fields[21]) * PAGE_KIB);
      children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    } catch {
      // The process ended while we looked: it holds no memory any more.
    }
  }
  let total = 0;
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    total += rss.get(pid) ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return total;
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  return await new Response(stream).text();
}

/** Runs `command args` to completion; a non-zero exit is an error carrying its stderr. */
export async function measureCommand(
  command: string,
  args: string[],
  { env, cwd }: { env?: Record<string, string>; cwd?: string } = {},
): Promise<MeasuredRun> {
  const started = performance.now();
  const child = new Deno.Command(command, { args, env, cwd, stdout: "piped", stderr: "piped" })
    .spawn();
  let peakKiB = 0;
  let cpu = 0;
  const sampler = setInterval(() => {
    peakKiB = Math.max(peakKiB, treeRssKiB(child.pid));
    cpu = Math.max(cpu, cpuSeconds(child.pid));
  }, 50);
  const [status, stdout, stderr] = await Promise.all([
    child.status,
    readAll(child.stdout),
    readAll(child.stderr),
  ]).finally(() => clearInterval(sampler));
  const wallMs = performance.now() - started;
  if (!status.success) {
    throw new Error(`${command} ${args.join(" ")} exited ${status.code}:\n${stderr.slice(-3000)}`);
  }
  return { wallMs, peakRssMiB: peakKiB / 1024, cpuSeconds: cpu, stdout, stderr };
}

/** The last line of `text` that parses as a JSON object. */
export function lastJsonLine<T>(text: string): T {
  const line = text.trim().split("\n").reverse().find((candidate) => candidate.startsWith("{"));
  if (!line) throw new Error(`no JSON line in output:\n${text.slice(-2000)}`);
  return JSON.parse(line) as T;
}

/** The 1-minute load average, from /proc/loadavg. */
export function loadAverage(): number {
  return Number(Deno.readTextFileSync("/proc/loadavg").split(" ")[0]);
}

/** The median of `values` (the mean of the middle two when even). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** CPU seconds (user and system) `pid` has used so far, from /proc; 0 once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime, in clock ticks (100 a second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}
