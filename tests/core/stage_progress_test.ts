import assert from "node:assert/strict";
import { progressWanted, stageProgress } from "../../src/core/stage_progress.ts";

Deno.test("progressWanted: only on a terminal, and never with --quiet", () => {
  assert.equal(progressWanted(false, true), true);
  assert.equal(progressWanted(true, true), false);
  assert.equal(progressWanted(false, false), false);
  assert.equal(progressWanted(true, false), false);
});

Deno.test("stageProgress: stage lines, rows at most once a second, the rate at the end", () => {
  const lines: string[] = [];
  let clock = 0;
  const progress = stageProgress("sim", true, (line) => lines.push(line), () => clock);
  const land = progress.stage("land", "3 x 1,000 rows");
  clock = 500;
  land.rows(1000, 3000); // under a second since the stage began: not printed
  clock = 1000;
  land.rows(2000, 3000);
  clock = 1500;
  land.rows(2500, 3000); // under a second since the last line
  const read = progress.stage("read"); // stages overlap, each on its own clock
  clock = 2000;
  land.done(3000, "records");
  clock = 2500;
  read.done(3000);
  assert.deepEqual(lines, [
    "sim: land (3 x 1,000 rows)",
    "sim: land 2,000 of 3,000 rows, 2,000 rows/s",
    "sim: read",
    "sim: land done: 3,000 records in 2.00 s, 1,500 rows/s",
    "sim: read done: 3,000 rows in 1.00 s, 3,000 rows/s",
  ]);
});

Deno.test("stageProgress: nothing at all when not enabled", () => {
  const lines: string[] = [];
  let clock = 0;
  const progress = stageProgress("generate", false, (line) => lines.push(line), () => clock);
  const stage = progress.stage("write");
  clock = 5000;
  stage.rows(10);
  stage.done(10);
  assert.equal(progress.enabled, false);
  assert.deepEqual(lines, []);
});
