/**
 * `sim --out DIR` writes only below a directory it marks as its own: it
 * refuses a directory holding other files (and leaves them), one run at a
 * time holds a directory (a second says which pid holds it), a run killed
 * midway leaves no staging folder to the next, and a full disk fails with
 * one line naming the path, the earlier run's files whole and nothing
 * partial left (on a small tmpfs: needs root, as CI runs).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { OUT_MARKER, STAGING_PREFIX } from "../../sim/out_dir.ts";
import { readBucket } from "../support/bucket.ts";
import { finish, spawnMain, waitFor } from "../support/processes.ts";
import { sim } from "../support/sim.ts";

const ID = "0123456789ab";
const BUCKET = `bucket/user-${ID}-bucket`;

/** The names in `dir` that are staging folders. */
function stagingLeft(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.startsWith(STAGING_PREFIX));
}

/** Asserts that `out` holds each table's objects of `rows` records, 1000 per object, tiling 0..rows. */
async function assertLanded(out: string, rows: number): Promise<void> {
  for (const kind of ["pin", "geo", "user"]) {
    const objects = await readBucket(join(out, BUCKET), `${ID}.${kind}`);
    let next = 0;
    for (const object of objects) {
      assert.equal(object.startOffset, next, `${kind} objects tile the offsets`);
      next += object.records.length;
    }
    assert.equal(next, rows, `${kind}: every row once`);
  }
}

Deno.test("sim --out: a directory holding other files is refused, one line, and its files stay", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pinpipe-sim-out-" });
  try {
    // What `sim --out .local` met: the sink's own bucket, under the same relative path.
    const partition = join(dir, BUCKET, `topics/${ID}.pin/partition=0`);
    await Deno.mkdir(partition, { recursive: true });
    const foreign = join(partition, `${ID}.pin+0+0000000000.json`);
    await Deno.writeTextFile(foreign, '{"index": 1}\n');
    await Deno.writeTextFile(join(dir, "stack.env"), "PINPIPE_ID=x\n");
    const run = await sim("--rows", "100", "--out", dir);
    assert.equal(run.code, 2, run.stderr);
    assert.equal(
      run.stderr,
      `pinpipe sim: --out ${dir} holds files sim did not write (bucket, stack.env) and no ` +
        `${OUT_MARKER} marker: give a new or empty directory (see deno task sim --help)\n`,
    );
    assert.equal(await Deno.readTextFile(foreign), '{"index": 1}\n');
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["bucket", "stack.env"]);

    const file = join(dir, "stack.env");
    const notDir = await sim("--rows", "100", "--out", file);
    assert.equal(notDir.code, 2, notDir.stderr);
    assert.match(
      notDir.stderr,
      new RegExp(`^pinpipe sim: --out ${file} is a file, not a directory`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sim --out: two runs at once each end clearly, and the directory holds one complete run", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pinpipe-sim-out-" });
  try {
    const out = join(dir, "out");
    const runs = await Promise.all(
      [1, 2].map(() => finish(spawnMain(["sim", "--quiet", "--rows", "3000", "--out", out]))),
    );
    for (const run of runs) {
      assert.doesNotMatch(run.stderr, /os error/, run.stderr);
      if (run.code === 0) {
        assert.match(run.stdout, /checks: \d+ passed, 0 failed/);
      } else {
        assert.equal(run.code, 1, run.stderr);
        assert.match(
          run.stderr,
          new RegExp(
            `^pinpipe sim: --out ${out} is in use by another sim run \\(pid \\d+, since [0-9T:.Z-]+\\): ` +
              "wait for it to end, or give another --out\n$",
          ),
        );
      }
    }
    assert.ok(runs.some((run) => run.code === 0), "one of them ran");
    await assertLanded(out, 3000);
    assert.deepEqual(stagingLeft(out), []);
    // And one after the other: the second replaces the first's files.
    const again = await sim("--rows", "2000", "--out", out);
    assert.equal(again.code, 0, again.stderr);
    await assertLanded(out, 2000);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sim --out: a run in flight refuses a second by its pid; killed, the next run removes its staging folder", async () => {
  const out = await Deno.makeTempDir({ prefix: "pinpipe-sim-out-" });
  try {
    const first = await sim("--rows", "1000", "--out", out);
    assert.equal(first.code, 0, first.stderr);
    const killed = spawnMain(["sim", "--quiet", "--rows", "400000", "--out", out]);
    await waitFor("the run's staging folder", () => stagingLeft(out).length > 0, 60_000, 20);
    const second = await sim("--rows", "100", "--out", out);
    assert.equal(second.code, 1, second.stderr);
    assert.match(
      second.stderr,
      new RegExp(`^pinpipe sim: --out ${out} is in use by another sim run \\(pid ${killed.pid}, `),
    );
    killed.kill("SIGKILL");
    await finish(killed);
    assert.equal(stagingLeft(out).length, 1, "a killed run cannot clean up");
    await assertLanded(out, 1000); // the earlier run's objects, untouched
    const next = await sim("--rows", "1500", "--out", out);
    assert.equal(next.code, 0, next.stderr);
    assert.deepEqual(stagingLeft(out), []);
    await assertLanded(out, 1500);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test({
  name:
    "sim --out: a full disk is one line naming the path; after space is freed the rerun lands all once",
  ignore: Deno.uid() !== 0,
  async fn() {
    const out = await Deno.makeTempDir({ prefix: "pinpipe-sim-out-tmpfs-" });
    const mount = async (...args: string[]) => {
      const { code, stderr } = await new Deno.Command("mount", { args, stderr: "piped" }).output();
      assert.equal(code, 0, new TextDecoder().decode(stderr));
    };
    await mount("-t", "tmpfs", "-o", "size=4m", "tmpfs", out);
    try {
      const small = await sim("--rows", "100", "--out", out);
      assert.equal(small.code, 0, small.stderr);
      // 5000 rows take about 4 MB of objects: more than is left.
      const full = await sim("--rows", "5000", "--out", out);
      assert.equal(full.code, 1, full.stderr);
      assert.equal(full.stderr.trim().split("\n").length, 1, full.stderr);
      assert.match(
        full.stderr,
        new RegExp(`^pinpipe sim: could not write ${out}: .*No space left on device`),
      );
      assert.deepEqual(stagingLeft(out), [], "the failed run's staging folder is gone");
      await assertLanded(out, 100); // the earlier run's files, whole

      await mount("-o", "remount,size=32m", out);
      const rerun = await sim("--rows", "5000", "--out", out);
      assert.equal(rerun.code, 0, rerun.stderr);
      assert.deepEqual(stagingLeft(out), []);
      await assertLanded(out, 5000);
    } finally {
      await new Deno.Command("umount", { args: [out] }).output();
      await Deno.remove(out, { recursive: true });
    }
  },
});
