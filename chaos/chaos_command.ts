/**
 * `deno task chaos --minutes N [--seed S]`: the whole local pipeline at
 * once on a stack of its own, under faults, then a drain and the checks.
 * It lives beside `bench/`, not in `src/` (it drives the real services and
 * uses the dataset generator, which `src/` may not import) nor in `sim/`
 * (which is offline only).
 *
 * Running: `batch --follow` into Kafka with its sink, `batch --order
 * random` into Kafka with its sink, `stream --follow` into Kinesis with the
 * consumer, and the source growing by the generator's next rows. Faults,
 * drawn from the seed: SIGKILL, or SIGSTOP then SIGCONT, of any of those
 * six commands, the broker, MariaDB or kinesalite (kept on disk, so a kill
 * loses no stream). Then the source stops, every service is brought back,
 * the producers catch up and stop, the sinks and the consumer drain, and
 * `invariants.ts` checks the bucket, the cleaned tables and the
 * checkpoints. Exit 0 when every invariant held, 1 otherwise.
 *
 * @example
 * ```ts
 * import { main } from "./chaos_command.ts";
 * const code = await main(["--minutes", "1", "--seed", "7"]);
 * ```
 */
import { type Flags, intFlag, numberFlag, stringFlag } from "../src/core/cli.ts";
import { type Command, runCommand } from "../src/core/command.ts";
import { TABLE_KINDS, type TableKind } from "../src/core/tables.ts";
import { CheckpointStore } from "../src/transfer/checkpoint.ts";
import { sleep } from "../src/util/retry.ts";
import { DEFAULT_DATASET } from "../sim/datagen/generate.ts";
import { textTable } from "../sim/text_table.ts";
import { bringBack, faultSchedule, type Injected, injectFaults } from "./faults.ts";
import {
  type Check,
  checkKafkaPipeline,
  checkKinesisPipeline,
  failed,
  randomDraws,
  sequentialCheckpoint,
  sourceIndexes,
} from "./invariants.ts";
import { type AdminConnection, SourceGrowth } from "./source_growth.ts";
import { ChaosStack, SERVICES } from "./stack.ts";
import { Supervised } from "./supervisor.ts";

const USAGE = `Usage: deno task chaos --minutes N [flags]

Runs the whole local pipeline on a stack of its own (its own directory and ports) while
injecting faults, then drains it and checks that nothing was lost or written twice:
batch --follow and batch --order random into Kafka with a sink each, stream --follow into
Kinesis with the consumer, and MariaDB growing by the generator's next rows. Faults, drawn
from the seed: SIGKILL, or SIGSTOP then SIGCONT, of any of those commands, the broker,
MariaDB or kinesalite. Prints the faults by kind and the invariants; exit 1 on any violation.

  --minutes N           the span the faults are drawn over (2); recoveries may stretch it, and
                        the drain and checks come after
  --seed S              the faults' seed (random, printed): the same seed, the same schedule
  --port-base P         MariaDB on P, Kafka P+1, its controller P+2, kinesalite P+3 (22300)
  --grow N              rows added to each table per second (20)
  --dir DIR             the stack's directory (a new temporary one); kept after a failure
  --keep                keep the directory (and its logs) after a success too`;

const FLAGS = {
  minutes: { type: "string" as const },
  seed: { type: "string" as const },
  "port-base": { type: "string" as const },
  grow: { type: "string" as const },
  dir: { type: "string" as const },
  keep: { type: "boolean" as const },
};

/** The three pipelines' ids (the stack is the run's own, so fixed ids collide with nothing). */
const IDS = { follow: "c4a0500000f1", random: "c4a0500000a2", stream: "c4a0500000c3" };
/** Random draws stay among the seeded rows, whose offsets never move as the table grows. */
const MAX_OFFSET = DEFAULT_DATASET.rows - 1;

interface ChaosOptions {
  minutes: number;
  seed: number;
  portBase: number;
  grow: number;
  dir?: string;
  keep: boolean;
}

function parseChaosOptions(flags: Flags): ChaosOptions {
  return {
    minutes: numberFlag(flags, "minutes", 2, { min: 0.1 }),
    seed: intFlag(flags, "seed", Math.floor(Math.random() * 1_000_000), { min: 0 }),
    portBase: intFlag(flags, "port-base", 22300, { min: 1024, max: 65530 }),
    grow: intFlag(flags, "grow", 20, { min: 1, max: 5000 }),
    dir: stringFlag(flags, "dir"),
    keep: flags.keep === true,
  };
}

/** The six pipeline commands, each supervised. */
function pipelineProcesses(stack: ChaosStack, logs: string, seed: number, samples: number) {
  const specs = [
    {
      name: "batch-follow",
      args: [
        "batch",
        "--id",
        IDS.follow,
        "--follow",
        "--poll-interval",
        "500",
        "--partitions",
        "3",
        "--batch-size",
        "200",
      ],
    },
    {
      name: "batch-random",
      args: [
        "batch",
        "--id",
        IDS.random,
        "--order",
        "random",
        "--seed",
        String(seed),
        "--max-offset",
        String(MAX_OFFSET),
        "--rate",
        "40",
        "--limit",
        String(samples),
        "--partitions",
        "3",
      ],
      finishes: true,
    },
    {
      name: "stream-follow",
      args: [
        "stream",
        "--id",
        IDS.stream,
        "--follow",
        "--poll-interval",
        "500",
        "--shards",
        "2",
        "--batch-size",
        "200",
      ],
    },
    {
      name: "sink-follow",
      args: ["sink", "--id", IDS.follow, "--flush-size", "200", "--rotate-ms", "1000"],
    },
    {
      name: "sink-random",
      args: ["sink", "--id", IDS.random, "--flush-size", "50", "--rotate-ms", "1000"],
    },
    {
      name: "consume",
      args: [
        "consume",
        "--id",
        IDS.stream,
        "--db",
        `${stack.dir}/consumer.duckdb`,
        "--poll-ms",
        "200",
        "--wait-streams",
        "300",
      ],
    },
  ];
  return specs.map((spec) => new Supervised(spec, stack, logs));
}

/** Runs `main.ts ARGS` to its end against the stack, up to `tries` times until it exits 0. */
async function drainRun(stack: ChaosStack, logs: string, args: string[], tries = 3) {
  let last = { code: -1, stdout: "" };
  for (let attempt = 1; attempt <= tries; attempt++) {
    const began = Date.now();
    const run = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "main.ts", ...args],
      cwd: new URL("../", import.meta.url).pathname,
      env: stack.env(),
      stdout: "piped",
      stderr: "piped",
    }).output();
    const [stdout, stderr] = [run.stdout, run.stderr].map((b) => new TextDecoder().decode(b));
    await Deno.writeTextFile(
      `${logs}/drain.log`,
      `$ ${args.join(" ")} (exit ${run.code} after ${(Date.now() - began) / 1000} s)\n` +
        `${stdout}${stderr}\n`,
      {
        append: true,
      },
    );
    last = { code: run.code, stdout };
    if (run.code === 0) break;
    await bringBack(stack);
  }
  return last;
}

/** Waits (up to `timeoutMs`) until a follow producer's checkpoints reach the source's last index. */
async function caughtUp(
  stack: ChaosStack,
  id: string,
  target: "kafka" | "kinesis",
  last: Record<TableKind, number | undefined>,
  timeoutMs: number,
): Promise<boolean> {
  const store = new CheckpointStore(stack.config(id).stateDir, id, target);
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    let all = true;
    for (const kind of TABLE_KINDS) {
      const saved = await store.load(store.sequentialFile(kind)).catch(() => undefined);
      if (saved?.lastIndex !== last[kind]) all = false;
    }
    if (all) return true;
    await sleep(1_000);
  }
  return false;
}

/** Faults by target and action, applied ones only. */
function faultTable(injected: readonly Injected[], processes: readonly Supervised[]): string {
  const targets = [...processes.map((p) => p.name), ...SERVICES];
  const rows = targets.map((target) => {
    const of = (action: string) =>
      injected.filter((f) => f.target === target && f.action === action && f.applied).length;
    const process = processes.find((p) => p.name === target);
    return [
      target,
      of("SIGKILL"),
      of("SIGSTOP"),
      injected.filter((f) => f.target === target && !f.applied).length,
      process ? process.starts - 1 : "-",
    ];
  });
  rows.push([
    "total",
    injected.filter((f) => f.applied && f.action === "SIGKILL").length,
    injected.filter((f) => f.applied && f.action === "SIGSTOP").length,
    injected.filter((f) => !f.applied).length,
    processes.reduce((n, p) => n + p.starts - 1, 0),
  ]);
  return textTable(["target", "SIGKILL", "SIGSTOP+SIGCONT", "skipped", "restarts"], rows, {
    maxRows: Infinity,
  });
}

/** Runs the chaos; returns the checks. */
async function runChaos(
  options: ChaosOptions,
  interrupt: AbortSignal,
  say: (line: string) => void,
) {
  const dir = options.dir ?? await Deno.makeTempDir({ prefix: "pinpipe_chaos_" });
  const logs = `${dir}/logs`;
  await Deno.mkdir(logs, { recursive: true });
  const stack = new ChaosStack(dir, options.portBase);
  say(
    `chaos: seed ${options.seed}, ${options.minutes} min of faults; stack in ${dir} (ports ${options.portBase}..${
      options.portBase + 3
    })`,
  );
  say(`chaos: replay with deno task chaos --minutes ${options.minutes} --seed ${options.seed}`);
  const durationMs = options.minutes * 60_000;
  const samples = Math.ceil((durationMs / 1000) * 40 * 0.8);
  const processes = pipelineProcesses(stack, logs, options.seed, samples);
  let injected: Injected[] = [];
  let checks: Check[] = [];
  let growth: SourceGrowth | undefined;
  try {
    await stack.up();
    const secrets = stack.secrets();
    const admin: AdminConnection = {
      host: "127.0.0.1",
      port: options.portBase,
      user: secrets.PINPIPE_MYSQL_ADMIN_USER,
      password: secrets.PINPIPE_MYSQL_ADMIN_PASSWORD,
      database: "pinterest_data",
    };
    say("chaos: stack up; starting the pipeline and the faults");
    for (const process of processes) process.start();
    growth = new SourceGrowth(admin, options.grow);
    // Every scheduled fault is injected, however long recoveries take: the seed fixes the faults.
    const growthStop = new AbortController();
    const growing = growth.run(AbortSignal.any([interrupt, growthStop.signal]));
    const targets = [...processes.map((p) => p.name), ...SERVICES];
    injected = await injectFaults(
      faultSchedule(options.seed, durationMs, targets),
      stack,
      processes,
      interrupt,
      (line) => say(`chaos: ${line}`),
    );
    growthStop.abort();
    await growing;
    say(`chaos: faults over; the source stopped at +${growth.inserted} rows per table; draining`);

    // Everything back up and thawed, then the producers catch up with the source and stop.
    const down = await bringBack(stack);
    if (down) throw new Error(`infra.sh local up failed: ${down}`);
    for (const process of processes) process.signal("SIGCONT");
    const source = await sourceIndexes(admin);
    const last = Object.fromEntries(TABLE_KINDS.map((k) => [k, source[k].at(-1)])) as Record<
      TableKind,
      number
    >;
    const drainMs = 300_000;
    const [followDone, streamDone] = await Promise.all([
      caughtUp(stack, IDS.follow, "kafka", last, drainMs),
      caughtUp(stack, IDS.stream, "kinesis", last, drainMs),
    ]);
    if (!followDone) say("chaos: batch --follow did not catch up");
    if (!streamDone) say("chaos: stream --follow did not catch up");
    await Promise.all(processes.map((process) => process.stop()));
    await bringBack(stack);
    // The sinks and the consumer drain side by side; a last consume must find nothing new.
    const db = `${dir}/consumer.duckdb`;
    const sinkDrain = (id: string, flushSize: string) =>
      drainRun(stack, logs, [
        "sink",
        "--id",
        id,
        "--exit-at-end",
        "--flush-size",
        flushSize,
        "--rotate-ms",
        "1000",
      ]);
    const consumeDrain = (...flags: string[]) =>
      drainRun(stack, logs, ["consume", "--id", IDS.stream, "--db", db, ...flags]);
    const [, , final] = await Promise.all([
      sinkDrain(IDS.follow, "200"),
      sinkDrain(IDS.random, "50"),
      consumeDrain("--idle-exit", "5").then(() =>
        consumeDrain("--idle-exit", "2", "--json", "--quiet")
      ),
    ]);
    const lastRecords = final.code === 0 ? JSON.parse(final.stdout).records as number : -1;

    say("chaos: checking");
    const random = await randomDraws(stack.config(IDS.random), options.seed, MAX_OFFSET, source);
    checks = [
      ...await checkKafkaPipeline(
        "batch --follow",
        stack.config(IDS.follow),
        (kind) => source[kind],
        (kind, sent) =>
          sequentialCheckpoint(stack.config(IDS.follow), "kafka", kind, source[kind], sent),
      ),
      ...await checkKafkaPipeline(
        "batch --order random",
        stack.config(IDS.random),
        (kind) => random.draws[kind],
        (kind, sent) =>
          Promise.resolve(
            random.acknowledged[kind] === random.samples && sent === random.samples
              ? ""
              : `${random.samples} samples, acknowledged ${
                random.acknowledged[kind]
              }, in the topic ${sent}`,
          ),
      ),
      ...await checkKinesisPipeline(
        "stream --follow",
        stack.config(IDS.stream),
        db,
        source,
        lastRecords,
      ),
    ];
  } catch (error) {
    // The run broke off (a stack that would not come up): the servers' own words, and where
    // the rest is kept.
    say(await stack.logTails());
    say(`chaos: logs and data kept in ${dir}`);
    throw error;
  } finally {
    for (const process of processes) await process.stop(10_000);
    await stack.down();
  }
  say("");
  say(`faults (seed ${options.seed}):`);
  say(faultTable(injected, processes));
  say("");
  say("invariants:");
  say(
    textTable(
      ["invariant", "rows", "held"],
      checks.map((c) => [c.name, c.rows, c.held ? "yes" : `NO: ${c.detail}`]),
      { maxRows: Infinity, maxWidth: 200 },
    ),
  );
  const violations = failed(checks).length + (checks.length === 0 ? 1 : 0);
  say(`\nchaos: ${checks.length} invariant(s), ${violations} violation(s), seed ${options.seed}`);
  if (violations === 0 && !options.keep && !options.dir) {
    await Deno.remove(dir, { recursive: true });
  } else say(`chaos: logs and data kept in ${dir}`);
  return violations;
}

/** `deno task chaos`. */
export const COMMAND: Command = {
  name: "chaos",
  usage: USAGE,
  flags: FLAGS,
  connections: [],
  async run(flags, interrupt) {
    const options = parseChaosOptions(flags);
    interrupt.started();
    const began = Date.now();
    const stamp = () => `[${((Date.now() - began) / 1000).toFixed(0).padStart(4)} s]`;
    const violations = await runChaos(
      options,
      interrupt.signal,
      (line) => console.log(line.startsWith("chaos:") ? `${stamp()} ${line}` : line),
    );
    return violations === 0 ? 0 : 1;
  },
};

/** `deno task chaos`: returns the exit code. */
export function main(args: string[]): Promise<number> {
  return runCommand(COMMAND, args);
}
