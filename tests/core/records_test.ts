import assert from "node:assert/strict";
import { recordIndex, toRecord } from "../../src/core/records.ts";
import { objectBody, objectKey, parseObjectKey } from "../../src/core/bucket_layout.ts";

Deno.test("a geo row becomes the original's record: field order, ISO datetime, numbers", () => {
  const record = toRecord("geo", {
    country: "Antarctica (the territory South of 60 deg S)",
    longitude: -171.302,
    latitude: -71.6063,
    timestamp: "2020-08-28 03:52:47",
    ind: 7528,
  });
  assert.equal(
    JSON.stringify(record),
    '{"ind":7528,"timestamp":"2020-08-28T03:52:47","latitude":-71.6063,"longitude":-171.302,' +
      '"country":"Antarctica (the territory South of 60 deg S)"}',
  );
  assert.equal(recordIndex("geo", record), 7528);
});

Deno.test("a user row keeps nulls and converts date_joined", () => {
  const record = toRecord("user", {
    ind: 3,
    first_name: "Ada",
    last_name: null,
    age: 36,
    date_joined: "2016-02-29 00:00:00",
  });
  assert.deepEqual(Object.keys(record), ["ind", "first_name", "last_name", "age", "date_joined"]);
  assert.equal(record.last_name, null);
  assert.equal(record.date_joined, "2016-02-29T00:00:00");
});

Deno.test("a bad row is an error naming table, column and index", () => {
  assert.throws(
    () => toRecord("user", { ind: 9, first_name: "A", last_name: "B", age: 1 }),
    /user_data row 9: column "date_joined" is missing/,
  );
  assert.throws(
    () =>
      toRecord("geo", { ind: 4, timestamp: "28/08/2020", latitude: 0, longitude: 0, country: "X" }),
    /geolocation_data.timestamp row 4: "28\/08\/2020" is not a DATETIME/,
  );
});

Deno.test("object keys are the S3 sink connector's, and parse back", () => {
  const key = objectKey("12c0d092d679.pin", 0, 10999);
  assert.equal(
    key,
    "topics/12c0d092d679.pin/partition=0/12c0d092d679.pin+0+0000010999.json",
  );
  assert.deepEqual(parseObjectKey(`bucket/${key}`), {
    topic: "12c0d092d679.pin",
    partition: 0,
    startOffset: 10999,
  });
  assert.equal(parseObjectKey("topics/a.pin/partition=0/b.pin+0+0000000001.json"), null);
  assert.throws(() => objectKey("t", 0, -1), /start offset -1 of t/);
  assert.equal(objectBody([{ a: 1 }, { b: "x" }]), '{"a":1}\n{"b":"x"}\n');
});
