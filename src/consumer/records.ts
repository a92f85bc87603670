/**
 * Parses one Kinesis record's data into a source record of a known table,
 * or says exactly why it cannot, as a reason of
 * `notebooks/sql/quarantine_reasons.json` plus a detail for people. The
 * checks run in that file's order: not UTF-8, empty, not JSON, not an
 * object, none of the table's fields, a missing field, a value that is not
 * text, a number or null, an index that is not a whole number. The consumer
 * sends the failures to its rejects table, so nothing vanishes. A field the
 * table does not have is not a failure: the record is kept without it and
 * the field is named in `unknownFields` (schema drift). The streaming
 * notebook (`notebooks/pinpipe_stream.py`, `classify_record`) applies the
 * same rules; the parity test holds the two together.
 *
 * @example
 * ```ts
 * import { parseStreamRecord } from "./records.ts";
 * const bytes = new TextEncoder().encode('{"ind":1}');
 * parseStreamRecord("geo", bytes);
 * // { ok: false, reason: "missing_field", detail: 'missing field "timestamp"', text: '{"ind":1}' }
 * ```
 */
import { quarantineReason } from "../core/quarantine_reasons.ts";
import type { SourceRecord } from "../core/records.ts";
import { type TableKind, TABLES } from "../core/tables.ts";

/** A record that has the table's shape. */
export interface ParsedRecord {
  ok: true;
  /** The table's fields only: unknown fields are left out. */
  record: SourceRecord;
  /** The value of the table's index column. */
  index: number;
  /** Fields the table does not have, in the record's order (schema drift). */
  unknownFields: string[];
}

/** A record that does not, with the reason, a detail, and the data as text (base64 when not UTF-8). */
export interface RejectedRecord {
  ok: false;
  /** A name of `notebooks/sql/quarantine_reasons.json`. */
  reason: string;
  detail: string;
  text: string;
}

/** A problem with a record: the reason's name and a detail. */
export interface RecordProblem {
  reason: string;
  detail: string;
}

// ignoreBOM keeps a byte order mark in the text, so JSON.parse refuses it as Spark's parser does.
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
/** JSON's own whitespace: what may surround a value. */
const JSON_WHITESPACE = /^[ \t\n\r]*$/;

const problem = (reason: string, detail: string): RecordProblem => ({
  reason: quarantineReason(reason),
  detail,
});

/** Reads `data` as a record of table `kind`. */
export function parseStreamRecord(
  kind: TableKind,
  data: Uint8Array,
): ParsedRecord | RejectedRecord {
  let text: string;
  try {
    text = decoder.decode(data);
  } catch {
    return { ok: false, ...problem("invalid_utf8", "data is not UTF-8 text"), text: base64(data) };
  }
  if (JSON_WHITESPACE.test(text)) {
    return { ok: false, ...problem("empty", "data is empty"), text };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return {
      ok: false,
      ...problem("not_json", `not valid JSON: ${(error as Error).message}`),
      text,
    };
  }
  const found = shapeProblem(kind, value);
  if (found) return { ok: false, ...found, text };
  const spec = TABLES[kind];
  const fields = value as SourceRecord;
  const record: SourceRecord = {};
  for (const column of spec.columns) record[column] = fields[column];
  return {
    ok: true,
    record,
    index: Number(fields[spec.indexColumn]),
    unknownFields: Object.keys(fields).filter((name) => !spec.columns.includes(name)),
  };
}

/** What is wrong with `value` as a record of `kind`, or undefined when nothing is. */
export function shapeProblem(kind: TableKind, value: unknown): RecordProblem | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    const what = value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
    return problem("not_an_object", `expected a JSON object, got ${what}`);
  }
  const spec = TABLES[kind];
  const fields = value as Record<string, unknown>;
  const names = Object.keys(fields);
  if (!spec.columns.some((column) => column in fields)) {
    const got = names.length === 0 ? "no field" : names.map((n) => JSON.stringify(n)).join(", ");
    return problem("no_expected_fields", `none of the ${kind} fields, got ${got}`);
  }
  for (const column of spec.columns) {
    if (!(column in fields)) return problem("missing_field", `missing field "${column}"`);
  }
  for (const column of spec.columns) {
    const field = fields[column];
    if (field !== null && typeof field !== "string" && typeof field !== "number") {
      const what = Array.isArray(field) ? "an array" : typeof field;
      return problem(
        "bad_field_type",
        `field "${column}" must be text, a number or null, got ${what}`,
      );
    }
  }
  const index = fields[spec.indexColumn];
  if (typeof index !== "number" || !Number.isSafeInteger(index)) {
    return problem(
      "bad_index",
      `field "${spec.indexColumn}" must be a whole number, got ${JSON.stringify(index)}`,
    );
  }
  return undefined;
}

function base64(data: Uint8Array): string {
  let binary = "";
  for (const byte of data) binary += String.fromCharCode(byte);
  return btoa(binary);
}
