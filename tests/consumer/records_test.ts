/**
 * The consumer's record parsing: every way a record can be malformed gets
 * a reason; a record of the right shape comes back with its index.
 */
import assert from "node:assert/strict";
import { parseStreamRecord } from "../../src/consumer/records.ts";

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
  assert.deepEqual(parsed, { ok: true, record: geo, index: 7 });
  const nulls = parseStreamRecord("geo", bytes(JSON.stringify({ ...geo, country: null })));
  assert.equal(nulls.ok, true);
});

Deno.test("each malformed record is rejected with its reason and its text", () => {
  const cases: [string, RegExp][] = [
    ["not json {", /^not valid JSON: /],
    ["", /^not valid JSON: /],
    ["[1, 2]", /^expected a JSON object, got an array$/],
    ["null", /^expected a JSON object, got null$/],
    ['"text"', /^expected a JSON object, got string$/],
    ['{"ind": 1}', /^missing field "timestamp"$/],
    [JSON.stringify({ ...geo, extra: 1 }), /^unexpected field "extra"$/],
    [
      JSON.stringify({ ...geo, country: { name: "x" } }),
      /^field "country" must be text, a number or null, got object$/,
    ],
    [
      JSON.stringify({ ...geo, latitude: [1] }),
      /^field "latitude" must be text, a number or null, got an array$/,
    ],
    [JSON.stringify({ ...geo, country: true }), /got boolean$/],
    [JSON.stringify({ ...geo, ind: "7" }), /^field "ind" must be a whole number, got "7"$/],
    [JSON.stringify({ ...geo, ind: 1.5 }), /^field "ind" must be a whole number, got 1.5$/],
    [JSON.stringify({ ...geo, ind: null }), /^field "ind" must be a whole number, got null$/],
  ];
  for (const [text, reason] of cases) {
    const parsed = parseStreamRecord("geo", bytes(text));
    assert.equal(parsed.ok, false, text);
    if (!parsed.ok) {
      assert.match(parsed.reason, reason, text);
      assert.equal(parsed.text, text);
    }
  }
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
  if (!parsed.ok) assert.equal(parsed.reason, 'missing field "timestamp"');
});

Deno.test("bytes that are not UTF-8 are rejected and kept as base64", () => {
  const parsed = parseStreamRecord("pin", new Uint8Array([0xff, 0xfe, 0x7b]));
  assert.deepEqual(parsed, { ok: false, reason: "data is not UTF-8 text", text: "//57" });
});
