/**
 * Tests of the simulator's HTML report: the chart chosen for each answer
 * shape, the escaping of every piece of data placed in the page, and the PNG
 * reading the browser test uses (tests/stack/report_browser_test.ts renders
 * the page in a real headless Chromium).
 */
import assert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import {
  chartSpecFor,
  echartsOption,
  escapeHtml,
  jsonForScript,
  MAX_BARS,
  renderReport,
} from "../../sim/report/report.ts";
import { colouredPixels, decodePng } from "../support/browser.ts";
import {
  HOSTILE,
  hostileAnswer,
  popularCategory,
  postsPerYear,
  reportInput,
  usersJoined,
} from "./report_fixtures.ts";

Deno.test("chartSpecFor: category counts per country keep ties, one coloured bar per row", () => {
  const spec = chartSpecFor(popularCategory);
  assert.equal(spec.kind, "bar");
  assert.equal(spec.layout, "coloured");
  assert.deepEqual(spec.categories, [
    "Albania · art",
    "Algeria · quotes",
    "Algeria · travel",
    "Angola · mens-fashion",
  ]);
  assert.deepEqual(spec.valueColumns, ["category_count"]);
  assert.equal(spec.stacked, true);
  assert.deepEqual(spec.series.map((s) => s.name), ["art", "quotes", "travel", "mens-fashion"]);
  // Each bar has exactly one value, from its own row (bigints become numbers).
  assert.deepEqual(spec.series.find((s) => s.name === "travel")?.data, [null, null, 9, null]);
  const perBar = spec.categories.map((_, i) => spec.series.filter((s) => s.data[i] !== null));
  assert.deepEqual(perBar.map((values) => values.length), [1, 1, 1, 1]);
});

Deno.test("chartSpecFor: many ties stay one bar per row, not a sparse grouped chart", () => {
  const categories = ["art", "beauty", "travel", "quotes", "finance", "tattoos"];
  // 30 countries, each with two categories tied for first: 60 rows, 6 categories.
  const rows = Array.from({ length: 30 }, (_, i) => [
    [`country ${i}`, categories[i % 6], 40 - i],
    [`country ${i}`, categories[(i + 1) % 6], 40 - i],
  ]).flat();
  const spec = chartSpecFor({
    name: "q1",
    title: "Top category per country",
    columns: ["country", "category", "category_count"],
    rows,
  });
  assert.equal(spec.layout, "coloured");
  assert.equal(spec.categories.length, MAX_BARS);
  assert.deepEqual(spec.categories.slice(0, 3), [
    "country 0 · art",
    "country 0 · beauty",
    "country 1 · beauty",
  ]);
  assert.match(spec.note ?? "", /top 25 of 60 rows by category_count/);
});

Deno.test("chartSpecFor: per-year counts by category become grouped bars", () => {
  const spec = chartSpecFor(postsPerYear);
  assert.equal(spec.layout, "grouped");
  assert.equal(spec.labelColumn, "post_year");
  assert.equal(spec.groupColumn, "category");
  assert.deepEqual(spec.categories, ["2018", "2019", "2020"]);
  assert.deepEqual(spec.series, [
    { name: "art", data: [5, 3, 11] },
    { name: "beauty", data: [7, 8, null] },
  ]);
  assert.equal(spec.horizontal, false);
  assert.equal(spec.stacked, false);
});

Deno.test("chartSpecFor: a numeric year column is a label, not a value", () => {
  const spec = chartSpecFor(usersJoined);
  assert.equal(spec.layout, "simple");
  assert.equal(spec.labelColumn, "join_year");
  assert.deepEqual(spec.valueColumns, ["number_users_joined"]);
  assert.deepEqual(spec.categories, ["2015", "2016", "2017"]);
  assert.deepEqual(spec.series, [{ name: "number_users_joined", data: [120, 98, 44] }]);
  assert.equal(spec.note, null);
});

Deno.test("chartSpecFor: many rows show the top MAX_BARS by value, with a note", () => {
  const rows = Array.from({ length: 40 }, (_, i) => [`country ${i}`, (i * 7) % 40]);
  const spec = chartSpecFor({ name: "many", title: "Many", columns: ["country", "n"], rows });
  assert.equal(spec.categories.length, MAX_BARS);
  const values = spec.series[0].data as number[];
  assert.equal(values[0], 39);
  assert.deepEqual(values, [...values].sort((a, b) => b - a));
  assert.equal(values.at(-1), 40 - MAX_BARS);
  assert.match(spec.note ?? "", /top 25 of 40 rows by n/);
  assert.equal(spec.horizontal, true);
});

Deno.test("chartSpecFor: a label column with too many values for a legend swaps with the group", () => {
  const ages = ["18-24", "25-35", "36-50", "+50"];
  const rows = ages.flatMap((age) =>
    Array.from({ length: 20 }, (_, i) => [age, `country ${i}`, i + age.length])
  );
  const spec = chartSpecFor({
    name: "swap",
    title: "Swap",
    columns: ["age_group", "country", "users"],
    rows,
  });
  assert.equal(spec.layout, "grouped");
  assert.equal(spec.labelColumn, "country");
  assert.equal(spec.groupColumn, "age_group");
  assert.deepEqual(spec.series.map((s) => s.name), ages);
  assert.equal(spec.categories.length, 20);
});

Deno.test("chartSpecFor: nothing numeric, or no rows, means no chart and says why", () => {
  const noNumbers = chartSpecFor({
    name: "top_category_each_year",
    title: "Top category each year",
    columns: ["post_year", "category"],
    rows: [[2018, "art"], [2019, "travel"]],
  });
  assert.equal(noNumbers.kind, "none");
  assert.match(noNumbers.note ?? "", /No numeric column/);
  const empty = chartSpecFor({ name: "empty", title: "Empty", columns: ["a", "n"], rows: [] });
  assert.equal(empty.kind, "none");
  assert.match(empty.note ?? "", /No rows/);
});

Deno.test("chartSpecFor: numeric text, decimal objects, nulls and NaN", () => {
  const decimal = { toString: () => "12.50" }; // as DuckDB's DECIMAL values print
  const spec = chartSpecFor({
    name: "values",
    title: "Values",
    columns: ["age_group", "median_follower_count"],
    rows: [["18-24", "1000.5"], ["25-35", decimal], ["36-50", null], ["+50", NaN]],
  });
  assert.equal(spec.layout, "simple");
  assert.deepEqual(spec.series[0].data, [1000.5, 12.5, null, null]);
});

Deno.test("chartSpecFor: value columns of a similar scale are drawn side by side", () => {
  const similar = chartSpecFor({
    name: "s",
    title: "S",
    columns: ["category", "posts", "users"],
    rows: [["art", 10, 8], ["travel", 12, 9]],
  });
  assert.deepEqual(similar.valueColumns, ["posts", "users"]);
  const apart = chartSpecFor({
    name: "a",
    title: "A",
    columns: ["category", "share", "median_follower_count"],
    rows: [["art", 0.2, 90_000], ["travel", 0.8, 120_000]],
  });
  assert.deepEqual(apart.valueColumns, ["median_follower_count"]);
});

Deno.test("chartSpecFor: a rank column is neither label nor value", () => {
  const spec = chartSpecFor({
    name: "ranked",
    title: "Ranked",
    columns: ["country", "category", "category_count", "rank"],
    rows: [["Chad", "art", 40, 1], ["Peru", "travel", 30, 1]],
  });
  assert.equal(spec.layout, "coloured");
  assert.deepEqual(spec.valueColumns, ["category_count"]);
  assert.deepEqual(spec.categories, ["Chad · art", "Peru · travel"]);
});

Deno.test("chartSpecFor: a row of the wrong width is an error naming the answer and row", () => {
  assert.throws(
    () =>
      chartSpecFor({
        name: "q5_median_followers",
        title: "Median",
        columns: ["age_group", "median"],
        rows: [["18-24", 1], ["25-35"]],
      }),
    /answer "q5_median_followers": row 1 has 1 values, expected 2 \(age_group, median\)/,
  );
});

Deno.test("echartsOption: bars on the spec's categories, plain JSON", () => {
  const spec = chartSpecFor(popularCategory);
  const option = echartsOption(spec) as {
    yAxis: { type: string; data: string[]; inverse: boolean };
    series: { type: string; stack?: string; data: (number | null)[] }[];
  };
  assert.equal(option.yAxis.type, "category");
  assert.deepEqual(option.yAxis.data, spec.categories);
  assert.equal(option.yAxis.inverse, true);
  assert.equal(option.series.length, 4);
  assert.ok(option.series.every((s) => s.type === "bar" && s.stack === "bars"));
  assert.deepEqual(JSON.parse(JSON.stringify(option)), option);
});

Deno.test("escapeHtml and jsonForScript leave no markup in data", () => {
  assert.equal(
    escapeHtml(`<a href='x'>"Tom" & Jerry</a>`),
    "&#60;a href=&#39;x&#39;&#62;&#34;Tom&#34; &#38; Jerry&#60;/a&#62;",
  );
  const json = jsonForScript({ title: HOSTILE, big: 12n, line: "a\u2028b" });
  assert.doesNotMatch(json, /[<>&\u2028]/);
  assert.deepEqual(JSON.parse(json), { title: HOSTILE, big: 12, line: "a\u2028b" });
});

Deno.test("renderReport: self-contained, every piece of data escaped", async () => {
  const html = await renderReport(reportInput([popularCategory, hostileAnswer]));
  // The inlined library is the first script; the checks below are on the rest.
  const start = html.indexOf("<script>");
  const end = html.indexOf("</script>", start);
  assert.match(html.slice(start, end), /version="6\.1\.0"/, "the ECharts build is inlined");
  const page = html.slice(0, start + "<script>".length) + html.slice(end);
  // The page's own scripts only: the library, the page script, one option per chart.
  assert.equal(page.match(/<script\b/gi)?.length, 4);
  assert.equal(page.match(/<\/script/gi)?.length, 4);
  assert.doesNotMatch(page, /<img|<b>for the test|<!--[^ ]|<script>document/);
  assert.match(page, /Content-Security-Policy"\s+content="default-src 'none'/);
  assert.doesNotMatch(page, /<(script|link|img)\b[^>]*\b(src|href)=/i);
  assert.match(html, /User with most followers &#60;\/script&#62;/);
  assert.match(html, /data-chart="q3_top_user&#60;\/script&#62;/);
  // Failing checks are summed up and highlighted.
  assert.match(html, /1 of 2 checks FAILED: q1 ties kept\./);
  assert.match(html, /<li class="check fail" data-check="q1 ties kept" data-passed="false">/);
  // Chart options survive the trip through the page intact.
  const options = [
    ...html.matchAll(/<script type="application\/json" class="chart-option">(.*?)<\/script>/gs),
  ]
    .map((m) => JSON.parse(m[1]));
  assert.equal(options.length, 2);
  assert.ok(options[1].yAxis.data.includes(`${HOSTILE} · nobody`));
});

Deno.test("renderReport: two answers with one name are an error", async () => {
  await assert.rejects(
    () => renderReport(reportInput([usersJoined, { ...usersJoined, title: "again" }])),
    /two answers are named "q6_users_joined_per_year"/,
  );
});

/** A PNG of `pixels` (RGB rows), row y filtered with filter type y % 5. */
function encodePng(width: number, pixels: number[][]): Uint8Array {
  const stride = width * 3;
  const raw: number[] = [];
  pixels.forEach((row, y) => {
    const filter = y % 5;
    raw.push(filter);
    row.forEach((value, i) => {
      const a = i >= 3 ? row[i - 3] : 0;
      const b = y > 0 ? pixels[y - 1][i] : 0;
      const c = y > 0 && i >= 3 ? pixels[y - 1][i - 3] : 0;
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c)
        ? a
        : Math.abs(p - b) <= Math.abs(p - c)
        ? b
        : c;
      const predictor = [0, a, b, (a + b) >> 1, paeth][filter];
      raw.push((value - predictor) & 0xff);
    });
    assert.equal(row.length, stride);
  });
  const chunk = (type: string, body: Uint8Array) => {
    const out = new Uint8Array(12 + body.length);
    new DataView(out.buffer).setUint32(0, body.length);
    out.set(new TextEncoder().encode(type), 4);
    out.set(body, 8); // the CRC is left zero: decodePng does not check it
    return out;
  };
  const header = new Uint8Array(13);
  new DataView(header.buffer).setUint32(0, width);
  new DataView(header.buffer).setUint32(4, pixels.length);
  header.set([8, 2, 0, 0, 0], 8);
  const parts = [
    new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk("IHDR", header),
    chunk("IDAT", new Uint8Array(deflateSync(new Uint8Array(raw)))),
    chunk("IEND", new Uint8Array()),
  ];
  const png = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  parts.reduce((offset, part) => (png.set(part, offset), offset + part.length), 0);
  return png;
}

Deno.test("decodePng undoes every row filter; colouredPixels counts saturated pixels", () => {
  const width = 4;
  // Five rows (one per filter type) of white, grey, red and blue pixels, shifted per row.
  const palette = [[255, 255, 255], [90, 90, 90], [238, 102, 102], [84, 112, 198]];
  const pixels = Array.from(
    { length: 5 },
    (_, y) => Array.from({ length: width }, (_, x) => palette[(x + y) % 4]).flat(),
  );
  const image = decodePng(encodePng(width, pixels));
  assert.deepEqual([image.width, image.height, image.channels], [4, 5, 3]);
  assert.deepEqual([...image.data], pixels.flat());
  // Two of each row's four pixels are coloured; white and grey are not.
  assert.equal(colouredPixels(image, { x: 0, y: 0, width: 4, height: 5 }), 10);
  assert.equal(colouredPixels(image, { x: 0, y: 0, width: 1, height: 1 }), 0);
  assert.throws(() => decodePng(new Uint8Array([1, 2, 3])), /not a PNG/);
});

Deno.test("renderReport: schema drift gets its own line and mark, and fails nothing", async () => {
  const input = reportInput([popularCategory]);
  input.checks = [
    { name: "pin rows cleaned", passed: true, detail: "11000 in, 10987 out" },
    {
      name: "schema drift pin.source_app",
      passed: true,
      detail: "2 records carry it, kept without it",
    },
  ];
  const html = await renderReport(input);
  assert.match(html, /All 2 checks passed\./);
  assert.match(
    html,
    /<p class="summary drift">Schema drift: pin\.source_app \(2 records carry it, kept without it\)\.<\/p>/,
  );
  assert.match(html, /data-schema-drift="1"/);
  assert.match(
    html,
    /<li class="check pass drift" data-check="schema drift pin.source_app" data-passed="true"><span class="mark">DRIFT<\/span>/,
  );
  input.checks = [{
    name: "schema drift",
    passed: true,
    detail: "no record carries a field beyond the columns of its table",
  }];
  const clean = await renderReport(input);
  assert.match(clean, /data-schema-drift="0"/);
  assert.doesNotMatch(clean, /summary drift/);
});
