/**
 * Faults of `batch`'s checkpoint directory, as a user meets them: a
 * checkpoint cut short stops the next run with one line naming the file
 * (never a silent start from zero that sends everything again); a disk that
 * fills under the checkpoints mid-run stops it with one line naming the
 * file, leaves no temp file and the last checkpoint whole, and once space is
 * freed the rerun completes with each row once in the topic.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { EXIT_CODES } from "../../src/core/errors.ts";
import { topicName } from "../../src/core/names.ts";
import { recordIndex } from "../../src/core/records.ts";
import type { Checkpoint } from "../../src/transfer/checkpoint.ts";
import { deleteTopics, endOffsets, topicKeys } from "../support/kafka.ts";
import { finish, randomId, readJson, runMain, spawnMain, waitFor } from "../support/processes.ts";
import { sourceRecords } from "../support/source.ts";

/** Runs a program; rejects with its stderr if it fails. */
async function run(program: string, ...args: string[]): Promise<void> {
  const { code, stderr } = await new Deno.Command(program, { args, stderr: "piped" }).output();
  if (code !== 0) {
    throw new Error(`${program} ${args.join(" ")}: ${new TextDecoder().decode(stderr)}`);
  }
}

/** Every geo row up to `last`, as topic keys. */
async function geoUpTo(last: number): Promise<string[]> {
  return (await sourceRecords("geo"))
    .map((record) => recordIndex("geo", record))
    .filter((index) => index <= last).map(String);
}

Deno.test("batch: a checkpoint cut short stops the next run with one line naming it; nothing is sent", async () => {
  const id = randomId();
  const state = await Deno.makeTempDir({ prefix: "pinpipe-checkpoint-" });
  const file = join(state, id, "kafka", "sequential-geo.json");
  const args = ["batch", "--id", id, "--state-dir", state, "--tables", "geo", "--quiet"];
  try {
    const first = await runMain([...args, "--limit", "500"]);
    assert.equal(first.code, 0, first.stderr);
    const text = await Deno.readTextFile(file);
    await Deno.writeTextFile(file, text.slice(0, text.length / 2));
    const topic = topicName(id, "geo");
    const ends = (await endOffsets(id, undefined, ["geo"]))[topic][0];

    const damaged = await runMain(args);
    assert.equal(damaged.code, EXIT_CODES.failure, damaged.stderr);
    const lines = damaged.stderr.trim().split("\n");
    assert.equal(lines.length, 1, damaged.stderr);
    assert.match(
      lines[0],
      new RegExp(
        `^pinpipe batch: checkpoint ${file} is damaged \\(.*\\); remove it or run with --from-start$`,
      ),
    );
    assert.equal((await endOffsets(id, undefined, ["geo"]))[topic][0], ends, "nothing sent");
    await assert.rejects(Deno.stat(join(state, id, "kafka", "run.lock")), Deno.errors.NotFound);
  } finally {
    await deleteTopics(id);
    await Deno.remove(state, { recursive: true });
  }
});

Deno.test({
  name:
    "batch: the checkpoint disk full mid-run: one line naming the file, no temp file, the last checkpoint whole; the rerun completes once",
  ignore: Deno.uid() !== 0, // mounting a tmpfs needs root (CI runs as root)
  async fn() {
    const id = randomId();
    const state = await Deno.makeTempDir({ prefix: "pinpipe-checkpoint-" });
    const dir = join(state, id, "kafka");
    const file = join(dir, "sequential-geo.json");
    const filler = join(state, "filler");
    await run("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", state);
    const args = ["batch", "--id", id, "--state-dir", state, "--tables", "geo", "--quiet"];
    try {
      const batch = spawnMain([
        ...args,
        "--limit",
        "4000",
        "--rate",
        "1000",
        "--batch-size",
        "100",
      ]);
      await waitFor("a checkpoint", () => readJson<Checkpoint>(file) !== undefined);
      // Fill the disk, and keep taking any page a checkpoint's rename frees, until the run stops.
      let running = true;
      const filling = (async () => {
        while (running) {
          await run("dd", "if=/dev/zero", `of=${filler}`, "bs=4k", "oflag=append", "conv=notrunc")
            .catch(() => {});
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();
      const failed = await finish(batch);
      running = false;
      await filling;
      assert.equal(failed.code, EXIT_CODES.failure, failed.stderr);
      // Beside the note of the topic created, one line.
      const lines = failed.stderr.trim().split("\n").filter((line) =>
        !/^created topic /.test(line)
      );
      assert.equal(lines.length, 1, failed.stderr);
      assert.match(
        lines[0],
        new RegExp(
          `^pinpipe batch: cannot write checkpoint ${file}: No space left on device \\(os error 28\\)$`,
        ),
      );
      assert.deepEqual(
        [...Deno.readDirSync(dir)].map((entry) => entry.name),
        ["sequential-geo.json"],
        "no temp file, and the lock released",
      );
      const saved = readJson<Checkpoint>(file)!;
      assert.ok(saved.lastIndex! >= 0 && saved.acknowledged.geo! < 4000, "stopped mid-run");

      await Deno.remove(filler);
      const rerun = await runMain(args);
      assert.equal(rerun.code, 0, rerun.stderr);
      const last = readJson<Checkpoint>(file)!.lastIndex!;
      const expected = await geoUpTo(last);
      assert.equal(expected.length, 11_000, "the rerun went to the end");
      const keys = await topicKeys(id, "geo");
      assert.equal(keys.length, expected.length, "records in the topic");
      assert.deepEqual(keys, expected, "each row once, in order");
    } finally {
      await run("umount", state).catch(() => {});
      await deleteTopics(id);
      await Deno.remove(state, { recursive: true });
    }
  },
});

Deno.test("batch: a checkpoint stale by two batches, a rerun that stops after one, then another: each row once", async () => {
  const id = randomId();
  const state = await Deno.makeTempDir({ prefix: "pinpipe-checkpoint-" });
  const file = join(state, id, "kafka", "sequential-geo.json");
  const args = [
    "batch",
    "--id",
    id,
    "--state-dir",
    state,
    "--tables",
    "geo",
    "--partitions",
    "3",
    "--batch-size",
    "200",
    "--quiet",
  ];
  const topic = topicName(id, "geo");
  try {
    const first = await runMain([...args, "--limit", "200"]);
    assert.equal(first.code, 0, first.stderr);
    const stale = await Deno.readTextFile(file);
    // Two more batches go out whose checkpoints are lost (saves that failed on a full disk).
    const second = await runMain([...args, "--limit", "400"]);
    assert.equal(second.code, 0, second.stderr);
    const sent = (await endOffsets(id, undefined, ["geo"]))[topic].reduce((a, b) => a + b, 0);
    await Deno.writeTextFile(file, stale);

    // One batch: every record already in the topic; the two batches found stay ahead of it.
    const one = await runMain([...args, "--limit", "200"]);
    assert.equal(one.code, 0, one.stderr);
    const after = readJson<Checkpoint>(file)!;
    const ends = (after.positions.geo as { ends: Record<string, number> }).ends;
    assert.equal(
      Object.values(ends).reduce((a, b) => a + b, 0),
      after.acknowledged.geo,
      "the checkpoint's ends count what its last index covers, not the batch still ahead",
    );
    assert.equal(
      (await endOffsets(id, undefined, ["geo"]))[topic].reduce((a, b) => a + b, 0),
      sent,
      "nothing sent again",
    );

    const rest = await runMain(args);
    assert.equal(rest.code, 0, rest.stderr);
    const last = readJson<Checkpoint>(file)!.lastIndex!;
    const expected = await geoUpTo(last);
    assert.equal(expected.length, 11_000, "the rerun went to the end");
    assert.deepEqual((await topicKeys(id, "geo")).sort(), expected.sort(), "each row once");
  } finally {
    await deleteTopics(id);
    await Deno.remove(state, { recursive: true });
  }
});
