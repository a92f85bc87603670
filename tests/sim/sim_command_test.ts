/**
 * `deno task sim` end to end, as a user runs it: exit codes, the printed
 * summary, the JSON answers, the report file, and the same answers from
 * generated rows and from the bucket they landed in. (The same answers from
 * the seeded MariaDB tables need the servers: tests/stack/sim_from_mysql_test.ts.)
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { isDuplicatePosition } from "../../sim/datagen/generate.ts";
import { sim, simJson } from "../support/sim.ts";

Deno.test("sim: generated rows pass every check; duplicates dropped are the generator's copies", async () => {
  const out = await Deno.makeTempDir();
  try {
    const rows = 3000;
    const result = await simJson(out, "--rows", String(rows), "--seed", "7");
    let copies = 0;
    for (let position = 0; position < rows; position++) {
      if (isDuplicatePosition(position, { rows, seed: 7 })) copies++;
    }
    assert.ok(copies > 0, "the dataset has exact copies to drop");
    for (const kind of ["pin", "geo", "user"]) {
      assert.deepEqual(result.cleaned[kind], { rowsIn: rows, rowsOut: rows - copies });
    }
    assert.ok(result.checks.length >= 10);
    assert.deepEqual(result.checks.filter((check) => !check.passed), []);
    // The eight questions, two of them answered in two parts (a, b).
    assert.deepEqual(
      result.answers.map((answer) => answer.name.split("_")[0]),
      ["q1", "q2a", "q2b", "q3a", "q3b", "q4", "q5", "q6", "q7", "q8"],
    );
    const q6 = result.answers.find((answer) => answer.name.startsWith("q6_"))!;
    const joined = q6.rows.reduce((sum, row) => sum + Number(row[q6.columns.length - 1]), 0);
    assert.ok(joined > 0 && joined <= rows - copies, `q6 counts ${joined} users`);
    const report = await Deno.readTextFile(join(out, "report", "index.html"));
    assert.match(report, /<html/);
    for (const answer of result.answers) assert.ok(report.includes(answer.name), answer.name);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("sim: --from bucket reads what was landed and gives the same answers", async () => {
  const out = await Deno.makeTempDir();
  try {
    const first = await simJson(join(out, "a"), "--rows", "1500", "--flush-size", "100");
    const bucket = join(out, "a", "bucket", "user-0123456789ab-bucket");
    const pinObjects = [...Deno.readDirSync(join(bucket, "topics/0123456789ab.pin/partition=0"))];
    assert.equal(pinObjects.length, 15);
    const second = await simJson(join(out, "b"), "--from", "bucket", "--bucket", bucket);
    assert.deepEqual(second.answers, first.answers);
    assert.deepEqual(second.cleaned, first.cleaned);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("sim: a bad record fails a check that names it, exit 1", async () => {
  const out = await Deno.makeTempDir();
  try {
    await simJson(join(out, "a"), "--rows", "500", "--flush-size", "500");
    const bucket = join(out, "a", "bucket", "user-0123456789ab-bucket");
    const object = join(
      bucket,
      "topics/0123456789ab.pin/partition=0/0123456789ab.pin+0+0000000000.json",
    );
    const lines = (await Deno.readTextFile(object)).trimEnd().split("\n");
    const bad = JSON.parse(lines[3]);
    bad.follower_count = "lots";
    lines[3] = JSON.stringify(bad);
    await Deno.writeTextFile(object, lines.join("\n") + "\n");
    const { code, stdout } = await sim(
      "--from",
      "bucket",
      "--bucket",
      bucket,
      "--out",
      join(out, "b"),
    );
    assert.equal(code, 1);
    assert.match(stdout, /FAIL {2}null reasons pin\.follower_count: .*unparseable 1/);
    assert.match(stdout, /checks: \d+ passed, [1-9]\d* failed/);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("sim: --json-out FILE writes the JSON --json prints", async () => {
  const out = await Deno.makeTempDir();
  try {
    const file = join(out, "answers.json");
    const { code, stdout, stderr } = await sim(
      "--rows",
      "500",
      "--out",
      out,
      "--json",
      "--json-out",
      file,
    );
    assert.equal(code, 0, stderr);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(file)), JSON.parse(stdout));
    assert.match(stderr, new RegExp(`json: ${file}`));
    const plain = await sim("--rows", "500", "--out", out, "--json-out", file);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /^source: generated 500 rows/m, "without --json, text on stdout");
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("sim: bad flags are named, exit 2", async () => {
  const rows = await sim("--rows", "zero");
  assert.equal(rows.code, 2);
  assert.match(rows.stderr, /--rows must be a whole number/);
  const from = await sim("--from", "kafka");
  assert.equal(from.code, 2);
  assert.match(from.stderr, /--from must be one of generate, mysql, bucket, got "kafka"/);
  const out = await Deno.makeTempDir();
  try {
    const missing = await sim("--from", "bucket", "--bucket", "/nonexistent/bucket", "--out", out);
    assert.equal(missing.code, 4, "the bucket's exit code");
    assert.equal(
      missing.stderr,
      "pinpipe sim: bucket /nonexistent/bucket does not exist (--bucket)\n",
    );
    // A bucket that exists but holds no objects: no pin objects, named.
    const empty = await sim("--from", "bucket", "--bucket", out, "--out", `${out}/sim`);
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /no pin objects in .*\/topics\/0123456789ab\.pin/);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
