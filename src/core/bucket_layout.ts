/**
 * The object keys the Confluent S3 sink connector writes, with
 * `DefaultPartitioner` and `JsonFormat`:
 * `topics/<topic>/partition=<p>/<topic>+<p>+<start offset, 10 digits>.json`,
 * one JSON record per line. Names derive from offsets, so a replay rewrites
 * the same object instead of adding a duplicate. The sink and the simulator
 * both name objects here, and a local bucket's topic folder is listed here.
 *
 * @example
 * ```ts
 * import { objectKey } from "./bucket_layout.ts";
 * objectKey("0123456789ab.pin", 0, 42); // "topics/0123456789ab.pin/partition=0/0123456789ab.pin+0+0000000042.json"
 * ```
 */

/** The key of the object whose first record is at `startOffset`. */
export function objectKey(topic: string, partition: number, startOffset: number): string {
  if (!Number.isSafeInteger(startOffset) || startOffset < 0) {
    throw new Error(`start offset ${startOffset} of ${topic} is not a non-negative integer`);
  }
  return `${partitionPrefix(topic, partition)}/${topic}+${partition}+${
    String(startOffset).padStart(10, "0")
  }.json`;
}

/** The folder of one topic partition: `topics/<topic>/partition=<p>`. */
export function partitionPrefix(topic: string, partition: number): string {
  return `topics/${topic}/partition=${partition}`;
}

/** The object body: one JSON record per line, each line ending in a newline. */
export function objectBody(records: readonly unknown[]): string {
  return records.map((record) => JSON.stringify(record) + "\n").join("");
}

/** How many records an object body holds: its lines. */
export function recordsIn(body: string): number {
  let records = 0;
  for (let at = body.indexOf("\n"); at !== -1; at = body.indexOf("\n", at + 1)) records++;
  return records;
}

/** Parses an object key back into topic, partition and start offset, or null. */
export function parseObjectKey(
  key: string,
): { topic: string; partition: number; startOffset: number } | null {
  const match = /(?:^|\/)topics\/([^/]+)\/partition=(\d+)\/\1\+\2\+(\d{10})\.json$/.exec(key);
  if (!match) return null;
  return { topic: match[1], partition: Number(match[2]), startOffset: Number(match[3]) };
}

/**
 * The files in the folders of one topic's folder of a local bucket
 * (`<bucket>/topics/<topic>`), as `<folder>/<name>` below it, sorted; none
 * when the topic has no folder yet. What is not an object (a stray file,
 * another folder's) is the caller's to skip or refuse.
 */
export async function listTopicFolder(topicDir: string): Promise<string[]> {
  const files: string[] = [];
  try {
    for await (const folder of Deno.readDir(topicDir)) {
      if (!folder.isDirectory) continue;
      for await (const file of Deno.readDir(`${topicDir}/${folder.name}`)) {
        if (file.isFile) files.push(`${folder.name}/${file.name}`);
      }
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return files.sort();
}
