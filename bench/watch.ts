/**
 * `deno task bench watch [--rows N] [--rounds N] [--port P]`: what watching costs the pipeline.
 * `deno task batch` sends one database's three tables at full speed, alone and with
 * `deno task watch` reading the same pipeline's ledger once a second and a client reading its
 * server-sent events (as the page does), in alternating rounds; the figure is the ratio of the
 * median rows per second with watching to without (the target: at least 0.95, a cost under 5%).
 * Watch is started, and has sent its first reading, before batch starts: what is measured is
 * watching, not starting to. Beside the rates: the CPU seconds the watch process, the database
 * server and the broker used while batch ran (on a machine of few cores, any CPU they spend on
 * watching is taken from batch).
 */
import { intFlag, parseFlags } from "../src/core/cli.ts";
import { retry } from "../src/util/retry.ts";
import { batchRun, databaseWith, pipelineFlags } from "./batch.ts";
import { cpuSeconds, median } from "./measure.ts";
import { requireStack, ROOT } from "./prerequisites.ts";

const USAGE = `Usage: deno task bench watch [--rows N] [--rounds N] [--port P]

  --rows N     rows per table sent by batch (default 100000; a size other than the seeded one is
               loaded once into a database pinpipe_bench_<rows>, as bench batch does)
  --rounds N   rounds, batch alone and batch watched, which goes first alternating (default 3)
  --port P     the watch server's port on 127.0.0.1 (default 18750)

Needs the local stack up (\`bash infra.sh local up\`).`;

/** The watch server's default port: below the ephemeral range, apart from the stack's. */
const WATCH_PORT = 18750;

/** The local stack's servers whose CPU is counted beside the watch's (from their pid files). */
async function serverPids(): Promise<{ database?: number; broker?: number }> {
  const pid = async (name: string) =>
    Number((await Deno.readTextFile(`${ROOT}.local/run/${name}.pid`).catch(() => "")).trim()) ||
    undefined;
  return { database: await pid("mysql"), broker: await pid("kafka") };
}

/** CPU seconds used while batch ran: by batch, the watch process (0 alone), the database, the broker. */
interface CpuUsed {
  batch: number;
  watch: number;
  database: number;
  broker: number;
}

/** The CPU seconds the stack's servers have used so far. */
const serversCpu = (pids: { database?: number; broker?: number }) => ({
  database: pids.database ? cpuSeconds(pids.database) : 0,
  broker: pids.broker ? cpuSeconds(pids.broker) : 0,
});

/**
 * Starts `deno task watch` on the pipeline and a client of its event stream, and waits for its
 * first reading; returns the stop, which adds the CPU used since to `used`.
 */
async function watching(
  database: string,
  id: string,
  state: string,
  port: number,
  used: CpuUsed[],
) {
  const watch = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "main.ts",
      "watch",
      ...pipelineFlags(id, database, state),
      "--port",
      String(port),
    ],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const events = new AbortController();
  let received = 0;
  const viewed = Promise.withResolvers<void>();
  const url = `http://127.0.0.1:${port}/events`;
  const response = await retry(() => fetch(url, { signal: events.signal }), {
    baseMs: 50,
    capMs: 200,
    deadlineMs: 10_000,
  }).catch((error) => {
    throw new Error(`watch did not answer at ${url}: ${error}`);
  });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  (async () => {
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      received++;
      if (chunk.value.includes("event: view")) viewed.resolve();
    }
  })().catch(() => {});
  await Promise.race([
    viewed.promise,
    watch.status.then((status) => {
      throw new Error(`watch ended with ${status.code} before its first reading`);
    }),
  ]);
  const pids = await serverPids();
  const start = { watch: cpuSeconds(watch.pid), ...serversCpu(pids) };
  return async () => {
    const end = serversCpu(pids);
    used.push({
      batch: 0,
      watch: cpuSeconds(watch.pid) - start.watch,
      database: end.database - start.database,
      broker: end.broker - start.broker,
    });
    events.abort();
    watch.kill("SIGTERM");
    const status = await watch.status;
    const stderr = new TextDecoder().decode(await new Response(watch.stderr).arrayBuffer());
    if (received === 0) throw new Error(`watch sent no event while batch ran:\n${stderr}`);
    if (status.code !== 130 && status.code !== 0) {
      throw new Error(`watch ended with ${status.code}:\n${stderr}`);
    }
  };
}

export async function main(args: string[]): Promise<number> {
  const flags = parseFlags(
    args,
    { rows: { type: "string" }, rounds: { type: "string" }, port: { type: "string" } },
    USAGE,
  );
  const rows = intFlag(flags, "rows", 100_000, { min: 1 });
  const rounds = intFlag(flags, "rounds", 3, { min: 1 });
  const port = intFlag(flags, "port", WATCH_PORT, { min: 1, max: 65535 });
  await requireStack();
  const database = await databaseWith(rows);
  const load = () => Deno.loadavg()[0].toFixed(1);
  console.log(`deno task bench watch --rows ${rows} --rounds ${rounds}`);
  console.log(`${new Date().toISOString()}, ${navigator.hardwareConcurrency} cores\n`);
  const alone: number[] = [];
  const watched: number[] = [];
  const cpuAlone: CpuUsed[] = [];
  const cpuWatched: CpuUsed[] = [];
  const pids = await serverPids();
  // Alone, the servers' CPU is counted over the same span as when watched.
  const counting = () => {
    const start = serversCpu(pids);
    const stop = () => {
      const end = serversCpu(pids);
      cpuAlone.push({
        batch: 0,
        watch: 0,
        database: end.database - start.database,
        broker: end.broker - start.broker,
      });
      return Promise.resolve();
    };
    return Promise.resolve(stop);
  };
  const loads = [load()];
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? ["alone", "watched"] : ["watched", "alone"];
    for (const which of order) {
      const run = which === "alone"
        ? await batchRun(database, counting)
        : await batchRun(database, (id, state) => watching(database, id, state, port, cpuWatched));
      (which === "alone" ? alone : watched).push(run.wallRate);
      const cpu = (which === "alone" ? cpuAlone : cpuWatched).at(-1)!;
      cpu.batch = run.cpuSeconds;
      console.error(
        `round ${round + 1}, ${which}: ${Math.round(run.wallRate)} rows/s, CPU s: batch ${
          cpu.batch.toFixed(1)
        }, watch ${cpu.watch.toFixed(1)}, database ${cpu.database.toFixed(1)}, broker ${
          cpu.broker.toFixed(1)
        }`,
      );
    }
  }
  loads.push(load());
  const ratio = median(watched) / median(alone);
  const middle = (values: CpuUsed[], which: keyof CpuUsed) =>
    median(values.map((used) => used[which]));
  const seconds = (values: CpuUsed[], which: keyof CpuUsed) => middle(values, which).toFixed(1);
  // What watching adds, against all that sending costs alone: a figure the machine's other
  // load moves less than the rates (though the servers' CPU counts their other clients too).
  const sending = middle(cpuAlone, "batch") + middle(cpuAlone, "database") +
    middle(cpuAlone, "broker");
  const added = middle(cpuWatched, "watch") +
    middle(cpuWatched, "database") - middle(cpuAlone, "database") +
    middle(cpuWatched, "broker") - middle(cpuAlone, "broker");
  console.log(
    "| rows per table | load start -> end | batch alone rows/s | batch watched rows/s | ratio | " +
      "batch CPU s | watch CPU s | database CPU s alone -> watched | " +
      "broker CPU s alone -> watched | CPU watching adds |",
  );
  console.log("| ---: | :---: | ---: | ---: | ---: | ---: | ---: | :---: | :---: | ---: |");
  console.log(
    `| ${rows.toLocaleString("en-US")} | ${loads.join(" -> ")} | ${
      Math.round(median(alone)).toLocaleString("en-US")
    } | ${Math.round(median(watched)).toLocaleString("en-US")} | ${ratio.toFixed(3)} | ${
      seconds(cpuAlone, "batch")
    } | ${seconds(cpuWatched, "watch")} | ${seconds(cpuAlone, "database")} -> ${
      seconds(cpuWatched, "database")
    } | ${seconds(cpuAlone, "broker")} -> ${seconds(cpuWatched, "broker")} | ${
      (100 * added / sending).toFixed(1)
    }% |`,
  );
  return 0;
}
