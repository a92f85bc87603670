import assert from "node:assert/strict";
import { toDuckDb } from "../../src/warehouse/dialect.ts";
import {
  CHECK_FILES,
  CLEANING_STEPS,
  INTERMEDIATE_VIEWS,
  loadSql,
  QUERIES,
  SQL_DIR,
} from "../../src/warehouse/duckdb_runner.ts";

Deno.test("toDuckDb renames array( and regexp_like( calls, any case, with spaces before (", () => {
  assert.equal(
    toDuckDb("SELECT array(a, b), ARRAY (1), Regexp_Like(x, '^a$') FROM t"),
    "SELECT list_value(a, b), list_value (1), regexp_matches(x, '^a$') FROM t",
  );
});

Deno.test("toDuckDb leaves literals, quoted names, comments and non-calls alone", () => {
  const sql = [
    "-- array(1) in a comment",
    "/* regexp_like(x) */",
    "SELECT 'array(1)', 'it''s array(2)', \"array(\", t.array(1), array AS c, my_array(1),",
    "  arrays(1)",
  ].join("\n");
  assert.equal(toDuckDb(sql), sql);
});

Deno.test("toDuckDb refuses what the two engines read differently, naming the place", () => {
  assert.throws(() => toDuckDb("SELECT\n  `index` FROM t"), /backtick at line 2, column 3/);
  assert.throws(
    () => toDuckDb("SELECT regexp_like(x, '\\d')"),
    /backslash in a string literal at line 1, column 24/,
  );
  assert.throws(() => toDuckDb("SELECT 'open"), /unterminated ' quote opening at line 1/);
  assert.throws(() => toDuckDb("SELECT 1 /* open"), /unterminated \/\* comment/);
});

/** Every `.sql` file under `dir`, relative to it, sorted. */
async function sqlFilesUnder(dir: URL, prefix = ""): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(new URL(prefix, dir))) {
    const path = `${prefix}${entry.name}`;
    if (entry.isDirectory) found.push(...await sqlFilesUnder(dir, `${path}/`));
    else if (entry.name.endsWith(".sql")) found.push(path);
  }
  return found.sort();
}

Deno.test("every shared SQL file translates, and only the two renames change it", async () => {
  const files = [
    ...CLEANING_STEPS.flatMap((step) => [step.parse, step.clean]),
    ...QUERIES.map((query) => query.file),
    ...CHECK_FILES,
  ];
  assert.equal(files.length, 20); // 6 staging, 10 marts, 4 checks
  files.push(...INTERMEDIATE_VIEWS.map((view) => view.file));
  // The manifest lists every file of every layer, so none is left out of a run.
  assert.deepEqual([...files].sort(), await sqlFilesUnder(SQL_DIR));
  let renamed = 0;
  for (const file of files) {
    const spark = await Deno.readTextFile(new URL(`../../notebooks/sql/${file}`, import.meta.url));
    const duck = await loadSql(file);
    assert.match(spark, /^-- /, `${file} starts with its header comment`);
    const undo = duck.replaceAll("list_value(", "array(").replaceAll(
      "regexp_matches(",
      "regexp_like(",
    );
    assert.equal(undo, spark, file);
    renamed += (duck.match(/list_value\(|regexp_matches\(/g) ?? []).length;
  }
  assert.ok(renamed >= 10, `expected the SQL to use the renamed functions, saw ${renamed}`);
});
