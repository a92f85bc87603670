import assert from "node:assert/strict";
import { runMain } from "./support/processes.ts";

const pinpipe = (...args: string[]) => runMain(args);

Deno.test("main.ts: no command prints usage and exits 2", async () => {
  const { code, stdout } = await pinpipe();
  assert.equal(code, 2);
  assert.match(stdout, /Commands:\n {2}batch/);
});

Deno.test("main.ts: an unknown command is named in one line pointing to --help, exit 2", async () => {
  const { code, stderr } = await pinpipe("bacth");
  assert.equal(code, 2);
  assert.match(stderr, /unknown command "bacth"/);
  assert.equal(stderr, 'pinpipe: unknown command "bacth" (--help lists the commands)\n');
});

Deno.test("main.ts: --help lists the commands, exit 0", async () => {
  const { code, stdout } = await pinpipe("--help");
  assert.equal(code, 0);
  for (const command of ["batch", "stream", "sim", "sink", "consume", "generate"]) {
    assert.match(stdout, new RegExp(`\\n  ${command} `));
  }
});
