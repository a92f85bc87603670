/**
 * The documentation is self-contained: every relative link of README.md and docs/*.md names a
 * file inside the repository that exists, so a reader of a clone never meets a path to elsewhere.
 */
import assert from "node:assert/strict";
import { dirname, relative, resolve } from "node:path";
import { ROOT } from "../support/processes.ts";

Deno.test("README.md and docs/*.md link only to files inside the repository that exist", async () => {
  const pages = [`${ROOT}README.md`];
  for await (const entry of Deno.readDir(`${ROOT}docs`)) {
    if (entry.name.endsWith(".md")) pages.push(`${ROOT}docs/${entry.name}`);
  }
  const problems: string[] = [];
  for (const page of pages) {
    const text = await Deno.readTextFile(page);
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^(https?:|mailto:|#)/.test(target)) continue;
      const path = resolve(dirname(page), target.split("#")[0]);
      const inside = relative(ROOT, path);
      const where = `${relative(ROOT, page)}: ${target}`;
      if (inside.startsWith("..")) problems.push(`${where} is outside the repository`);
      else if (!(await Deno.stat(path).then(() => true, () => false))) {
        problems.push(`${where} does not exist`);
      }
    }
  }
  assert.deepEqual(problems, []);
});
