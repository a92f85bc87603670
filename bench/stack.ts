/**
 * `deno task bench stack`: how long `./infra.sh local up` takes from cold
 * (jars and packages cached, no service running): once from empty data
 * directories (`--fresh`: initialize MariaDB, format Kafka's storage, seed
 * 11,000 rows per table), and once more with the data left in place.
 * Stops the stack when done only if it was not running before.
 */
import { parseFlags } from "../src/core/cli.ts";
import { ROOT } from "./prerequisites.ts";

const USAGE = `Usage: deno task bench stack [--fresh]

  --fresh   also time a start from empty data directories: removes .local/mariadb and
            .local/kafka (the local database and topics) first

Stops the stack and starts it again; stops it at the end if it was not running before.`;

async function infra(...args: string[]): Promise<number> {
  const started = performance.now();
  const output = await new Deno.Command("bash", {
    args: ["infra.sh", "local", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(
      `infra.sh local ${args.join(" ")} failed:\n${new TextDecoder().decode(output.stderr)}`,
    );
  }
  return performance.now() - started;
}

async function isUp(): Promise<boolean> {
  const output = await new Deno.Command("bash", {
    args: ["infra.sh", "local", "status"],
    cwd: ROOT,
    stdout: "null",
    stderr: "null",
  }).output();
  return output.success;
}

export async function main(args: string[]): Promise<number> {
  const flags = parseFlags(args, { fresh: { type: "boolean" } }, USAGE);
  const wasUp = await isUp();
  const rows: string[] = ["| start | `./infra.sh local up` |", "| --- | ---: |"];
  if (flags.fresh) {
    await infra("down");
    for (const dir of [`${ROOT}.local/mariadb`, `${ROOT}.local/kafka`]) {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
    rows.push(
      `| fresh data directories (init, format, seed 11,000 rows) | ${
        ((await infra("up")) / 1000).toFixed(1)
      } s |`,
    );
  }
  await infra("down");
  rows.push(`| data in place (restart) | ${((await infra("up")) / 1000).toFixed(1)} s |`);
  if (!wasUp) await infra("down");
  console.log(rows.join("\n"));
  return 0;
}
