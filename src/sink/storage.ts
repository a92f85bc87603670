/**
 * Where the sink writes objects: a local directory laid out like the bucket
 * (the default, and what the tests use), or an S3 bucket (`s3://name`, with
 * an optional endpoint for S3-compatible servers). Both replace an object of
 * the same key whole: locally by writing a temp file and renaming it, so a
 * partial object never stands, and a failed write removes its temp file;
 * on S3 because PutObject is atomic. `get` reads an object back (the sink
 * reads the one at a partition's committed offset, to adopt its extent).
 *
 * @example
 * ```ts
 * import { openBucket } from "./storage.ts";
 * const bucket = await openBucket(".local/bucket/user-0123456789ab-bucket");
 * await bucket.put("topics/t/partition=0/t+0+0000000000.json", '{"a":1}\n');
 * ```
 */
import { dirname, join } from "node:path";
import type { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { DEFAULT_AWS_REGION } from "../core/config.ts";
import { isS3Location, s3BucketName } from "../util/s3_location.ts";

/** A place objects are written to. */
export interface Bucket {
  /** Where it is, for messages: a directory path or `s3://name`. */
  readonly location: string;
  /** Writes `body` under `key`, replacing any object of that key whole. */
  put(key: string, body: string): Promise<void>;
  /** The body of the object at `key`, or undefined when there is none. */
  get(key: string): Promise<string | undefined>;
}

/** The folder of a local bucket where objects are written before being renamed into place. */
export const TEMP_DIR = ".pinpipe-tmp";

/** A local directory holding objects at their keys. */
export class LocalBucket implements Bucket {
  constructor(readonly location: string) {}

  async put(key: string, body: string): Promise<void> {
    const path = join(this.location, key);
    await Deno.mkdir(dirname(path), { recursive: true });
    // Temp files live beside topics/, in the same file system, so the rename is atomic and
    // a reader of topics/ never sees a partial object, even one a crash left behind.
    const temps = join(this.location, TEMP_DIR);
    await Deno.mkdir(temps, { recursive: true });
    const temp = join(temps, `${crypto.randomUUID()}.tmp`);
    const file = await Deno.open(temp, { write: true, createNew: true });
    try {
      try {
        const data = new TextEncoder().encode(body);
        let written = 0;
        while (written < data.length) written += await file.write(data.subarray(written));
        await file.sync();
      } finally {
        file.close();
      }
      await Deno.rename(temp, path);
    } catch (error) {
      // A failed write (a full disk) leaves no temp file behind; the object is written again.
      await Deno.remove(temp).catch(() => {});
      throw error;
    }
  }

  async get(key: string): Promise<string | undefined> {
    try {
      return await Deno.readTextFile(join(this.location, key));
    } catch (error) {
      // A file where a folder of the key should be holds no object either; the put names it.
      if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
        return undefined;
      }
      throw error;
    }
  }
}

/** An S3 bucket, written with PutObject. */
export class S3Bucket implements Bucket {
  readonly location: string;

  private constructor(
    private client: S3Client,
    private PutObject: typeof PutObjectCommand,
    private GetObject: typeof GetObjectCommand,
    readonly name: string,
  ) {
    this.location = `s3://${name}`;
  }

  /** Opens `s3://name` (the AWS credential chain), or an S3-compatible `endpoint`. */
  static async open(name: string, region: string, endpoint?: string): Promise<S3Bucket> {
    // Loaded only for an s3:// bucket: the SDK is large, and the local sink never needs it.
    const { GetObjectCommand, PutObjectCommand } = await import("@aws-sdk/client-s3");
    const { s3Client } = await import("../util/s3_client.ts");
    return new S3Bucket(s3Client({ region, endpoint }), PutObjectCommand, GetObjectCommand, name);
  }

  async put(key: string, body: string): Promise<void> {
    await this.client.send(
      new this.PutObject({
        Bucket: this.name,
        Key: key,
        Body: body,
        ContentType: "application/json",
      }),
    );
  }

  async get(key: string): Promise<string | undefined> {
    try {
      const object = await this.client.send(new this.GetObject({ Bucket: this.name, Key: key }));
      return await object.Body?.transformToString() ?? "";
    } catch (error) {
      if ((error as Error).name === "NoSuchKey") return undefined;
      throw error;
    }
  }
}

/** Opens `location`: `s3://name` or a local directory. */
export function openBucket(
  location: string,
  { region = DEFAULT_AWS_REGION, endpoint }: { region?: string; endpoint?: string } = {},
): Promise<Bucket> {
  if (isS3Location(location)) {
    try {
      return S3Bucket.open(s3BucketName(location), region, endpoint);
    } catch (error) {
      return Promise.reject(error);
    }
  }
  return Promise.resolve(new LocalBucket(location));
}
