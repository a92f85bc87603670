/**
 * A short chaos run (`deno task chaos`) on a stack of its own (three Kafka
 * nodes, a sink group, two Kinesis pipelines): the schedule goes once
 * through every kind of fault before any random draw, so a run of a few
 * seconds' span still injects each kind (kills and freezes, two faults at
 * once, a sink member joining, resharding, network stalls, delays and
 * resets, full disks when root, a corrupt checkpoint); then the drain and
 * the checks. Every invariant must hold and every kind must have been
 * applied. (Longer runs draw more faults; see RELIABILITY.md.)
 */
import assert from "node:assert/strict";
import { FAULT_KINDS } from "../../chaos/faults.ts";
import { runMain } from "../support/processes.ts";

Deno.test("chaos: every kind of fault once on a private stack, then every record exactly once", async () => {
  const run = await runMain(["chaos", "--minutes", "0.1", "--seed", "9", "--port-base", "22400"]);
  const output = run.stdout + run.stderr;
  assert.equal(run.code, 0, output);
  assert.match(output, /chaos: \d+ invariant\(s\), 0 violation\(s\), seed 9/);
  const root = Deno.uid() === 0;
  for (const kind of FAULT_KINDS) {
    const skippable = kind.startsWith("disk full") && !root;
    const row = output.split("\n").find((line) => line.startsWith(`${kind}  `));
    assert.ok(row, `${kind}: no row in the fault table`);
    const applied = Number(row.slice(kind.length).trim().split(/\s+/)[0]);
    assert.ok(applied >= 1 || skippable, `${kind} applied ${applied} time(s): ${row}`);
  }
  assert.match(output, /a corrupt checkpoint stops its producer, naming the file\s+1\s+yes/);
});
