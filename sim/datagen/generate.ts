/**
 * A deterministic generator of the three RDS tables (`pinterest_data`,
 * `geolocation_data`, `user_data`). Every row is a pure function of
 * (seed, position): a 32-bit hash (murmur3's finalizer) of the seed and the
 * position gives the row's state, and each field hashes that state with its
 * own salt. No global mutable state, constant memory, any slice on demand,
 * and the same seed gives the same bytes.
 *
 * Position i of each table describes the same post; the index column holds
 * the same value in all three. About 1% of positions are exact copies of the
 * previous position's row in all three tables (inserted twice), so index
 * values increase, repeat only where a copy stands, and skip the copy's own
 * position.
 *
 * @example
 * ```ts
 * import { DEFAULT_DATASET, generateRows, rowAt } from "./generate.ts";
 * rowAt("geo", 0, DEFAULT_DATASET).ind; // 0
 * for (const row of generateRows("user", { rows: 3, seed: 7 })) console.log(row.first_name);
 * ```
 */
import type { Row } from "../../src/core/records.ts";
import type { TableKind } from "../../src/core/tables.ts";
import {
  CATEGORIES,
  COMMON_WORDS,
  COUNTRIES,
  FIRST_NAMES,
  LAST_NAMES,
  TITLE_ENDINGS,
  TITLE_OPENERS,
} from "./vocabulary.ts";

/** How much data to generate and from which seed. */
export interface DatasetOptions {
  /** Rows per table, copies included. */
  rows: number;
  /** Any safe integer; the same seed gives the same rows. */
  seed: number;
}

/**
 * The original's size and the emulation's fixed seed: 11,000 rows, seed 100.
 *
 * @example
 * ```ts
 * [...generateRows("pin", DEFAULT_DATASET)].length; // 11000
 * ```
 */
export const DEFAULT_DATASET: DatasetOptions = Object.freeze({ rows: 11_000, seed: 100 });

/**
 * The most rows a table can have: the index column is a signed 32-bit INT.
 *
 * @example
 * ```ts
 * validateDatasetOptions({ rows: MAX_ROWS + 1, seed: 1 }); // throws RangeError
 * ```
 */
export const MAX_ROWS = 2_147_483_647;

/**
 * The placeholder texts the original data used for "missing".
 *
 * @example
 * ```ts
 * rowAt("pin", 0, DEFAULT_DATASET).title === PLACEHOLDERS.title; // true for about 2.5% of rows
 * ```
 */
export const PLACEHOLDERS = Object.freeze({
  title: "No Title Data Available",
  descriptionStory: "No description available Story format",
  description: "No description available",
  userInfo: "User Info Error",
  imageSrc: "Image src error.",
  tagList: "N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e",
});

/**
 * The values `is_image_or_video` takes: image 88%, video 5%, story pages 7%.
 *
 * @example
 * ```ts
 * MEDIA_TYPES.includes(rowAt("pin", 0, DEFAULT_DATASET).is_image_or_video as string); // true
 * ```
 */
export const MEDIA_TYPES = Object.freeze(["image", "video", "multi-video(story page format)"]);

/**
 * The 13 category names, most common first.
 *
 * @example
 * ```ts
 * CATEGORY_NAMES[0]; // "travel"
 * ```
 */
export const CATEGORY_NAMES: readonly string[] = CATEGORIES.map((category) => category.name);

/**
 * The share of positions that copy the previous position's row.
 *
 * @example
 * ```ts
 * DUPLICATE_SHARE * DEFAULT_DATASET.rows; // about 110 copies in the default data
 * ```
 */
export const DUPLICATE_SHARE = 0.01;

// ---------------------------------------------------------------- hashing

const TWO32 = 4294967296;
const GOLDEN = 0x9e3779b9;

/** murmur3's 32-bit finalizer: a bijection with full avalanche. */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Four 32-bit words derived from the seed, so each seed permutes positions differently. */
interface SeedWords {
  readonly s0: number;
  readonly s1: number;
  readonly s2: number;
  readonly s3: number;
}

function seedWords(seed: number): SeedWords {
  const lo = seed >>> 0;
  const hi = Math.floor(seed / TWO32) >>> 0;
  const base = mix32(mix32(lo ^ 0x5bd1e995) ^ mix32((hi + 0x27d4eb2f) >>> 0));
  return {
    s0: base,
    s1: mix32(base + 0x165667b1),
    s2: mix32(base + 0x61c88647),
    s3: mix32(base ^ 0x7f4a7c15),
  };
}

/**
 * A row's state: `a` is a bijection of the position (so no two positions of
 * one seed share it), `b` a second, independent word.
 */
interface RowState {
  readonly a: number;
  readonly b: number;
}

function rowState(words: SeedWords, position: number): RowState {
  return {
    a: mix32(mix32(position ^ words.s0) ^ words.s1),
    b: mix32(mix32(((position + GOLDEN) >>> 0) ^ words.s2) ^ words.s3),
  };
}

// Field salts: one per field, so fields draw independently from one state.
const enum F {
  Duplicate = 1,
  Uuid,
  Category,
  TitleMissing,
  TitleForm,
  TitleWords,
  TitleSuffix,
  Media,
  DescriptionMissing,
  DescriptionWords,
  UserInfoError,
  PosterForm,
  PosterWords,
  FollowerForm,
  FollowerValue,
  TagsMissing,
  TagWords,
  ImageMissing,
  ImageHash,
  Downloaded,
  GeoWhen,
  Latitude,
  Longitude,
  Country,
  FirstName,
  LastName,
  Age,
  Joined,
}

/** Draw `k` of field `field` for a row: a uniform 32-bit unsigned integer. */
function draw(state: RowState, field: F, k = 0): number {
  return mix32(
    mix32(state.a ^ ((Math.imul(field, 0x27d4eb2d) + Math.imul(k, GOLDEN)) >>> 0)) ^
      state.b,
  );
}

/** A uniform pick from `list` given a 32-bit draw. */
function pick<T>(list: readonly T[], u: number): T {
  return list[Math.floor((u * list.length) / TWO32)];
}

/** A uniform integer in [low, high] given a 32-bit draw. */
function between(low: number, high: number, u: number): number {
  return low + Math.floor((u * (high - low + 1)) / TWO32);
}

/** True with probability `share` given a 32-bit draw. */
function chance(u: number, share: number): boolean {
  return u < share * TWO32;
}

/** Cumulative 32-bit thresholds for a weighted pick. */
function thresholds(weights: readonly number[]): Float64Array {
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  const cumulative = new Float64Array(weights.length);
  let running = 0;
  weights.forEach((weight, i) => {
    running += weight;
    cumulative[i] = (running / total) * TWO32;
  });
  cumulative[weights.length - 1] = TWO32;
  return cumulative;
}

/** The index of the first threshold above `u` (binary search). */
function weightedIndex(cumulative: Float64Array, u: number): number {
  let low = 0;
  let high = cumulative.length - 1;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (u < cumulative[middle]) high = middle;
    else low = middle + 1;
  }
  return low;
}

// ---------------------------------------------------------------- formatting

const HEX2 = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const PAD2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, "0"));

function hex8(u: number): string {
  return HEX2[u >>> 24] + HEX2[(u >>> 16) & 255] + HEX2[(u >>> 8) & 255] + HEX2[u & 255];
}

function hex4(u: number): string {
  return HEX2[(u >>> 8) & 255] + HEX2[u & 255];
}

/** A version 4, variant 1 UUID from four 32-bit words. */
function uuid4(w0: number, w1: number, w2: number, w3: number): string {
  const timeHigh = 0x4000 | (w1 & 0x0fff);
  const clockSeq = 0x8000 | ((w2 >>> 16) & 0x3fff);
  return `${hex8(w0)}-${hex4(w1 >>> 16)}-${hex4(timeHigh)}-${hex4(clockSeq)}-${hex4(w2)}${
    hex8(w3)
  }`;
}

/**
 * Seconds since the epoch as DATETIME text, UTC, without `Date` (Howard
 * Hinnant's civil-from-days), since `Date` is slow in the hot loop.
 *
 * @example
 * ```ts
 * formatDatetime(1598586767); // "2020-08-28 03:52:47"
 * ```
 */
export function formatDatetime(epochSeconds: number): string {
  const days = Math.floor(epochSeconds / 86400);
  const secondOfDay = epochSeconds - days * 86400;
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const dayOfEra = z - era * 146097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) -
      Math.floor(dayOfEra / 146096)) / 365,
  );
  const dayOfYear = dayOfEra -
    (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const hour = Math.floor(secondOfDay / 3600);
  const minute = Math.floor((secondOfDay % 3600) / 60);
  const second = secondOfDay % 60;
  return `${year}-${PAD2[month]}-${PAD2[day]} ${PAD2[hour]}:${PAD2[minute]}:${PAD2[second]}`;
}

const capitalize = (word: string): string => word[0].toUpperCase() + word.slice(1);
const titleCase = (phrase: string): string => phrase.split(" ").map(capitalize).join(" ");

// ---------------------------------------------------------------- value tables

const CATEGORY_THRESHOLDS = thresholds(CATEGORIES.map((category) => category.permille));
/** A category's words in the spellings the fields use, prepared once, not per row. */
interface Vocabulary {
  readonly words: readonly string[];
  readonly titled: readonly string[];
  readonly capitalized: readonly string[];
  readonly hashtags: readonly string[];
}
const VOCABULARIES: readonly Vocabulary[] = CATEGORIES.map(({ words }) => ({
  words,
  titled: words.map(titleCase),
  capitalized: words.map(capitalize),
  hashtags: words.map((word) => "#" + word.replaceAll(" ", "")),
}));
const OPENERS_LOWER = TITLE_OPENERS.map((word) => word.toLowerCase());
const ENDINGS_LOWER = TITLE_ENDINGS.map((word) => word.toLowerCase());
const SAVE_LOCATIONS = CATEGORIES.map((category) => `Local save in /data/${category.name}`);
const TAG_SUFFIXES = ["Ideas", "Inspiration", "Tutorial", "Design", "Style", "Diy", "Aesthetic"];
const TITLE_SUFFIXES = [" ✨", " 🎄", " — Part 2", " (Updated)", " 😍", " | Step-by-Step"];
const BRAND_SUFFIXES = ["Studio", "Co.", "Magazine", "Blog", "& Co", "Daily", "Club", "Lab"];
const IMAGE_EXTENSIONS = ["jpg", "jpg", "jpg", "jpg", "jpg", "jpg", "png", "png", "gif", "jpg"];

// Zipf-like skew: the first countries are far more common than the last.
const COUNTRY_THRESHOLDS = thresholds(COUNTRIES.map((_, rank) => 1 / Math.pow(rank + 4, 1.1)));

// Ages 20..61, most users in their late twenties and early thirties.
const AGE_LOW = 20;
const AGE_THRESHOLDS = thresholds(
  Array.from({ length: 42 }, (_, i) => {
    const age = AGE_LOW + i;
    if (age < 25) return 3;
    if (age <= 35) return 4;
    if (age <= 45) return 2.5;
    if (age <= 55) return 1.5;
    return 0.7;
  }),
);

// Epoch seconds at the start of the years the datetimes span.
const Y2015 = 1420070400;
const Y2018 = 1514764800;
const Y2021 = 1609459200;
const Y2023 = 1672531200;

// ---------------------------------------------------------------- the three tables

/** follower_count as the scraper printed it: "0", "892", "1.2k", "51k", "2.5M", "3B". */
function followerCount(state: RowState): string {
  const form = draw(state, F.FollowerForm) / TWO32;
  const u = draw(state, F.FollowerValue) / TWO32;
  if (form < 0.02) return "0";
  if (form < 0.30) return String(Math.min(999, Math.floor(Math.exp(u * Math.log(1000)))));
  // Tenths of the unit, log-uniform, so small counts are more common.
  const [unit, top] = form < 0.88 ? ["k", 1000] : form < 0.997 ? ["M", 100] : ["B", 4];
  const tenths = Math.max(10, Math.floor(10 * Math.exp(u * Math.log(top))));
  if (tenths >= 100 || tenths % 10 === 0) return `${Math.floor(tenths / 10)}${unit}`;
  return `${Math.floor(tenths / 10)}.${tenths % 10}${unit}`;
}

/** An index into a list of `length` entries given a 32-bit draw. */
function indexOf(length: number, u: number): number {
  return Math.floor((u * length) / TWO32);
}

function title(state: RowState, vocabulary: Vocabulary): string {
  if (chance(draw(state, F.TitleMissing), 0.025)) return PLACEHOLDERS.title;
  const { words, titled } = vocabulary;
  const firstAt = indexOf(words.length, draw(state, F.TitleWords, 0));
  // Any other word of the category, so a title never repeats its topic.
  const secondAt = (firstAt + between(1, words.length - 1, draw(state, F.TitleWords, 1))) %
    words.length;
  const openerAt = indexOf(TITLE_OPENERS.length, draw(state, F.TitleWords, 2));
  const endingAt = indexOf(TITLE_ENDINGS.length, draw(state, F.TitleWords, 3));
  const opener = TITLE_OPENERS[openerAt];
  const ending = TITLE_ENDINGS[endingAt];
  let text: string;
  switch (draw(state, F.TitleForm) % 5) {
    case 0:
      text = `${opener} ${titled[firstAt]} ${titled[secondAt]} ${ending}`;
      break;
    case 1:
      text = `${titled[firstAt]} ${ending}`;
      break;
    case 2:
      text = `${opener} ${words[firstAt]} ${ending}, ${words[secondAt]} and more`;
      break;
    case 3:
      text = `"${titled[firstAt]}" ${ending}`;
      break;
    default:
      text = `${titled[firstAt]}: ${OPENERS_LOWER[openerAt]} ${words[secondAt]} ${
        ENDINGS_LOWER[endingAt]
      }`;
  }
  const suffix = draw(state, F.TitleSuffix);
  return chance(suffix, 0.08) ? text + pick(TITLE_SUFFIXES, mix32(suffix)) : text;
}

function description(state: RowState, vocabulary: Vocabulary, media: string): string {
  const { words, capitalized, hashtags } = vocabulary;
  const missing = draw(state, F.DescriptionMissing);
  if (media === MEDIA_TYPES[2] && chance(missing, 0.35)) return PLACEHOLDERS.descriptionStory;
  if (chance(mix32(missing), 0.012)) return PLACEHOLDERS.description;
  const sentences = between(1, 3, draw(state, F.DescriptionWords, 0));
  // Words gathered in an array and joined once: a flat string, which serializes
  // far faster than a rope of many small concatenations.
  const parts: string[] = [];
  let k = 1;
  for (let s = 0; s < sentences; s++) {
    const shape = draw(state, F.DescriptionWords, k++);
    const length = 5 + (shape & 7) + ((shape >>> 3) & 3); // 5..15 words, middle-heavy
    const topic = capitalized[indexOf(words.length, mix32(shape))]; // the sentence's topic
    parts.push(s === 0 ? topic : `"${topic}"`);
    // One 32-bit draw gives four word picks (a byte each).
    for (let w = 0; w < length; w += 4) {
      const bytes = draw(state, F.DescriptionWords, k++);
      for (let b = 0; b < 4 && w + b < length; b++) {
        const byte = (bytes >>> (b * 8)) & 255;
        parts.push(COMMON_WORDS[(byte * COMMON_WORDS.length) >>> 8]);
      }
    }
    parts[parts.length - 1] += s === sentences - 1 ? "!" : ".";
  }
  const hashtag = draw(state, F.DescriptionWords, k);
  if (chance(hashtag, 0.2)) parts.push(hashtags[indexOf(words.length, mix32(hashtag))]);
  return parts.join(" ");
}

function posterName(state: RowState, vocabulary: Vocabulary): string {
  const form = draw(state, F.PosterForm) % 10;
  const first = pick(FIRST_NAMES, draw(state, F.PosterWords, 0));
  if (form < 4) return `${first} ${pick(LAST_NAMES, draw(state, F.PosterWords, 1))}`;
  const topic = pick(vocabulary.titled, draw(state, F.PosterWords, 2));
  if (form < 8) return `${topic} ${pick(BRAND_SUFFIXES, draw(state, F.PosterWords, 3))}`;
  return `${first}'s ${topic}`;
}

function tagList(state: RowState, category: number): string {
  if (chance(draw(state, F.TagsMissing), 0.02)) return PLACEHOLDERS.tagList;
  const tags = VOCABULARIES[category].titled;
  const shape = draw(state, F.TagWords, 0);
  const count = 3 + (shape % 6); // 3..8 tags, fewer than a category's words
  const start = Math.floor(((shape >>> 3) * tags.length) / 536870912);
  let text = "";
  for (let t = 0; t < count; t++) {
    // Consecutive words from a random start: no tag twice in one list.
    const tag = tags[(start + t) % tags.length];
    const u = draw(state, F.TagWords, t + 1);
    text += (t === 0 ? "" : ",") +
      (u % 3 === 0 ? `${tag} ${TAG_SUFFIXES[mix32(u) % TAG_SUFFIXES.length]}` : tag);
  }
  return text;
}

function imageSrc(state: RowState): string {
  const hash = hex8(draw(state, F.ImageHash, 0)) + hex8(draw(state, F.ImageHash, 1)) +
    hex8(draw(state, F.ImageHash, 2)) + hex8(draw(state, F.ImageHash, 3));
  const extension = pick(IMAGE_EXTENSIONS, draw(state, F.ImageHash, 4));
  return `https://i.pinimg.com/originals/${hash.slice(0, 2)}/${hash.slice(2, 4)}/${
    hash.slice(4, 6)
  }/${hash}.${extension}`;
}

function pinRow(index: number, state: RowState): Row {
  const category = weightedIndex(CATEGORY_THRESHOLDS, draw(state, F.Category));
  const vocabulary = VOCABULARIES[category];
  const media = mediaType(draw(state, F.Media));
  const userInfoError = chance(draw(state, F.UserInfoError), 0.015);
  const imageMissing = chance(draw(state, F.ImageMissing), 0.01);
  return {
    index,
    unique_id: uuid4(
      mix32(state.a ^ 0x3c6ef372), // a bijection of the position: ids never repeat
      draw(state, F.Uuid, 1),
      draw(state, F.Uuid, 2),
      draw(state, F.Uuid, 3),
    ),
    title: title(state, vocabulary),
    description: description(state, vocabulary, media),
    poster_name: userInfoError ? PLACEHOLDERS.userInfo : posterName(state, vocabulary),
    follower_count: userInfoError ? PLACEHOLDERS.userInfo : followerCount(state),
    tag_list: tagList(state, category),
    is_image_or_video: media,
    image_src: imageMissing ? PLACEHOLDERS.imageSrc : imageSrc(state),
    downloaded: !imageMissing && chance(draw(state, F.Downloaded), 0.92) ? 1 : 0,
    save_location: SAVE_LOCATIONS[category],
    category: CATEGORY_NAMES[category],
  };
}

/** image 88%, video 5%, story 7%. */
function mediaType(u: number): string {
  if (chance(u, 0.88)) return MEDIA_TYPES[0];
  return chance(u, 0.93) ? MEDIA_TYPES[1] : MEDIA_TYPES[2];
}

/**
 * A coordinate with at most 6 significant digits, so a MariaDB FLOAT (single
 * precision, 6 reliable digits) gives back exactly the same decimal text.
 */
function coordinate(u: number, limit: number): number {
  let tenThousandths = Math.floor((u * (2 * limit * 10000 + 1)) / TWO32) - limit * 10000;
  // Three digits before the point leave room for three after it, not four.
  if (Math.abs(tenThousandths) >= 1_000_000) {
    tenThousandths = Math.trunc(tenThousandths / 10) * 10;
  }
  return tenThousandths === 0 ? 0 : tenThousandths / 10000;
}

function geoRow(ind: number, state: RowState): Row {
  const when = draw(state, F.GeoWhen, 0);
  const recent = chance(draw(state, F.GeoWhen, 1), 0.8);
  const seconds = recent ? between(Y2018, Y2023 - 1, when) : between(Y2015, Y2018 - 1, when);
  return {
    ind,
    timestamp: formatDatetime(seconds),
    latitude: coordinate(draw(state, F.Latitude), 90),
    longitude: coordinate(draw(state, F.Longitude), 180),
    country: COUNTRIES[weightedIndex(COUNTRY_THRESHOLDS, draw(state, F.Country))],
  };
}

function userRow(ind: number, state: RowState): Row {
  const joined = draw(state, F.Joined, 0);
  const early = chance(draw(state, F.Joined, 1), 0.95);
  return {
    ind,
    first_name: pick(FIRST_NAMES, draw(state, F.FirstName)),
    last_name: pick(LAST_NAMES, draw(state, F.LastName)),
    age: AGE_LOW + weightedIndex(AGE_THRESHOLDS, draw(state, F.Age)),
    date_joined: formatDatetime(
      early ? between(Y2015, Y2018 - 1, joined) : between(Y2018, Y2021 - 1, joined),
    ),
  };
}

const BUILDERS: Record<TableKind, (index: number, state: RowState) => Row> = {
  pin: pinRow,
  geo: geoRow,
  user: userRow,
};

// ---------------------------------------------------------------- public API

/**
 * Throws a RangeError naming the bad option unless `options` is usable.
 *
 * @example
 * ```ts
 * validateDatasetOptions({ rows: 0, seed: 1 }); // RangeError: rows must be a whole number from 1 to ...
 * ```
 */
export function validateDatasetOptions(options: DatasetOptions): void {
  if (!Number.isSafeInteger(options.rows) || options.rows < 1 || options.rows > MAX_ROWS) {
    throw new RangeError(`rows must be a whole number from 1 to ${MAX_ROWS}, got ${options.rows}`);
  }
  if (!Number.isSafeInteger(options.seed)) {
    throw new RangeError(`seed must be a safe integer, got ${options.seed}`);
  }
}

function checkPosition(position: number, options: DatasetOptions): void {
  if (!Number.isSafeInteger(position) || position < 0 || position >= options.rows) {
    throw new RangeError(
      `position must be a whole number from 0 to ${options.rows - 1}, got ${position}`,
    );
  }
}

function duplicateAt(words: SeedWords, position: number): boolean {
  return position > 0 && chance(draw(rowState(words, position), F.Duplicate), DUPLICATE_SHARE);
}

/**
 * Whether the row at `position` copies the previous position's row (in all
 * three tables). Position 0 never does.
 *
 * @example
 * ```ts
 * isDuplicatePosition(0, DEFAULT_DATASET); // false
 * ```
 */
export function isDuplicatePosition(position: number, options: DatasetOptions): boolean {
  validateDatasetOptions(options);
  checkPosition(position, options);
  return duplicateAt(seedWords(options.seed), position);
}

/**
 * Row `position` (0 <= position < rows) of table `kind`, as the database
 * holds it: ints and FLOATs as numbers, DATETIMEs as "YYYY-MM-DD HH:MM:SS".
 *
 * @example
 * ```ts
 * const row = rowAt("user", 5, DEFAULT_DATASET);
 * row.ind === rowAt("pin", 5, DEFAULT_DATASET).index; // true
 * ```
 */
export function rowAt(kind: TableKind, position: number, options: DatasetOptions): Row {
  validateDatasetOptions(options);
  checkPosition(position, options);
  const words = seedWords(options.seed);
  // A copy stands for the nearest earlier original; runs of copies are rare and short.
  let source = position;
  while (duplicateAt(words, source)) source--;
  return BUILDERS[kind](source, rowState(words, source));
}

/**
 * Every row of table `kind` in position order, lazily and in constant memory.
 *
 * @example
 * ```ts
 * let rows = 0;
 * for (const _ of generateRows("geo", { rows: 100, seed: 1 })) rows++;
 * rows; // 100
 * ```
 */
export function* generateRows(kind: TableKind, options: DatasetOptions): Generator<Row> {
  validateDatasetOptions(options);
  const words = seedWords(options.seed);
  const build = BUILDERS[kind];
  let source = 0;
  for (let position = 0; position < options.rows; position++) {
    // A copy is rebuilt from its source, so callers never share one object.
    if (!duplicateAt(words, position)) source = position;
    yield build(source, rowState(words, source));
  }
}
