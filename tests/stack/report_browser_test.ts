/**
 * The simulator's report in a real headless Chromium: the page renders offline, checked through
 * its DOM and through the pixels of a screenshot. It needs Chromium (installed by
 * `./infra.sh local install`), so it runs with the stack tests, not in `deno task test:unit`.
 */
import assert from "node:assert/strict";
import { pathToFileURL } from "node:url";
import { chartSpecFor, PALETTE, type QueryAnswer, writeReport } from "../../sim/report/report.ts";
import {
  colouredPixels,
  decodePng,
  dumpDom,
  findChromium,
  screenshot,
} from "../support/browser.ts";
import {
  hostileAnswer,
  popularCategory,
  postsPerYear,
  reportInput,
  usersJoined,
} from "../sim/report_fixtures.ts";

Deno.test("the report renders a chart per answer in headless Chromium", async () => {
  const chromium = findChromium();
  assert.ok(
    chromium,
    "headless Chromium is needed: apt-get install -y chromium, or set PINPIPE_CHROMIUM",
  );
  const noChart: QueryAnswer = {
    name: "q2b_top_category_each_year",
    title: "Top category each year",
    columns: ["post_year", "category"],
    rows: [[2018, "art"], [2019, "travel"]],
  };
  const answers = [popularCategory, postsPerYear, hostileAnswer, usersJoined, noChart];
  const charted = answers.filter((a) => a !== noChart);
  const dir = await Deno.makeTempDir({ prefix: "pinpipe_report_" });
  try {
    const path = await writeReport(dir, reportInput(answers));
    assert.equal(path, `${dir}/index.html`);
    const url = pathToFileURL(path).href;
    const width = 1200, height = 3000;

    // (a) The DOM after the page's scripts ran: one drawn SVG chart per answer.
    const dom = await dumpDom(chromium, url, { width, height });
    assert.match(dom, /<body data-charts-expected="4" data-charts-rendered="4"/);
    assert.doesNotMatch(dom, /data-pwned|data-error=/);
    const charts = chartMarkup(dom);
    assert.deepEqual([...charts.keys()], charted.map((a) => domAttribute(a.name)));
    const rects = new Map<string, number[]>();
    for (const answer of charted) {
      const markup = charts.get(domAttribute(answer.name))!;
      const spec = chartSpecFor(answer);
      assert.match(markup, /data-rendered="true"/, answer.name);
      assert.equal(markup.match(/<svg\b/g)?.length, 1, `${answer.name}: one <svg>`);
      // Every bar is a path filled with a palette colour (legend icons add more).
      const fills = new RegExp(`<path [^>]*fill="(${PALETTE.join("|")})"`, "gi");
      const bars = spec.series.flatMap((s) => s.data).filter((v) => v !== null).length;
      const painted = markup.match(fills)?.length ?? 0;
      assert.ok(painted >= bars, `${answer.name}: ${painted} coloured paths for ${bars} bars`);
      for (const label of spec.categories.filter((l) => l.length <= 20)) {
        assert.ok(markup.includes(`>${domText(label)}</text>`), `${answer.name}: label ${label}`);
      }
      assert.ok(markup.includes(`>${domText(spec.title)}</text>`), `${answer.name}: chart title`);
      const rect = /data-rect="(\d+),(\d+),(\d+),(\d+)"/.exec(markup);
      assert.ok(rect, `${answer.name}: data-rect`);
      rects.set(answer.name, rect.slice(1).map(Number));
    }
    const bottom = Math.max(...[...rects.values()].map(([, y, , h]) => y + h));
    assert.ok(bottom + 120 <= height, `charts end at ${bottom}px, beyond the ${height}px window`);

    // (b) The screenshot: each chart's area is full of colour, the table under it is not.
    const png = await screenshot(chromium, url, { width, height });
    // Keep the picture for a person to look at, when asked (e.g. in CI artifacts).
    const keep = Deno.env.get("PINPIPE_REPORT_SCREENSHOT");
    if (keep) await Deno.writeFile(keep, png);
    const image = decodePng(png);
    assert.deepEqual([image.width, image.height], [width, height]);
    for (const [name, [x, y, w, h]] of rects) {
      const inChart = colouredPixels(image, { x, y, width: w, height: h });
      assert.ok(
        inChart >= Math.max(1500, 0.01 * w * h),
        `${name}: ${inChart} coloured pixels in its ${w}x${h} chart`,
      );
      const under = colouredPixels(image, { x, y: y + h + 40, width: w, height: 80 });
      assert.ok(under < 0.005 * w * 80, `${name}: ${under} coloured pixels in the table below`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Text as Chromium's --dump-dom serializes it inside elements. */
function domText(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/** An attribute value as Chromium's --dump-dom serializes it. */
function domAttribute(text: string): string {
  return domText(text).replaceAll('"', "&quot;");
}

/** The markup of each chart container, from its opening tag to its option script. */
function chartMarkup(dom: string): Map<string, string> {
  const charts = new Map<string, string>();
  for (
    const match of dom.matchAll(/<div class="chart[^"]*" id="chart-\d+" data-chart="([^"]*)"/g)
  ) {
    const end = dom.indexOf('<script type="application/json"', match.index);
    assert.ok(end > 0, `no option script after chart ${match[1]}`);
    charts.set(match[1], dom.slice(match.index, end));
  }
  return charts;
}
