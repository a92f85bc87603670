/**
 * The bucket stage: records per partition in the sink's objects, counted
 * from their offset-derived names (`src/core/bucket_layout.ts`) without
 * reading every object. Objects of a partition tile its offsets, so the
 * records before the last object are the last object's start offset minus
 * the first's; only the last object is read, for its line count, and that
 * count is kept while the object stays the same (size and time, or ETag).
 * Works on a local bucket directory or `s3://name` (ListObjectsV2, GetObject).
 *
 * @example
 * ```ts
 * import { openBucketReader } from "./bucket_reader.ts";
 * const bucket = await openBucketReader(".local/bucket/user-0123456789ab-bucket");
 * await bucket.records("0123456789ab.pin"); // Map { 0 => 11000 }
 * ```
 */
import { join } from "node:path";
import type { S3Client } from "@aws-sdk/client-s3";
import { parseObjectKey } from "../core/bucket_layout.ts";
import { TargetError } from "../core/errors.ts";
import { isS3Location, s3BucketName } from "../util/s3_location.ts";

/** One object of a partition: where it starts and what identifies its version. */
interface ObjectEntry {
  key: string;
  partition: number;
  startOffset: number;
  /** Changes when the object is replaced (size and mtime, or ETag). */
  version: string;
}

/** A bucket's listing and one object's text, local or on S3. */
interface BucketListing {
  readonly location: string;
  list(topic: string): Promise<ObjectEntry[]>;
  text(key: string): Promise<string>;
}

/** A local bucket directory. */
class LocalListing implements BucketListing {
  constructor(readonly location: string) {}

  async list(topic: string): Promise<ObjectEntry[]> {
    const entries: ObjectEntry[] = [];
    const base = join(this.location, "topics", topic);
    let folders: Deno.DirEntry[];
    try {
      folders = await Array.fromAsync(Deno.readDir(base));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return []; // nothing written yet
      throw error;
    }
    for (const folder of folders) {
      for await (const file of Deno.readDir(join(base, folder.name))) {
        const key = `topics/${topic}/${folder.name}/${file.name}`;
        const parsed = parseObjectKey(key);
        if (!parsed) continue; // not an object of the sink's
        const info = await Deno.stat(join(this.location, key)).catch(() => undefined);
        if (!info) continue; // replaced between the listing and the stat
        entries.push({ key, ...parsed, version: `${info.size}:${info.mtime?.getTime()}` });
      }
    }
    return entries;
  }

  text(key: string): Promise<string> {
    return Deno.readTextFile(join(this.location, key));
  }
}

/** An S3 bucket. */
class S3Listing implements BucketListing {
  readonly location: string;

  constructor(
    private client: S3Client,
    private sdk: typeof import("@aws-sdk/client-s3"),
    readonly name: string,
  ) {
    this.location = `s3://${name}`;
  }

  async list(topic: string): Promise<ObjectEntry[]> {
    const entries: ObjectEntry[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new this.sdk.ListObjectsV2Command({
          Bucket: this.name,
          Prefix: `topics/${topic}/`,
          ContinuationToken: token,
        }),
      );
      for (const object of page.Contents ?? []) {
        const parsed = object.Key ? parseObjectKey(object.Key) : null;
        if (parsed) entries.push({ key: object.Key!, ...parsed, version: String(object.ETag) });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return entries;
  }

  async text(key: string): Promise<string> {
    const answer = await this.client.send(
      new this.sdk.GetObjectCommand({ Bucket: this.name, Key: key }),
    );
    return await answer.Body!.transformToString();
  }
}

/** Lines in an object body: one record per newline-ended line. */
export function lineCount(text: string): number {
  let lines = 0;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) lines++;
  // A last line without its newline is a record too.
  return text.length > 0 && !text.endsWith("\n") ? lines + 1 : lines;
}

/** Counts records per partition of a topic in the bucket. */
export class BucketReader {
  /** Line counts of last objects, by key and version. */
  #lines = new Map<string, { version: string; lines: number }>();

  constructor(readonly listing: BucketListing) {}

  get location(): string {
    return this.listing.location;
  }

  /**
   * Records per partition of `topic`: from the first object's start to the
   * last object's end (the last object's start plus its lines).
   */
  async records(topic: string): Promise<Map<number, number>> {
    let entries: ObjectEntry[];
    try {
      entries = await this.listing.list(topic);
    } catch (error) {
      throw new TargetError(`bucket ${this.location}: ${(error as Error).message}`);
    }
    const byPartition = new Map<number, ObjectEntry[]>();
    for (const entry of entries) {
      byPartition.set(entry.partition, [...(byPartition.get(entry.partition) ?? []), entry]);
    }
    const counts = new Map<number, number>();
    for (const [partition, objects] of byPartition) {
      objects.sort((a, b) => a.startOffset - b.startOffset);
      const last = objects.at(-1)!;
      counts.set(partition, last.startOffset - objects[0].startOffset + await this.#linesOf(last));
    }
    return counts;
  }

  async #linesOf(entry: ObjectEntry): Promise<number> {
    const known = this.#lines.get(entry.key);
    if (known?.version === entry.version) return known.lines;
    let lines: number;
    try {
      lines = lineCount(await this.listing.text(entry.key));
    } catch (error) {
      throw new TargetError(`bucket ${this.location}, ${entry.key}: ${(error as Error).message}`);
    }
    this.#lines.set(entry.key, { version: entry.version, lines });
    return lines;
  }
}

/** A reader for `location`: a local directory, or `s3://name` (optionally an S3-compatible endpoint). */
export async function openBucketReader(
  location: string,
  { region, endpoint }: { region?: string; endpoint?: string } = {},
): Promise<BucketReader> {
  if (!isS3Location(location)) return new BucketReader(new LocalListing(location));
  const name = s3BucketName(location);
  // Loaded only for an s3:// bucket: the SDK is large.
  const sdk = await import("@aws-sdk/client-s3");
  const { s3Client } = await import("../util/s3_client.ts");
  const client = s3Client({ region: region ?? "us-east-1", endpoint });
  return new BucketReader(new S3Listing(client, sdk, name));
}
