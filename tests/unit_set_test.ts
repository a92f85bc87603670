/**
 * The unit set (`deno task test:unit`, a bare `deno test -A`) is deno.json's `test.include`: every
 * test outside `tests/stack/`, which holds the tests that need the local servers, root, or what
 * `./infra.sh local install` installs (Spark, Airflow, Chromium, cfn-lint). A new folder of tests
 * left out of that list would silently run only in `deno task test`; this test says so.
 */
import assert from "node:assert/strict";
import { relative } from "node:path";
import config from "../deno.json" with { type: "json" };

const ROOT = new URL("../", import.meta.url).pathname;

async function* testFiles(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* testFiles(path);
    else if (/_test\.ts$/.test(entry.name)) yield relative(ROOT, path);
  }
}

Deno.test("every test outside tests/stack/ is in the unit set, and none in it", async () => {
  const include = config.test.include;
  const covered = (file: string) =>
    include.some((entry) => entry.endsWith("/") ? file.startsWith(entry) : file === entry);
  for await (const file of testFiles(`${ROOT}tests`)) {
    const stack = file.startsWith("tests/stack/");
    assert.equal(
      covered(file),
      !stack,
      `${file}: ${stack ? "a stack test in" : "missing from"} deno.json's test.include`,
    );
  }
});
