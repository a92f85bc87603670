/**
 * The chaos run's pure parts: the seeded fault schedule, the growing
 * source's chunks (never splitting an original from its copies), and the
 * checks that decide a violation (multisets of indexes, offsets tiling).
 */
import assert from "node:assert/strict";
import { faultSchedule } from "../../chaos/faults.ts";
import { multisetDifference, tilingProblems } from "../../chaos/invariants.ts";
import { chunkPositions } from "../../chaos/source_growth.ts";
import { DEFAULT_DATASET, isDuplicatePosition } from "../../sim/datagen/generate.ts";

Deno.test("fault schedule: the same seed gives the same faults, another seed others", () => {
  const targets = ["sink", "consume", "kafka", "mysql"];
  const a = faultSchedule(9, 120_000, targets);
  assert.deepEqual(faultSchedule(9, 120_000, targets), a);
  assert.notDeepEqual(faultSchedule(10, 120_000, targets), a);
  assert.ok(a.length >= 12 && a.length <= 40, `${a.length} faults in 2 minutes`);
  for (const [i, fault] of a.entries()) {
    assert.ok(targets.includes(fault.target));
    assert.ok(fault.pauseMs >= 1_000 && fault.pauseMs <= 6_000);
    if (i > 0) assert.ok(fault.atMs - a[i - 1].atMs >= 4_000);
  }
  assert.ok(a.some((f) => f.action === "SIGKILL") && a.some((f) => f.action === "SIGSTOP"));
});

Deno.test("source chunks: the next originals with their copies, never a copy alone", () => {
  const isCopy = (p: number) => isDuplicatePosition(p, { ...DEFAULT_DATASET, rows: p + 1 });
  let highest = 10_999;
  for (let i = 0; i < 300; i++) {
    const chunk = chunkPositions(highest, 7);
    assert.ok(chunk.length >= 7);
    assert.ok(!isCopy(chunk[0]), `chunk starts with a copy at ${chunk[0]}`);
    assert.ok(!isCopy(chunk.at(-1)! + 1), `the copy after ${chunk.at(-1)} left for the next chunk`);
    assert.deepEqual(chunk, chunk.map((_, j) => chunk[0] + j), "consecutive positions");
    highest = Math.max(...chunk.filter((p) => !isCopy(p)));
  }
});

Deno.test("multiset check: equal passes; a lost, an extra and a repeated index fail", () => {
  assert.equal(multisetDifference([3, 1, 2, 2], [1, 2, 2, 3]), "");
  assert.match(multisetDifference([1, 2], [1, 2, 3]), /^1 index\(es\) missing or short \(3\)/);
  assert.match(multisetDifference([1, 2, 3, 3], [1, 2, 3]), /1 extra or repeated \(3\)$/);
  assert.match(multisetDifference([1, 2, 2], [1, 2, 2, 2]), /missing or short \(2\)/);
});

Deno.test("tiling check: contiguous objects to the end pass; a gap, an overlap or a short end fail", () => {
  const object = (partition: number, startOffset: number, n: number) => ({
    partition,
    startOffset,
    indexes: Array.from({ length: n }, (_, i) => startOffset + i),
  });
  const ends = new Map([[0, 5], [1, 2]]);
  assert.deepEqual(tilingProblems([object(0, 0, 3), object(0, 3, 2), object(1, 0, 2)], ends), []);
  assert.match(
    tilingProblems([object(0, 0, 3), object(0, 4, 1), object(1, 0, 2)], ends)[0],
    /at 4, expected 3/,
  );
  assert.match(
    tilingProblems([object(0, 0, 3), object(0, 2, 3), object(1, 0, 2)], ends)[0],
    /at 2, expected 3/,
  );
  assert.match(
    tilingProblems([object(0, 0, 5)], ends)[0],
    /partition 1: objects end at 0, topic at 2/,
  );
});
