/**
 * `deno task bench watch [--rows N] [--rounds N]`: what watching costs the pipeline.
 * `deno task batch` sends one database's three tables at full speed, alone and with
 * `deno task watch` reading the same pipeline's ledger once a second and a client reading its
 * server-sent events (as the page does), in alternating rounds; the figure is the ratio of the
 * median rows per second with watching to without (the target: at least 0.95, a cost under 5%).
 */
import { intFlag, parseFlags } from "../src/core/cli.ts";
import { retry } from "../src/util/retry.ts";
import { batchRun, databaseWith, pipelineFlags } from "./batch.ts";
import { median } from "./measure.ts";
import { requireStack, ROOT } from "./prerequisites.ts";

const USAGE = `Usage: deno task bench watch [--rows N] [--rounds N]

  --rows N     rows per table sent by batch (default 100000; a size other than the seeded one is
               loaded once into a database pinpipe_bench_<rows>, as bench batch does)
  --rounds N   rounds, batch alone and batch watched, which goes first alternating (default 3)

Needs the local stack up (\`bash infra.sh local up\`).`;

/** The watch server's port: below the ephemeral range, apart from the stack's. */
const WATCH_PORT = 18750;

/** Starts `deno task watch` on the pipeline and a client of its event stream; returns the stop. */
async function watching(database: string, id: string, state: string) {
  const watch = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "main.ts",
      "watch",
      ...pipelineFlags(id, database, state),
      "--port",
      String(WATCH_PORT),
    ],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const events = new AbortController();
  let received = 0;
  const url = `http://127.0.0.1:${WATCH_PORT}/events`;
  const response = await retry(() => fetch(url, { signal: events.signal }), {
    baseMs: 50,
    capMs: 200,
    deadlineMs: 10_000,
  }).catch((error) => {
    throw new Error(`watch did not answer at ${url}: ${error}`);
  });
  const reader = response.body!.getReader();
  (async () => {
    while (!(await reader.read()).done) received++;
  })().catch(() => {});
  return async () => {
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
  const flags = parseFlags(args, { rows: { type: "string" }, rounds: { type: "string" } }, USAGE);
  const rows = intFlag(flags, "rows", 100_000, { min: 1 });
  const rounds = intFlag(flags, "rounds", 3, { min: 1 });
  await requireStack();
  const database = await databaseWith(rows);
  const load = () => Deno.loadavg()[0].toFixed(1);
  console.log(`deno task bench watch --rows ${rows} --rounds ${rounds}`);
  console.log(`${new Date().toISOString()}, ${navigator.hardwareConcurrency} cores\n`);
  const alone: number[] = [];
  const watched: number[] = [];
  const loads = [load()];
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? ["alone", "watched"] : ["watched", "alone"];
    for (const which of order) {
      const run = which === "alone"
        ? await batchRun(database)
        : await batchRun(database, (id, state) => watching(database, id, state));
      (which === "alone" ? alone : watched).push(run.wallRate);
      console.error(`round ${round + 1}, ${which}: ${Math.round(run.wallRate)} rows/s`);
    }
  }
  loads.push(load());
  const ratio = median(watched) / median(alone);
  console.log(
    "| rows per table | load start -> end | batch alone rows/s | batch watched rows/s | ratio |",
  );
  console.log("| ---: | :---: | ---: | ---: | ---: |");
  console.log(
    `| ${rows.toLocaleString("en-US")} | ${loads.join(" -> ")} | ${
      Math.round(median(alone)).toLocaleString("en-US")
    } | ${Math.round(median(watched)).toLocaleString("en-US")} | ${ratio.toFixed(3)} |`,
  );
  return 0;
}
