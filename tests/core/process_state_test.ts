/**
 * `processRunning` on real processes: a running one, and a zombie (killed,
 * its parent not reaping it), which a signal still reaches but which no
 * longer runs.
 */
import assert from "node:assert/strict";
import { processRunning } from "../../src/core/process_state.ts";

Deno.test("processRunning: true for a running process, false for a zombie a signal still reaches", async () => {
  // `sleep 30` is the child of `sleep 5` (bash exec'd it), which never reaps it.
  const parent = new Deno.Command("bash", {
    args: ["-c", "sleep 30 & echo $!; exec sleep 5"],
    stdout: "piped",
  }).spawn();
  const reader = parent.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const pid = Number((await reader.read()).value);
  reader.releaseLock();
  try {
    assert.ok(processRunning(pid), `pid ${pid} runs`);
    Deno.kill(pid, "SIGKILL");
    const state = () => Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1][0];
    for (let i = 0; i < 50 && state() !== "Z"; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(state(), "Z");
    Deno.kill(pid, "SIGCONT"); // a zombie still takes a signal: kill -0 would call it alive
    assert.equal(processRunning(pid), false);
  } finally {
    parent.kill("SIGKILL");
    await parent.status;
    await parent.stdout.cancel().catch(() => {});
  }
  assert.ok(processRunning(Deno.pid));
  assert.equal(processRunning(2 ** 22 + 1), false, "a pid above pid_max never exists");
});
