/**
 * The faults of a chaos run: a schedule drawn from the seed, and the
 * injector that follows it. The schedule first goes once through every
 * kind of fault (in an order the seed shuffles), so that even a short run
 * injects each kind, then draws kinds at random until the span ends. Kinds:
 *
 * - `kill`, `freeze`: SIGKILL, or SIGSTOP then SIGCONT after a pause, of a
 *   pipeline command or a server (MariaDB, a Kafka node, kinesalite);
 * - `kill broker, another frozen`: a Kafka node frozen while another is
 *   killed (the cluster down to one live node for a while);
 * - `kill sink and broker`: a sink member and a Kafka node killed at once;
 * - `sink member joins or leaves`: a member added to the sink group (or the
 *   added one stopped), so the group rebalances;
 * - `reshard`: a Kinesis stream split or merged while records flow;
 * - `network stall|delay|reset`: the TCP proxy in front of MariaDB,
 *   kinesalite or the third Kafka node holds every byte, holds each chunk a
 *   while, or resets every open connection (several times over the pause);
 * - `disk full (bucket|checkpoints)`: the tmpfs under the bucket or the
 *   checkpoint directory shrunk to what it holds, then grown back (root only);
 * - `corrupt checkpoint`: a producer's checkpoint truncated or overwritten
 *   while it is down; the producer started on it must exit non-zero naming
 *   the file (never start again from zero); then the file is put back.
 *
 * A killed pipeline command is started again by its supervisor; a killed
 * server by `infra.sh local up`, which the injector runs at once and waits
 * for (a fault due meanwhile comes late, never dropped). The same seed gives
 * the same faults in the same order; what the processes were doing at each
 * moment may differ between runs.
 *
 * @example
 * ```ts
 * import { faultSchedule, FAULT_KINDS } from "./faults.ts";
 * faultSchedule(7, 60_000).length >= FAULT_KINDS.length; // true
 * ```
 */
import { pollUntil, retry, sleep } from "../src/util/retry.ts";
import { type ChaosService, type ChaosStack, PROXIED, SERVICES, type Volume } from "./stack.ts";
import type { Supervised } from "./supervisor.ts";

export const FAULT_KINDS = [
  "kill",
  "freeze",
  "kill broker, another frozen",
  "kill sink and broker",
  "sink member joins or leaves",
  "reshard",
  "network stall",
  "network delay",
  "network reset",
  "disk full (bucket)",
  "disk full (checkpoints)",
  "corrupt checkpoint",
] as const;
export type FaultKind = typeof FAULT_KINDS[number];

/** How often a random draw picks a kind, against 1 for the others: single faults stay common. */
const WEIGHTS: Partial<Record<FaultKind, number>> = { kill: 4, freeze: 3 };

/** One scheduled fault. */
export interface Fault {
  /** Milliseconds after the start of the faulty phase. */
  atMs: number;
  kind: FaultKind;
  /** Numbers in [0, 1) that choose the fault's targets among those there are when it comes. */
  picks: [number, number];
  /** How long a freeze, stall, delay or full disk lasts. */
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

/**
 * Faults over `durationMs`: every kind of `kinds` once (3 to 6 s apart),
 * however long that takes, then one every 4 to 10 s of a kind drawn by weight.
 */
export function faultSchedule(
  seed: number,
  durationMs: number,
  kinds: readonly FaultKind[] = FAULT_KINDS,
): Fault[] {
  const random = seededRandom(seed);
  const round = [...kinds];
  for (let i = round.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [round[i], round[j]] = [round[j], round[i]];
  }
  const weight = (kind: FaultKind) => WEIGHTS[kind] ?? 1;
  const total = kinds.reduce((sum, kind) => sum + weight(kind), 0);
  const draw = (): FaultKind => {
    let x = random() * total;
    for (const kind of kinds) if ((x -= weight(kind)) < 0) return kind;
    return kinds[kinds.length - 1];
  };
  const faults: Fault[] = [];
  let at = 3_000 + random() * 3_000;
  const add = (kind: FaultKind) =>
    faults.push({
      atMs: Math.round(at),
      kind,
      picks: [random(), random()],
      pauseMs: Math.round(1_000 + random() * 5_000),
    });
  for (const kind of round) {
    add(kind);
    at += 3_000 + random() * 3_000;
  }
  for (at += 1_000 + random() * 4_000; at < durationMs; at += 4_000 + random() * 6_000) {
    add(draw());
  }
  return faults;
}

/** What the injector did, fault by fault. */
export interface Injected extends Fault {
  /** What it hit: process, server, proxy, stream, volume or file. */
  targets: string[];
  /** False when there was nothing to hit (a process between restarts, no tmpfs when not root). */
  applied: boolean;
  /** What happened, in a few words (the reshard done, why skipped, ...). */
  note?: string;
  /** A corrupt checkpoint the command did not refuse as it must. */
  problem?: string;
  /** `up` after a killed server failed (the run goes on, the drain tries again). */
  upFailed?: string;
}

/** What the faults act on: the run's stack and processes, and its means of changing them. */
export interface FaultScene {
  stack: ChaosStack;
  /** The supervised commands running now (sink members come and go). */
  processes(): readonly Supervised[];
  /** Adds a member to a sink group, or stops the one added; says which. */
  toggleSinkMember(): Promise<string>;
  /** Splits or merges a shard of one of the Kinesis streams; says what it did. */
  reshard(pick: number): Promise<string>;
  /** A producer whose checkpoint can be corrupted, and that checkpoint file. */
  checkpointOf(picks: [number, number]): Promise<{ process: Supervised; file: string } | undefined>;
  /** Runs `process`'s command once to its end (at most `timeoutMs`); its exit code and output. */
  runOnce(process: Supervised, timeoutMs: number): Promise<{ code: number; output: string }>;
}

const choose = <T>(items: readonly T[], pick: number): T =>
  items[Math.floor(pick * items.length) % items.length];
const isService = (name: string) => (SERVICES as readonly string[]).includes(name);
const BROKER_NAMES = SERVICES.filter((service) => service.startsWith("kafka"));

/** How long a corrupt-checkpoint fault waits for some producer's first checkpoint. */
const CHECKPOINT_WAIT_MS = 30_000;

/** Follows `schedule`, until it ends or `signal` aborts; each fault ends before the next. */
export async function injectFaults(
  schedule: readonly Fault[],
  scene: FaultScene,
  signal: AbortSignal,
  log: (line: string) => void,
): Promise<Injected[]> {
  const began = Date.now();
  const done: Injected[] = [];
  for (const fault of schedule) {
    await sleep(fault.atMs - (Date.now() - began), signal);
    if (signal.aborted) break;
    const injected: Injected = { ...fault, targets: [], applied: false };
    const at = `${((Date.now() - began) / 1000).toFixed(1)} s`;
    try {
      await inject(injected, scene, (line) => log(`${at}: ${fault.kind}: ${line}`));
    } catch (error) {
      injected.note = `failed: ${(error as Error).message}`;
      log(`${at}: ${fault.kind} failed: ${(error as Error).message}`);
    }
    done.push(injected);
  }
  return done;
}

async function inject(
  fault: Injected,
  scene: FaultScene,
  log: (line: string) => void,
): Promise<void> {
  const { stack } = scene;
  const [p0, p1] = fault.picks;
  const pause = `${(fault.pauseMs / 1000).toFixed(1)} s`;
  const signaller = async (name: string) =>
    isService(name)
      ? await serviceSignaller(stack, name as ChaosService)
      : (sig: Deno.Signal) => scene.processes().find((p) => p.name === name)?.signal(sig) ?? false;
  /**
   * After servers were sent SIGKILL: bring them back at once, as a supervisor would (`up` itself
   * waits until a killed process, zombie or not, and its locks are gone).
   */
  const restore = async () => {
    const failure = await bringBack(stack);
    if (failure) {
      fault.upFailed = failure;
      log(`infra.sh local up failed: ${failure}`);
    }
  };
  switch (fault.kind) {
    case "kill":
    case "freeze": {
      const target = choose([...scene.processes().map((p) => p.name), ...SERVICES], p0);
      const send = await signaller(target);
      fault.targets = [target];
      fault.applied = send(fault.kind === "kill" ? "SIGKILL" : "SIGSTOP");
      log(
        `${target}${fault.applied ? "" : " (not running: skipped)"}` +
          (fault.kind === "freeze" ? ` for ${pause}` : ""),
      );
      if (!fault.applied) return;
      if (fault.kind === "freeze") {
        await sleep(fault.pauseMs);
        send("SIGCONT");
      } else if (isService(target)) await restore();
      return;
    }
    case "kill broker, another frozen": {
      const frozen = choose(BROKER_NAMES, p0);
      const killed = choose(BROKER_NAMES.filter((b) => b !== frozen), p1);
      const [freeze, kill] = [await signaller(frozen), await signaller(killed)];
      fault.targets = [`${frozen} frozen`, `${killed} killed`];
      const stopped = freeze("SIGSTOP");
      fault.applied = kill("SIGKILL") && stopped;
      log(`${frozen} frozen for ${pause}, ${killed} killed`);
      await sleep(fault.pauseMs);
      freeze("SIGCONT");
      await restore();
      return;
    }
    case "kill sink and broker": {
      // A sink between restarts has no process to kill: wait (a little) for one that runs.
      const running = () => scene.processes().filter((p) => p.name.startsWith("sink") && p.pid);
      for (let i = 0; i < 50 && running().length === 0; i++) await sleep(200);
      const sinks = running().length
        ? running()
        : scene.processes().filter((p) => p.name.startsWith("sink"));
      const sink = choose(sinks, p0);
      const broker = choose(BROKER_NAMES, p1);
      const kill = await signaller(broker);
      fault.targets = [sink.name, broker];
      const sinkKilled = sink.signal("SIGKILL");
      fault.applied = kill("SIGKILL") && sinkKilled;
      log(
        `${sink.name} and ${broker} killed${sinkKilled ? "" : ` (${sink.name} was not running)`}`,
      );
      await restore();
      return;
    }
    case "sink member joins or leaves": {
      fault.note = await scene.toggleSinkMember();
      fault.targets = [fault.note.split(" ")[0]];
      fault.applied = true;
      log(fault.note);
      return;
    }
    case "reshard": {
      fault.note = await scene.reshard(p0);
      fault.targets = [fault.note.split(":")[0]];
      fault.applied = true;
      log(fault.note);
      return;
    }
    case "network stall":
    case "network delay":
    case "network reset": {
      const proxy = stack.proxies[choose(PROXIED, p0)];
      fault.targets = [proxy.name];
      fault.applied = true;
      if (fault.kind === "network reset") {
        // Several resets over the pause: some connections are new, some mid-request.
        let resets = 0;
        for (const until = Date.now() + fault.pauseMs; Date.now() < until;) {
          resets += proxy.reset();
          await sleep(300 + p1 * 700);
        }
        fault.note = `${resets} connection(s) reset`;
        log(`${proxy.name}: ${fault.note} over ${pause}`);
        return;
      }
      if (fault.kind === "network stall") proxy.stall();
      else proxy.delay(Math.round(100 + p1 * 900));
      log(`${proxy.name} for ${pause}`);
      await sleep(fault.pauseMs);
      proxy.heal();
      return;
    }
    case "disk full (bucket)":
    case "disk full (checkpoints)": {
      const volume: Volume = fault.kind === "disk full (bucket)" ? "bucket" : "state";
      fault.targets = [volume];
      if (!stack.mounted.has(volume)) {
        fault.note = "skipped: not root, no tmpfs of its own";
        log(fault.note);
        return;
      }
      await stack.fillDisk(volume);
      fault.applied = true;
      log(`${volume} for ${pause}`);
      await sleep(fault.pauseMs);
      await stack.freeDisk(volume);
      return;
    }
    case "corrupt checkpoint": {
      // Early in a run no producer may have checkpointed yet: wait a little for the first.
      let chosen: Awaited<ReturnType<FaultScene["checkpointOf"]>>;
      await pollUntil(async () => (chosen = await scene.checkpointOf(fault.picks)) !== undefined, {
        everyMs: 500,
        timeoutMs: CHECKPOINT_WAIT_MS,
      });
      if (!chosen) {
        fault.note = `skipped: no checkpoint after ${CHECKPOINT_WAIT_MS / 1000} s`;
        log(fault.note);
        return;
      }
      const { process, file } = chosen;
      fault.targets = [process.name];
      await process.hold();
      try {
        const original = await Deno.readFile(file);
        const truncate = p1 < 0.5;
        const corrupted = truncate
          ? original.slice(0, Math.floor(original.length / 2))
          : new TextEncoder().encode("\u0000garbage{");
        await Deno.writeFile(file, corrupted);
        fault.applied = true;
        const { code, output } = await scene.runOnce(process, 60_000);
        const named = output.includes(file);
        if (code === 0 || !named) {
          fault.problem = `${process.name} on a ${truncate ? "truncated" : "overwritten"} ` +
            `${file}: exit ${code}${named ? "" : ", the file not named"}`;
        }
        fault.note = `${truncate ? "truncated" : "overwritten"} ${file}: exit ${code}` +
          (named ? ", named" : ", NOT named");
        log(`${process.name}: ${fault.note}`);
        await Deno.writeFile(file, original);
      } finally {
        process.release();
      }
      return;
    }
  }
}

/** `infra.sh local up`, tried three times; the last failure's line, or undefined once up. */
export function bringBack(stack: ChaosStack): Promise<string | undefined> {
  return retry(async () => {
    const up = await stack.infra("up");
    if (up.code !== 0) throw new Error(up.output.trim().split("\n").at(-1));
  }, { maxAttempts: 3, baseMs: 1_000, capMs: 2_000 }).then(
    () => undefined,
    (error) => (error as Error).message,
  );
}

/** Sends a signal to a service's current process, found by its pid file. */
async function serviceSignaller(stack: ChaosStack, service: ChaosService) {
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
