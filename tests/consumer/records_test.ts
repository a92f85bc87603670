/**
 * The consumer's record parsing: every way a record can be malformed gets
 * a reason of notebooks/sql/quarantine_reasons.json and a detail; a record
 * of the right shape comes back with its index, and an unknown field keeps
 * the record and is named as schema drift.
 */
import assert from "node:assert/strict";
import { parseStreamRecord } from "../../src/consumer/records.ts";
import { QUARANTINE_REASONS } from "../../src/core/quarantine_reasons.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const geo = {
  ind: 7,
  timestamp: "2020-08-28T03:52:47",
  latitude: 1.5,
  longitude: -2.25,
  country: "Chad",
};

Deno.test("a well-formed record parses with its index", () => {
  const parsed = parseStreamRecord("geo", bytes(JSON.stringify(geo)));
  assert.deepEqual(parsed, { ok: true, record: geo, index: 7, unknownFields: [] });
  const nulls = parseStreamRecord("geo", bytes(JSON.stringify({ ...geo, country: null })));
  assert.equal(nulls.ok, true);
});

Deno.test("each malformed record is rejected with its reason and its text", () => {
  const cases: [string, string, RegExp][] = [
    ["not json {", "not_json", /^not valid JSON: /],
    ['{"ind": 7, "timest', "not_json", /^not valid JSON: /],
    ["\ufeff" + JSON.stringify(geo), "not_json", /^not valid JSON: /],
    ["NaN", "not_json", /^not valid JSON: /],
    ["", "empty", /^data is empty$/],
    [" \r\n", "empty", /^data is empty$/],
    ["[1, 2]", "not_an_object", /^expected a JSON object, got an array$/],
    ["null", "not_an_object", /^expected a JSON object, got null$/],
    ['"text"', "not_an_object", /^expected a JSON object, got string$/],
    ["42", "not_an_object", /^expected a JSON object, got number$/],
    ["{}", "no_expected_fields", /^none of the geo fields, got no field$/],
    [
      JSON.stringify({ records: [{ value: geo }] }),
      "no_expected_fields",
      /^none of the geo fields, got "records"$/,
    ],
    ['{"ind": 1}', "missing_field", /^missing field "timestamp"$/],
    [
      JSON.stringify({ ...geo, country: { name: "x" } }),
      "bad_field_type",
      /^field "country" must be text, a number or null, got object$/,
    ],
    [
      JSON.stringify({ ...geo, latitude: [1] }),
      "bad_field_type",
      /^field "latitude" must be text, a number or null, got an array$/,
    ],
    [JSON.stringify({ ...geo, country: true }), "bad_field_type", /got boolean$/],
    [
      JSON.stringify({ ...geo, ind: "7" }),
      "bad_index",
      /^field "ind" must be a whole number, got "7"$/,
    ],
    [
      JSON.stringify({ ...geo, ind: 1.5 }),
      "bad_index",
      /^field "ind" must be a whole number, got 1.5$/,
    ],
    [
      JSON.stringify({ ...geo, ind: null }),
      "bad_index",
      /^field "ind" must be a whole number, got null$/,
    ],
    [
      JSON.stringify({ ...geo, ind: 2 ** 53 }),
      "bad_index",
      /^field "ind" must be a whole number, got 9007199254740992$/,
    ],
  ];
  for (const [text, reason, detail] of cases) {
    const parsed = parseStreamRecord("geo", bytes(text));
    assert.equal(parsed.ok, false, text);
    if (!parsed.ok) {
      assert.equal(parsed.reason, reason, text);
      assert.match(parsed.detail, detail, text);
      assert.equal(parsed.text, text);
    }
  }
});

Deno.test("every reason the consumer gives is a stream reason of the shared file", () => {
  const stream = QUARANTINE_REASONS.filter((r) => r.paths.includes("stream")).map((r) => r.name);
  assert.deepEqual(stream, [
    "invalid_utf8",
    "empty",
    "not_json",
    "not_an_object",
    "no_expected_fields",
    "missing_field",
    "bad_field_type",
    "bad_index",
  ]);
});

Deno.test("an unknown field keeps the record without it and is named as schema drift", () => {
  const parsed = parseStreamRecord(
    "geo",
    bytes(JSON.stringify({ extra: 1, ...geo, more: { nested: true } })),
  );
  assert.deepEqual(parsed, { ok: true, record: geo, index: 7, unknownFields: ["extra", "more"] });
  const whole = parseStreamRecord("geo", bytes(JSON.stringify({ ...geo, ind: 1e3 })));
  assert.equal(whole.ok && whole.index, 1000);
});

Deno.test("a record of another table is rejected for its missing fields", () => {
  const user = {
    ind: 1,
    first_name: "A",
    last_name: "B",
    age: 30,
    date_joined: "2016-01-02T03:04:05",
  };
  const parsed = parseStreamRecord("geo", bytes(JSON.stringify(user)));
  assert.equal(parsed.ok, false);
  if (!parsed.ok) {
    assert.equal(parsed.reason, "missing_field");
    assert.equal(parsed.detail, 'missing field "timestamp"');
  }
});

Deno.test("bytes that are not UTF-8 are rejected and kept as base64", () => {
  const parsed = parseStreamRecord("pin", new Uint8Array([0xff, 0xfe, 0x7b]));
  assert.deepEqual(parsed, {
    ok: false,
    reason: "invalid_utf8",
    detail: "data is not UTF-8 text",
    text: "//57",
  });
});
