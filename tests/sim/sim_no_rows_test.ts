/**
 * No rows is not a pass (src/warehouse/records_present.ts): `sim --from
 * bucket` over empty objects fails a check per empty table, and
 * `sim --incremental` fails on empty objects (left unread, so their records
 * are read once they come), fails over a bucket that never yielded a row,
 * and passes a day with no new objects, saying so.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { objectKey } from "../../src/core/bucket_layout.ts";
import { sim, simJson } from "../support/sim.ts";

const ID = "0123456789ab";
const KINDS = ["pin", "geo", "user"] as const;

interface Check {
  name: string;
  passed: boolean;
  detail: string;
}

/** Runs `sim --json` with `args`; its exit code and checks. */
async function checksOf(...args: string[]): Promise<{ code: number; checks: Check[] }> {
  const run = await sim("--json", ...args);
  assert.ok(run.code === 0 || run.code === 1, run.stderr);
  return { code: run.code, checks: JSON.parse(run.stdout).checks };
}

/** The checks named `records present <kind>`, by kind. */
function recordsPresent(checks: Check[]): Record<string, Check> {
  return Object.fromEntries(
    checks.filter((c) => c.name.startsWith("records present ")).map((c) => [c.name.slice(16), c]),
  );
}

/** Writes `kinds`' first objects of `bucket` as 0-byte files, as an upload gone wrong leaves them. */
async function emptyObjects(bucket: string, kinds: readonly string[]): Promise<void> {
  for (const kind of kinds) {
    const path = join(bucket, objectKey(`${ID}.${kind}`, 0, 0));
    await Deno.mkdir(join(path, ".."), { recursive: true });
    await Deno.writeFile(path, new Uint8Array());
  }
}

Deno.test("sim --from bucket: empty objects fail a check per empty table, exit 1", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pinpipe-sim-no-rows-" });
  try {
    const empty = join(dir, "empty");
    await emptyObjects(empty, KINDS);
    const all = await checksOf("--from", "bucket", "--bucket", empty, "--out", join(dir, "a"));
    assert.equal(all.code, 1);
    const failed = all.checks.filter((c) => !c.passed).map((c) => c.name);
    assert.deepEqual(failed, [
      "records present pin",
      "records present geo",
      "records present user",
    ]);
    assert.match(
      recordsPresent(all.checks).pin.detail,
      /^no pin records: the source yielded none \(empty objects, a wrong bucket or prefix/,
    );

    // Only one table empty: only its check fails.
    await simJson(join(dir, "gen"), "--rows", "200");
    const bucket = join(dir, "gen", "bucket", `user-${ID}-bucket`);
    await Deno.remove(join(bucket, `topics/${ID}.geo`), { recursive: true });
    await emptyObjects(bucket, ["geo"]);
    const one = await checksOf("--from", "bucket", "--bucket", bucket, "--out", join(dir, "b"));
    assert.equal(one.code, 1);
    assert.deepEqual(one.checks.filter((c) => !c.passed).map((c) => c.name), [
      "records present geo",
    ]);
    assert.equal(recordsPresent(one.checks).pin.detail, "200 records");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sim --incremental: empty objects and a bucket that never yielded a row fail; a day with nothing new passes, saying so", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pinpipe-sim-no-rows-" });
  try {
    await simJson(join(dir, "gen"), "--rows", "300");
    const full = join(dir, "gen", "bucket", `user-${ID}-bucket`);
    const bucket = join(dir, "bucket");
    const state = join(dir, "state.duckdb");
    const day = (...args: string[]) =>
      checksOf(
        "--from",
        "bucket",
        "--bucket",
        bucket,
        "--incremental",
        "--state",
        state,
        "--out",
        join(dir, "out"),
        ...args,
      );

    // Day 1: the upload went wrong, every object is empty.
    await emptyObjects(bucket, KINDS);
    const first = await day();
    assert.equal(first.code, 1);
    for (const kind of KINDS) {
      const check = recordsPresent(first.checks)[kind];
      assert.equal(check.passed, false, kind);
      assert.match(check.detail, new RegExp(`^1 new ${kind} objects are empty \\(0 bytes`));
    }

    // Day 2: the same keys now hold their records: read, once.
    for (const kind of KINDS) {
      const key = objectKey(`${ID}.${kind}`, 0, 0);
      await Deno.copyFile(join(full, key), join(bucket, key));
    }
    const second = await sim(
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
    assert.equal(second.code, 0, second.stderr);
    const json = JSON.parse(second.stdout);
    for (const kind of KINDS) {
      assert.equal(json.incremental.thisRun[kind].bronze, 300, `${kind}: the records came, once`);
    }

    // Day 3: nothing new. Fine, and it says so.
    const third = await day();
    assert.equal(third.code, 0);
    assert.match(
      recordsPresent(third.checks).pin.detail,
      /^no new pin objects since the last run: nothing added, \d+ rows in silver from earlier runs$/,
    );

    // Another pipeline's prefix: no run of that state ever yielded a row.
    const wrong = await checksOf(
      "--from",
      "bucket",
      "--bucket",
      bucket,
      "--id",
      "ba9876543210",
      "--incremental",
      "--state",
      join(dir, "wrong.duckdb"),
      "--out",
      join(dir, "out"),
    );
    assert.equal(wrong.code, 1);
    assert.match(recordsPresent(wrong.checks).user.detail, /^no user rows: no run has yielded one/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
