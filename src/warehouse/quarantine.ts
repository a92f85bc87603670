/**
 * Splits one bucket object into the lines that are records and the lines
 * that go to quarantine, with the reason named in
 * `notebooks/sql/quarantine_reasons.json` (the names every engine uses). A
 * record is a JSON object with at least one of its table's fields; its
 * unknown fields are kept aside as schema drift, never a reason to
 * quarantine. Nothing is dropped: every line is one or the other.
 *
 * @example
 * ```ts
 * import { splitObject } from "./quarantine.ts";
 * const bytes = new TextEncoder().encode('{"ind":1,"x":2}\n[1]\n');
 * splitObject("geo", "o.json", bytes);
 * // { records: [{ object: "o.json", line: 1, text: '{"ind":1,"x":2}', unknownFields: "x" }],
 * //   quarantined: [{ object: "o.json", line: 2, rawText: "[1]", reason: "not_an_object" }] }
 * ```
 */
import reasons from "../../notebooks/sql/quarantine_reasons.json" with { type: "json" };
import { type TableKind, TABLES } from "../core/tables.ts";

/** The batch path's reasons, in the order they are tested; the first that applies is the reason. */
export const QUARANTINE_REASONS: readonly string[] = reasons.reasons
  .filter((reason) => reason.paths.includes("batch")).map((reason) => reason.name);

/** One quarantine reason, e.g. `not_json`. */
export type QuarantineReason =
  | "invalid_utf8"
  | "empty_line"
  | "not_json"
  | "not_an_object"
  | "no_expected_fields";

/** A line that is a record: its text, and its unknown fields joined by commas (sorted). */
export interface RecordLine {
  object: string;
  line: number;
  text: string;
  unknownFields: string | null;
}

/** A line that is not: its text (base64 when not UTF-8) and why. */
export interface QuarantinedLine {
  object: string;
  line: number;
  rawText: string;
  reason: QuarantineReason;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/** The object's lines (split on `\n`, the last newline ends the last line), each as records or quarantine. */
export function splitObject(
  kind: TableKind,
  object: string,
  bytes: Uint8Array,
): { records: RecordLine[]; quarantined: QuarantinedLine[] } {
  const records: RecordLine[] = [];
  const quarantined: QuarantinedLine[] = [];
  const expected = TABLES[kind].columns;
  let start = 0;
  let line = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(10, start);
    if (end === -1) end = bytes.length;
    line++;
    const slice = bytes.subarray(start, end);
    start = end + 1;
    let text: string;
    try {
      text = decoder.decode(slice);
    } catch {
      quarantined.push({ object, line, rawText: base64(slice), reason: "invalid_utf8" });
      continue;
    }
    const reason = lineProblem(text, expected);
    if (typeof reason === "string") {
      quarantined.push({ object, line, rawText: text, reason });
    } else {
      records.push({ object, line, text, unknownFields: reason.unknown });
    }
  }
  return { records, quarantined };
}

/** Why `text` is not a record, or its unknown fields (comma-joined, sorted; null for none). */
function lineProblem(
  text: string,
  expected: readonly string[],
): QuarantineReason | { unknown: string | null } {
  if (/^[ \t\r]*$/.test(text)) return "empty_line";
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return "not_json";
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return "not_an_object";
  const keys = Object.keys(value);
  if (!keys.some((key) => expected.includes(key))) return "no_expected_fields";
  const unknown = keys.filter((key) => !expected.includes(key)).sort();
  return { unknown: unknown.length > 0 ? unknown.join(",") : null };
}

function base64(data: Uint8Array): string {
  let binary = "";
  for (const byte of data) binary += String.fromCharCode(byte);
  return btoa(binary);
}
