/**
 * The paths in the flags checked before any work starts (`preflight.ts`), alone and through
 * `main.ts` as a user meets them: a missing or non-directory bucket is exit 4 naming it, an
 * unwritable output file exit 2 before the run, `generate --out` over existing files refused
 * without `--force`. None of these needs a server: each ends before one is asked.
 */
import assert from "node:assert/strict";
import {
  prepareBucketDir,
  prepareOutputFile,
  requireBucketDir,
  requireWritableFile,
} from "../../src/core/preflight.ts";
import { EXIT_CODES, TargetError, UsageError } from "../../src/core/errors.ts";
import { runMain } from "../support/processes.ts";

async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "pinpipe_preflight_" });
  try {
    await body(dir);
  } finally {
    await Deno.chmod(dir, 0o755).catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
}

const rejectsWith = (
  run: () => Promise<unknown>,
  kind: typeof TargetError | typeof UsageError,
  message: RegExp,
) => assert.rejects(run, (error: unknown) => error instanceof kind && message.test(error.message));

Deno.test("requireBucketDir: a missing bucket or a file in its place is a TargetError naming it", async () => {
  await withTempDir(async (dir) => {
    await requireBucketDir(dir);
    await rejectsWith(
      () => requireBucketDir(`${dir}/nope`),
      TargetError,
      new RegExp(`^bucket ${dir}/nope does not exist \\(--bucket\\)$`),
    );
    await Deno.writeTextFile(`${dir}/file`, "x");
    await rejectsWith(() => requireBucketDir(`${dir}/file`), TargetError, /is not a directory/);
    await rejectsWith(() => requireBucketDir(`${dir}/file/sub`), TargetError, /does not exist/);
  });
});

Deno.test("prepareBucketDir: makes a missing bucket, refuses a file in its place", async () => {
  await withTempDir(async (dir) => {
    await prepareBucketDir(`${dir}/a/b`);
    assert.ok((await Deno.stat(`${dir}/a/b`)).isDirectory);
    assert.deepEqual([...Deno.readDirSync(`${dir}/a/b`)], [], "the probe is removed");
    await Deno.writeTextFile(`${dir}/file`, "x");
    await rejectsWith(() => prepareBucketDir(`${dir}/file`), TargetError, /is not a directory/);
    await rejectsWith(() => prepareBucketDir(`${dir}/file/sub`), TargetError, /cannot be written/);
  });
});

Deno.test("requireWritableFile: a directory, a missing or read-only directory refused, nothing made", async () => {
  await withTempDir(async (dir) => {
    await requireWritableFile(`${dir}/out.json`, "--json-out");
    assert.deepEqual([...Deno.readDirSync(dir)], [], "nothing created");
    await Deno.writeTextFile(`${dir}/kept.json`, "old");
    await requireWritableFile(`${dir}/kept.json`, "--json-out");
    assert.equal(await Deno.readTextFile(`${dir}/kept.json`), "old", "an existing file is kept");
    await rejectsWith(() => requireWritableFile(dir, "--json-out"), UsageError, /is a directory$/);
    await rejectsWith(
      () => requireWritableFile(`${dir}/no/out.json`, "--json-out"),
      UsageError,
      new RegExp(`^--json-out ${dir}/no/out.json: its directory ${dir}/no does not exist$`),
    );
    if (Deno.uid() !== 0) {
      await Deno.chmod(dir, 0o555);
      await rejectsWith(
        () => requireWritableFile(`${dir}/out.json`, "--json-out"),
        UsageError,
        /cannot be written/,
      );
    }
  });
});

Deno.test("prepareOutputFile: makes the file's directory, refuses a directory in the file's place", async () => {
  await withTempDir(async (dir) => {
    await prepareOutputFile(`${dir}/x/y/c.duckdb`, "--db");
    assert.ok((await Deno.stat(`${dir}/x/y`)).isDirectory);
    await rejectsWith(() => prepareOutputFile(`${dir}/x`, "--db"), UsageError, /is a directory/);
    await Deno.writeTextFile(`${dir}/f`, "");
    await rejectsWith(() => prepareOutputFile(`${dir}/f/c.duckdb`, "--db"), UsageError, /--db/);
  });
});

Deno.test("sim --from bucket: a missing bucket, or a file given as one, exit 4 naming it", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/file`, "x");
    for (
      const [bucket, what] of [[`${dir}/nope`, "does not exist"], [
        `${dir}/file`,
        "is not a directory",
      ]]
    ) {
      const run = await runMain([
        "sim",
        "--from",
        "bucket",
        "--bucket",
        bucket,
        "--out",
        `${dir}/sim`,
      ]);
      assert.equal(run.code, EXIT_CODES.target, run.stderr);
      assert.equal(run.stderr, `pinpipe sim: bucket ${bucket} ${what} (--bucket)\n`);
    }
    assert.deepEqual([...Deno.readDirSync(dir)].map((entry) => entry.name), ["file"]);
  });
});

Deno.test("sim --json-out in a missing directory: refused before the run, exit 2", async () => {
  await withTempDir(async (dir) => {
    const jsonOut = `${dir}/no/answers.json`;
    const run = await runMain([
      "sim",
      "--rows",
      "100",
      "--out",
      `${dir}/sim`,
      "--json-out",
      jsonOut,
    ]);
    assert.equal(run.code, EXIT_CODES.usage, run.stderr);
    assert.match(run.stderr, new RegExp(`^pinpipe sim: --json-out ${jsonOut}: its directory`));
    assert.deepEqual([...Deno.readDirSync(dir)], [], "no run: nothing written");
  });
});

Deno.test("sink: a file given as --bucket is exit 4 naming it, before Kafka is asked", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/file`, "x");
    // A broker nobody listens on: the check comes first, so it is never reached.
    const run = await runMain([
      "sink",
      "--bucket",
      `${dir}/file`,
      "--brokers",
      "127.0.0.1:1",
      "--exit-at-end",
    ]);
    assert.equal(run.code, EXIT_CODES.target, run.stderr);
    assert.equal(run.stderr, `pinpipe sink: bucket ${dir}/file is not a directory (--bucket)\n`);
  });
});

Deno.test("generate --out over existing files: refused without --force, overwritten with it", async () => {
  await withTempDir(async (dir) => {
    const first = await runMain(["generate", "--rows", "50", "--out", dir, "--json", "--quiet"]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stderr, "", "--quiet: no text");
    const summary = JSON.parse(first.stdout);
    assert.deepEqual(summary.files.map((file: { rows: number }) => file.rows), [50, 50, 50]);
    assert.equal(summary.rows, 50);
    const pin = await Deno.readTextFile(`${dir}/pin.ndjson`);
    assert.equal(pin.trimEnd().split("\n").length, 50);

    const again = await runMain(["generate", "--rows", "20", "--out", dir]);
    assert.equal(again.code, EXIT_CODES.usage);
    assert.match(
      again.stderr,
      new RegExp(`^pinpipe generate: --out ${dir} already holds ${dir}/pin\\.ndjson, `),
    );
    assert.match(again.stderr, /\(--force overwrites\) \(see deno task generate --help\)\n$/);
    assert.equal(await Deno.readTextFile(`${dir}/pin.ndjson`), pin, "left as it was");

    const forced = await runMain(["generate", "--rows", "20", "--out", dir, "--force"]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal((await Deno.readTextFile(`${dir}/pin.ndjson`)).trimEnd().split("\n").length, 20);

    const onFile = await runMain(["generate", "--rows", "20", "--out", `${dir}/pin.ndjson`]);
    assert.equal(onFile.code, EXIT_CODES.usage);
    assert.match(onFile.stderr, /is a file, not a directory/);
  });
});
