/**
 * The faults of a chaos run: a schedule drawn from the seed (when, what,
 * how: SIGKILL, or SIGSTOP then SIGCONT after a pause), and the injector
 * that follows it. A killed pipeline command is started again by its
 * supervisor; a killed service by `infra.sh local up`, which the injector
 * runs at once and waits for (a fault due meanwhile comes late, never
 * dropped). The same seed gives the same faults in the same order; what
 * the processes were doing at each moment may differ between runs.
 *
 * @example
 * ```ts
 * import { faultSchedule } from "./faults.ts";
 * faultSchedule(7, 60_000, ["sink", "kafka"]).length > 0; // true
 * ```
 */
import { sleep } from "../src/util/retry.ts";
import { type ChaosStack, type Service, SERVICES } from "./stack.ts";
import type { Supervised } from "./supervisor.ts";

/** A fault: SIGKILL, or SIGSTOP for `pauseMs` then SIGCONT. */
export type FaultAction = "SIGKILL" | "SIGSTOP";

/** One scheduled fault. */
export interface Fault {
  /** Milliseconds after the start of the faulty phase. */
  atMs: number;
  target: string;
  action: FaultAction;
  /** SIGSTOP only: how long the target stays frozen. */
  pauseMs: number;
}

/** A small seeded generator (mulberry32): the schedule depends on the seed alone. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Faults over `durationMs`, one every 4 to 10 s, each on one of `targets`. */
export function faultSchedule(
  seed: number,
  durationMs: number,
  targets: readonly string[],
): Fault[] {
  const random = seededRandom(seed);
  const faults: Fault[] = [];
  for (let at = 3_000 + random() * 4_000; at < durationMs; at += 4_000 + random() * 6_000) {
    faults.push({
      atMs: Math.round(at),
      target: targets[Math.floor(random() * targets.length)],
      action: random() < 0.5 ? "SIGKILL" : "SIGSTOP",
      pauseMs: Math.round(1_000 + random() * 5_000),
    });
  }
  return faults;
}

/** What the injector did, fault by fault. */
export interface Injected extends Fault {
  /** False when the target had no process at that moment (between restarts). */
  applied: boolean;
  /** `up` after a killed service failed (the run goes on, the drain tries again). */
  upFailed?: string;
}

/** Follows `schedule`, until it ends or `signal` aborts; each fault ends (SIGCONT, `up`) before the next. */
export async function injectFaults(
  schedule: readonly Fault[],
  stack: ChaosStack,
  processes: readonly Supervised[],
  signal: AbortSignal,
  log: (line: string) => void,
): Promise<Injected[]> {
  const began = Date.now();
  const done: Injected[] = [];
  for (const fault of schedule) {
    await sleep(fault.atMs - (Date.now() - began), signal);
    if (signal.aborted) break;
    const isService = (SERVICES as readonly string[]).includes(fault.target);
    const send = isService
      ? await serviceSignaller(stack, fault.target as Service)
      : (sig: Deno.Signal) => processes.find((p) => p.name === fault.target)?.signal(sig) ?? false;
    const injected: Injected = { ...fault, applied: send(fault.action) };
    log(
      `${((Date.now() - began) / 1000).toFixed(1)} s: ${fault.action} ${fault.target}` +
        (injected.applied ? "" : " (not running: skipped)") +
        (fault.action === "SIGSTOP" ? ` for ${(fault.pauseMs / 1000).toFixed(1)} s` : ""),
    );
    if (injected.applied && fault.action === "SIGSTOP") {
      await sleep(fault.pauseMs);
      send("SIGCONT");
    }
    if (isService && injected.applied && fault.action === "SIGKILL") {
      // At once, as a supervisor would: `up` itself waits until the killed process and its
      // locks are gone.
      const failure = await bringBack(stack);
      if (failure) {
        injected.upFailed = failure;
        log(`infra.sh local up after killing ${fault.target} failed: ${failure}`);
      }
    }
    done.push(injected);
  }
  return done;
}

/** `infra.sh local up`, tried three times; the last failure's line, or undefined once up. */
export async function bringBack(stack: ChaosStack): Promise<string | undefined> {
  let failure: string | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const up = await stack.infra("up");
    if (up.code === 0) return undefined;
    failure = up.output.trim().split("\n").at(-1);
    await sleep(2_000);
  }
  return failure;
}

/** Sends a signal to a service's current process, found by its pid file. */
async function serviceSignaller(stack: ChaosStack, service: Service) {
  const pid = await stack.pid(service);
  return (sig: Deno.Signal): boolean => {
    if (pid === undefined) return false;
    try {
      Deno.kill(pid, sig);
      return true;
    } catch {
      return false;
    }
  };
}
