/**
 * Formats rows as a plain text table for the terminal: a header, a rule,
 * right-aligned numbers, long cells cut with an ellipsis, and at most
 * `maxRows` rows with a note of how many were left out.
 *
 * @example
 * ```ts
 * import { textTable } from "./text_table.ts";
 * console.log(textTable(["country", "posts"], [["Albania", 12]]));
 * ```
 */

/** Renders one cell: null as NULL, arrays and objects as JSON, numbers as they print. */
function cellText(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") {
    return String(value);
  }
  return JSON.stringify(value);
}

/** The table as text, one line per row. */
export function textTable(
  columns: readonly string[],
  rows: readonly (readonly unknown[])[],
  { maxRows = 20, maxWidth = 48 } = {},
): string {
  const shown = rows.slice(0, maxRows);
  const cut = (text: string) => text.length > maxWidth ? `${text.slice(0, maxWidth - 1)}…` : text;
  const cells = shown.map((row) => row.map((value) => cut(cellText(value))));
  const numeric = columns.map((_, i) =>
    shown.length > 0 && shown.every((row) => typeof row[i] === "number" || row[i] === null)
  );
  const widths = columns.map((column, i) =>
    Math.max(column.length, ...cells.map((row) => row[i]?.length ?? 0))
  );
  const line = (values: string[]) =>
    values.map((value, i) => numeric[i] ? value.padStart(widths[i]) : value.padEnd(widths[i]))
      .join("  ").trimEnd();
  const out = [line([...columns]), widths.map((width) => "-".repeat(width)).join("  ")];
  for (const row of cells) out.push(line(row));
  if (rows.length > shown.length) out.push(`(${rows.length - shown.length} more rows)`);
  if (rows.length === 0) out.push("(no rows)");
  return out.join("\n");
}
