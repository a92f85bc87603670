/**
 * `deno task watch`: the ledger as a live page on 127.0.0.1 (`server.ts`),
 * read about once a second, until Ctrl-C.
 *
 * @example
 * ```ts
 * import { main } from "./watch_command.ts";
 * await main(["--id", "0123456789ab", "--port", "8750"]);
 * ```
 */
import { intFlag } from "../../core/cli.ts";
import { type Command, runCommand } from "../../core/command.ts";
import { TargetError } from "../../core/errors.ts";
import { LEDGER_FLAGS, LEDGER_USAGE, openLedger } from "../status_command.ts";
import { startWatch } from "./server.ts";

/** The default port: in no other service's way on the local stack. */
export const DEFAULT_WATCH_PORT = 8750;

const USAGE = `Usage: deno task watch [flags]

Serves a live page of the ledger (what deno task status prints) on 127.0.0.1 only: every
stage's count, how far behind its upstream and how old the oldest record not yet past it,
each stage's state (flowing, caught up, stalled), each server up or down, rates and lag over
the last 15 minutes as charts, rejects by reason with samples. Updated about once a second by
server-sent events; the same data as JSON at /ledger.json (the points of the last 15 minutes
at /history.json). The page is self-contained and loads nothing from the network.

Flags:
  --port P              the port on 127.0.0.1 (${DEFAULT_WATCH_PORT}; 0: any free port)
  --interval-ms MS      between reads (1000)
${LEDGER_USAGE}`;

/** `deno task watch`. */
export const COMMAND: Command = {
  name: "watch",
  usage: USAGE,
  flags: { ...LEDGER_FLAGS, port: { type: "string" }, "interval-ms": { type: "string" } },
  connections: ["id", "mysql", "kafka", "kinesis", "aws", "bucket", "state"],
  exits: { 3: "the database", 4: "Kafka, Kinesis or the bucket" },
  output: true,
  async run(flags, interrupt) {
    const port = intFlag(flags, "port", DEFAULT_WATCH_PORT, { min: 0, max: 65535 });
    const intervalMs = intFlag(flags, "interval-ms", 1000, { min: 100, max: 60_000 });
    // A lagging shard is looked at every second: a tenth of what `status` reads at once.
    const reader = await openLedger(flags, { shardPeekLimit: 1000 });
    let server;
    try {
      server = await startWatch(reader, { port, intervalMs });
    } catch (error) {
      await reader.close();
      throw new TargetError(`cannot listen on 127.0.0.1:${port}: ${(error as Error).message}`);
    }
    interrupt.started();
    // Its summary is where it serves: a line on stderr, or (--json) one JSON line on stdout.
    if (flags.json) {
      console.log(JSON.stringify({ url: server.url, ledger: `${server.url}ledger.json` }));
    }
    if (!flags.quiet) {
      console.error(
        `pinpipe watch: ${server.url} (the same data: ${server.url}ledger.json); Ctrl-C stops`,
      );
    }
    await new Promise((resolve) =>
      interrupt.signal.addEventListener("abort", resolve, { once: true })
    );
    await server.close();
    await reader.close();
    return 0;
  },
};

/** `deno task watch`: returns the exit code. */
export function main(args: string[]): Promise<number> {
  return runCommand(COMMAND, args);
}
