/**
 * A short chaos run (`deno task chaos`) on a stack of its own: half a
 * minute of faults from seed 9, whose schedule kills the broker, MariaDB and
 * kinesalite and freezes the consumer; then the drain and the checks. Every
 * invariant must hold, and the faults must have been applied.
 */
import assert from "node:assert/strict";
import { runMain } from "../support/processes.ts";

Deno.test("chaos: 30 s of faults on a private stack, then every record exactly once", async () => {
  const run = await runMain(["chaos", "--minutes", "0.5", "--seed", "9", "--port-base", "41400"]);
  const output = run.stdout + run.stderr;
  assert.equal(run.code, 0, output);
  assert.match(output, /chaos: \d+ invariant\(s\), 0 violation\(s\), seed 9/);
  const killed = /^kafka\s+1\s/m.test(output) && /^mysql\s+1\s/m.test(output);
  assert.ok(killed, `the broker and MariaDB were killed:\n${output}`);
  const total = /^total\s+(\d+)\s+(\d+)/m.exec(output);
  assert.ok(total && Number(total[1]) >= 3, `faults applied:\n${output}`);
});
