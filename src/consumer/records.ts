/**
 * Parses one Kinesis record's data into a source record of a known table,
 * or says exactly why it cannot: not UTF-8, not JSON, not an object, a
 * missing or unknown field, a value that is not text, a number or null, or
 * an index that is not a whole number. The consumer sends the failures to
 * its rejects table, so nothing vanishes.
 *
 * @example
 * ```ts
 * import { parseStreamRecord } from "./records.ts";
 * const bytes = new TextEncoder().encode('{"ind":1}');
 * parseStreamRecord("geo", bytes); // { ok: false, reason: 'missing field "timestamp"', text: '{"ind":1}' }
 * ```
 */
import type { SourceRecord } from "../core/records.ts";
import { type TableKind, TABLES } from "../core/tables.ts";

/** A record that has the table's shape. */
export interface ParsedRecord {
  ok: true;
  record: SourceRecord;
  /** The value of the table's index column. */
  index: number;
}

/** A record that does not, with the reason and the data as text (base64 when not UTF-8). */
export interface RejectedRecord {
  ok: false;
  reason: string;
  text: string;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/** Reads `data` as a record of table `kind`. */
export function parseStreamRecord(
  kind: TableKind,
  data: Uint8Array,
): ParsedRecord | RejectedRecord {
  let text: string;
  try {
    text = decoder.decode(data);
  } catch {
    return { ok: false, reason: "data is not UTF-8 text", text: base64(data) };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `not valid JSON: ${(error as Error).message}`, text };
  }
  const reason = shapeProblem(kind, value);
  if (reason) return { ok: false, reason, text };
  const record = value as SourceRecord;
  return { ok: true, record, index: Number(record[TABLES[kind].indexColumn]) };
}

/** What is wrong with `value` as a record of `kind`, or undefined when nothing is. */
export function shapeProblem(kind: TableKind, value: unknown): string | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    const what = value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
    return `expected a JSON object, got ${what}`;
  }
  const spec = TABLES[kind];
  const fields = value as Record<string, unknown>;
  for (const column of spec.columns) {
    if (!(column in fields)) return `missing field "${column}"`;
  }
  for (const [name, field] of Object.entries(fields)) {
    if (!spec.columns.includes(name)) return `unexpected field "${name}"`;
    if (field !== null && typeof field !== "string" && typeof field !== "number") {
      return `field "${name}" must be text, a number or null, got ${
        Array.isArray(field) ? "an array" : typeof field
      }`;
    }
  }
  const index = fields[spec.indexColumn];
  if (typeof index !== "number" || !Number.isSafeInteger(index)) {
    return `field "${spec.indexColumn}" must be a whole number, got ${JSON.stringify(index)}`;
  }
  return undefined;
}

function base64(data: Uint8Array): string {
  let binary = "";
  for (const byte of data) binary += String.fromCharCode(byte);
  return btoa(binary);
}
