/**
 * One bucket object split into records and quarantined lines: every line is
 * one or the other, with the first reason that applies, and unknown fields
 * kept aside rather than quarantined.
 */
import assert from "node:assert/strict";
import { QUARANTINE_REASONS, splitObject } from "../../src/warehouse/quarantine.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("each line is a record or quarantined, numbered from 1, nothing dropped", () => {
  const object = "topics/x.geo/partition=0/x.geo+0+0000000000.json";
  const lines = [
    '{"ind":1,"country":"Chad"}',
    "",
    "   \t",
    "{not json",
    "[1,2]",
    '"text"',
    "null",
    '{"unrelated":1}',
    '{"ind":2,"zeta":1,"alpha":2}',
  ];
  const { records, quarantined } = splitObject("geo", object, bytes(lines.join("\n") + "\n"));
  assert.deepEqual(records, [
    { object, line: 1, text: lines[0], unknownFields: null },
    { object, line: 9, text: lines[8], unknownFields: "alpha,zeta" },
  ]);
  assert.deepEqual(
    quarantined.map(({ line, reason, rawText }) => [line, reason, rawText]),
    [
      [2, "empty_line", ""],
      [3, "empty_line", "   \t"],
      [4, "not_json", "{not json"],
      [5, "not_an_object", "[1,2]"],
      [6, "not_an_object", '"text"'],
      [7, "not_an_object", "null"],
      [8, "no_expected_fields", '{"unrelated":1}'],
    ],
  );
  assert.equal(records.length + quarantined.length, lines.length);
});

Deno.test("a line that is not UTF-8 is quarantined as base64; a last line without a newline counts", () => {
  const data = new Uint8Array([...bytes('{"ind":1}\n'), 0xff, 0xfe, 0x0a, ...bytes('{"ind":3}')]);
  const { records, quarantined } = splitObject("geo", "o", data);
  assert.deepEqual(quarantined, [{
    object: "o",
    line: 2,
    rawText: "//4=",
    reason: "invalid_utf8",
  }]);
  assert.deepEqual(records.map((r) => [r.line, r.text]), [[1, '{"ind":1}'], [3, '{"ind":3}']]);
  assert.deepEqual(splitObject("pin", "empty", new Uint8Array()), { records: [], quarantined: [] });
});

Deno.test("the fields expected are the table's: a pin field alone is no geo record", () => {
  const line = bytes('{"unique_id":"a"}');
  assert.equal(splitObject("pin", "o", line).records.length, 1);
  assert.equal(splitObject("geo", "o", line).quarantined[0].reason, "no_expected_fields");
});

Deno.test("the batch path's reasons come from the shared reasons file, each used here", () => {
  for (
    const reason of [
      "invalid_utf8",
      "empty_line",
      "not_json",
      "not_an_object",
      "no_expected_fields",
    ]
  ) {
    assert.ok(QUARANTINE_REASONS.includes(reason), reason);
  }
});
