/**
 * The sink's failures are one line each with the target's exit code (4):
 * topics that do not exist, a bucket it cannot write to, and a bucket whose
 * disk fills while it writes (a small tmpfs: needs root, as CI runs). An
 * object that could not be written is not committed, and its temp file is
 * removed, so the next sink writes it and leaves nothing behind.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../src/core/config.ts";
import { EXIT_CODES } from "../../src/core/errors.ts";
import { TEMP_DIR } from "../../src/sink/storage.ts";
import { topicName } from "../../src/core/names.ts";
import { readBucket } from "../support/bucket.ts";
import { deleteTopics } from "../support/kafka.ts";
import { randomId, runMain } from "../support/processes.ts";

Deno.test("sink: missing topics are one line, exit 4", async () => {
  const id = randomId();
  const bucket = await Deno.makeTempDir({ prefix: "pinpipe-sink-errors-" });
  const brokers = loadConfig({ _: [] }).kafka.brokers.join(",");
  try {
    const run = await runMain(["sink", "--id", id, "--bucket", bucket, "--exit-at-end"]);
    assert.equal(run.code, EXIT_CODES.target, run.stderr);
    assert.equal(
      run.stderr,
      `pinpipe sink: topics ${id}.pin, ${id}.geo, ${id}.user not found at ${brokers} ` +
        "(run deno task batch first)\n",
    );
  } finally {
    await Deno.remove(bucket, { recursive: true });
  }
});

Deno.test("sink: a bucket it cannot write is one line naming the object, exit 4, nothing committed", async () => {
  const id = randomId();
  const dir = await Deno.makeTempDir({ prefix: "pinpipe-sink-errors-" });
  const topic = topicName(id, "user");
  try {
    const produced = await runMain([
      "batch",
      "--id",
      id,
      "--state-dir",
      join(dir, "state"),
      "--tables",
      "user",
      "--limit",
      "20",
      "--quiet",
    ]);
    assert.equal(produced.code, 0, produced.stderr);
    const sink = (bucket: string) =>
      runMain([
        "sink",
        "--id",
        id,
        "--tables",
        "user",
        "--bucket",
        bucket,
        "--flush-size",
        "10",
        "--rotate-ms",
        "200",
        "--exit-at-end",
        "--quiet",
      ]);
    // A file where the bucket directory should be: refused before anything is consumed.
    const notADirectory = join(dir, "file");
    await Deno.writeTextFile(notADirectory, "");
    const refused = await sink(notADirectory);
    assert.equal(refused.code, EXIT_CODES.target, refused.stderr);
    assert.equal(
      refused.stderr,
      `pinpipe sink: bucket ${notADirectory} is not a directory (--bucket)\n`,
    );

    // A bucket whose topics/ is a file: the first object cannot be written under it.
    const bucket = join(dir, "bucket");
    await Deno.mkdir(bucket);
    await Deno.writeTextFile(join(bucket, "topics"), "");
    const failed = await sink(bucket);
    assert.equal(failed.code, EXIT_CODES.target, failed.stderr);
    assert.match(
      failed.stderr,
      new RegExp(`^pinpipe sink: could not write ${bucket}/topics/${topic}/partition=0/`),
    );
    assert.equal(failed.stderr.trim().split("\n").length, 1, failed.stderr);

    await Deno.remove(join(bucket, "topics"));
    const written = await sink(bucket);
    assert.equal(written.code, 0, written.stderr);
    const objects = await readBucket(bucket, topic);
    assert.equal(objects[0].startOffset, 0, "the object that failed was not committed");
    assert.ok(objects.reduce((n, object) => n + object.records.length, 0) >= 20);
  } finally {
    await deleteTopics(id);
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
    "sink: a disk that fills under the bucket is one line naming the object, exit 4, no temp file; with space, the rerun lands each record once",
  ignore: Deno.uid() !== 0,
  async fn() {
    const id = randomId();
    const dir = await Deno.makeTempDir({ prefix: "pinpipe-sink-disk-" });
    const bucket = join(dir, "bucket");
    const topic = topicName(id, "user");
    const rows = 500;
    await Deno.mkdir(bucket);
    // Room for a few of the 50 objects (each takes a 4 KiB page), not for all of them.
    await mount("-t", "tmpfs", "-o", "size=64k", "tmpfs", bucket);
    try {
      const produced = await runMain([
        "batch",
        "--id",
        id,
        "--state-dir",
        join(dir, "state"),
        "--tables",
        "user",
        "--limit",
        String(rows),
        "--quiet",
      ]);
      assert.equal(produced.code, 0, produced.stderr);
      const sink = () =>
        runMain([
          "sink",
          "--id",
          id,
          "--tables",
          "user",
          "--bucket",
          bucket,
          "--flush-size",
          "10",
          "--rotate-ms",
          "200",
          "--exit-at-end",
          "--quiet",
        ]);
      const full = await sink();
      assert.equal(full.code, EXIT_CODES.target, full.stderr);
      assert.match(
        full.stderr,
        new RegExp(
          `^pinpipe sink: could not write ${bucket}/topics/${topic}/partition=0/${topic}\\+0\\+\\d{10}\\.json: ` +
            "No space left on device",
        ),
      );
      assert.equal(full.stderr.trim().split("\n").length, 1, full.stderr);
      assert.deepEqual([...Deno.readDirSync(join(bucket, TEMP_DIR))], [], "no temp file left");
      const before = await readBucket(bucket, topic);
      assert.ok(before.length > 0 && before.length < rows / 10, `${before.length} objects fit`);

      await mount("-o", "remount,size=4m", bucket);
      const rerun = await sink();
      assert.equal(rerun.code, 0, rerun.stderr);
      assert.deepEqual([...Deno.readDirSync(join(bucket, TEMP_DIR))], []);
      const objects = await readBucket(bucket, topic);
      let next = 0;
      for (const object of objects) {
        assert.equal(object.startOffset, next, "the objects tile the offsets");
        next += object.records.length;
      }
      assert.equal(next, rows, "every record once");
    } finally {
      await new Deno.Command("umount", { args: [bucket] }).output();
      await deleteTopics(id);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
