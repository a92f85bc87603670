/**
 * A short chaos run (`deno task chaos`) on a stack of its own: the faults
 * seed 9 draws over 21 seconds, which kill the broker and MariaDB and
 * freeze the consumer; then the drain and the checks. Every invariant must
 * hold, and both services must have been killed. (Longer runs kill
 * kinesalite too; see RELIABILITY.md.)
 */
import assert from "node:assert/strict";
import { runMain } from "../support/processes.ts";

Deno.test("chaos: 21 s of faults on a private stack, then every record exactly once", async () => {
  const run = await runMain(["chaos", "--minutes", "0.35", "--seed", "9", "--port-base", "22400"]);
  const output = run.stdout + run.stderr;
  assert.equal(run.code, 0, output);
  assert.match(output, /chaos: \d+ invariant\(s\), 0 violation\(s\), seed 9/);
  for (const service of ["kafka", "mysql"]) {
    assert.match(output, new RegExp(`^${service}\\s+1\\s`, "m"), `${service} killed once`);
  }
});
