/**
 * The one translation between the notebooks' Spark SQL and DuckDB. The SQL
 * files under `notebooks/sql/` are written in constructs both engines read
 * alike; only two functions have different names, and this renames them:
 *
 * | Spark                | DuckDB                   |
 * | -------------------- | ------------------------ |
 * | `array(a, b)`        | `list_value(a, b)`       |
 * | `regexp_like(s, re)` | `regexp_matches(s, re)`  |
 *
 * Both regex functions find a match anywhere (anchors in the pattern make it
 * a full match). String literals, quoted identifiers and comments are never
 * touched. Backslashes in string literals are refused (Spark reads them as
 * escapes, DuckDB does not). Backticks are refused: DuckDB cannot read them, and Spark reads
 * `"x"` as a string, so the SQL files quote no identifiers at all.
 *
 * @example
 * ```ts
 * import { toDuckDb } from "./dialect.ts";
 * toDuckDb("SELECT array(1, 2) WHERE regexp_like(x, '^array(')");
 * // "SELECT list_value(1, 2) WHERE regexp_matches(x, '^array(')"
 * ```
 */

/** Spark function name (lower case) to the DuckDB function that means the same. */
export const RENAMED_FUNCTIONS: Readonly<Record<string, string>> = {
  array: "list_value",
  regexp_like: "regexp_matches",
};

/** Translates Spark SQL text to DuckDB SQL text; throws on constructs it cannot carry over. */
export function toDuckDb(sparkSql: string): string {
  let out = "";
  let i = 0;
  const n = sparkSql.length;
  while (i < n) {
    const c = sparkSql[i];
    const next = sparkSql[i + 1];
    if (c === "'" || c === '"') {
      const end = _quotedEnd(sparkSql, i, c);
      const backslash = sparkSql.indexOf("\\", i);
      // Spark reads a backslash in a literal as an escape, DuckDB as itself.
      if (c === "'" && backslash !== -1 && backslash < end) {
        throw new Error(
          `backslash in a string literal at ${_where(sparkSql, backslash)}: Spark and DuckDB ` +
            "read it differently; write [.] or [0-9] in patterns instead",
        );
      }
      out += sparkSql.slice(i, end);
      i = end;
    } else if (c === "-" && next === "-") {
      const end = sparkSql.indexOf("\n", i);
      const stop = end === -1 ? n : end;
      out += sparkSql.slice(i, stop);
      i = stop;
    } else if (c === "/" && next === "*") {
      const end = sparkSql.indexOf("*/", i + 2);
      if (end === -1) throw new Error(`unterminated /* comment at ${_where(sparkSql, i)}`);
      out += sparkSql.slice(i, end + 2);
      i = end + 2;
    } else if (c === "`") {
      throw new Error(
        `backtick at ${_where(sparkSql, i)}: DuckDB cannot read backtick-quoted names; ` +
          "rename the column or alias so it needs no quotes",
      );
    } else if (/[A-Za-z_]/.test(c)) {
      let end = i + 1;
      while (end < n && /[A-Za-z0-9_$]/.test(sparkSql[end])) end++;
      const word = sparkSql.slice(i, end);
      const previous = out.trimEnd().at(-1);
      const renamed = RENAMED_FUNCTIONS[word.toLowerCase()];
      // Only a call is renamed: not a column named `array`, not `t.array(`.
      if (renamed && previous !== "." && /^\s*\(/.test(sparkSql.slice(end))) out += renamed;
      else out += word;
      i = end;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Index just past the literal or quoted name opening at `start` ('' and "" escape a quote). */
function _quotedEnd(sql: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else i++;
  }
  throw new Error(`unterminated ${quote} quote opening at ${_where(sql, start)}`);
}

/** "line L, column C" of offset `index`, for error messages. */
function _where(sql: string, index: number): string {
  const before = sql.slice(0, index).split("\n");
  return `line ${before.length}, column ${before[before.length - 1].length + 1}`;
}
