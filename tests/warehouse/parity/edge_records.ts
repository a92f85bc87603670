/**
 * Raw records full of edge cases (odd numbers, odd dates, wrong types,
 * missing fields, fields the tables do not have) for the parity test: whatever Spark makes of them, DuckDB
 * must make the same, including which values count as unparseable.
 *
 * @example
 * ```ts
 * import { edgeRecords } from "./edge_records.ts";
 * edgeRecords().pin.length; // one record per follower_count form, and more
 * ```
 */
import type { SourceRecord } from "../../../src/core/records.ts";
import type { TableKind } from "../../../src/core/tables.ts";

type Json = string | number | boolean | null;

const FOLLOWER_COUNTS: Json[] = [
  "0",
  "892",
  "51k",
  "1.2k",
  "1M",
  "2.5M",
  "3B",
  "1.25K",
  "2.5m",
  "0.5k",
  "10b",
  "007",
  "abc",
  "1.2345k",
  "1,234",
  " 12",
  "12 ",
  "+5",
  "-5",
  "1e3",
  "5.0",
  "",
  "1.5",
  "k",
  ".5k",
  "99999999999999999999",
  "999999999.999999999B",
  1200,
  3.5,
  true,
  null,
  "User Info Error",
];
const INDEXES: Json[] = ["5.0", "x", " 7", "-3", "12345678901234567890", 1e3, null];
const DOWNLOADED: Json[] = [1, 0, "1", "yes", 2, 1.0, null];
const MEDIA: Json[] = ["image", "video", "multi-video(story page format)", "gif", "Image", null];
const SAVE: Json[] = [
  "Local save in /data/art",
  "/data/art",
  "somewhere",
  "Local save in data",
  "",
  null,
];
const DESCRIPTIONS: Json[] = [
  "No description available",
  "No description available Story format",
  "No description available for this pin",
  "no description available",
  "",
  null,
];
const NUMBERS: Json[] = [
  "north",
  "",
  " 1",
  "1e2",
  91,
  -0.0,
  "45.5.5",
  "-180",
  180.0,
  "1E-5",
  12.345678901234567,
  null,
];
const TIMES: Json[] = [
  "2020-02-30T00:00:00",
  "2020-01-01",
  "2020-01-01 01:02:03",
  "2020-01-01T01:02:03.5",
  "2020-13-01T00:00:00",
  "2020-01-01T24:00:00",
  "2020-01-01T01:02:03Z",
  "2019-02-29T00:00:00",
  "2020-02-29T23:59:59",
  "2020-1-1T00:00:00",
  "2020-01-01T00:00:00.1234567",
  "1969-12-31T23:59:59",
  "0001-01-01T00:00:00",
  1577836800,
  null,
];
const AGES: Json[] = ["forty", "-3", 200, "25.0", " 30", "", 17, 18, 51, 1000, null];
const NAMES: [Json, Json][] = [["Ann", null], [null, "Lee"], [null, null], ["", ""], [" A", "B "]];

/** The edge-case records of each kind; ind 1..N line up across kinds where lists allow. */
export function edgeRecords(): Record<TableKind, SourceRecord[]> {
  const pin: SourceRecord[] = [];
  const rows = Math.max(FOLLOWER_COUNTS.length, INDEXES.length, DESCRIPTIONS.length);
  for (let i = 0; i < rows; i++) {
    const at = <T>(list: T[]): T => list[i % list.length];
    pin.push({
      index: i < INDEXES.length && i % 3 === 2 ? at(INDEXES) : i + 1,
      unique_id: `e0000000-0000-4000-8000-${String(i + 1).padStart(12, "0")}`,
      title: i % 5 === 0 ? "No Title Data Available" : `Title ${i}`,
      description: at(DESCRIPTIONS),
      poster_name: i % 7 === 0 ? "User Info Error" : `Poster ${i % 4}`,
      follower_count: at(FOLLOWER_COUNTS),
      tag_list: i % 6 === 0 ? "N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e" : "a,b",
      is_image_or_video: at(MEDIA),
      image_src: i % 8 === 0 ? "Image src error." : `https://i.pinimg.com/${i}.jpg`,
      downloaded: at(DOWNLOADED),
      save_location: at(SAVE),
      category: i % 9 === 0 ? null : ["art", "travel", "beauty"][i % 3],
    } as SourceRecord);
  }
  const geo: SourceRecord[] = [];
  for (let i = 0; i < Math.max(NUMBERS.length, TIMES.length) + 4; i++) {
    geo.push({
      ind: i + 1,
      timestamp: TIMES[i % TIMES.length],
      latitude: NUMBERS[i % NUMBERS.length],
      longitude: NUMBERS[(i + 3) % NUMBERS.length],
      country: i % 10 === 0 ? null : ["France", "Chile"][i % 2],
    } as SourceRecord);
  }
  const user: SourceRecord[] = [];
  for (let i = 0; i < Math.max(AGES.length, TIMES.length, NAMES.length) + 3; i++) {
    const [first, last] = NAMES[i % NAMES.length];
    user.push({
      ind: i + 1,
      first_name: first,
      last_name: last,
      age: AGES[i % AGES.length],
      date_joined: TIMES[(i + 2) % TIMES.length],
    } as SourceRecord);
  }
  // Fields absent altogether (not null): both readers must give NULL.
  user.push({ ind: 999 } as SourceRecord);
  pin.push(structuredClone(pin[1]));
  // Fields the tables do not have (schema drift): kept out of the raw views, named by the check.
  Object.assign(pin[2], { source_app: "ios" });
  Object.assign(pin[5], { source_app: null });
  Object.assign(geo[0], { extra: { nested: [1, 2] } });
  return { pin, geo, user };
}
