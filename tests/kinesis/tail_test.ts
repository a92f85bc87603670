/**
 * The resume filter over records held beyond a checkpoint: matches once per
 * copy, and moves each shard's position only across a run of passed records.
 */
import assert from "node:assert/strict";
import { heldRecordsFilter, isShardPositions, type TailRecord } from "../../src/kinesis/tail.ts";

const held = (shard: string, sequence: number, text: string): TailRecord => ({
  shard,
  sequence: String(sequence),
  text,
});

Deno.test("held records match once per copy; the rest are not held", () => {
  const positions = { a: "10" };
  const isHeld = heldRecordsFilter([held("a", 11, "x"), held("a", 12, "x")], positions);
  assert.deepEqual(["x", "y", "x", "x"].map(isHeld), [true, false, true, false]);
  assert.deepEqual(positions, { a: "12" });
});

Deno.test("a shard's position moves only across records passed, never past one still ahead", () => {
  const positions = { a: "10", b: "20" };
  const isHeld = heldRecordsFilter(
    [held("a", 11, "r1"), held("a", 12, "r3"), held("a", 13, "r2"), held("b", 21, "r4")],
    positions,
  );
  assert.equal(isHeld("r1"), true);
  assert.deepEqual(positions, { a: "11", b: "20" });
  // r2 lies after r3 in the shard (a retried record): r3 still ahead holds the position at r2.
  assert.equal(isHeld("r2"), true);
  assert.deepEqual(positions, { a: "11", b: "20" });
  assert.equal(isHeld("r3"), true);
  assert.deepEqual(positions, { a: "13", b: "20" });
  assert.equal(isHeld("r4"), true);
  assert.deepEqual(positions, { a: "13", b: "21" });
});

Deno.test("sequence numbers beyond 2^53 move the position exactly", () => {
  const start = "49680515450035432629674528454475470618082680328125677570";
  const after = "49680515450035432629674528454475470618082680328125677571";
  const positions = { a: start };
  heldRecordsFilter([{ shard: "a", sequence: after, text: "t" }], positions)("t");
  assert.deepEqual(positions, { a: after });
});

Deno.test("a checkpoint's positions: shard ids to decimal sequence numbers", () => {
  assert.equal(isShardPositions({ "shardId-000000000000": "123" }), true);
  assert.equal(isShardPositions({ a: "x" }), false);
  assert.equal(isShardPositions(["1"]), false);
  assert.equal(isShardPositions(null), false);
});
