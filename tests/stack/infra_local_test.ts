/** `infra.sh local`: status of the running stack, and clear usage errors. */
import assert from "node:assert/strict";

async function infra(...args: string[]) {
  const output = await new Deno.Command("bash", {
    args: ["infra.sh", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

Deno.test("infra.sh local status: each service up, where it listens, what its health check said", async () => {
  const { code, stdout } = await infra("local", "status");
  assert.equal(code, 0, stdout);
  const lines = stdout.trim().split("\n");
  assert.equal(lines.length, 3);
  assert.match(
    lines[0],
    /^mysql +up +127\.0\.0\.1:13306 +pid \d+ +query ok, pinterest_data: 3 table/,
  );
  assert.match(lines[1], /^kafka +up +127\.0\.0\.1:19092 +pid \d+ +metadata ok, 1 broker/);
  assert.match(lines[2], /^kinesis +up +127\.0\.0\.1:14567 +pid \d+ +ListStreams ok/);
});

Deno.test("infra.sh: an unknown action is a usage error naming the actions", async () => {
  const local = await infra("local", "restart");
  assert.equal(local.code, 1);
  assert.match(
    local.stderr,
    /usage: \.\/infra\.sh local up \[--aws\]\|down\|status\|seed\|install\|with CMD\|aws up\|down\|status/,
  );
  const top = await infra("gcp");
  assert.equal(top.code, 1);
  assert.match(top.stderr, /usage: .*\| aws synth\|diff\|plan\|apply\|destroy \| rehearse/);
});
