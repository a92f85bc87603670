/**
 * `deno task sim --from bucket --incremental` as a user runs it, day after day over a bucket that
 * grows: each run reports what it added, skips what earlier runs read, sends malformed lines to the
 * quarantine (counted by reason, with examples, in the text, the JSON and the report) and exits 1
 * while more lines wait there than --max-bad-records allows.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { sim } from "../support/sim.ts";
import { buildDays, writeDay } from "../warehouse/incremental/days.ts";

Deno.test("sim --incremental: day by day, a quarantine that fails the run, then lets it through", async () => {
  const out = await Deno.makeTempDir({ prefix: "pinpipe_sim_incremental_" });
  try {
    const bucket = join(out, "bucket");
    const state = join(out, "state.duckdb");
    const days = buildDays(2, 40, 20, { bad: true });
    const run = async (...args: string[]) => {
      const result = await sim(
        "--from",
        "bucket",
        "--bucket",
        bucket,
        "--incremental",
        "--state",
        state,
        "--out",
        join(out, "sim"),
        "--json",
        ...args,
      );
      return { ...result, json: JSON.parse(result.stdout) };
    };

    await writeDay(bucket, days[0]);
    const first = await run();
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.json.incremental.thisRun.pin.objects, 1);
    assert.equal(first.json.incremental.thisRun.pin.bronze, 20);
    // One meaning per figure: this run's rows, the rows checked, all of silver, each named.
    assert.equal(first.json.cleaned, undefined, "no figure called cleaned in an incremental run");
    const silverPin = first.json.incremental.silverTotal.pin;
    assert.equal(
      first.json.incremental.thisRun.pin.silver,
      silverPin,
      "the first run: all of silver",
    );
    assert.equal(first.json.incremental.checkedSinceLastPass.pin.rowsIn, 20);
    assert.match(
      first.stderr,
      new RegExp(
        `this run, pin: 1 new objects, 20 records to bronze, 0 lines to quarantine, ${silverPin} rows to silver; silver total ${silverPin}`,
      ),
    );
    assert.match(first.stderr, /checked since the last run that passed: pin 20 in, \d+ out/);
    assert.match(first.stderr, /incremental run 1 .*: 0 objects read before, skipped/);

    await writeDay(bucket, days[1]);
    const second = await run();
    assert.equal(second.code, 1, "six malformed lines, none allowed");
    assert.equal(second.json.incremental.thisRun.geo.quarantined, 6);
    assert.match(
      second.stderr,
      /quarantine: 6 lines since the last run that passed \(invalid_utf8 1, empty_line 1, not_json 1, not_an_object 2, no_expected_fields 1\), 6 in all/,
    );
    assert.match(second.stderr, /FAIL {2}quarantine within max_bad_records: 6 lines/);
    const drift = second.json.checks.find((c: { name: string }) =>
      c.name === "schema drift pin.utm_source"
    );
    assert.equal(drift.detail, "1 records carry it, kept without it");
    const report = await Deno.readTextFile(join(out, "sim", "report", "index.html"));
    assert.match(report, /<section class="incremental" data-run="2">/);
    assert.match(
      report,
      /<tr data-reason="not_an_object"><td>not_an_object<\/td><td class="num">2<\/td>/,
    );
    assert.match(report, /data-table="quarantine-examples"/);

    const retry = await run();
    assert.equal(retry.code, 1, "a retry adds nothing and fails again");
    assert.equal(retry.json.incremental.thisRun.geo.objects, 0);
    // Nothing new this run, yet the checks look again at the failed run's rows, and silver keeps
    // what it had: three figures, three names.
    assert.equal(retry.json.incremental.thisRun.pin.silver, 0);
    assert.ok(retry.json.incremental.checkedSinceLastPass.pin.rowsIn > 0);
    assert.equal(retry.json.incremental.silverTotal.pin, second.json.incremental.silverTotal.pin);
    assert.match(
      retry.stderr,
      /this run, pin: 0 new objects, 0 records to bronze, 0 lines to quarantine, 0 rows to silver/,
    );
    const allowed = await run("--max-bad-records", "6");
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.deepEqual(allowed.json.answers, second.json.answers);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("sim: --incremental, --state and --max-bad-records are refused where they mean nothing", async () => {
  for (
    const [args, message] of [
      [["--incremental"], /--incremental goes with --from bucket/],
      [["--from", "bucket", "--state", "x.duckdb"], /--state goes with --incremental/],
      [["--from", "bucket", "--max-bad-records", "3"], /--max-bad-records goes with --incremental/],
    ] as const
  ) {
    const { code, stderr } = await sim(...args);
    assert.equal(code, 2);
    assert.match(stderr, message);
  }
});

Deno.test({
  name:
    "sim --incremental: a full disk under the state is one line naming it; with space, the rerun reads each new object once",
  ignore: Deno.uid() !== 0,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "pinpipe_sim_incremental_disk_" });
    const stateDir = join(dir, "state");
    await Deno.mkdir(stateDir);
    const mount = async (...args: string[]) => {
      const { code, stderr } = await new Deno.Command("mount", { args, stderr: "piped" }).output();
      assert.equal(code, 0, new TextDecoder().decode(stderr));
    };
    // Room for the state after one object a table (about 2 MB with DuckDB's journal), not five.
    await mount("-t", "tmpfs", "-o", "size=2m", "tmpfs", stateDir);
    try {
      const gen = await sim("--rows", "5000", "--out", join(dir, "gen"));
      assert.equal(gen.code, 0, gen.stderr);
      const generated = join(dir, "gen", "bucket", "user-0123456789ab-bucket");
      const bucket = join(dir, "bucket");
      const deliver = async (objects: number[]) => {
        for (const kind of ["pin", "geo", "user"]) {
          for (const n of objects) {
            const key = `topics/0123456789ab.${kind}/partition=0/0123456789ab.${kind}+0+${
              String(n * 1000).padStart(10, "0")
            }.json`;
            await Deno.mkdir(join(bucket, key, ".."), { recursive: true });
            await Deno.copyFile(join(generated, key), join(bucket, key));
          }
        }
      };
      const state = join(stateDir, "state.duckdb");
      const run = async () => {
        const result = await sim(
          "--json",
          "--from",
          "bucket",
          "--bucket",
          bucket,
          "--incremental",
          "--state",
          state,
          "--out",
          join(dir, "out"),
        );
        return { ...result, json: result.code === 0 ? JSON.parse(result.stdout) : undefined };
      };
      await deliver([0]);
      const first = await run();
      assert.equal(first.code, 0, first.stderr);

      await deliver([1, 2, 3, 4]);
      const full = await run();
      assert.equal(full.code, 1, full.stderr);
      assert.match(
        full.stderr,
        new RegExp(`^pinpipe sim: could not write the state ${state}: .*No space left on device`),
      );
      assert.equal(full.stderr.trim().split("\n").length, 1, full.stderr);
      const left = [...Deno.readDirSync(stateDir)].map((e) => e.name);
      assert.deepEqual(left.filter((name) => !name.startsWith("state.duckdb")), [], `${left}`);

      await mount("-o", "remount,size=64m", stateDir);
      const rerun = await run();
      assert.equal(rerun.code, 0, rerun.stderr);
      const { incremental } = rerun.json;
      assert.equal(incremental.runId, 2, "the failed run left no run behind");
      assert.equal(incremental.skippedObjects, 3, "the first run's objects, read once");
      for (const kind of ["pin", "geo", "user"]) {
        assert.equal(incremental.thisRun[kind].objects, 4, kind);
        assert.equal(incremental.thisRun[kind].bronze, 4000, kind);
        const [, rowsOut] = new RegExp(`${kind} 5000 in, (\\d+) out`).exec(gen.stdout)!;
        assert.equal(incremental.silverTotal[kind], Number(rowsOut), `${kind}: every row once`);
      }
      assert.deepEqual([...Deno.readDirSync(stateDir)].map((e) => e.name), ["state.duckdb"]);
    } finally {
      await new Deno.Command("umount", { args: [stateDir] }).output();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
