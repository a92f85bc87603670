/**
 * The consumer's errors: one line naming what was wrong, the exit code of
 * its kind (Kinesis: 4, flags: 2), and the database file untouched by the
 * failed run; a database whose disk fills (a small tmpfs: needs root, as
 * CI runs) is named, and with space the rerun appends each row once.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { EXIT_CODES } from "../../src/core/errors.ts";
import { kinesisClient } from "../../src/kinesis/client.ts";
import { loadConfig } from "../../src/core/config.ts";
import { consumerTables } from "../support/cleaned_tables.ts";
import { deleteStreams } from "../support/kinesis.ts";
import { randomId, runMain } from "../support/processes.ts";

Deno.test("consume: missing streams, unreachable Kinesis and bad flags are one line each", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pinpipe_consumer_errors_" });
  try {
    const id = randomId();
    const db = `${dir}/c.duckdb`;
    const cases: [string[], number, RegExp][] = [
      [
        ["--wait-streams-ms", "1000"],
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
      [
        ["--idle-exit-ms", "1e3"],
        2,
        /^pinpipe consume: --idle-exit-ms must be a whole number of at least 0, got "1e3"/,
      ],
      [
        ["--poll-ms", "-5"],
        2,
        /^pinpipe consume: --poll-ms must be a whole number from 0 to 60000, got "-5"/,
      ],
    ];
    for (const [flags, code, message] of cases) {
      const run = await runMain(["consume", "--id", id, "--db", db, ...flags]);
      assert.equal(run.code, code, run.stderr);
      assert.match(run.stderr, message);
      assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
    }
    // The spelling in seconds still works, as the -ms flag it stands for, with a note.
    const old = await runMain(["consume", "--id", id, "--db", db, "--wait-streams", "1"]);
    assert.equal(old.code, EXIT_CODES.target, old.stderr);
    assert.match(
      old.stderr,
      /^note: --wait-streams is deprecated; use --wait-streams-ms \(x 1000\)\n/,
    );
    assert.match(old.stderr, /does not exist after waiting 1 s/);
    // A directory where the DuckDB file should be: refused before Kinesis is asked.
    const onDir = await runMain([
      "consume",
      "--id",
      id,
      "--db",
      dir,
      "--kinesis-endpoint",
      "http://127.0.0.1:9",
    ]);
    assert.equal(onDir.code, EXIT_CODES.usage, onDir.stderr);
    assert.equal(
      onDir.stderr,
      `pinpipe consume: --db ${dir}: is a directory (see deno task consume --help)\n`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Runs `mount <args>`, which must succeed. */
async function mount(...args: string[]): Promise<void> {
  const { code, stderr } = await new Deno.Command("mount", { args, stderr: "piped" }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
}

Deno.test({
  name:
    "consume: a disk that fills under --db is one line naming it; with space, the rerun appends each row once",
  ignore: Deno.uid() !== 0,
  async fn() {
    const id = randomId();
    const dir = await Deno.makeTempDir({ prefix: "pinpipe_consumer_disk_" });
    const dbDir = join(dir, "db");
    await Deno.mkdir(dbDir);
    const client = kinesisClient(loadConfig({ _: [], id }).kinesis);
    // The empty file takes about 270 KB and the 4,200 records about 2 MB: some micro-batches fit.
    await mount("-t", "tmpfs", "-o", "size=1200k", "tmpfs", dbDir);
    try {
      const streamed = await runMain([
        "stream",
        "--id",
        id,
        "--state-dir",
        join(dir, "state"),
        "--limit",
        "3000",
        "--quiet",
      ]);
      assert.equal(streamed.code, 0, streamed.stderr);
      const consume = (db: string) =>
        runMain([
          "consume",
          "--id",
          id,
          "--db",
          db,
          "--limit",
          "200",
          "--idle-exit-ms",
          "2000",
          "--quiet",
        ]);
      const db = join(dbDir, "c.duckdb");
      const full = await consume(db);
      assert.equal(full.code, EXIT_CODES.failure, full.stderr);
      assert.match(
        full.stderr,
        new RegExp(
          `^pinpipe consume: could not write the consumer database ${db}: .*No space left`,
        ),
      );
      assert.equal(full.stderr.trim().split("\n").length, 1, full.stderr);

      await mount("-o", "remount,size=64m", dbDir);
      const rerun = await consume(db);
      assert.equal(rerun.code, 0, rerun.stderr);
      const reference = join(dir, "reference.duckdb");
      const once = await consume(reference);
      assert.equal(once.code, 0, once.stderr);
      const expected = (await consumerTables(reference, id)).tables;
      const got = (await consumerTables(db, id)).tables;
      for (const kind of ["pin", "geo", "user"] as const) {
        assert.ok(expected[kind].length > 1300, `${kind}: ${expected[kind].length} rows`);
        assert.deepEqual(got[kind], expected[kind], `${kind}: every row once`);
      }
      // Only the database and DuckDB's own journal, none once checkpointed at close.
      assert.deepEqual([...Deno.readDirSync(dbDir)].map((e) => e.name), ["c.duckdb"]);
    } finally {
      await new Deno.Command("umount", { args: [dbDir] }).output();
      await deleteStreams(client, id);
      client.destroy();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
