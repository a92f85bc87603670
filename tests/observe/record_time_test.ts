import assert from "node:assert/strict";
import { recordTime } from "../../src/observe/record_time.ts";

/** A partition's log: the time each offset was written, rising. */
function offsetsAtFor(times: number[]) {
  let asked = 0;
  const offsetsAt = (timestamp: number) => {
    asked++;
    // ListOffsets by timestamp: the first offset written at or after it, else the end offset.
    const first = times.findIndex((time) => time >= timestamp);
    return Promise.resolve([{ partition: 0, offset: String(first === -1 ? times.length : first) }]);
  };
  return { offsetsAt, asked: () => asked };
}

Deno.test("recordTime: an offset's write time to within 5% of its age, in a few requests", async () => {
  const now = 1_800_000_000_000;
  // One record a second for the last two hours.
  const times = Array.from({ length: 7200 }, (_, i) => now - 7200_000 + i * 1000);
  for (const offset of [0, 3600, 7000, 7199]) {
    const log = offsetsAtFor(times);
    const found = await recordTime(log.offsetsAt, 0, offset, now);
    const age = now - times[offset];
    assert.ok(found <= times[offset], `offset ${offset}: not later than written`);
    assert.ok(
      times[offset] - found <= Math.max(200, age * 0.05) + 1,
      `offset ${offset}: ${times[offset] - found} ms off for an age of ${age} ms`,
    );
    assert.ok(log.asked() <= 30, `offset ${offset}: ${log.asked()} requests`);
  }
});
