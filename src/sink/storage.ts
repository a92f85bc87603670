/**
 * Where the sink writes objects: a local directory laid out like the bucket
 * (the default, and what the tests use), or an S3 bucket (`s3://name`, with
 * an optional endpoint for S3-compatible servers). Both replace an object of
 * the same key whole: locally by writing a temp file and renaming it, so a
 * partial object never stands; on S3 because PutObject is atomic.
 *
 * @example
 * ```ts
 * import { openBucket } from "./storage.ts";
 * const bucket = await openBucket(".local/bucket/user-0123456789ab-bucket");
 * await bucket.put("topics/t/partition=0/t+0+0000000000.json", '{"a":1}\n');
 * ```
 */
import { dirname, join } from "node:path";
import { DEFAULT_AWS_REGION } from "../core/config.ts";

/** A place objects are written to. */
export interface Bucket {
  /** Where it is, for messages: a directory path or `s3://name`. */
  readonly location: string;
  /** Writes `body` under `key`, replacing any object of that key whole. */
  put(key: string, body: string): Promise<void>;
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
      const data = new TextEncoder().encode(body);
      let written = 0;
      while (written < data.length) written += await file.write(data.subarray(written));
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(temp, path);
  }
}

/** An S3 bucket, written with PutObject. */
export class S3Bucket implements Bucket {
  readonly location: string;

  private constructor(
    private client: { send(command: unknown): Promise<unknown> },
    private PutObject: new (input: Record<string, unknown>) => unknown,
    readonly name: string,
  ) {
    this.location = `s3://${name}`;
  }

  /** Opens `s3://name` (the AWS credential chain), or an S3-compatible `endpoint`. */
  static async open(name: string, region: string, endpoint?: string): Promise<S3Bucket> {
    const { S3Client, PutObjectCommand } = await import("@aws-sdk/client-s3");
    const { NodeHttpHandler } = await import("@smithy/node-http-handler");
    const client = new S3Client({
      region,
      ...(endpoint
        ? { endpoint, forcePathStyle: true, requestHandler: new NodeHttpHandler() }
        : {}),
    });
    return new S3Bucket(
      client as unknown as { send(command: unknown): Promise<unknown> },
      PutObjectCommand as unknown as new (input: Record<string, unknown>) => unknown,
      name,
    );
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
}

/** Opens `location`: `s3://name` or a local directory. */
export function openBucket(
  location: string,
  { region = DEFAULT_AWS_REGION, endpoint }: { region?: string; endpoint?: string } = {},
): Promise<Bucket> {
  const s3 = /^s3:\/\/([^/]+)\/?$/.exec(location);
  if (s3) return S3Bucket.open(s3[1], region, endpoint);
  if (location.startsWith("s3://")) {
    return Promise.reject(new Error(`bucket "${location}" must be s3://name, without a path`));
  }
  return Promise.resolve(new LocalBucket(location));
}
