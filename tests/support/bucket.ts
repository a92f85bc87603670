/**
 * Reading a local bucket directory back as the sink wrote it, and comparing
 * records as multisets.
 *
 * @example
 * ```ts
 * import { multiset, readBucket } from "./bucket.ts";
 * const objects = await readBucket("/tmp/bucket", "0123456789ab.geo");
 * multiset(objects.flatMap((o) => o.records));
 * ```
 */
import { join } from "node:path";
import { parseObjectKey } from "../../src/core/bucket_layout.ts";

/** One object of the bucket: its topic, partition, start offset and records. */
export interface BucketObject {
  key: string;
  topic: string;
  partition: number;
  startOffset: number;
  records: unknown[];
}

/** Every object under `topics/<topic>/` in a local bucket, by start offset; other files fail. */
export async function readBucket(dir: string, topic: string): Promise<BucketObject[]> {
  const objects: BucketObject[] = [];
  const base = join(dir, "topics", topic);
  let partitions: Deno.DirEntry[] = [];
  try {
    partitions = [...Deno.readDirSync(base)];
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  for (const folder of partitions) {
    for (const file of Deno.readDirSync(join(base, folder.name))) {
      const key = `topics/${topic}/${folder.name}/${file.name}`;
      const parsed = parseObjectKey(key);
      if (!parsed) throw new Error(`unexpected file in the bucket: ${key}`);
      const text = await Deno.readTextFile(join(dir, key));
      if (!text.endsWith("\n")) throw new Error(`${key} does not end with a newline`);
      objects.push({
        key,
        ...parsed,
        records: text.slice(0, -1).split("\n").map((line) => JSON.parse(line)),
      });
    }
  }
  return objects.sort((a, b) => a.partition - b.partition || a.startOffset - b.startOffset);
}

/** Sorted JSON texts: comparing two of these compares multisets of records. */
export function multiset(records: readonly unknown[]): string[] {
  return records.map((record) => JSON.stringify(record)).sort();
}

/** How many objects the bucket directory holds so far (0 before the first). */
export function countObjects(bucket: string): number {
  let count = 0;
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(dir)) {
      if (entry.isDirectory) walk(join(dir, entry.name));
      else if (entry.name.endsWith(".json")) count++;
    }
  };
  try {
    walk(join(bucket, "topics"));
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return count;
}
