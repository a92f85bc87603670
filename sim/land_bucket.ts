/**
 * Lands records in a local bucket directory exactly as the S3 sink connector
 * would after the producer sent them: one topic per table, partition 0,
 * offsets counted from 0 in send order, one object per `flushSize` records
 * named by its start offset. The simulator uses it to skip the broker while
 * keeping the bytes and the layout Databricks reads.
 *
 * @example
 * ```ts
 * import { landRecords } from "./land_bucket.ts";
 * await landRecords("out/bucket", "0123456789ab.geo", [{ ind: 1 }], { flushSize: 500 });
 * ```
 */
import { dirname, join } from "node:path";
import { objectBody, objectKey, partitionPrefix } from "../src/core/bucket_layout.ts";

/** Writes `records` (any iterable, consumed once) and returns how many objects and records were written. */
export async function landRecords(
  bucketDir: string,
  topic: string,
  records: Iterable<unknown> | AsyncIterable<unknown>,
  { flushSize = 1000, partition = 0 } = {},
): Promise<{ objects: number; records: number }> {
  if (!Number.isSafeInteger(flushSize) || flushSize < 1) {
    throw new Error(`flush size must be a whole number of at least 1, got ${flushSize}`);
  }
  // A fresh partition folder: objects of an earlier, longer run must not linger.
  await Deno.remove(join(bucketDir, partitionPrefix(topic, partition)), { recursive: true })
    .catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
  let offset = 0;
  let objects = 0;
  let chunk: unknown[] = [];
  const flush = async () => {
    if (chunk.length === 0) return;
    const path = join(bucketDir, objectKey(topic, partition, offset - chunk.length));
    if (objects === 0) await Deno.mkdir(dirname(path), { recursive: true });
    await Deno.writeTextFile(path, objectBody(chunk));
    objects += 1;
    chunk = [];
  };
  for await (const record of records) {
    chunk.push(record);
    offset += 1;
    if (chunk.length === flushSize) await flush();
  }
  await flush();
  return { objects, records: offset };
}
