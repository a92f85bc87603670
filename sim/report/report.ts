/**
 * The simulator's HTML report: a pass/fail summary of the checks, the rows
 * cleaned per table, and for each query a chart (Apache ECharts, rendered as
 * SVG in the browser) over a table of its rows. The page is one file with the
 * chart library inlined, so it opens offline; a Content-Security-Policy
 * forbids any network load. All data is escaped: text as HTML, chart options
 * as JSON inside `<script type="application/json">`.
 *
 * `chartSpecFor` picks the chart from the answer's shape, not its name, so it
 * survives renamed queries and columns: the first categorical column labels
 * the bars, numeric columns are the values, and a second categorical column
 * becomes grouped series (when labels repeat) or part of the label.
 *
 * @example
 * ```ts
 * import { writeReport } from "./report.ts";
 * const path = await writeReport("out/report", {
 *   title: "pinpipe simulator",
 *   generatedAt: new Date().toISOString(),
 *   source: "generated 11000 rows, seed 100",
 *   answers: [{ name: "q6_users_joined", title: "Users joined per year", columns: ["join_year", "users"], rows: [[2015, 120], [2016, 98]] }],
 *   checks: [{ name: "q6 years 2015..2020", passed: true, detail: "2 years" }],
 *   cleaned: { pin: { rowsIn: 100, rowsOut: 97 } },
 * });
 * // path === "out/report/index.html"
 * ```
 */
import { join } from "node:path";
import { SCHEMA_DRIFT_CHECK } from "../../src/core/quarantine_reasons.ts";

/**
 * One query's result: its column names and rows, in the query's order.
 *
 * @example
 * ```ts
 * const answer: QueryAnswer = { name: "q5", title: "Median followers", columns: ["age_group", "median"], rows: [["18-24", 1000]] };
 * ```
 */
export interface QueryAnswer {
  /** A stable id such as `q1_popular_category_by_country`. */
  name: string;
  /** A human title such as "Most popular category per country". */
  title: string;
  columns: string[];
  /** Each row has one value per column (numbers, bigints, strings, Dates or null). */
  rows: unknown[][];
}

/**
 * The outcome of one check the simulator made on the data.
 *
 * @example
 * ```ts
 * const check: CheckResult = { name: "q1 ties kept", passed: true, detail: "2 rows for Algeria" };
 * ```
 */
export interface CheckResult {
  name: string;
  passed: boolean;
  detail: string;
}

/** Everything the report shows; see the module example. */
export interface ReportInput {
  title: string;
  generatedAt: string;
  /** Where the data came from, e.g. "generated 11000 rows, seed 100". */
  source: string;
  answers: QueryAnswer[];
  checks: CheckResult[];
  /** Rows before and after cleaning, per table (`pin`, `geo`, `user`). */
  cleaned: Record<string, { rowsIn: number; rowsOut: number }>;
  /** An incremental run (`deno task sim --from bucket --incremental`): what it added, the quarantine. */
  incremental?: IncrementalSection;
}

/** What an incremental run added per table, and the quarantined lines waiting for a run that passes. */
export interface IncrementalSection {
  runId: number;
  added: Record<string, { objects: number; bronze: number; quarantined: number; silver: number }>;
  skippedObjects: number;
  silverRows: Record<string, number>;
  quarantine: {
    count: number;
    byReason: Record<string, number>;
    examples: { kind: string; object: string; line: number; rawText: string; reason: string }[];
  };
  quarantineTotal: number;
  drift: Record<string, { records: number; fields: string[] }>;
}

/**
 * One bar series: a name (for the legend) and one value per axis category.
 *
 * @example
 * ```ts
 * const series: ChartSeries = { name: "art", data: [5, null, 11] };
 * ```
 */
export interface ChartSeries {
  name: string;
  data: (number | null)[];
}

/**
 * A chart, independent of the library that draws it.
 * - `simple`: one bar per row, a series per value column.
 * - `grouped`: labels on the axis, one series per value of `groupColumn`.
 * - `coloured`: one bar per row labelled "label · group", coloured by group.
 * - `none`: nothing to chart (no numeric column or no rows); `note` says why.
 *
 * @example
 * ```ts
 * const answer: QueryAnswer = {
 *   name: "q9_posts_per_year", title: "Posts per year and category",
 *   columns: ["post_year", "category", "category_count"],
 *   rows: [[2018, "art", 5], [2018, "travel", 3], [2019, "art", 7]],
 * };
 * chartSpecFor(answer).layout; // "grouped": a bar group per year, a series per category
 * ```
 */
export interface ChartSpec {
  kind: "bar" | "none";
  layout: "simple" | "grouped" | "coloured" | "none";
  /** The chart's own title, e.g. "category_count by country". */
  title: string;
  labelColumn: string | null;
  groupColumn: string | null;
  valueColumns: string[];
  /** Axis categories, unique, in display order (first on top or left). */
  categories: string[];
  series: ChartSeries[];
  /** Series stack (only `coloured`, where each category has one value). */
  stacked: boolean;
  horizontal: boolean;
  /** Shown under the chart, e.g. when only the top rows are drawn. */
  note: string | null;
}

/**
 * Bars drawn at most; longer answers show their top rows by value.
 *
 * @example
 * ```ts
 * const answer: QueryAnswer = {
 *   name: "q9_posts_per_year", title: "Posts per year and category",
 *   columns: ["post_year", "category", "category_count"],
 *   rows: [[2018, "art", 5], [2018, "travel", 3], [2019, "art", 7]],
 * };
 * chartSpecFor(answer).categories.length <= MAX_BARS; // true: 2 years
 * ```
 */
export const MAX_BARS = 25;
/** A second categorical column with more values than this makes no legend (e.g. poster names). */
export const MAX_SERIES = 16;
/** Numeric columns drawn side by side at most. */
const MAX_VALUE_SERIES = 3;
/** Columns named like this hold time or ids: labels even when numeric. */
const LABEL_LIKE_NAME = /(^|_)(year|years|yr|month|day|date|decade|id|ind|index)(_|$)/i;
/** Value columns named like this are the measure when there is a choice. */
const MEASURE_NAME = /count|median|total|sum|avg|mean|number|num_|posts|users|followers/i;
const NUMERIC_TEXT = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** Ranks and row numbers order rows; they are neither a label nor a measure. */
const RANK_NAME = /(^|_)(rank|rn|row_number|dense_rank|position)(_|$)/i;

type ColumnKind = "number" | "label" | "rank";

function isNumericLike(value: unknown): boolean {
  if (typeof value === "number" || typeof value === "bigint") return true;
  if (typeof value === "string") return NUMERIC_TEXT.test(value.trim());
  // DuckDB's decimal and hugeint values print as plain numbers.
  if (typeof value === "object" && value !== null && !(value instanceof Date)) {
    return !Array.isArray(value) && NUMERIC_TEXT.test(String(value));
  }
  return false;
}

function chartNumber(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const number = typeof value === "number" ? value : Number(String(value).trim());
  return Number.isFinite(number) ? number : null;
}

/** The text of a value used as a label or table cell (no escaping). */
function labelText(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString();
  }
  if (Array.isArray(value)) {
    return JSON.stringify(value, (_k, v) => typeof v === "bigint" ? String(v) : v);
  }
  return String(value);
}

function columnKinds(answer: QueryAnswer): ColumnKind[] {
  return answer.columns.map((column, index) => {
    const present = answer.rows.map((row) => row[index]).filter((v) =>
      v !== null && v !== undefined
    );
    const numeric = present.length > 0 && present.every(isNumericLike);
    if (numeric && RANK_NAME.test(column)) return "rank";
    return numeric && !LABEL_LIKE_NAME.test(column) ? "number" : "label";
  });
}

/** Throws unless every row has one value per column and the columns have names. */
function validateAnswer(answer: QueryAnswer): void {
  const where = `answer "${answer.name}"`;
  if (typeof answer.name !== "string" || answer.name.trim() === "") {
    throw new Error(`an answer has no name (title "${answer.title}")`);
  }
  if (!Array.isArray(answer.columns) || answer.columns.length === 0) {
    throw new Error(`${where} has no columns`);
  }
  if (!Array.isArray(answer.rows)) throw new Error(`${where}: rows is not an array`);
  answer.rows.forEach((row, index) => {
    if (!Array.isArray(row) || row.length !== answer.columns.length) {
      throw new Error(
        `${where}: row ${index} has ${Array.isArray(row) ? row.length : "no"} values, ` +
          `expected ${answer.columns.length} (${answer.columns.join(", ")})`,
      );
    }
  });
}

/** Makes labels unique (an axis shows each category once): "a", "a (2)". */
function uniqueLabels(labels: string[]): string[] {
  const seen = new Map<string, number>();
  return labels.map((label) => {
    const count = (seen.get(label) ?? 0) + 1;
    seen.set(label, count);
    return count === 1 ? label : `${label} (${count})`;
  });
}

function distinct(values: string[]): string[] {
  return [...new Set(values)];
}

/** The measure among the numeric columns: a count/median-like name, else the last. */
function measureColumn(numeric: number[], columns: string[]): number {
  return numeric.find((i) => MEASURE_NAME.test(columns[i])) ?? numeric[numeric.length - 1];
}

/** Value columns drawn together: the measure, plus others of a similar scale. */
function valueColumnsFor(answer: QueryAnswer, numeric: number[], measure: number): number[] {
  // reduce, not Math.max(...rows): no argument-count limit on long answers.
  const scale = (index: number) =>
    answer.rows.reduce((max, row) => Math.max(max, Math.abs(chartNumber(row[index]) ?? 0)), 0);
  const measureScale = scale(measure) || 1;
  const others = numeric.filter((i) => i !== measure).filter((i) => {
    const ratio = scale(i) / measureScale;
    return ratio > 0.02 && ratio < 50;
  });
  return [measure, ...others].slice(0, MAX_VALUE_SERIES).sort((a, b) => a - b);
}

/** Row indexes of the `MAX_BARS` largest values (nulls last), in descending order. */
function topRows(values: (number | null)[]): number[] {
  return values.map((_, i) => i)
    .sort((a, b) => (values[b] ?? -Infinity) - (values[a] ?? -Infinity) || a - b)
    .slice(0, MAX_BARS);
}

/**
 * The rows a bar chart shows, in order: all of them, or past `MAX_BARS` the
 * top ones by `measure`, with the note that says so.
 */
function barOrder(answer: QueryAnswer, measure: number): { order: number[]; note: string | null } {
  const { columns, rows } = answer;
  if (rows.length <= MAX_BARS) return { order: rows.map((_, i) => i), note: null };
  return {
    order: topRows(rows.map((row) => chartNumber(row[measure]))),
    note: `Showing the top ${MAX_BARS} of ${rows.length} rows by ${columns[measure]}; ` +
      `the table lists them all.`,
  };
}

function noChart(answer: QueryAnswer, note: string): ChartSpec {
  return {
    kind: "none",
    layout: "none",
    title: answer.title,
    labelColumn: null,
    groupColumn: null,
    valueColumns: [],
    categories: [],
    series: [],
    stacked: false,
    horizontal: false,
    note,
  };
}

/** Long or many labels read better down the side; grouped bars stay upright while they fit. */
function isHorizontal(categories: string[], barsPerCategory: number): boolean {
  const longest = Math.max(0, ...categories.map((c) => c.length));
  return categories.length > 12 || longest > 14 || categories.length * barsPerCategory > 80;
}

/**
 * Picks a chart for an answer from the types of its columns: bars per label
 * for category counts, grouped bars when a second categorical column repeats
 * each label (per year, per age group), the top `MAX_BARS` rows when there
 * are many, and no chart when nothing is numeric.
 *
 * @example
 * ```ts
 * const spec = chartSpecFor({
 *   name: "q8", title: "Median followers by age group and year",
 *   columns: ["age_group", "join_year", "median_follower_count"],
 *   rows: [["18-24", 2015, 200], ["18-24", 2016, 150], ["25-35", 2015, 90], ["25-35", 2016, 60]],
 * });
 * // spec.layout === "grouped", spec.categories = ["18-24", "25-35"], series "2015" and "2016"
 * ```
 */
export function chartSpecFor(answer: QueryAnswer): ChartSpec {
  validateAnswer(answer);
  const { columns, rows } = answer;
  if (rows.length === 0) return noChart(answer, "No rows: nothing to chart.");
  const kinds = columnKinds(answer);
  const numeric = columns.map((_, i) => i).filter((i) => kinds[i] === "number");
  const labelIndexes = columns.map((_, i) => i).filter((i) => kinds[i] === "label");
  if (numeric.length === 0) {
    return noChart(answer, "No numeric column to chart: the table below lists the rows.");
  }
  const measure = measureColumn(numeric, columns);
  let [label, group] = labelIndexes;
  const labels = (index: number | undefined) =>
    rows.map((row, i) => index === undefined ? `row ${i + 1}` : labelText(row[index]));

  if (group !== undefined) {
    // Grouped bars when the second label splits each first label (per year,
    // per age group) and most (label, group) cells have a value; sparse
    // pairs, such as a top category per country with a few ties, ride along
    // in the bar's label instead of leaving most grouped slots empty.
    let labelValues = distinct(labels(label));
    let groupValues = distinct(labels(group));
    if (groupValues.length > MAX_SERIES && labelValues.length <= MAX_SERIES) {
      [label, group] = [group, label];
      [labelValues, groupValues] = [groupValues, labelValues];
    }
    const filled = rows.length / (labelValues.length * groupValues.length);
    const repeats = rows.length > labelValues.length;
    if (groupValues.length <= MAX_SERIES && repeats && filled >= 0.5) {
      return groupedSpec(answer, label, group, measure, labelValues, groupValues);
    }
    return colouredSpec(answer, label, group, measure, groupValues.length <= MAX_SERIES);
  }

  const values = valueColumnsFor(answer, numeric, measure);
  const { order, note } = barOrder(answer, measure);
  const allLabels = labels(label);
  const categories = uniqueLabels(order.map((i) => allLabels[i]));
  return {
    kind: "bar",
    layout: "simple",
    title: `${values.map((i) => columns[i]).join(", ")} by ${
      label === undefined ? "row" : columns[label]
    }`,
    labelColumn: label === undefined ? null : columns[label],
    groupColumn: null,
    valueColumns: values.map((i) => columns[i]),
    categories,
    series: values.map((v) => ({
      name: columns[v],
      data: order.map((i) => chartNumber(rows[i][v])),
    })),
    stacked: false,
    horizontal: isHorizontal(categories, values.length),
    note,
  };
}

function groupedSpec(
  answer: QueryAnswer,
  label: number,
  group: number,
  measure: number,
  labelValues: string[],
  groupValues: string[],
): ChartSpec {
  const { columns, rows } = answer;
  const cell = new Map<string, number | null>();
  let duplicates = 0;
  for (const row of rows) {
    const key = JSON.stringify([labelText(row[label]), labelText(row[group])]);
    if (cell.has(key)) duplicates++;
    else cell.set(key, chartNumber(row[measure]));
  }
  let shown = labelValues;
  const notes: string[] = [];
  if (labelValues.length > MAX_BARS) {
    const total = (l: string) =>
      groupValues.reduce((sum, g) => sum + (cell.get(JSON.stringify([l, g])) ?? 0), 0);
    shown = [...labelValues].sort((a, b) => total(b) - total(a)).slice(0, MAX_BARS);
    notes.push(
      `Showing the top ${MAX_BARS} of ${labelValues.length} ${columns[label]} values by total ` +
        `${columns[measure]}; the table lists them all.`,
    );
  }
  if (duplicates > 0) {
    notes.push(
      `${duplicates} rows repeat a (${columns[label]}, ${columns[group]}) pair: ` +
        `the chart shows the first, the table all.`,
    );
  }
  return {
    kind: "bar",
    layout: "grouped",
    title: `${columns[measure]} by ${columns[label]} and ${columns[group]}`,
    labelColumn: columns[label],
    groupColumn: columns[group],
    valueColumns: [columns[measure]],
    categories: shown,
    series: groupValues.map((g) => ({
      name: g,
      data: shown.map((l) => cell.get(JSON.stringify([l, g])) ?? null),
    })),
    stacked: false,
    horizontal: isHorizontal(shown, groupValues.length),
    note: notes.length ? notes.join(" ") : null,
  };
}

function colouredSpec(
  answer: QueryAnswer,
  label: number,
  group: number,
  measure: number,
  colourByGroup: boolean,
): ChartSpec {
  const { columns, rows } = answer;
  const { order, note } = barOrder(answer, measure);
  const categories = uniqueLabels(
    order.map((i) => `${labelText(rows[i][label])} · ${labelText(rows[i][group])}`),
  );
  const values = order.map((i) => chartNumber(rows[i][measure]));
  // One series per group value, null elsewhere, stacked: each bar keeps its
  // length and takes its group's colour and legend entry.
  const series = colourByGroup
    ? distinct(order.map((i) => labelText(rows[i][group]))).map((g) => ({
      name: g,
      data: order.map((i, k) => labelText(rows[i][group]) === g ? values[k] : null),
    }))
    : [{ name: columns[measure], data: values }];
  return {
    kind: "bar",
    layout: "coloured",
    title: `${columns[measure]} by ${columns[label]} (with ${columns[group]})`,
    labelColumn: columns[label],
    groupColumn: columns[group],
    valueColumns: [columns[measure]],
    categories,
    series,
    stacked: colourByGroup,
    horizontal: isHorizontal(categories, 1),
    note,
  };
}

/**
 * The bars' colours: 16 distinct ones (ECharts' 9, then more), so a full
 * legend never repeats one.
 *
 * @example
 * ```ts
 * PALETTE[0]; // "#5470c6", the first series' colour
 * ```
 */
export const PALETTE: readonly string[] = [
  "#5470c6",
  "#91cc75",
  "#fac858",
  "#ee6666",
  "#73c0de",
  "#3ba272",
  "#fc8452",
  "#9a60b4",
  "#ea7ccc",
  "#2f4554",
  "#c23531",
  "#d48265",
  "#61a0a8",
  "#bda29a",
  "#6e7074",
  "#ca8622",
];

/**
 * The chart's height in CSS pixels: horizontal bars get room per bar.
 *
 * @example
 * ```ts
 * const answer: QueryAnswer = {
 *   name: "q5", title: "Median followers", columns: ["age_group", "median"],
 *   rows: [["18-24", 1000], ["25-35", 800]],
 * };
 * chartHeight(chartSpecFor(answer)); // 380 for upright bars
 * ```
 */
export function chartHeight(spec: ChartSpec): number {
  if (!spec.horizontal) return 380;
  const barsPerCategory = spec.stacked ? 1 : spec.series.length;
  const legend = spec.series.length > 1 ? 32 : 0;
  return Math.max(260, 96 + legend + spec.categories.length * Math.max(22, barsPerCategory * 12));
}

/**
 * The ECharts option that draws `spec`: plain JSON (no functions), so it can
 * be embedded in the page; the page adds number formatters when it loads.
 *
 * @example
 * ```ts
 * const answer: QueryAnswer = {
 *   name: "q5", title: "Median followers", columns: ["age_group", "median"],
 *   rows: [["18-24", 1000], ["25-35", 800]],
 * };
 * const option = echartsOption(chartSpecFor(answer));
 * // option.series[0].type === "bar"
 * ```
 */
export function echartsOption(spec: ChartSpec): Record<string, unknown> {
  const { horizontal } = spec;
  const bars = spec.categories.length * (spec.stacked ? 1 : spec.series.length);
  const legend = spec.series.length > 1;
  const rotate = !horizontal && spec.categories.length > 6;
  // Axis names sit where `containLabel` keeps them inside the chart: the
  // label axis's at the top (horizontal) or below its labels, the value
  // axis's under it (horizontal) or above it.
  const categoryAxis = {
    type: "category",
    data: spec.categories,
    name: spec.labelColumn ?? "",
    // Horizontal bars read top-down in the answer's order.
    inverse: horizontal,
    nameLocation: horizontal ? "start" : "middle",
    nameGap: horizontal ? 12 : rotate ? 64 : 30,
    nameTextStyle: { fontWeight: "bold" },
    axisLabel: {
      interval: 0,
      rotate: rotate ? 30 : 0,
      width: horizontal ? 220 : 120,
      overflow: "truncate",
    },
    axisTick: { alignWithLabel: true },
  };
  const valueAxis = {
    type: "value",
    name: spec.valueColumns.join(", "),
    nameLocation: horizontal ? "middle" : "end",
    nameGap: horizontal ? 28 : 14,
    nameTextStyle: { fontWeight: "bold", align: horizontal ? "center" : "left" },
  };
  return {
    animation: false,
    color: PALETTE,
    title: { text: spec.title, left: "center", textStyle: { fontSize: 14 } },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    legend: legend ? { type: "scroll", top: 32, left: "center" } : { show: false },
    grid: {
      left: 16,
      right: 56,
      top: legend ? 80 : 56,
      bottom: horizontal ? 36 : rotate ? 40 : 32,
      containLabel: true,
    },
    xAxis: horizontal ? valueAxis : categoryAxis,
    yAxis: horizontal ? categoryAxis : valueAxis,
    series: spec.series.map((series) => ({
      type: "bar",
      name: series.name,
      data: series.data,
      stack: spec.stacked ? "bars" : undefined,
      barMaxWidth: 40,
      // Values on the bars while there are few enough to read.
      label: { show: bars <= 40, position: horizontal ? "right" : "top", fontSize: 10 },
    })),
  };
}

/**
 * Escapes text for HTML content and quoted attribute values.
 *
 * @example
 * ```ts
 * escapeHtml("</script>"); // "&#60;/script&#62;"
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * JSON safe to place inside `<script type="application/json">`: `<`, `>`
 * and `&` become `\u003c`-style escapes, so no value can close the element;
 * bigints become numbers.
 *
 * @example
 * ```ts
 * jsonForScript({ title: "</script>" }); // '{"title":"\\u003c/script\\u003e"}'
 * ```
 */
export function jsonForScript(value: unknown): string {
  const json = JSON.stringify(value, (_key, v) => typeof v === "bigint" ? Number(v) : v);
  return json.replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

function formatCell(value: unknown, kind: ColumnKind): { text: string; className: string } {
  if (value === null || value === undefined) return { text: "NULL", className: "null" };
  if (kind === "number") {
    const number = chartNumber(value);
    if (typeof value === "bigint") return { text: value.toLocaleString("en-US"), className: "num" };
    if (number !== null) {
      return {
        text: number.toLocaleString("en-US", { maximumFractionDigits: 4 }),
        className: "num",
      };
    }
  }
  return { text: labelText(value), className: "" };
}

function tableHtml(answer: QueryAnswer): string {
  const kinds = columnKinds(answer);
  const head = answer.columns.map((column, i) =>
    `<th${kinds[i] === "number" ? ' class="num"' : ""}>${escapeHtml(column)}</th>`
  ).join("");
  const body = answer.rows.map((row) =>
    "<tr>" + row.map((value, i) => {
      const { text, className } = formatCell(value, kinds[i]);
      return `<td${className ? ` class="${className}"` : ""}>${escapeHtml(text)}</td>`;
    }).join("") + "</tr>"
  ).join("\n");
  return `<div class="table-wrap"><table data-table="${escapeHtml(answer.name)}">` +
    `<caption>${answer.rows.length} row${answer.rows.length === 1 ? "" : "s"}</caption>` +
    `<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table></div>`;
}

function answerHtml(answer: QueryAnswer, index: number): string {
  const spec = chartSpecFor(answer);
  const name = escapeHtml(answer.name);
  const note = spec.note ? `<p class="note">${escapeHtml(spec.note)}</p>` : "";
  const chart = spec.kind === "none" ? "" : `<div class="chart" id="chart-${index + 1}" ` +
    `data-chart="${name}" style="height:${chartHeight(spec)}px"></div>\n` +
    `<script type="application/json" class="chart-option">${
      jsonForScript(echartsOption(spec))
    }</script>`;
  return `<section class="answer" data-answer="${name}">
<h2>${escapeHtml(answer.title)} <code>${name}</code></h2>
${chart}
${note}
${tableHtml(answer)}
</section>`;
}

/** A schema drift check that names a field (`schema drift pin.source_app`), not the all-clear. */
function isDrift(check: CheckResult): boolean {
  return check.name.startsWith(`${SCHEMA_DRIFT_CHECK} `);
}

function checksHtml(checks: CheckResult[]): string {
  const failed = checks.filter((check) => !check.passed);
  const drift = checks.filter(isDrift);
  const summary = checks.length === 0
    ? "No checks ran."
    : failed.length === 0
    ? `All ${checks.length} checks passed.`
    : `${failed.length} of ${checks.length} checks FAILED: ${
      failed.map((check) => check.name).join(", ")
    }.`;
  // Records with unknown fields are kept without them: a warning worth its own line.
  const driftSummary = drift.length === 0
    ? ""
    : `\n<p class="summary drift">Schema drift: ${
      escapeHtml(
        drift.map((check) => `${check.name.slice(SCHEMA_DRIFT_CHECK.length + 1)} (${check.detail})`)
          .join(", "),
      )
    }.</p>`;
  const mark = (check: CheckResult) => check.passed ? (isDrift(check) ? "DRIFT" : "PASS") : "FAIL";
  const items = checks.map((check) =>
    `<li class="check ${check.passed ? "pass" : "fail"}${isDrift(check) ? " drift" : ""}" ` +
    `data-check="${escapeHtml(check.name)}" ` +
    `data-passed="${check.passed}"><span class="mark">${mark(check)}</span> ` +
    `<b>${escapeHtml(check.name)}</b> <span class="detail">${escapeHtml(check.detail)}</span></li>`
  ).join("\n");
  return `<section class="checks ${failed.length || checks.length === 0 ? "fail" : "pass"}" ` +
    `data-checks-failed="${failed.length}" data-checks-total="${checks.length}" ` +
    `data-schema-drift="${drift.length}">
<h2>Checks</h2>
<p class="summary">${escapeHtml(summary)}</p>${driftSummary}
<ul>
${items}
</ul>
</section>`;
}

function cleanedHtml(cleaned: ReportInput["cleaned"]): string {
  const rows = Object.entries(cleaned).map(([table, { rowsIn, rowsOut }]) =>
    `<tr><td>${escapeHtml(table)}</td><td class="num">${rowsIn.toLocaleString("en-US")}</td>` +
    `<td class="num">${rowsOut.toLocaleString("en-US")}</td>` +
    `<td class="num">${(rowsIn - rowsOut).toLocaleString("en-US")}</td></tr>`
  ).join("\n");
  return `<section class="cleaned"><h2>Cleaning</h2>
<table data-table="cleaned"><thead><tr><th>table</th><th class="num">rows in</th>` +
    `<th class="num">rows out</th><th class="num">dropped</th></tr></thead>
<tbody>
${rows}
</tbody></table></section>`;
}

function incrementalHtml(run: IncrementalSection): string {
  const num = (n: number) => `<td class="num">${n.toLocaleString("en-US")}</td>`;
  const rows = Object.entries(run.added).map(([table, a]) =>
    `<tr><td>${escapeHtml(table)}</td>${num(a.objects)}${num(a.bronze)}${num(a.quarantined)}` +
    `${num(a.silver)}${num(run.silverRows[table] ?? 0)}<td>${
      escapeHtml(
        run.drift[table]?.records
          ? `${run.drift[table].records} records: ${run.drift[table].fields.join(", ")}`
          : "",
      )
    }</td></tr>`
  ).join("\n");
  const reasons = Object.entries(run.quarantine.byReason).map(([reason, n]) =>
    `<tr data-reason="${escapeHtml(reason)}"><td>${escapeHtml(reason)}</td>${num(n)}</tr>`
  ).join("\n");
  const examples = run.quarantine.examples.map((e) =>
    `<tr><td>${escapeHtml(e.kind)}</td><td>${escapeHtml(e.object)}</td>${num(e.line)}` +
    `<td>${escapeHtml(e.reason)}</td><td><code>${
      escapeHtml(e.rawText.slice(0, 200))
    }</code></td></tr>`
  ).join("\n");
  return `<section class="incremental" data-run="${run.runId}"><h2>Incremental run ${run.runId}</h2>
<p>${run.skippedObjects.toLocaleString("en-US")} objects were read by earlier runs and skipped.</p>
<table data-table="added"><thead><tr><th>table</th><th class="num">new objects</th>` +
    `<th class="num">to bronze</th><th class="num">to quarantine</th><th class="num">to silver</th>` +
    `<th class="num">silver rows</th><th>unknown fields (ignored)</th></tr></thead>
<tbody>
${rows}
</tbody></table>
<h3>Quarantine</h3>
<p class="quarantine" data-pending="${run.quarantine.count}">${
      run.quarantine.count.toLocaleString("en-US")
    } lines since the last run that passed, ${
      run.quarantineTotal.toLocaleString("en-US")
    } in all.</p>
<table data-table="quarantine-reasons"><thead><tr><th>reason</th><th class="num">lines</th></tr></thead>
<tbody>
${reasons}
</tbody></table>
${
      examples
        ? `<table data-table="quarantine-examples"><thead><tr><th>table</th><th>object</th>` +
          `<th class="num">line</th><th>reason</th><th>raw text</th></tr></thead>\n<tbody>\n${examples}\n</tbody></table>`
        : ""
    }
</section>`;
}

let assets: Promise<{ library: string; template: string }> | undefined;

/**
 * Starts loading what every report holds (the chart library, escaped for a `<script>`, and the
 * page template), once per process, so that a caller may have it read while other work runs.
 *
 * @example
 * ```ts
 * prepareReport(); // then, later, writeReport(...) finds it loaded
 * ```
 */
export function prepareReport(): Promise<{ library: string; template: string }> {
  assets ??= Promise.all([
    import("echarts/dist/echarts.min.js", { with: { type: "text" } }),
    import("./template.html", { with: { type: "text" } }),
  ]).then(([library, template]) => ({
    // Inside <script>, only "</script" or "<!--" could end or confuse the element.
    library: library.default.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--"),
    template: template.default,
  }));
  return assets;
}

/**
 * The whole report page as one string. `writeReport` writes it; exported
 * for tests that inspect the markup.
 *
 * @example
 * ```ts
 * const input: ReportInput = {
 *   title: "pinpipe simulator",
 *   generatedAt: new Date().toISOString(),
 *   source: "generated 11000 rows, seed 100",
 *   answers: [{ name: "q6", title: "Users joined per year", columns: ["join_year", "users"], rows: [[2015, 120]] }],
 *   checks: [{ name: "q6 years 2015..2020", passed: true, detail: "1 year" }],
 *   cleaned: { user: { rowsIn: 120, rowsOut: 120 } },
 * };
 * const html = await renderReport(input); // "<!DOCTYPE html>..."
 * ```
 */
export async function renderReport(input: ReportInput): Promise<string> {
  const names = new Set<string>();
  for (const answer of input.answers) {
    if (names.has(answer.name)) throw new Error(`two answers are named "${answer.name}"`);
    names.add(answer.name);
  }
  const charted = input.answers.filter((answer) => chartSpecFor(answer).kind !== "none").length;
  const values: Record<string, string> = {
    title: escapeHtml(input.title),
    generatedAt: escapeHtml(input.generatedAt),
    source: escapeHtml(input.source),
    chartsExpected: String(charted),
    checks: checksHtml(input.checks),
    cleaned: (input.incremental ? incrementalHtml(input.incremental) + "\n" : "") +
      cleanedHtml(input.cleaned),
    answers: input.answers.map(answerHtml).join("\n"),
    library: (await prepareReport()).library,
  };
  // One pass over the template only: inserted text is never rescanned.
  return (await prepareReport()).template.replace(/\{\{\s*(\w+)\s*\}\}/g, (token, key: string) => {
    if (!(key in values)) throw new Error(`report_template.html: unknown placeholder ${token}`);
    return values[key];
  });
}

/**
 * Writes DIR/index.html (self-contained: the chart library's JS inlined, no
 * network) and returns its path. The file is written whole or not at all.
 *
 * @example
 * ```ts
 * const input: ReportInput = {
 *   title: "pinpipe simulator",
 *   generatedAt: new Date().toISOString(),
 *   source: "generated 11000 rows, seed 100",
 *   answers: [{ name: "q6", title: "Users joined per year", columns: ["join_year", "users"], rows: [[2015, 120]] }],
 *   checks: [{ name: "q6 years 2015..2020", passed: true, detail: "1 year" }],
 *   cleaned: { user: { rowsIn: 120, rowsOut: 120 } },
 * };
 * const path = await writeReport("out/report", input); // "out/report/index.html"
 * ```
 */
export async function writeReport(dir: string, input: ReportInput): Promise<string> {
  const html = await renderReport(input);
  await Deno.mkdir(dir, { recursive: true });
  const path = join(dir, "index.html");
  const partial = `${path}.partial`;
  await Deno.writeTextFile(partial, html);
  await Deno.rename(partial, path);
  return path;
}
