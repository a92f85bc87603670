/**
 * The transfer driver's pure parts: the original's random draws (checked
 * against CPython itself), batches that never split an index,
 * flag parsing, and checkpoints written atomically.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { UsageError } from "../../src/core/errors.ts";
import { CheckpointStore } from "../../src/transfer/checkpoint.ts";
import { CliError } from "../../src/core/errors.ts";
import { outgoing, type OutgoingRecord } from "../../src/core/records.ts";
import { indexBatches, OriginalSampler, PythonRandom } from "../../src/source/row_order.ts";
import { parseTransferOptions, wholeIndexPrefix } from "../../src/transfer/driver.ts";
import { progressLine, summaryText, TransferCounters } from "../../src/transfer/progress.ts";

Deno.test("random order: 2,000 draws equal CPython's random.seed(S) randrange/randint, for two seeds", async () => {
  for (const seed of [100, 2 ** 40 + 7]) {
    const script = `import random, json\nrandom.seed(${seed})\n` +
      "print(json.dumps([[random.randrange(0, 2), random.randint(0, 11000)] for _ in range(2000)]))";
    const { code, stdout } = await new Deno.Command("python3", {
      args: ["-c", script],
      stdout: "piped",
    })
      .output();
    assert.equal(code, 0);
    const python = JSON.parse(new TextDecoder().decode(stdout)) as number[][];
    const sampler = new OriginalSampler(seed, 11_000);
    const ours = python.map(() => {
      const { pause, offset } = sampler.next();
      return [pause, offset];
    });
    assert.deepEqual(ours, python);
  }
});

Deno.test("random order: skip(n) resumes the same sequence", () => {
  const straight = new OriginalSampler(100, 11_000);
  for (let i = 0; i < 500; i++) straight.next();
  const resumed = new OriginalSampler(100, 11_000);
  resumed.skip(500);
  for (let i = 0; i < 100; i++) assert.deepEqual(resumed.next(), straight.next());
  assert.throws(() => new PythonRandom(1.5), /whole number/);
});

async function* fromList(indexes: number[]): AsyncGenerator<OutgoingRecord> {
  for (const index of indexes) yield outgoing("geo", index, { ind: index });
}

Deno.test("indexBatches: about `size` per batch, never ending between copies of one index", async () => {
  const indexes = [0, 1, 1, 2, 3, 3, 3, 4, 5, 6, 6, 7];
  const batches: number[][] = [];
  for await (const batch of indexBatches(fromList(indexes), 2)) {
    batches.push(batch.map((record) => record.index));
  }
  assert.deepEqual(batches, [[0, 1, 1], [2, 3, 3, 3], [4, 5], [6, 6], [7]]);
  assert.deepEqual(batches.flat(), indexes, "every record once, in order");
  for (let i = 1; i < batches.length; i++) {
    assert.notEqual(batches[i - 1].at(-1), batches[i][0], "no index spans two batches");
  }
});

Deno.test("indexBatches: records in arrays (as rows arrive) make the same batches", async () => {
  const indexes = [0, 1, 1, 2, 3, 3, 3, 4, 5, 6, 6, 7];
  async function* chunked(sizes: number[]): AsyncGenerator<OutgoingRecord[]> {
    let at = 0;
    for (const size of sizes) {
      yield indexes.slice(at, at + size).map((index) => outgoing("geo", index, { ind: index }));
      at += size;
    }
  }
  for (const sizes of [[12], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], [2, 5, 5], [3, 1, 8]]) {
    const batches: number[][] = [];
    for await (const batch of indexBatches(chunked(sizes), 2)) {
      batches.push(batch.map((record) => record.index));
    }
    assert.deepEqual(batches, [[0, 1, 1], [2, 3, 3, 3], [4, 5], [6, 6], [7]], `chunks ${sizes}`);
  }
});

Deno.test("parseTransferOptions: defaults, and bad values named", () => {
  const options = parseTransferOptions({ _: [] });
  assert.equal(options.order, "sequential");
  assert.equal(options.seed, 100);
  assert.equal(options.maxOffset, 11_000);
  assert.deepEqual(options.tables, ["pin", "geo", "user"]);
  assert.equal(options.limit, undefined);
  const random = parseTransferOptions({ _: [], order: "random", seed: "7", tables: "user,pin" });
  assert.equal(random.seed, 7);
  assert.deepEqual(random.tables, ["user", "pin"]);
  assert.throws(() => parseTransferOptions({ _: [], order: "shuffled" }), /--order must be one of/);
  assert.throws(() => parseTransferOptions({ _: [], limit: "0" }), /--limit must be/);
  assert.throws(() => parseTransferOptions({ _: [], rate: "fast" }), /--rate must be a number/);
  assert.throws(
    () => parseTransferOptions({ _: [], tables: "pin,pins" }),
    /--tables: unknown table kind "pins"/,
  );
  assert.throws(
    () => parseTransferOptions({ _: [], order: "random", follow: true }),
    (error) =>
      error instanceof UsageError && /--follow applies to --order sequential/.test(error.message),
  );
});

Deno.test("wholeIndexPrefix: a refused row's checkpoint ends before its index, never inside it", () => {
  const batch = [1, 2, 2, 3, 4, 4, 4].map((index) => outgoing("geo", index, { ind: index }));
  assert.equal(wholeIndexPrefix(batch, 4), 4, "refused at index 4: rows 1, 2, 2, 3");
  assert.equal(wholeIndexPrefix(batch, 2), 1, "refused at the second row of index 2: row 1");
  assert.equal(wholeIndexPrefix(batch, 5), 4, "refused inside index 4: rows up to index 3");
  assert.equal(wholeIndexPrefix(batch, 1), 1);
  assert.equal(wholeIndexPrefix(batch.slice(1), 1), 0, "refused inside the first index: nothing");
});

Deno.test("CheckpointStore: save replaces whole, load reads back, a damaged file is named", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const store = new CheckpointStore(dir, "0123456789ab", "kafka");
    const file = store.sequentialFile("geo");
    assert.equal(file, join(dir, "0123456789ab", "kafka", "sequential-geo.json"));
    assert.equal(await store.load(file), undefined);
    const checkpoint = {
      version: 1 as const,
      target: "kafka",
      id: "0123456789ab",
      order: "sequential" as const,
      kind: "geo" as const,
      lastIndex: 41,
      acknowledged: { geo: 42 },
      positions: { geo: { ends: { "0": 42 } } },
      updatedAt: new Date().toISOString(),
    };
    await store.save(file, checkpoint);
    await store.save(file, { ...checkpoint, lastIndex: 99, acknowledged: { geo: 100 } });
    assert.deepEqual((await store.load(file))?.lastIndex, 99);
    assert.deepEqual([...Deno.readDirSync(store.dir)].map((entry) => entry.name), [
      "sequential-geo.json",
    ]);
    // Cut short, emptied, or whole JSON that lost what says how far the run got: never "from zero".
    const text = JSON.stringify(checkpoint);
    const { lastIndex: _, ...noIndex } = checkpoint;
    for (
      const [damage, reason] of [
        [text.slice(0, text.length / 2), /JSON/],
        ["", /JSON/],
        ["null", /not a pinpipe checkpoint/],
        [JSON.stringify(noIndex), /no last index/],
        [JSON.stringify({ ...checkpoint, order: "random" }), /no sample count/],
        [JSON.stringify({ ...checkpoint, acknowledged: null }), /no acknowledged counts/],
      ] as const
    ) {
      await Deno.writeTextFile(file, damage);
      await assert.rejects(
        store.load(file),
        (error) =>
          error instanceof CliError && error.exitCode === 1 &&
          error.message.startsWith(`checkpoint ${file} is damaged (`) &&
          reason.test(error.message) && error.message.endsWith("run with --from-start"),
        `${JSON.stringify(damage)}`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "CheckpointStore: a full disk is one error naming the file; the old checkpoint stays whole, no temp file",
  ignore: Deno.uid() !== 0, // mounting a tmpfs needs root (CI runs as root)
  async fn() {
    const dir = await Deno.makeTempDir();
    await run("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir);
    try {
      const store = new CheckpointStore(dir, "0123456789ab", "kafka");
      const file = store.sequentialFile("geo");
      const checkpoint = {
        version: 1 as const,
        target: "kafka",
        id: "0123456789ab",
        order: "sequential" as const,
        kind: "geo" as const,
        lastIndex: 41,
        acknowledged: { geo: 42 },
        positions: {},
        updatedAt: new Date().toISOString(),
      };
      await store.save(file, checkpoint);
      const before = await Deno.readTextFile(file);
      // Fill what is left: dd stops at the first write the disk refuses.
      await run("dd", "if=/dev/zero", `of=${join(dir, "filler")}`, "bs=4k").catch(() => {});
      await assert.rejects(
        store.save(file, { ...checkpoint, lastIndex: 99 }),
        (error) =>
          error instanceof CliError &&
          error.message ===
            `cannot write checkpoint ${file}: No space left on device (os error 28)`,
      );
      assert.equal(await Deno.readTextFile(file), before, "the old checkpoint, whole");
      assert.deepEqual([...Deno.readDirSync(store.dir)].map((entry) => entry.name), [
        "sequential-geo.json",
      ]);
      await Deno.remove(join(dir, "filler"));
      await store.save(file, { ...checkpoint, lastIndex: 99 });
      assert.equal((await store.load(file))?.lastIndex, 99);
    } finally {
      await run("umount", dir);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** Runs a program; rejects with its stderr if it fails. */
async function run(program: string, ...args: string[]): Promise<void> {
  const { code, stderr } = await new Deno.Command(program, { args, stderr: "piped" }).output();
  if (code !== 0) throw new Error(`${program}: ${new TextDecoder().decode(stderr)}`);
}

Deno.test("progress: the line shows rate, destinations, counts and share; the summary each table", () => {
  const counters = new TransferCounters(
    "kafka",
    "0123456789ab",
    "sequential",
    ["pin", "geo"],
    (kind) => `0123456789ab.${kind}`,
  );
  const pin = counters.table("pin");
  pin.total = 11_000;
  pin.read = 5_500;
  pin.sent = 5_000;
  pin.acknowledged = 4_000;
  pin.lastIndex = 3_999;
  const line = progressLine(counters);
  assert.match(
    line,
    /^[\d,]+ rows\/s {2}0123456789ab\.pin 4,000\/11,000 50% {2}0123456789ab\.geo 0$/,
  );
  const summary = counters.summary();
  assert.deepEqual(summary.totals, { read: 5_500, sent: 5_000, acknowledged: 4_000, failed: 0 });
  const text = summaryText(summary);
  assert.match(text, /^kafka sequential: done in /);
  assert.match(
    text,
    /0123456789ab\.pin +read 5,500, sent 5,000, acknowledged 4,000, failed 0, last index 3999/,
  );
  assert.throws(() => counters.table("user"), /not part of this transfer/);
});
