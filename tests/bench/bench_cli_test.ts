/**
 * `deno task bench`: every benchmark answers `--help` with its flags and an
 * unknown flag with one line naming it, without running anything.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url).pathname;
const BENCHES = ["generate", "sim", "batch", "stream", "stack", "incremental", "watch"];

async function bench(...args: string[]) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "bench.ts", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

for (const name of BENCHES) {
  Deno.test(`bench ${name} --help: its usage and flags on stdout, exit 0`, async () => {
    const { code, stdout, stderr } = await bench(name, "--help");
    assert.equal(code, 0, stderr);
    assert.match(stdout, new RegExp(`^Usage: deno task bench ${name} `));
    assert.match(stdout, /\n {2}--[a-z-]+ /, "no flag listed");
    assert.equal(stderr, "");
  });

  Deno.test(`bench ${name} --bogus: one line naming the flag, exit 2`, async () => {
    const { code, stdout, stderr } = await bench(name, "--bogus");
    assert.equal(code, 2);
    assert.equal(stdout, "");
    assert.match(stderr, new RegExp(`^pinpipe bench ${name}: [^\n]*--bogus[^\n]*--help[^\n]*\n$`));
  });
}

Deno.test("bench with an unknown name or none: the list of benchmarks, exit 2", async () => {
  const unknown = await bench("nope");
  assert.equal(unknown.code, 2);
  assert.match(
    unknown.stderr,
    /^pinpipe bench: unknown benchmark "nope" \(one of generate, sim, batch/,
  );
  const none = await bench();
  assert.equal(none.code, 2);
  for (const name of BENCHES) assert.match(none.stdout, new RegExp(`\n {2}${name} `));
});
