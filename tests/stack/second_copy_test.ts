/**
 * Two copies of one command on one pipeline id, as a user starts them by
 * mistake: `batch` and `stream` take a lock per id and target beside their
 * checkpoints, `consume` one beside its DuckDB file. The second copy exits 1
 * at once with one line naming the lock file and the holder's pid, and each
 * row still lands once; a holder killed with SIGKILL leaves its lock, which
 * the next run takes over and then completes exactly once. Real processes on
 * the local stack; the topics and streams are read back record by record.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../src/core/config.ts";
import { EXIT_CODES } from "../../src/core/errors.ts";
import { streamName } from "../../src/core/names.ts";
import { recordIndex } from "../../src/core/records.ts";
import { TABLE_KINDS, type TableKind } from "../../src/core/tables.ts";
import { kinesisClient } from "../../src/kinesis/client.ts";
import type { Checkpoint } from "../../src/transfer/checkpoint.ts";
import { batchCleaning, consumerTables } from "../support/cleaned_tables.ts";
import { deleteTopics, topicKeys } from "../support/kafka.ts";
import { deleteStreams, readStream } from "../support/kinesis.ts";
import {
  finish,
  type Finished,
  randomId,
  readJson,
  runMain,
  spawnMain,
  waitFor,
} from "../support/processes.ts";
import { sourceRecords } from "../support/source.ts";

/** The refusal: one line naming the lock file and the holder's pid, exit 1. */
function assertRefused(result: Finished, command: string, lock: string, holder: number): void {
  assert.equal(result.code, EXIT_CODES.failure, result.stderr);
  const lines = result.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `one line: ${result.stderr}`);
  assert.ok(
    lines[0].startsWith(
      `pinpipe ${command}: another copy is running: ${lock} is held by pid ${holder} on `,
    ),
    lines[0],
  );
}

/** The first `limit` source rows of `kind` (and the copies of the last index, as `--limit` sends). */
async function firstRows(kind: TableKind, limit: number): Promise<string[]> {
  const records = await sourceRecords(kind);
  const last = recordIndex(kind, records[limit - 1]);
  return records.filter((r) => recordIndex(kind, r) <= last).map((r) =>
    String(recordIndex(kind, r))
  );
}

/** Each of `expected` exactly once in `got` (both as row indexes). */
function assertOnce(got: string[], expected: string[], what: string): void {
  assert.equal(
    got.length,
    expected.length,
    `${what}: ${got.length} records for ${expected.length} rows`,
  );
  assert.deepEqual([...got].sort(), [...expected].sort(), `${what}: each row once`);
}

Deno.test("batch: two copies at once on one id: one runs, the other exits 1 naming the lock and its pid; each row once", async () => {
  const id = randomId();
  const state = await Deno.makeTempDir({ prefix: "pinpipe-copies-" });
  const lock = join(state, id, "kafka", "run.lock");
  const args = ["batch", "--id", id, "--state-dir", state, "--tables", "geo"];
  try {
    // Paced to 5 s, so the second copy starts while the first runs, however slow start-up is.
    const copies = [0, 1].map(() =>
      spawnMain([...args, "--limit", "3000", "--rate", "600", "--quiet"])
    );
    const results = await Promise.all(copies.map(finish));
    const winner = results.findIndex((result) => result.code === 0);
    assert.notEqual(winner, -1, results.map((r) => r.stderr).join("\n"));
    assertRefused(results[1 - winner], "batch", lock, copies[winner].pid);
    await assert.rejects(Deno.stat(lock), Deno.errors.NotFound, "the lock went with its holder");

    const expected = await firstRows("geo", 3000);
    assertOnce(await topicKeys(id, "geo"), expected, "geo topic");
    const saved = readJson<Checkpoint>(join(state, id, "kafka", "sequential-geo.json"))!;
    assert.equal(saved.acknowledged.geo, expected.length);
  } finally {
    await deleteTopics(id);
    await Deno.remove(state, { recursive: true });
  }
});

Deno.test("batch: a SIGKILLed holder's lock is taken over by the next run, which completes exactly once", async () => {
  const id = randomId();
  const state = await Deno.makeTempDir({ prefix: "pinpipe-copies-" });
  const lock = join(state, id, "kafka", "run.lock");
  const checkpoint = join(state, id, "kafka", "sequential-geo.json");
  const args = ["batch", "--id", id, "--state-dir", state, "--tables", "geo", "--limit", "3000"];
  try {
    const first = spawnMain([...args, "--rate", "500", "--batch-size", "200", "--quiet"]);
    await Promise.all([first.stdout.cancel(), first.stderr.cancel()]);
    await waitFor("a checkpoint", () => readJson<Checkpoint>(checkpoint) !== undefined);
    first.kill("SIGKILL");
    assert.equal((await first.status).signal, "SIGKILL");
    assert.equal(JSON.parse(await Deno.readTextFile(lock)).pid, first.pid, "the lock stays");
    const done = readJson<Checkpoint>(checkpoint)!.lastIndex!;

    const rerun = await runMain([...args, "--quiet"]);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.match(
      rerun.stderr,
      new RegExp(
        `^taking over ${lock}: its holder, pid ${first.pid} \\("batch .*", since .*\\), is gone$`,
        "m",
      ),
    );
    await assert.rejects(Deno.stat(lock), Deno.errors.NotFound);
    // --limit counts the rows of one run: the rerun sent up to 3000 more after the checkpoint.
    const end = readJson<Checkpoint>(checkpoint)!.lastIndex!;
    assert.ok(done < end, `killed mid-run (checkpoint at ${done}, then ${end})`);
    const expected = (await sourceRecords("geo"))
      .map((record) => recordIndex("geo", record))
      .filter((index) => index <= end).map(String);
    assert.ok(expected.length > 3000);
    assertOnce(await topicKeys(id, "geo"), expected, "geo topic");
  } finally {
    await deleteTopics(id);
    await Deno.remove(state, { recursive: true });
  }
});

Deno.test("stream and consume: a second copy of each exits 1 naming the lock and its pid; each row once", async () => {
  const id = randomId();
  const dir = await Deno.makeTempDir({ prefix: "pinpipe-copies-" });
  const state = join(dir, "state");
  const config = loadConfig({ _: [], id });
  const client = kinesisClient(config.kinesis);
  try {
    // stream: two at once, paced so that their runs overlap.
    const lock = join(state, id, "kinesis", "run.lock");
    const args = ["stream", "--id", id, "--state-dir", state, "--limit", "1000"];
    const copies = [0, 1].map(() => spawnMain([...args, "--rate", "200", "--quiet"]));
    const results = await Promise.all(copies.map(finish));
    const winner = results.findIndex((result) => result.code === 0);
    assert.notEqual(winner, -1, results.map((r) => r.stderr).join("\n"));
    assertRefused(results[1 - winner], "stream", lock, copies[winner].pid);
    const records = {} as Record<TableKind, Awaited<ReturnType<typeof sourceRecords>>>;
    for (const kind of TABLE_KINDS) {
      const expected = await firstRows(kind, 1000);
      const inStream = (await readStream(client, streamName(id, kind)))
        .map((text) => String(recordIndex(kind, JSON.parse(text))));
      assertOnce(inStream, expected, `${kind} stream`);
      records[kind] = (await sourceRecords(kind)).filter((r) =>
        expected.includes(String(recordIndex(kind, r)))
      );
    }

    // consume: a second copy on the same DuckDB file is refused while the first runs.
    const db = join(dir, "stream.duckdb");
    const consume = ["consume", "--id", id, "--db", db, "--quiet"];
    const first = spawnMain([...consume, "--idle-exit-ms", "0"]);
    await first.stdout.cancel();
    await waitFor("the consumer's lock", async () => {
      try {
        return JSON.parse(await Deno.readTextFile(`${db}.lock`)).pid === first.pid;
      } catch {
        return false;
      }
    });
    assertRefused(
      await runMain([...consume, "--idle-exit-ms", "1000"]),
      "consume",
      `${db}.lock`,
      first.pid,
    );
    first.kill("SIGINT");
    const stopped = await finish(first);
    assert.equal(stopped.code, EXIT_CODES.interrupted, stopped.stderr);
    await assert.rejects(Deno.stat(`${db}.lock`), Deno.errors.NotFound, "SIGINT released it");
    const rest = await runMain([...consume, "--idle-exit-ms", "2000"]);
    assert.equal(rest.code, 0, rest.stderr);
    const expected = await batchCleaning(records);
    const got = await consumerTables(db, id);
    for (const kind of TABLE_KINDS) {
      assert.deepEqual(got.tables[kind], expected[kind], `${kind}: each cleaned row once`);
    }
  } finally {
    await deleteStreams(client, id);
    client.destroy();
    await Deno.remove(dir, { recursive: true });
  }
});
