import assert from "node:assert/strict";
import { stillMissing } from "../../src/kinesis/unanswered.ts";

const entries = (...texts: string[]) => texts.map((text, i) => ({ text, i }));

Deno.test("stillMissing: what the stream holds beyond the acknowledged is not sent again", () => {
  const unanswered = entries("a", "b", "c");
  assert.deepEqual(stillMissing(unanswered, ["x", "y"], ["x", "a", "y", "c"]), [unanswered[1]]);
});

Deno.test("stillMissing: nothing landed: everything goes again, in order", () => {
  const unanswered = entries("a", "b");
  assert.deepEqual(stillMissing(unanswered, ["x"], ["x"]), unanswered);
});

Deno.test("stillMissing: equal texts are counted, copy by copy", () => {
  // Two unanswered copies of one row (the source holds duplicate rows), one acknowledged copy
  // elsewhere in the send, and two in the stream: one of the unanswered copies landed.
  const unanswered = entries("d", "d");
  assert.deepEqual(stillMissing(unanswered, ["d"], ["d", "d"]), [unanswered[1]]);
  assert.deepEqual(stillMissing(unanswered, ["d"], ["d", "d", "d"]), []);
  assert.deepEqual(stillMissing(unanswered, ["d"], ["d"]), unanswered);
});

Deno.test("stillMissing: an acknowledged record the tail did not show (a shard not read) never hides a missing one", () => {
  // The acknowledged "a" went to a child shard the tail does not read; the stream shows only the
  // unanswered "a" once: it counts as landed only if the tail holds more than the acknowledged.
  const unanswered = entries("a");
  assert.deepEqual(stillMissing(unanswered, ["a"], ["a"]), unanswered);
});
