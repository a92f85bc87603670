import assert from "node:assert/strict";
import { inLanes } from "../../src/util/lanes.ts";

Deno.test("inLanes: every item once, in order of start, at most N in flight", async () => {
  const started: number[] = [];
  let inFlight = 0;
  let most = 0;
  await inLanes([0, 1, 2, 3, 4, 5, 6], 3, async (item) => {
    started.push(item);
    most = Math.max(most, ++inFlight);
    await new Promise((resolve) => setTimeout(resolve, 5 * (item % 3)));
    inFlight--;
  });
  assert.deepEqual(started, [0, 1, 2, 3, 4, 5, 6]);
  assert.equal(most, 3);
});

Deno.test("inLanes: after a failure no item starts, and the failure rejects", async () => {
  const started: number[] = [];
  await assert.rejects(
    inLanes([0, 1, 2, 3, 4, 5], 2, async (item) => {
      started.push(item);
      await Promise.resolve();
      if (item === 1) throw new Error("item 1 failed");
    }),
    /item 1 failed/,
  );
  assert.deepEqual(started, [0, 1, 2]);
});
