/**
 * `deno task chaos --minutes N [--seed S]`: the whole local pipeline at
 * once on a stack of its own, shaped like the one on AWS (three Kafka
 * nodes, replication factor 3, `min.insync.replicas=2`), under faults,
 * then a drain and the checks. It lives beside `bench/`, not in `src/` (it
 * drives the real services and uses the dataset generator, which `src/`
 * may not import) nor in `sim/` (which is offline only).
 *
 * Running: `batch --follow` into Kafka with a sink group of two members
 * (a third joins and leaves), `batch --order random` into Kafka with its
 * sink writing `s3://` (moto's S3 server), `stream --follow` and
 * `stream --order random` into Kinesis with a consumer each, and the
 * source growing by the generator's next rows. The
 * faults (faults.ts) go once through every kind, then are drawn from the
 * seed: kills and freezes of any command or server, two at once, a sink
 * member joining or leaving, resharding, network stalls, delays and
 * resets, full disks, corrupt checkpoints. Then the source stops, every
 * service is brought back, the producers catch up and stop, the sinks and
 * the consumers drain, and `invariants.ts` checks the bucket, the cleaned
 * tables and the checkpoints. Exit 0 when every invariant held, 1 otherwise.
 *
 * @example
 * ```ts
 * import { main } from "./chaos_command.ts";
 * const code = await main(["--minutes", "1", "--seed", "7", "--port-base", "32000"]);
 * ```
 */
import { type Flags, intFlag, numberFlag, stringFlag } from "../src/core/cli.ts";
import { type Command, runCommand } from "../src/core/command.ts";
import { streamName } from "../src/core/names.ts";
import { TABLE_KINDS, type TableKind } from "../src/core/tables.ts";
import { kinesisClient } from "../src/kinesis/client.ts";
import { CheckpointStore } from "../src/transfer/checkpoint.ts";
import { retry, sleep } from "../src/util/retry.ts";
import { DEFAULT_DATASET } from "../sim/datagen/generate.ts";
import { textTable } from "../sim/text_table.ts";
import {
  bringBack,
  FAULT_KINDS,
  type FaultScene,
  faultSchedule,
  type Injected,
  injectFaults,
} from "./faults.ts";
import {
  bucketRecords,
  type Check,
  checkKafkaPipeline,
  checkKinesisPipeline,
  failed,
  randomCheckpoint,
  randomDraws,
  sequentialCheckpoint,
  sourceIndexes,
} from "./invariants.ts";
import { reshard } from "./reshard.ts";
import { type AdminConnection, SourceGrowth } from "./source_growth.ts";
import { ChaosStack, S3_BUCKET } from "./stack.ts";
import { type ProcessSpec, Supervised } from "./supervisor.ts";

const USAGE = `Usage: deno task chaos --minutes N [flags]

Runs the whole local pipeline on a stack of its own (its own directory and ports, three Kafka
nodes as on MSK) while injecting faults, then drains it and checks that nothing was lost or
written twice: batch --follow into Kafka with a sink group of two members (a third joins and
leaves), batch --order random into Kafka with a sink writing s3:// (moto's S3 server),
stream --follow and stream --order random into Kinesis with a consumer each, and MariaDB
growing by the generator's next rows. Faults go once through every kind, then are drawn from
the seed: SIGKILL or SIGSTOP of any command or server, a broker killed while another is frozen,
a sink and a broker killed together, a sink member joining or leaving, a Kinesis stream split
or merged, network stalls, delays and resets between the commands and MariaDB, kinesalite or
the third Kafka node, the bucket's or the checkpoints' disk full (when root), a corrupt
checkpoint (its producer must exit naming it). Prints the faults by kind and the invariants;
exit 1 on any violation.

  --minutes N           the span the faults are drawn over (2); every kind comes once even when
                        that takes longer, recoveries may stretch it, the drain and checks follow
  --seed S              the faults' seed (random, printed): the same seed, the same schedule
  --port-base P         MariaDB on P, Kafka nodes P+1, P+3, P+5 (controllers P+2, P+4, P+6),
                        kinesalite P+7, the proxies of MariaDB, kinesalite and the third
                        Kafka node P+8, P+9, P+10, moto's S3 server P+11 (22300)
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

/** The four pipelines' ids (the stack is the run's own, so fixed ids collide with nothing). */
const IDS = {
  follow: "c4a0500000f1",
  random: "c4a0500000a2",
  stream: "c4a0500000c3",
  streamRandom: "c4a0500000d4",
};
/** Random draws stay among the seeded rows, whose offsets never move as the table grows. */
const MAX_OFFSET = DEFAULT_DATASET.rows - 1;
/** Samples a second of each random producer. */
const RANDOM_RATE = 40;

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
    portBase: intFlag(flags, "port-base", 22300, { min: 1024, max: 65520 }),
    grow: intFlag(flags, "grow", 20, { min: 1, max: 5000 }),
    dir: stringFlag(flags, "dir"),
    keep: flags.keep === true,
  };
}

const sinkArgs = (id: string, flushSize: string, rotateMs = "1000") => [
  "sink",
  "--id",
  id,
  "--flush-size",
  flushSize,
  "--rotate-ms",
  rotateMs,
];
/**
 * A member of the `batch --follow` pipeline's sink group. A group cuts objects by size alone
 * (`--rotate-ms 0`, as the README asks of groups): a member cut off from the group longer than
 * the session timeout may still land a write after the next owner's, which is harmless only
 * when both cut the same object. The lone sink of `batch --order random` rotates by time.
 */
const followSink = (member: number): ProcessSpec => ({
  name: `sink-follow-${member}`,
  args: sinkArgs(IDS.follow, "200", "0"),
});
const consumeArgs = (stack: ChaosStack, id: string) => [
  "consume",
  "--id",
  id,
  "--db",
  consumerDb(stack, id),
  "--poll-ms",
  "200",
  "--wait-streams-ms",
  "300000",
];
const consumerDb = (stack: ChaosStack, id: string) => `${stack.dir}/consumer-${id}.duckdb`;

/** The random pipeline's sink writes `s3://` through moto's S3 server. */
const s3Flags = (stack: ChaosStack) => [
  "--bucket",
  `s3://${S3_BUCKET}`,
  "--s3-endpoint",
  stack.s3Endpoint,
];

/** The pipeline commands, each supervised. */
function pipelineSpecs(stack: ChaosStack, seed: number, samples: number): ProcessSpec[] {
  const follow = ["--follow", "--poll-ms", "500", "--batch-size", "200"];
  const random = [
    "--order",
    "random",
    "--seed",
    String(seed),
    "--max-offset",
    String(MAX_OFFSET),
    "--rate",
    String(RANDOM_RATE),
    "--limit",
    String(samples),
  ];
  const topics = ["--partitions", "3", "--replication-factor", "3"];
  return [
    { name: "batch-follow", args: ["batch", "--id", IDS.follow, ...follow, ...topics] },
    {
      name: "batch-random",
      args: ["batch", "--id", IDS.random, ...random, ...topics],
      finishes: true,
    },
    { name: "stream-follow", args: ["stream", "--id", IDS.stream, ...follow, "--shards", "2"] },
    {
      name: "stream-random",
      args: ["stream", "--id", IDS.streamRandom, ...random, "--shards", "2"],
      finishes: true,
    },
    followSink(1),
    followSink(2),
    { name: "sink-random", args: [...sinkArgs(IDS.random, "50"), ...s3Flags(stack)] },
    { name: "consume", args: consumeArgs(stack, IDS.stream) },
    { name: "consume-random", args: consumeArgs(stack, IDS.streamRandom) },
  ];
}

/** Runs `main.ts ARGS` against the stack (killed after `timeoutMs`); its exit code and output. */
async function runMainOnce(
  stack: ChaosStack,
  args: string[],
  timeoutMs: number,
): Promise<{ code: number; stdout: string; output: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts", ...args],
    cwd: new URL("../", import.meta.url).pathname,
    env: stack.commandEnv(),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const run = await child.output();
  clearTimeout(timer);
  const [stdout, stderr] = [run.stdout, run.stderr].map((b) => new TextDecoder().decode(b));
  return { code: run.code, stdout, output: stdout + stderr };
}

/** Runs `main.ts ARGS` to its end against the stack, up to `tries` times until it exits 0. */
async function drainRun(stack: ChaosStack, logs: string, args: string[], tries = 3) {
  let last = { code: -1, stdout: "" };
  // Between tries the stack is brought back up, which is the wait.
  await retry(async () => {
    const began = Date.now();
    const run = await runMainOnce(stack, args, 600_000);
    await Deno.writeTextFile(
      `${logs}/drain.log`,
      `$ ${args.join(" ")} (exit ${run.code} after ${(Date.now() - began) / 1000} s)\n` +
        `${run.output}\n`,
      { append: true },
    );
    last = run;
    if (run.code !== 0) {
      await bringBack(stack);
      throw new Error(`exit ${run.code}`);
    }
  }, { maxAttempts: tries, baseMs: 0, capMs: 0 }).catch(() => {});
  return last;
}

/**
 * `sim --incremental` over the random pipeline's `s3://` bucket, as the daily job reads it:
 * the records it took into bronze this run, per table (undefined when it printed no summary).
 */
async function simIncremental(
  stack: ChaosStack,
  logs: string,
  run: number,
): Promise<Record<TableKind, number> | undefined> {
  const args = [
    "sim",
    "--from",
    "bucket",
    ...s3Flags(stack),
    "--id",
    IDS.random,
    "--incremental",
    "--state",
    `${stack.dir}/sim-state.duckdb`,
    "--out",
    `${stack.dir}/sim-${run}`,
    "--json",
    "--quiet",
  ];
  const result = await runMainOnce(stack, args, 300_000);
  await Deno.writeTextFile(
    `${logs}/sim.log`,
    `$ ${args.join(" ")} (exit ${result.code})\n${result.output}\n`,
    { append: true },
  );
  try {
    const added = JSON.parse(result.stdout).incremental.thisRun;
    return Object.fromEntries(TABLE_KINDS.map((kind) => [kind, added[kind].bronze])) as Record<
      TableKind,
      number
    >;
  } catch {
    return undefined;
  }
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

/** Faults by kind: applied, skipped, and what they hit. */
function faultTable(injected: readonly Injected[]): string {
  const rows: (string | number)[][] = FAULT_KINDS.map((kind) => {
    const of = injected.filter((f) => f.kind === kind);
    const hits = new Map<string, number>();
    for (const fault of of.filter((f) => f.applied)) {
      for (const target of fault.targets) hits.set(target, (hits.get(target) ?? 0) + 1);
    }
    return [
      kind,
      of.filter((f) => f.applied).length,
      of.filter((f) => !f.applied).length,
      [...hits].sort().map(([target, n]) => n > 1 ? `${target} x${n}` : target).join(", "),
    ];
  });
  rows.push([
    "total",
    injected.filter((f) => f.applied).length,
    injected.filter((f) => !f.applied).length,
    "",
  ]);
  return textTable(["kind", "applied", "skipped", "targets"], rows, {
    maxRows: Infinity,
    maxWidth: 200,
  });
}

/** Commands by name: started again after they died or exited on a fault, non-zero exits. */
function processTable(processes: readonly Supervised[]): string {
  const names = [...new Set(processes.map((p) => p.name))];
  const rows = names.map((name) => {
    const runs = processes.filter((p) => p.name === name);
    return [
      name,
      runs.reduce((n, p) => n + Math.max(0, p.starts - 1), 0),
      runs.reduce((n, p) => n + p.exits.filter((code) => code !== 0).length, 0),
    ];
  });
  return textTable(["command", "restarts", "non-zero exits"], rows, { maxRows: Infinity });
}

/**
 * What `stream`'s logs say of PutRecords calls that got no answer: their records, and how many
 * of those the stream turned out to hold (not sent again).
 */
async function unansweredPuts(logs: string): Promise<{ records: number; found: number }> {
  const total = { records: 0, found: 0 };
  for (const name of ["stream-follow", "stream-random"]) {
    const text = await Deno.readTextFile(`${logs}/${name}.log`).catch(() => "");
    for (
      const [, records, found] of text.matchAll(
        /(\d+) record\(s\) sent without an answer: (\d+) found/g,
      )
    ) {
      total.records += Number(records);
      total.found += Number(found);
    }
  }
  return total;
}

/** Lines of the producers' logs saying a send left partitions unanswered and was sent again. */
async function resendRounds(logs: string): Promise<number> {
  let rounds = 0;
  for (const name of ["batch-follow", "batch-random"]) {
    const text = await Deno.readTextFile(`${logs}/${name}.log`).catch(() => "");
    rounds += text.split("\n").filter((line) => line.includes("left unanswered by a send")).length;
  }
  return rounds;
}

/** The faults' view of the run: its stack, its commands, and the means to change them. */
class Scene implements FaultScene {
  readonly all: Supervised[];
  #extra: Supervised | undefined;
  #members = 2;

  constructor(
    readonly stack: ChaosStack,
    readonly logs: string,
    readonly seed: number,
    specs: ProcessSpec[],
  ) {
    this.all = specs.map((spec) => new Supervised(spec, stack, logs));
  }

  processes(): readonly Supervised[] {
    return this.all.filter((p) => p.running);
  }

  async toggleSinkMember(): Promise<string> {
    if (this.#extra) {
      const member = this.#extra;
      this.#extra = undefined;
      const code = await member.stop();
      return `${member.name} left the group of sink-follow (exit ${code ?? "-"})`;
    }
    const member = new Supervised(followSink(++this.#members), this.stack, this.logs);
    this.#extra = member;
    this.all.push(member);
    member.start();
    return `${member.name} joined the group of sink-follow`;
  }

  async reshard(pick: number): Promise<string> {
    const ids = [IDS.stream, IDS.streamRandom];
    const id = ids[Math.floor(pick * ids.length) % ids.length];
    const kind =
      TABLE_KINDS[Math.floor(pick * ids.length * TABLE_KINDS.length) % TABLE_KINDS.length];
    const stream = streamName(id, kind);
    const client = kinesisClient(this.stack.config(id).kinesis);
    try {
      return `${stream}: ${await reshard(client, stream, (pick * 7) % 1)}`;
    } finally {
      client.destroy();
    }
  }

  async checkpointOf([p0, p1]: [number, number]) {
    const candidates = [
      { name: "batch-follow", id: IDS.follow, target: "kafka" },
      { name: "stream-follow", id: IDS.stream, target: "kinesis" },
      { name: "batch-random", id: IDS.random, target: "kafka" },
      { name: "stream-random", id: IDS.streamRandom, target: "kinesis" },
    ];
    // The picked producer first, then the others: one that has not checkpointed yet (just
    // started, or killed before its first batch) leaves the fault to the next.
    const first = Math.floor(p0 * candidates.length);
    for (let offset = 0; offset < candidates.length; offset++) {
      const { name, id, target } = candidates[(first + offset) % candidates.length];
      const process = this.all.find((p) => p.name === name)!;
      const store = new CheckpointStore(this.stack.config(id).stateDir, id, target);
      const file = name.endsWith("random")
        ? store.randomFile(this.seed)
        : store.sequentialFile(TABLE_KINDS[Math.floor(p1 * TABLE_KINDS.length)]);
      try {
        await Deno.stat(file);
        return { process, file };
      } catch {
        // Not written yet: the next producer.
      }
    }
    return undefined;
  }

  runOnce(process: Supervised, timeoutMs: number) {
    return runMainOnce(this.stack, process.spec.args, timeoutMs);
  }
}

/** What `--json` prints: the seed, the faults injected, the invariants and their verdict. */
export interface ChaosSummary {
  seed: number;
  minutes: number;
  faults: Injected[];
  invariants: Check[];
  resends: number;
  /** Records of Kinesis calls that got no answer, and those the stream held already. */
  unanswered: { records: number; found: number };
  violations: number;
  /** The stack's directory when it was kept (a failure, `--keep`, `--dir`), else null. */
  kept: string | null;
}

/** Runs the chaos; returns its summary. */
async function runChaos(
  options: ChaosOptions,
  interrupt: AbortSignal,
  say: (line: string) => void,
): Promise<ChaosSummary> {
  const dir = options.dir ?? await Deno.makeTempDir({ prefix: "pinpipe_chaos_" });
  const logs = `${dir}/logs`;
  await Deno.mkdir(logs, { recursive: true });
  const stack = new ChaosStack(dir, options.portBase);
  say(
    `chaos: seed ${options.seed}, ${options.minutes} min of faults; stack in ${dir} (ports ${options.portBase}..${
      options.portBase + 11
    })`,
  );
  say(`chaos: replay with deno task chaos --minutes ${options.minutes} --seed ${options.seed}`);
  const durationMs = options.minutes * 60_000;
  const schedule = faultSchedule(options.seed, durationMs);
  const samples = Math.ceil(
    (Math.max(durationMs, schedule.at(-1)!.atMs) / 1000) * RANDOM_RATE * 0.8,
  );
  const scene = new Scene(stack, logs, options.seed, pipelineSpecs(stack, options.seed, samples));
  let injected: Injected[] = [];
  let checks: Check[] = [];
  let growth: SourceGrowth | undefined;
  let resends = 0;
  let unanswered = { records: 0, found: 0 };
  try {
    await stack.up();
    if (stack.mounted.size === 0) {
      say("chaos: not root: no tmpfs, the disk-full faults are skipped");
    }
    const secrets = stack.secrets();
    const admin: AdminConnection = {
      host: "127.0.0.1",
      port: options.portBase,
      user: secrets.PINPIPE_MYSQL_ADMIN_USER,
      password: secrets.PINPIPE_MYSQL_ADMIN_PASSWORD,
      database: "pinterest_data",
    };
    say("chaos: stack up; starting the pipeline and the faults");
    for (const process of scene.all) process.start();
    growth = new SourceGrowth(admin, options.grow);
    // Every scheduled fault is injected, however long recoveries take: the seed fixes the faults.
    const growthStop = new AbortController();
    const growing = growth.run(AbortSignal.any([interrupt, growthStop.signal]));
    injected = await injectFaults(schedule, scene, interrupt, (line) => say(`chaos: ${line}`));
    growthStop.abort();
    await growing;
    say(`chaos: faults over; the source stopped at +${growth.inserted} rows per table; draining`);

    // Everything back up and thawed, then the producers catch up with the source and stop.
    const down = await bringBack(stack);
    if (down) throw new Error(`infra.sh local up failed: ${down}`);
    // The daily job's first read, of what the sink wrote so far; the second comes after the drain.
    const simRuns = [await simIncremental(stack, logs, 1)];
    for (const volume of stack.mounted) await stack.freeDisk(volume);
    for (const proxy of Object.values(stack.proxies)) proxy.heal();
    for (const process of scene.all) process.signal("SIGCONT");
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
    await Promise.all(scene.all.map((process) => process.stop()));
    await bringBack(stack);
    // The sinks and the consumers drain side by side; a last consume must find nothing new.
    const sinkDrain = (id: string, flushSize: string, ...flags: string[]) =>
      drainRun(stack, logs, [...sinkArgs(id, flushSize), ...flags, "--exit-at-end"]);
    const drainArgs = (id: string, idleExitMs: string) => [
      "consume",
      "--id",
      id,
      "--db",
      consumerDb(stack, id),
      "--idle-exit-ms",
      idleExitMs,
    ];
    const consumeDrain = (id: string) =>
      drainRun(stack, logs, drainArgs(id, "5000"))
        .then(() => drainRun(stack, logs, [...drainArgs(id, "2000"), "--json", "--quiet"]))
        .then((last) => last.code === 0 ? JSON.parse(last.stdout).records as number : -1);
    const [, , lastFollow, lastRandom] = await Promise.all([
      sinkDrain(IDS.follow, "200"),
      sinkDrain(IDS.random, "50", ...s3Flags(stack)),
      consumeDrain(IDS.stream),
      consumeDrain(IDS.streamRandom),
    ]);

    say("chaos: checking");
    const draws = (id: string, target: "kafka" | "kinesis") =>
      randomDraws(stack.config(id), target, options.seed, MAX_OFFSET, source);
    const random = await draws(IDS.random, "kafka");
    const streamRandom = await draws(IDS.streamRandom, "kinesis");
    // The random pipeline's objects, copied from S3 with their keys, are checked as a directory.
    const s3Copy = `${dir}/s3-copy`;
    for (const kind of TABLE_KINDS) await stack.copyS3(`topics/${IDS.random}.${kind}/`, s3Copy);
    simRuns.push(await simIncremental(stack, logs, 2));
    const copied = await bucketRecords(s3Copy, IDS.random);
    const corrupt = injected.filter((f) => f.kind === "corrupt checkpoint" && f.applied);
    checks = [
      ...await checkKafkaPipeline(
        "batch --follow",
        stack.config(IDS.follow),
        (kind) => source[kind],
        (kind, sent) =>
          sequentialCheckpoint(stack.config(IDS.follow), "kafka", kind, source[kind], sent),
      ),
      ...await checkKafkaPipeline(
        "batch --order random (s3://)",
        { ...stack.config(IDS.random), bucket: s3Copy },
        (kind) => random.draws[kind],
        (kind, sent) => Promise.resolve(randomCheckpoint(random, kind, sent, "topic")),
      ),
      ...await checkKinesisPipeline(
        "stream --follow",
        stack.config(IDS.stream),
        consumerDb(stack, IDS.stream),
        (kind) => source[kind],
        (kind, sent) =>
          sequentialCheckpoint(stack.config(IDS.stream), "kinesis", kind, source[kind], sent),
        lastFollow,
      ),
      ...await checkKinesisPipeline(
        "stream --order random",
        stack.config(IDS.streamRandom),
        consumerDb(stack, IDS.streamRandom),
        (kind) => streamRandom.draws[kind],
        (kind, sent) => Promise.resolve(randomCheckpoint(streamRandom, kind, sent, "stream")),
        lastRandom,
      ),
      ...TABLE_KINDS.map((kind): Check => {
        const read = simRuns.map((run) => run?.[kind]);
        const total = read.reduce((a: number, b) => a + (b ?? NaN), 0);
        return {
          name: `sim --incremental over s3:// ${kind}: every record read once in 2 runs`,
          rows: copied[kind],
          held: total === copied[kind],
          detail: `runs read ${read.map((n) => n ?? "no summary").join(" + ")}, the bucket holds ${
            copied[kind]
          }`,
        };
      }),
      {
        name: "a corrupt checkpoint stops its producer, naming the file",
        rows: corrupt.length,
        held: corrupt.every((f) => !f.problem),
        detail: corrupt.filter((f) => f.problem).map((f) => f.problem).join("; "),
      },
    ];
    resends = await resendRounds(logs);
    unanswered = await unansweredPuts(logs);
  } catch (error) {
    // The run broke off (a stack that would not come up): the servers' own words, and where
    // the rest is kept.
    say(await stack.logTails());
    say(`chaos: logs and data kept in ${dir}`);
    throw error;
  } finally {
    for (const process of scene.all) await process.stop(10_000);
    await stack.down();
    const kept = options.keep || options.dir !== undefined || failed(checks).length > 0 ||
      checks.length === 0;
    await stack.unmount(kept).catch((error) => say(`chaos: ${error.message}`));
  }
  say("");
  say(`faults (seed ${options.seed}):`);
  say(faultTable(injected));
  say("");
  say(processTable(scene.all));
  say(`Kafka sends repeated for partitions a send left unanswered (leader moved): ${resends}`);
  say(
    `Kinesis records in calls that got no answer: ${unanswered.records}, ` +
      `${unanswered.found} of them found in the stream (not sent again)`,
  );
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
  const removed = violations === 0 && !options.keep && !options.dir;
  if (removed) await Deno.remove(dir, { recursive: true });
  else say(`chaos: logs and data kept in ${dir}`);
  const { seed, minutes } = options;
  return {
    seed,
    minutes,
    faults: injected,
    invariants: checks,
    resends,
    unanswered,
    violations,
    kept: removed ? null : dir,
  };
}

/** `deno task chaos`. */
export const COMMAND: Command = {
  name: "chaos",
  usage: USAGE,
  flags: FLAGS,
  connections: [],
  exits: { 1: "an invariant was violated, or another failure" },
  output: true,
  async run(flags, interrupt) {
    const options = parseChaosOptions(flags);
    interrupt.started();
    const began = Date.now();
    const stamp = () => `[${((Date.now() - began) / 1000).toFixed(0).padStart(4)} s]`;
    // With --json, stdout carries only the JSON and the text goes to stderr; --quiet drops it.
    const print = flags.json ? console.error : console.log;
    const summary = await runChaos(
      options,
      interrupt.signal,
      flags.quiet
        ? () => {}
        : (line) => print(line.startsWith("chaos:") ? `${stamp()} ${line}` : line),
    );
    if (flags.json) console.log(JSON.stringify(summary));
    return summary.violations === 0 ? 0 : 1;
  },
};

/** `deno task chaos`: returns the exit code. */
export function main(args: string[]): Promise<number> {
  return runCommand(COMMAND, args);
}
