/**
 * A bucket that grows day by day, as the daily batch run sees it: each day adds new objects, and
 * the sink's real-world habits are in it too: an object delivered again under the same key, records
 * repeated in a later day's object, an object for an earlier day arriving late, and (with `bad`)
 * malformed lines among good ones, one of each quarantine reason, and a record with an unknown field.
 *
 * `writeDay` writes day d's objects into the bucket; `cleanBucket` gets the same objects without the
 * malformed lines, which the one-shot run (it fails on a malformed line) reads as the full recompute.
 */
import { objectKey } from "../../../src/core/bucket_layout.ts";
import { topicName } from "../../../src/core/names.ts";
import { type SourceRecord, toRecord } from "../../../src/core/records.ts";
import { TABLE_KINDS, type TableKind } from "../../../src/core/tables.ts";
import { generateRows } from "../../../sim/datagen/generate.ts";

/** One object: its key, and its lines (bytes for a line that is not UTF-8); `bad` marks malformed ones. */
export interface DayObject {
  kind: TableKind;
  key: string;
  lines: { text: string | Uint8Array; bad: boolean }[];
}

/** The malformed lines, one per quarantine reason (two that are JSON but not objects). */
export const MALFORMED: { text: string | Uint8Array; reason: string }[] = [
  { text: '{"ind": 5, "country": "Fr', reason: "not_json" },
  {
    text: new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    reason: "invalid_utf8",
  },
  { text: "", reason: "empty_line" },
  { text: "[1, 2, 3]", reason: "not_an_object" },
  { text: '"just text"', reason: "not_an_object" },
  { text: '{"colour": "red", "size": 3}', reason: "no_expected_fields" },
];

/**
 * `days` days of objects over `rowsPerDay` generated rows per table and day (seed 11), objects of
 * `perObject` records. With `bad`, day 2 carries the malformed lines (in the middle of two geo
 * objects, the one that is not UTF-8 alone in the second) and one pin record with an unknown field.
 */
export function buildDays(
  days: number,
  rowsPerDay: number,
  perObject: number,
  { bad = false, id = "0123456789ab" } = {},
): DayObject[][] {
  const records = {} as Record<TableKind, SourceRecord[]>;
  for (const kind of TABLE_KINDS) {
    records[kind] = [...generateRows(kind, { rows: days * rowsPerDay, seed: 11 })].map((row) =>
      toRecord(kind, row)
    );
  }
  const result: DayObject[][] = Array.from({ length: days }, () => []);
  const object = (kind: TableKind, offset: number, rows: SourceRecord[]): DayObject => ({
    kind,
    key: objectKey(topicName(id, kind), 0, offset),
    lines: rows.map((row) => ({ text: JSON.stringify(row), bad: false })),
  });
  for (const kind of TABLE_KINDS) {
    let late: DayObject | undefined;
    for (let day = 0; day < days; day++) {
      const first = day * rowsPerDay;
      const objects: DayObject[] = [];
      for (let start = first; start < first + rowsPerDay; start += perObject) {
        objects.push(object(kind, start, records[kind].slice(start, start + perObject)));
      }
      // The last object of each day arrives a day late (the last day's, on time).
      if (late) result[day].push(late);
      late = day < days - 1 ? objects.pop() : undefined;
      result[day].push(...objects);
      if (day >= 1) {
        // Delivered again: the first object of the day before, same key, same bytes.
        result[day].push(result[day - 1].find((o) => o.kind === kind)!);
        // Repeated: records of the day before in a new object (the sink's offsets after a replay).
        result[day].push(
          object(
            kind,
            900_000 + day,
            records[kind].slice(first - rowsPerDay, first - rowsPerDay + 3),
          ),
        );
      }
    }
  }
  if (bad && days >= 2) {
    // The line that is not UTF-8 in an object of its own: the other object stays UTF-8 text.
    const [target, other] = result[1].filter((o) => o.kind === "geo");
    const malformed = (m: (typeof MALFORMED)[number]) => ({ text: m.text, bad: true });
    const text = MALFORMED.filter((m) => m.reason !== "invalid_utf8").map(malformed);
    const binary = MALFORMED.filter((m) => m.reason === "invalid_utf8").map(malformed);
    result[1][result[1].indexOf(target)] = {
      ...target,
      lines: [target.lines[0], ...text, ...target.lines.slice(1)],
    };
    result[1][result[1].indexOf(other)] = {
      ...other,
      lines: [other.lines[0], ...binary, ...other.lines.slice(1)],
    };
    const pin = result[1].find((o) => o.kind === "pin")!;
    const drifted = JSON.parse(pin.lines[0].text as string);
    drifted.utm_source = "newsletter";
    result[1][result[1].indexOf(pin)] = {
      ...pin,
      lines: [...pin.lines.slice(1), { text: JSON.stringify(drifted), bad: false }],
    };
  }
  return result;
}

function body(object: DayObject, withBad: boolean): Uint8Array {
  const parts: Uint8Array[] = [];
  const encoder = new TextEncoder();
  for (const line of object.lines) {
    if (line.bad && !withBad) continue;
    parts.push(typeof line.text === "string" ? encoder.encode(line.text) : line.text);
    parts.push(new Uint8Array([10]));
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Writes one day's objects into the bucket directory (`clean`: without the malformed lines). */
export async function writeDay(bucket: string, objects: DayObject[], clean = false): Promise<void> {
  for (const object of objects) {
    const path = `${bucket}/${object.key}`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.writeFile(path, body(object, !clean));
  }
}
