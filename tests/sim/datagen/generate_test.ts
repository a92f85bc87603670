/**
 * Tests of the dataset generator (`sim/datagen/generate.ts`) and its command line
 * (`sim/datagen/generate_command.ts`): determinism down to the bytes, the shape of every
 * field, placeholder and duplicate rates within stated bands, alignment of
 * the three tables, and command-line errors. Pure: no services needed.
 */
import assert from "node:assert/strict";
import {
  CATEGORY_NAMES,
  DEFAULT_DATASET,
  formatDatetime,
  generateRows,
  isDuplicatePosition,
  MEDIA_TYPES,
  PLACEHOLDERS,
  rowAt,
} from "../../../sim/datagen/generate.ts";
import { COUNTRIES, FIRST_NAMES, LAST_NAMES } from "../../../sim/datagen/vocabulary.ts";
import { main } from "../../../sim/datagen/generate_command.ts";
import { writeNdjson } from "../../../sim/datagen/ndjson_writer.ts";
import { UsageError } from "../../../src/core/errors.ts";
import { TABLE_KINDS, type TableKind, TABLES } from "../../../src/core/tables.ts";
import type { Row } from "../../../src/core/records.ts";

const SAMPLE = { rows: 20_000, seed: DEFAULT_DATASET.seed };
const rowsOf = (kind: TableKind, options = SAMPLE): Row[] => [...generateRows(kind, options)];
const PIN = rowsOf("pin");
const GEO = rowsOf("geo");
const USER = rowsOf("user");

/** Asserts `count / total` lies in [low, high] (shares, not percents). */
function assertShare(name: string, count: number, total: number, low: number, high: number) {
  const share = count / total;
  assert.ok(
    share >= low && share <= high,
    `${name}: ${count} of ${total} = ${(share * 100).toFixed(2)}%, expected ${low * 100}%..${
      high * 100
    }%`,
  );
}

const countWhere = (rows: Row[], test: (row: Row) => boolean): number =>
  rows.reduce((count, row) => count + (test(row) ? 1 : 0), 0);

async function runCli(args: string[]): Promise<{ code: number; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts", "generate", ...args],
    cwd: new URL("../../..", import.meta.url),
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: output.code, stderr: new TextDecoder().decode(output.stderr) };
}

async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "pinpipe_generate_test_" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("the CLI writes byte-identical NDJSON for a seed, and different bytes for another", async () => {
  await withTempDir(async (dir) => {
    for (const [name, seed] of [["a", 7], ["b", 7], ["c", 8]] as const) {
      const { code, stderr } = await runCli([
        "--rows",
        "3000",
        "--seed",
        String(seed),
        "--out",
        `${dir}/${name}`,
      ]);
      assert.equal(code, 0, stderr);
    }
    for (const kind of TABLE_KINDS) {
      const [a, b, c] = await Promise.all(
        ["a", "b", "c"].map((name) => Deno.readFile(`${dir}/${name}/${kind}.ndjson`)),
      );
      assert.ok(a.length > 3000 * 50, `${kind}.ndjson is only ${a.length} bytes`);
      assert.deepEqual(a, b, `${kind}.ndjson differs between two runs with seed 7`);
      assert.notDeepEqual(a, c, `${kind}.ndjson is the same for seeds 7 and 8`);
      // Each line is the row the generator gives, columns in table order.
      const lines = new TextDecoder().decode(a).split("\n");
      assert.equal(lines.pop(), "", "the file ends with a newline");
      assert.equal(lines.length, 3000);
      const expected = rowsOf(kind, { rows: 3000, seed: 7 });
      lines.forEach((line, i) => {
        const parsed = JSON.parse(line);
        assert.deepEqual(Object.keys(parsed), TABLES[kind].columns, `${kind} line ${i + 1} keys`);
        assert.deepEqual(parsed, expected[i], `${kind} line ${i + 1}`);
      });
    }
    const files = [...Deno.readDirSync(`${dir}/a`)].map((entry) => entry.name).sort();
    assert.deepEqual(files, ["geo.ndjson", "pin.ndjson", "user.ndjson"], "no .partial files left");
  });
});

Deno.test("rowAt gives the same row as generateRows, whatever the table size", () => {
  for (const [kind, rows] of [["pin", PIN], ["geo", GEO], ["user", USER]] as const) {
    for (let position = 0; position < 5000; position++) {
      assert.deepEqual(rowAt(kind, position, SAMPLE), rows[position], `${kind} ${position}`);
    }
    // A slice of a bigger table is the smaller table: rows depends on position only.
    assert.deepEqual(rowAt(kind, 150, { rows: 151, seed: SAMPLE.seed }), rows[150]);
    assert.deepEqual(rowsOf(kind, { rows: 1, seed: SAMPLE.seed }), [rows[0]]);
  }
  assert.notDeepEqual(rowAt("pin", 10, SAMPLE), rowAt("pin", 10, { rows: 20_000, seed: 101 }));
});

Deno.test("position i describes the same post in all tables; ~1% are exact adjacent copies", () => {
  let copies = 0;
  for (let position = 0; position < SAMPLE.rows; position++) {
    const index = PIN[position].index as number;
    assert.equal(GEO[position].ind, index, `geo ind at ${position}`);
    assert.equal(USER[position].ind, index, `user ind at ${position}`);
    if (isDuplicatePosition(position, SAMPLE)) {
      copies++;
      assert.ok(position > 0);
      for (const rows of [PIN, GEO, USER]) assert.deepEqual(rows[position], rows[position - 1]);
    } else {
      // An original's index is its position: increasing, with a gap where a copy stands.
      assert.equal(index, position, `index at ${position}`);
      if (position > 0) assert.notDeepEqual(PIN[position], PIN[position - 1]);
    }
  }
  assert.equal(isDuplicatePosition(0, SAMPLE), false);
  assertShare("duplicate positions", copies, SAMPLE.rows, 0.006, 0.014);
  const ids = new Set(PIN.map((row) => row.unique_id));
  assert.equal(ids.size, SAMPLE.rows - copies, "unique_id repeats only at copies");
});

Deno.test("every pin field has its expected shape", () => {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  const image =
    /^https:\/\/i\.pinimg\.com\/originals\/([0-9a-f]{2})\/([0-9a-f]{2})\/([0-9a-f]{2})\/\1\2\3[0-9a-f]{26}\.(jpg|png|gif)$/;
  const followers = /^(0|[1-9]\d{0,2}|[1-9]\d{0,2}[kMB]|[1-9]\.[1-9][kMB])$/;
  const text = /^\S(.*\S)?$/su; // non-empty, trimmed
  for (const row of PIN) {
    const where = `pin index ${row.index}`;
    assert.deepEqual(Object.keys(row), TABLES.pin.columns, where);
    assert.ok(Number.isSafeInteger(row.index) && (row.index as number) >= 0, where);
    assert.match(row.unique_id as string, uuid, where);
    for (const column of ["title", "description", "poster_name"]) {
      assert.match(row[column] as string, text, `${where} ${column}`);
      // deno-lint-ignore no-control-regex -- control characters are what must not appear
      assert.doesNotMatch(row[column] as string, /[\u0000-\u001f\\]/, `${where} ${column}`);
    }
    const count = row.follower_count as string;
    assert.ok(count === PLACEHOLDERS.userInfo || followers.test(count), `${where}: "${count}"`);
    assert.equal(
      row.poster_name === PLACEHOLDERS.userInfo,
      count === PLACEHOLDERS.userInfo,
      `${where}: a failed user lookup loses both poster_name and follower_count`,
    );
    const tags = row.tag_list as string;
    if (tags !== PLACEHOLDERS.tagList) {
      const list = tags.split(",");
      assert.ok(list.length >= 3 && list.length <= 8, `${where}: ${list.length} tags`);
      assert.ok(list.every((tag) => text.test(tag)), `${where}: "${tags}"`);
      assert.equal(new Set(list).size, list.length, `${where}: a tag repeats in "${tags}"`);
    }
    assert.ok(MEDIA_TYPES.includes(row.is_image_or_video as string), where);
    const src = row.image_src as string;
    assert.ok(src === PLACEHOLDERS.imageSrc || image.test(src), `${where}: "${src}"`);
    assert.ok(row.downloaded === 0 || row.downloaded === 1, where);
    if (src === PLACEHOLDERS.imageSrc) assert.equal(row.downloaded, 0, where);
    assert.ok(CATEGORY_NAMES.includes(row.category as string), where);
    assert.equal(row.save_location, `Local save in /data/${row.category}`, where);
  }
  // Text the loader must escape right does occur.
  assert.ok(PIN.some((row) => (row.title as string).includes('"')), "a title with quotes");
  assert.ok(PIN.some((row) => (row.title as string).includes(",")), "a title with a comma");
  assert.ok(PIN.some((row) => /[^ -~]/.test(row.title as string)), "a non-ASCII title");
  assert.ok(PIN.some((row) => (row.poster_name as string).includes("'")), "an apostrophe");
});

Deno.test("follower_count takes every form the cleaning must handle", () => {
  const forms: Record<string, RegExp> = {
    zero: /^0$/,
    plain: /^[1-9]\d{0,2}$/,
    "decimal k": /^[1-9]\.[1-9]k$/,
    "whole k": /^[1-9]\d{0,2}k$/,
    "whole M": /^[1-9]\d{0,2}M$/,
    "decimal M": /^[1-9]\.[1-9]M$/,
    B: /^[1-9](\.[1-9])?B$/,
    placeholder: /^User Info Error$/,
  };
  for (const [form, pattern] of Object.entries(forms)) {
    const count = countWhere(PIN, (row) => pattern.test(row.follower_count as string));
    assert.ok(count >= 5, `follower_count form ${form} appears only ${count} times`);
  }
  // "B" is rare (about 0.3%) but present, as the cleaning must survive it.
  assertShare(
    "B follower counts",
    countWhere(PIN, (row) => /B$/.test(row.follower_count as string)),
    PIN.length,
    0.001,
    0.006,
  );
});

Deno.test("each placeholder appears at its stated rate", () => {
  const n = PIN.length;
  const is = (column: string, value: string) => countWhere(PIN, (row) => row[column] === value);
  // Expected: title 2.5%, story-format description 7% x 35% = 2.45%, plain 1.2%,
  // user info 1.5%, image 1%, tags 2%. Bands are about 5 standard errors wide.
  assertShare("title placeholder", is("title", PLACEHOLDERS.title), n, 0.018, 0.032);
  assertShare(
    "story description",
    is("description", PLACEHOLDERS.descriptionStory),
    n,
    0.017,
    0.033,
  );
  assertShare("plain description", is("description", PLACEHOLDERS.description), n, 0.007, 0.017);
  assertShare("poster_name placeholder", is("poster_name", PLACEHOLDERS.userInfo), n, 0.01, 0.02);
  assertShare("image_src placeholder", is("image_src", PLACEHOLDERS.imageSrc), n, 0.006, 0.014);
  assertShare("tag_list placeholder", is("tag_list", PLACEHOLDERS.tagList), n, 0.014, 0.026);
  // Story-format placeholders belong to story pins.
  for (const row of PIN) {
    if (row.description === PLACEHOLDERS.descriptionStory) {
      assert.equal(row.is_image_or_video, MEDIA_TYPES[2], `pin index ${row.index}`);
    }
  }
  assertShare("images", is("is_image_or_video", "image"), n, 0.85, 0.91);
  assertShare("videos", is("is_image_or_video", "video"), n, 0.035, 0.065);
  assertShare("story pages", is("is_image_or_video", MEDIA_TYPES[2]), n, 0.055, 0.085);
  assertShare("downloaded", is("downloaded", 1 as unknown as string), n, 0.88, 0.95);
});

Deno.test("categories and countries are skewed, not uniform", () => {
  const shares = (rows: Row[], column: string) => {
    const counts = new Map<string, number>();
    for (const row of rows) {
      counts.set(row[column] as string, (counts.get(row[column] as string) ?? 0) + 1);
    }
    return [...counts.values()].sort((a, b) => b - a);
  };
  const categories = shares(PIN, "category");
  assert.equal(categories.length, 13);
  assert.ok(categories[0] > 3 * categories[12], `categories: ${categories.join(", ")}`);
  const countries = shares(GEO, "country");
  assert.ok(countries.length >= 180, `only ${countries.length} countries seen`);
  assert.ok(
    countries[0] > 10 * countries[countries.length >> 1],
    `countries: ${countries.slice(0, 5)}`,
  );
  assert.ok(GEO.some((row) => row.country === "Antarctica (the territory South of 60 deg S)"));
  assert.ok(
    GEO.some((row) => (row.country as string).includes("'")),
    "a country with an apostrophe",
  );
});

const DATETIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/** The year of DATETIME text, after checking the text names a real moment. */
function yearOf(text: string, where: string): number {
  const match = DATETIME.exec(text);
  assert.ok(match, `${where}: "${text}" is not YYYY-MM-DD HH:MM:SS`);
  const iso = new Date(`${text.replace(" ", "T")}Z`).toISOString();
  assert.equal(iso.slice(0, 19), text.replace(" ", "T"), `${where}: "${text}" is not a real date`);
  return Number(match[1]);
}

Deno.test("geolocation rows: real timestamps 2015..2022, coordinates FLOAT can hold exactly", () => {
  let recent = 0;
  for (const row of GEO) {
    const where = `geo ind ${row.ind}`;
    assert.deepEqual(Object.keys(row), TABLES.geo.columns, where);
    const year = yearOf(row.timestamp as string, where);
    assert.ok(year >= 2015 && year <= 2022, `${where}: year ${year}`);
    if (year >= 2018) recent++;
    for (const [column, limit] of [["latitude", 90], ["longitude", 180]] as const) {
      const value = row[column] as number;
      assert.ok(
        typeof value === "number" && Math.abs(value) <= limit,
        `${where} ${column} ${value}`,
      );
      // At most 6 significant digits: what a single-precision FLOAT gives back unchanged.
      assert.equal(Number(value.toPrecision(6)), value, `${where} ${column} ${value}`);
      assert.ok(!Object.is(value, -0), `${where} ${column} is -0`);
    }
    assert.ok(COUNTRIES.includes(row.country as string), where);
  }
  assertShare("timestamps in 2018..2022", recent, GEO.length, 0.75, 0.85);
  assert.ok(GEO.some((row) => Math.abs(row.longitude as number) >= 100), "a 3-digit longitude");
});

Deno.test("user rows: names, ages 20..61 with every age-group boundary, joined mostly 2015..2017", () => {
  const ages = new Set<number>();
  let early = 0;
  for (const row of USER) {
    const where = `user ind ${row.ind}`;
    assert.deepEqual(Object.keys(row), TABLES.user.columns, where);
    assert.ok(FIRST_NAMES.includes(row.first_name as string), where);
    assert.ok(LAST_NAMES.includes(row.last_name as string), where);
    const age = row.age as number;
    assert.ok(Number.isInteger(age) && age >= 20 && age <= 61, `${where}: age ${age}`);
    ages.add(age);
    const year = yearOf(row.date_joined as string, where);
    assert.ok(year >= 2015 && year <= 2020, `${where}: joined ${year}`);
    if (year <= 2017) early++;
  }
  for (const age of [20, 24, 25, 35, 36, 50, 51, 60]) {
    assert.ok(ages.has(age), `no user aged ${age}`);
  }
  assertShare("joined 2015..2017", early, USER.length, 0.93, 0.97);
});

Deno.test("formatDatetime agrees with Date for moments across the years", () => {
  for (let seconds = 1420070400; seconds < 1672531200; seconds += 86_399 * 7 + 12_345) {
    assert.equal(
      formatDatetime(seconds),
      new Date(seconds * 1000).toISOString().slice(0, 19).replace("T", " "),
    );
  }
  assert.equal(formatDatetime(951782400), "2000-02-29 00:00:00");
});

Deno.test("bad options and positions are errors that name the problem", () => {
  assert.throws(
    () => rowAt("pin", 11_000, DEFAULT_DATASET),
    /position must be .* 0 to 10999, got 11000/,
  );
  assert.throws(() => rowAt("pin", -1, DEFAULT_DATASET), /position/);
  assert.throws(() => rowAt("geo", 0.5, DEFAULT_DATASET), /position/);
  assert.throws(() => [...generateRows("user", { rows: 0, seed: 1 })], /rows must be/);
  assert.throws(() => isDuplicatePosition(0, { rows: 10, seed: 1.5 }), /seed must be/);
});

Deno.test("the CLI rejects bad flags with exit 2, naming the flag", async () => {
  await withTempDir(async (dir) => {
    for (
      const [args, flag] of [
        [["--rows", "abc", "--out", dir], "--rows"],
        [["--rows", "0", "--out", dir], "--rows"],
        [["--seed", "1.5", "--out", dir], "--seed"],
        [["--to", "postgres"], "--to"],
        [["--rows", "10"], "--out"],
        [["--jobs", "4", "--out", dir], "--jobs"],
        [["--out", dir, "--nope"], "--nope"],
      ] as const
    ) {
      await assert.rejects(
        () => main([...args]),
        (error: unknown) =>
          error instanceof UsageError && error.exitCode === 2 && error.message.includes(flag),
        `${args.join(" ")} should name ${flag}`,
      );
    }
    // And through main.ts, as a user runs it: exit code 2, the flag named on stderr.
    const { code, stderr } = await runCli(["--rows=-5", "--out", dir]);
    assert.equal(code, 2);
    assert.match(stderr, /--rows must be a whole number from 1 to \d+, got "-5"/);
    assert.deepEqual([...Deno.readDirSync(dir)], [], "nothing written after a bad flag");
  });
});

Deno.test("writeNdjson writes the same bytes in one thread and in parallel workers", async () => {
  await withTempDir(async (dir) => {
    const options = { rows: 4000, seed: 11 };
    const seen: string[] = [];
    const serial = await writeNdjson(`${dir}/serial`, options, {
      onProgress: (kind, rows, total) => seen.push(`${kind} ${rows}/${total}`),
    });
    assert.deepEqual(serial.map((file) => [file.kind, file.rows]), [
      ["pin", 4000],
      ["geo", 4000],
      ["user", 4000],
    ]);
    for (const file of serial) assert.equal(file.bytes, (await Deno.stat(file.path)).size);
    assert.deepEqual(seen.filter((line) => line.endsWith(" 4000/4000")), [
      "pin 4000/4000",
      "geo 4000/4000",
      "user 4000/4000",
    ]);
    const finished: string[] = [];
    const parallel = await writeNdjson(`${dir}/parallel`, options, {
      jobs: 3,
      onProgress: (kind, rows, total) => rows === total && finished.push(kind),
    });
    assert.deepEqual(finished.sort(), ["geo", "pin", "user"], "workers report progress");
    for (const [i, file] of parallel.entries()) {
      assert.equal(file.kind, serial[i].kind);
      assert.deepEqual(await Deno.readFile(file.path), await Deno.readFile(serial[i].path));
    }
  });
});

Deno.test("a worker that cannot write fails the whole write, naming the file", async () => {
  await withTempDir(async (dir) => {
    // A directory where the worker wants its .partial file: opening it fails.
    await Deno.mkdir(`${dir}/pin.ndjson.partial`, { recursive: true });
    await assert.rejects(
      () => writeNdjson(dir, { rows: 100, seed: 1 }, { jobs: 2 }),
      (error: Error) => error.message.startsWith(`writing ${dir}/pin.ndjson:`),
    );
  });
});

Deno.test("a worker that cannot write stops the others before the write rejects: nothing writes after", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pinpipe_generate_test_" });
  try {
    // The last table fails at once; the other two are large enough to be mid-write then.
    await Deno.mkdir(`${dir}/user.ndjson.partial`);
    await assert.rejects(
      () => writeNdjson(dir, { rows: 400_000, seed: 1 }, { jobs: 3 }),
      (error: Error) => error.message.startsWith(`writing ${dir}/user.ndjson:`),
    );
    const entries = async () => (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name);
    // The stopped workers removed their .partial files: no half-written table is left.
    assert.deepEqual(await entries(), ["user.ndjson.partial"]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual(await entries(), ["user.ndjson.partial"], "a worker still wrote after");
  } finally {
    // Fails with "Directory not empty" if a worker still writes into it.
    await Deno.remove(dir, { recursive: true });
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  await assert.rejects(() => Deno.stat(dir), Deno.errors.NotFound, "the directory came back");
});
