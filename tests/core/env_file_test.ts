/**
 * The settings file (`env_file.ts`): its lines parsed as `infra.sh` reads them, its variables set
 * only where the environment has none, and every command reading it through `runProgram`, as a
 * user meets it (`PINPIPE_ENV_FILE` points at a file of the test's own, so a developer's
 * `pinpipe.env` plays no part).
 */
import assert from "node:assert/strict";
import { applyEnvFile, parseEnvFile } from "../../src/core/env_file.ts";
import { EXIT_CODES, UsageError } from "../../src/core/errors.ts";
import { ROOT, runMain } from "../support/processes.ts";

Deno.test("parseEnvFile: KEY=value, export, quotes, comments; a stray line named by number", () => {
  assert.deepEqual(
    parseEnvFile(
      [
        "# a comment",
        "",
        "PINPIPE_ID=12c0d092d679",
        "export AWS_REGION = eu-west-1",
        "PINPIPE_BUCKET=a b  # trailing note",
        `PINPIPE_API_KEY="q #not a comment"`,
        "PINPIPE_EMPTY=",
        "  PINPIPE_SINGLE='x'  ",
      ].join("\n"),
    ),
    {
      PINPIPE_ID: "12c0d092d679",
      AWS_REGION: "eu-west-1",
      PINPIPE_BUCKET: "a b",
      PINPIPE_API_KEY: "q #not a comment",
      PINPIPE_EMPTY: "",
      PINPIPE_SINGLE: "x",
    },
  );
  assert.throws(
    () => parseEnvFile("PINPIPE_ID=1\nPINPIPE ID=2\n", "my.env"),
    (error: unknown) =>
      error instanceof UsageError &&
      error.message === 'my.env:2: not a KEY=value line: "PINPIPE ID=2"',
  );
});

Deno.test("applyEnvFile: sets what the environment lacks, never what it has", async () => {
  const file = await Deno.makeTempFile({ suffix: ".env" });
  const names = ["PINPIPE_ENV_TEST_FILE_ONLY", "PINPIPE_ENV_TEST_BOTH"];
  try {
    await Deno.writeTextFile(file, `${names[0]}=from-file\n${names[1]}=from-file\n`);
    Deno.env.set(names[1], "from-env");
    assert.deepEqual(applyEnvFile(file), [names[0]]);
    assert.equal(Deno.env.get(names[0]), "from-file");
    assert.equal(Deno.env.get(names[1]), "from-env");
    assert.throws(() => applyEnvFile(`${file}.missing`), /cannot read the settings file/);
  } finally {
    for (const name of names) Deno.env.delete(name);
    await Deno.remove(file);
  }
});

Deno.test("every command reads the settings file; the environment wins over it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pinpipe_env_file_" });
  try {
    const file = `${dir}/pinpipe.env`;
    await Deno.writeTextFile(file, `# settings\nPINPIPE_BUCKET=${dir}/from-file\n`);
    const sim = (env: Record<string, string>) =>
      runMain(["sim", "--from", "bucket", "--out", `${dir}/sim`], {
        PINPIPE_ENV_FILE: file,
        ...env,
      });
    const fromFile = await sim({});
    assert.equal(fromFile.code, EXIT_CODES.target, fromFile.stderr);
    assert.equal(
      fromFile.stderr,
      `pinpipe sim: bucket ${dir}/from-file does not exist (--bucket)\n`,
    );
    const fromEnv = await sim({ PINPIPE_BUCKET: `${dir}/from-env` });
    assert.match(fromEnv.stderr, new RegExp(`bucket ${dir}/from-env does not exist`));

    await Deno.writeTextFile(file, "PINPIPE_BUCKET=x\nnot a setting\n");
    const bad = await sim({});
    assert.equal(bad.code, EXIT_CODES.usage);
    assert.match(bad.stderr, new RegExp(`^pinpipe sim: ${file}:2: not a KEY=value line`));
    const missing = await sim({ PINPIPE_ENV_FILE: `${dir}/none.env` });
    assert.equal(missing.code, EXIT_CODES.usage);
    assert.match(missing.stderr, /cannot read the settings file .*none\.env/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pinpipe.env.example parses, names only documented variables, and pinpipe.env is ignored by git", async () => {
  const text = await Deno.readTextFile(`${ROOT}pinpipe.env.example`);
  parseEnvFile(text);
  // Its settings are commented out at their defaults: uncommented, they must parse too.
  const settings = parseEnvFile(
    text.split("\n").filter((line) => /^# [A-Z_]+=/.test(line)).map((line) => line.slice(2)).join(
      "\n",
    ),
  );
  assert.ok(Object.keys(settings).length >= 10, "the example names the usual settings");
  const documented = await Deno.readTextFile(`${ROOT}docs/configuration.md`);
  for (const name of Object.keys(settings)) {
    assert.match(documented, new RegExp(`\\| \`${name}\``), `${name} in docs/configuration.md`);
  }
  const ignored = (await Deno.readTextFile(`${ROOT}.gitignore`)).split("\n");
  assert.ok(ignored.includes("pinpipe.env"), "pinpipe.env is in .gitignore");
});

/** The files of `dir` (recursively) whose names end in one of `extensions`. */
async function* sources(dir: string, extensions: string[]): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* sources(path, extensions);
    else if (extensions.some((extension) => entry.name.endsWith(extension))) yield path;
  }
}

Deno.test("every PINPIPE_* variable the code reads is in docs/configuration.md's tables", async () => {
  const documented = await Deno.readTextFile(`${ROOT}docs/configuration.md`);
  const files = [`${ROOT}infra.sh`, `${ROOT}main.ts`, `${ROOT}bench.ts`];
  for (const dir of ["src", "sim", "infra", "chaos", "bench"]) {
    for await (const file of sources(`${ROOT}${dir}`, [".ts", ".py", ".sh"])) files.push(file);
  }
  const missing = new Set<string>();
  for (const file of files) {
    for (const [name] of (await Deno.readTextFile(file)).matchAll(/PINPIPE_[A-Z0-9_]*[A-Z0-9]/g)) {
      // Numbered ones (PINPIPE_KAFKA_ADVERTISED_PORT_3) are documented as <i>; a name cut at a
      // wildcard (PINPIPE_AWS_*_ENDPOINT) is the start of documented ones.
      const general = name.replace(/_\d+$/, "_<i>");
      if (documented.includes(`| \`${general}\``) || documented.includes(`\`${name}_`)) continue;
      missing.add(`${name} (${file.slice(ROOT.length)})`);
    }
  }
  assert.deepEqual([...missing], [], "variables missing from docs/configuration.md");
});
