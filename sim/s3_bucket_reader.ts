/**
 * Brings the pipeline's objects from an S3 bucket (`s3://name`, AWS through
 * the credential chain, or an S3-compatible endpoint) into a local folder
 * with the same keys, so the simulator reads exactly the bytes the sink or
 * the connector wrote: each object is listed, then streamed to its file,
 * a few at a time, with a progress line every few seconds on a large bucket.
 *
 * @example
 * ```ts
 * import { copyS3Objects } from "./s3_bucket_reader.ts";
 * await copyS3Objects({
 *   bucket: "user-0123456789ab-bucket",
 *   prefixes: ["topics/0123456789ab.pin/"],
 *   toDir: "out/sim/bucket/user-0123456789ab-bucket",
 *   region: "us-east-1",
 *   endpoint: "http://127.0.0.1:14566",
 * });
 * ```
 */
import { dirname, join } from "node:path";
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { inLanes } from "../src/util/lanes.ts";
import { s3Client } from "../src/util/s3_client.ts";

/** Objects in flight at once: S3 answers each GET in tens of milliseconds. */
const LANES = 16;

/** What was copied. */
export interface CopyCount {
  objects: number;
  bytes: number;
}

/**
 * Copies every object under each of `prefixes` to `toDir`/key, replacing
 * what `toDir` held under those prefixes. `progress` gets a line every
 * `progressMs` while the copy lasts longer than that.
 */
export async function copyS3Objects(options: {
  bucket: string;
  prefixes: readonly string[];
  toDir: string;
  region: string;
  endpoint?: string;
  progress?: (line: string) => void;
  progressMs?: number;
}): Promise<CopyCount> {
  const { bucket, toDir, progress, progressMs = 3000 } = options;
  const client = s3Client({ region: options.region, endpoint: options.endpoint });
  const count: CopyCount = { objects: 0, bytes: 0 };
  const began = Date.now();
  let said = began;
  const report = (final: boolean) => {
    const now = Date.now();
    if (!progress || (!final && now - said < progressMs) || (final && now - began < progressMs)) {
      return;
    }
    said = now;
    progress(
      `${final ? "read" : "reading"} s3://${bucket}: ${count.objects} objects, ` +
        `${(count.bytes / 1e6).toFixed(1)} MB, ${((now - began) / 1000).toFixed(0)} s`,
    );
  };
  try {
    for (const prefix of options.prefixes) {
      // A fresh folder: objects of an earlier, longer copy must not linger.
      await Deno.remove(join(toDir, prefix), { recursive: true }).catch((error) => {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      });
      for await (const keys of listKeys(client, bucket, prefix)) {
        await inLanes(keys, LANES, async (key) => {
          count.bytes += await download(client, bucket, key, join(toDir, key));
          count.objects++;
          report(false);
        });
      }
    }
    report(true);
    return count;
  } finally {
    client.destroy();
  }
}

/** The keys under `prefix`, a listing page (up to 1,000) at a time. */
async function* listKeys(client: S3Client, bucket: string, prefix: string) {
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    yield (page.Contents ?? []).map((object) => object.Key!);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

/** Streams one object to `path`; returns its size. */
async function download(
  client: S3Client,
  bucket: string,
  key: string,
  path: string,
): Promise<number> {
  const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!answer.Body) throw new Error(`s3://${bucket}/${key}: no body`);
  await Deno.mkdir(dirname(path), { recursive: true });
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  let size = 0;
  const counted = answer.Body.transformToWebStream().pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        size += chunk.length;
        controller.enqueue(chunk);
      },
    }),
  );
  await counted.pipeTo(file.writable);
  return size;
}
