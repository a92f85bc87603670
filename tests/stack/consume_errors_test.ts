/**
 * The consumer's errors: one line naming what was wrong, the exit code of
 * its kind (Kinesis: 4, flags: 2), and the database file untouched by the
 * failed run.
 */
import assert from "node:assert/strict";
import { EXIT_CODES } from "../../src/core/errors.ts";
import { randomId, runMain } from "../support/processes.ts";

Deno.test("consume: missing streams, unreachable Kinesis and bad flags are one line each", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pinpipe_consumer_errors_" });
  try {
    const id = randomId();
    const db = `${dir}/c.duckdb`;
    const cases: [string[], number, RegExp][] = [
      [
        ["--wait-streams", "1"],
        EXIT_CODES.target,
        /^pinpipe consume: stream streaming-[0-9a-f]{12}-pin does not exist after waiting 1 s/,
      ],
      [
        ["--kinesis-endpoint", "http://127.0.0.1:9"],
        EXIT_CODES.target,
        /^pinpipe consume: cannot list shards of streaming-[0-9a-f]{12}-pin: .*ECONNREFUSED/,
      ],
      [["--from", "middle"], 2, /^pinpipe consume: --from must be one of trim_horizon, latest/],
      [["--limit", "20000"], 2, /^pinpipe consume: --limit must be a whole number from 1 to 10000/],
    ];
    for (const [flags, code, message] of cases) {
      const run = await runMain(["consume", "--id", id, "--db", db, ...flags]);
      assert.equal(run.code, code, run.stderr);
      assert.match(run.stderr, message);
      assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
