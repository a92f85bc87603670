/**
 * The bucket stage: records per partition in the sink's objects, counted
 * from their offset-derived names (`src/core/bucket_layout.ts`) without
 * reading every object. Objects of a partition tile its offsets, so the
 * records before the last object are the last object's start offset minus
 * the first's; only the last object is read, for its line count, and that
 * count is kept while the object stays the same (size and time, or ETag).
 * Works on a local bucket directory or `s3://name` (ListObjectsV2, GetObject).
 * A local partition folder is listed again only once its modification time
 * changed (the sink renames each object into place, which changes it), and
 * only the last object is looked at: a bucket of many objects costs a stat
 * of each folder and of one file per partition a read, not one of each file.
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
  /** Changes when the object is replaced (the ETag; locally, see `version`). */
  version?: string;
}

/** A bucket's listing and one object's text, local or on S3. */
interface BucketListing {
  readonly location: string;
  list(topic: string): Promise<ObjectEntry[]>;
  /** What changes when the object is replaced; undefined when it is gone. */
  version(entry: ObjectEntry): Promise<string | undefined>;
  text(key: string): Promise<string>;
}

/**
 * A folder changed this long before it was listed is kept by its modification time: any
 * later change gives it a later one, even where times are coarse.
 */
const SETTLED_MS = 1000;

/** A local bucket directory. */
class LocalListing implements BucketListing {
  /** Each partition folder's objects, by folder path, with the modification time they are of. */
  readonly #folders = new Map<string, { mtime: number; entries: ObjectEntry[] }>();

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
      const path = join(base, folder.name);
      const listedAt = Date.now();
      const mtime = (await Deno.stat(path)).mtime?.getTime();
      const kept = this.#folders.get(path);
      if (kept !== undefined && mtime !== undefined && kept.mtime === mtime) {
        entries.push(...kept.entries);
        continue;
      }
      const found: ObjectEntry[] = [];
      for await (const file of Deno.readDir(path)) {
        const key = `topics/${topic}/${folder.name}/${file.name}`;
        const parsed = parseObjectKey(key);
        if (parsed) found.push({ key, ...parsed }); // else not an object of the sink's
      }
      if (mtime !== undefined && listedAt - mtime > SETTLED_MS) {
        this.#folders.set(path, { mtime, entries: found });
      } else this.#folders.delete(path);
      entries.push(...found);
    }
    return entries;
  }

  async version(entry: ObjectEntry): Promise<string | undefined> {
    const info = await Deno.stat(join(this.location, entry.key)).catch((error) => {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    });
    return info && `${info.size}:${info.mtime?.getTime()}`;
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

  version(entry: ObjectEntry): Promise<string | undefined> {
    return Promise.resolve(entry.version);
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
    // A last object gone between the listing and the look at it (replaced): listed again.
    for (let attempt = 0;; attempt++) {
      const counts = await this.#count(topic);
      if (counts !== undefined) return counts;
      if (attempt >= 1) {
        throw new TargetError(`bucket ${this.location}: objects of ${topic} went while counted`);
      }
    }
  }

  /** As `records`; undefined when a last object was gone once looked at. */
  async #count(topic: string): Promise<Map<number, number> | undefined> {
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
      const lines = await this.#linesOf(last);
      if (lines === undefined) return undefined;
      counts.set(partition, last.startOffset - objects[0].startOffset + lines);
    }
    return counts;
  }

  /** The object's lines; undefined when it is gone. */
  async #linesOf(entry: ObjectEntry): Promise<number | undefined> {
    let lines: number;
    let version: string | undefined;
    try {
      version = await this.listing.version(entry);
      if (version === undefined) return undefined;
      const known = this.#lines.get(entry.key);
      if (known?.version === version) return known.lines;
      lines = lineCount(await this.listing.text(entry.key));
    } catch (error) {
      throw new TargetError(`bucket ${this.location}, ${entry.key}: ${(error as Error).message}`);
    }
    this.#lines.set(entry.key, { version, lines });
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
