/**
 * Stage lines of `sim` and `generate`: on a terminal (a pseudo-terminal from util-linux's
 * `script`), each stage as it starts, with rows and a rate for landing and reading; with
 * `--quiet`, or with output to a pipe, none of them.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT, runMain } from "../support/processes.ts";

/** Runs `main.ts <args>` with stdout and stderr on a pseudo-terminal; what it printed there. */
async function onTerminal(args: string[]): Promise<{ code: number; output: string }> {
  const command = [Deno.execPath(), "run", "-A", "main.ts", ...args]
    .map((word) => `'${word.replaceAll("'", "'\\''")}'`).join(" ");
  const { code, stdout } = await new Deno.Command("script", {
    args: ["-qec", command, "/dev/null"],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code, output: new TextDecoder().decode(stdout).replaceAll("\r\n", "\n") };
}

const stageLines = (text: string) =>
  text.split("\n").filter((line) => /^(sim|generate): /.test(line));

Deno.test("sim on a terminal names each stage, with rows and rates for landing and reading", async () => {
  const out = await Deno.makeTempDir();
  try {
    const { code, output } = await onTerminal(["sim", "--rows", "800", "--out", out]);
    assert.equal(code, 0, output);
    const lines = stageLines(output);
    assert.equal(lines[0], "sim: land (3 x 800 rows, 1000 per object)");
    assert.ok(lines.includes("sim: read and clean (each table as it lands: geo, user, pin)"));
    assert.ok(
      lines.some((line) =>
        /^sim: land done: 2,400 records in [\d.]+ s, [\d,]+ rows\/s$/.test(line)
      ),
      lines.join("\n"),
    );
    assert.ok(
      lines.some((line) =>
        /^sim: read and clean done: 2,400 records in [\d.]+ s, [\d,]+ rows\/s$/.test(line)
      ),
      lines.join("\n"),
    );
    assert.deepEqual(lines.slice(-3), ["sim: queries", "sim: checks", "sim: report"]);
    assert.match(output, /checks: \d+ passed, 0 failed/);

    const again = await onTerminal([
      "sim",
      "--from",
      "bucket",
      "--bucket",
      join(out, "bucket", "user-0123456789ab-bucket"),
      "--out",
      join(out, "b"),
    ]);
    assert.equal(again.code, 0, again.output);
    assert.ok(
      stageLines(again.output).some((line) =>
        /^sim: read done: 2,400 records in [\d.]+ s, [\d,]+ rows\/s$/.test(line)
      ),
      again.output,
    );
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("sim prints no stage lines with --quiet, nor to a pipe", async () => {
  const out = await Deno.makeTempDir();
  try {
    const quiet = await onTerminal(["sim", "--rows", "300", "--quiet", "--out", out]);
    assert.equal(quiet.code, 0, quiet.output);
    assert.deepEqual(stageLines(quiet.output), []);
    assert.match(quiet.output, /checks: \d+ passed, 0 failed/);
    const piped = await runMain(["sim", "--rows", "300", "--out", out]);
    assert.equal(piped.code, 0, piped.stderr);
    assert.deepEqual(stageLines(piped.stdout + piped.stderr), []);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("generate names its stage on a terminal; nothing extra with --quiet or to a pipe", async () => {
  const out = await Deno.makeTempDir();
  try {
    const shown = await onTerminal(["generate", "--rows", "500", "--jobs", "1", "--out", out]);
    assert.equal(shown.code, 0, shown.output);
    assert.deepEqual(stageLines(shown.output), [
      `generate: write (3 x 500 rows to ${out}, 1 at once)`,
    ]);
    const summary = /^generate \(seed 100\): wrote .* 3 x 500 rows, /m;
    assert.match(shown.output, summary);
    const quiet = await onTerminal([
      "generate",
      "--rows",
      "500",
      "--out",
      out,
      "--quiet",
      "--force",
    ]);
    assert.equal(quiet.code, 0, quiet.output);
    assert.deepEqual(stageLines(quiet.output), []);
    assert.doesNotMatch(quiet.output, summary, "--quiet drops the text summary too");
    const piped = await runMain(["generate", "--rows", "500", "--out", out, "--force"]);
    assert.equal(piped.code, 0, piped.stderr);
    assert.deepEqual(stageLines(piped.stdout + piped.stderr), []);
    assert.match(piped.stderr, summary);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
