/**
 * `./infra.sh local with CMD` (what `deno task test` runs): it brings the stack up, runs CMD,
 * and stops what it started, exiting with CMD's own status. On a private stack: a command that
 * succeeds and one that fails each leave every server stopped, their pid files gone, and the
 * exit status CMD's (the stop runs in an EXIT trap, where a bare `return` gives back the trap's
 * status rather than its last command's, which once made a passing run end with 1 and servers
 * reported "still running").
 */
import assert from "node:assert/strict";
import { alive, PrivateStack, SERVICES } from "../support/private_stack.ts";

const PORTS = { mysql: 20706, kafka: 20392, controller: 20393, kinesis: 20867 };

Deno.test("infra.sh local with: CMD's exit status, and everything it started stopped after", async () => {
  await PrivateStack.use(PORTS, {}, async (stack) => {
    for (const [command, code] of [["true", 0], ["false", 1]] as const) {
      // The pids of the servers `with` starts, read by CMD itself while the stack is up.
      const run = await stack.infra("with", "bash", "-c", `cat ${stack.dir}/run/*.pid; ${command}`);
      const output = run.stdout + run.stderr;
      assert.equal(run.code, code, output);
      const pids = run.stdout.trim().split("\n").filter((line) => /^\d+$/.test(line)).map(Number);
      assert.equal(pids.length, SERVICES.length, output);
      for (const pid of pids) {
        assert.ok(!alive(pid), `pid ${pid} still runs after with:\n${output}`);
      }
      for (const service of SERVICES) {
        await assert.rejects(Deno.stat(`${stack.dir}/run/${service}.pid`), Deno.errors.NotFound);
        assert.match(run.stderr, new RegExp(`infra.sh: ${service} stopped`));
      }
      assert.doesNotMatch(run.stderr, /still runs/);
    }
  });
});
