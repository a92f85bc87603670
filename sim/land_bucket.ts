/**
 * Lands records in a local bucket directory exactly as the S3 sink connector
 * would after the producer sent them: one topic per table, partition 0,
 * offsets counted from 0 in send order, one object per `flushSize` records
 * named by its start offset. The simulator uses it to skip the broker while
 * keeping the bytes and the layout Databricks reads.
 *
 * Each record is encoded straight into one reused byte buffer per object and
 * the object written from it: no joined string, no second copy.
 *
 * @example
 * ```ts
 * import { landRecords } from "./land_bucket.ts";
 * await landRecords("out/bucket", "0123456789ab.geo", [{ ind: 1 }], { flushSize: 500 });
 * ```
 */
import { dirname, join } from "node:path";
import { objectKey, partitionPrefix } from "../src/core/bucket_layout.ts";

/** How many objects and records `landRecords` wrote. */
export interface Landed {
  objects: number;
  records: number;
}

/** How `landRecords` lands: records per object, the partition, and whom to tell of each object. */
export interface LandOptions {
  /** Records per object, as the sink's flush.size (default 1000). */
  flushSize?: number;
  /** The partition the objects go under (default 0). */
  partition?: number;
  /** Called after each object is written, with the records written so far. */
  onObject?: (records: number) => void;
}

/** Writes `records` (any iterable, consumed once) and returns how many objects and records were written. */
export async function landRecords(
  bucketDir: string,
  topic: string,
  records: Iterable<unknown> | AsyncIterable<unknown>,
  { flushSize = 1000, partition = 0, onObject }: LandOptions = {},
): Promise<Landed> {
  if (!Number.isSafeInteger(flushSize) || flushSize < 1) {
    throw new Error(`flush size must be a whole number of at least 1, got ${flushSize}`);
  }
  // A fresh partition folder: objects of an earlier, longer run must not linger.
  await Deno.remove(join(bucketDir, partitionPrefix(topic, partition)), { recursive: true })
    .catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
  const object = new ObjectBuffer();
  let offset = 0;
  let objects = 0;
  let inChunk = 0;
  const flush = async () => {
    if (inChunk === 0) return;
    const path = join(bucketDir, objectKey(topic, partition, offset - inChunk));
    if (objects === 0) await Deno.mkdir(dirname(path), { recursive: true });
    await Deno.writeFile(path, object.bytes());
    object.clear();
    objects += 1;
    inChunk = 0;
    onObject?.(offset);
  };
  const add = async (record: unknown) => {
    object.addLine(JSON.stringify(record));
    offset += 1;
    inChunk += 1;
    if (inChunk === flushSize) await flush();
  };
  // A plain loop where the records come synchronously: `for await` would wait a turn per record.
  if (Symbol.iterator in records) {
    for (const record of records as Iterable<unknown>) await add(record);
  } else {
    for await (const record of records) await add(record);
  }
  await flush();
  return { objects, records: offset };
}

/** One object's body being built: lines encoded as UTF-8 into a buffer that grows as needed. */
class ObjectBuffer {
  #buffer = new Uint8Array(1 << 20);
  #used = 0;
  readonly #encoder = new TextEncoder();

  /** Appends `line` and a newline. */
  addLine(line: string): void {
    // A UTF-16 unit never takes more than 3 bytes in UTF-8.
    const most = line.length * 3 + 1;
    if (this.#used + most > this.#buffer.length) {
      const grown = new Uint8Array(Math.max(this.#buffer.length * 2, this.#used + most));
      grown.set(this.#buffer.subarray(0, this.#used));
      this.#buffer = grown;
    }
    this.#used += this.#encoder.encodeInto(line, this.#buffer.subarray(this.#used)).written;
    this.#buffer[this.#used++] = 10;
  }

  /** The body so far (a view: valid until the next `clear`). */
  bytes(): Uint8Array {
    return this.#buffer.subarray(0, this.#used);
  }

  clear(): void {
    this.#used = 0;
  }
}
