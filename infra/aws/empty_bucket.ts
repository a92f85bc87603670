/**
 * Emptying a bucket before CloudFormation deletes it (DeleteStack fails on a
 * bucket that still holds objects): every object version and delete marker,
 * since a versioned bucket keeps both after a plain delete.
 *
 * @example
 * ```ts
 * import { S3Client } from "@aws-sdk/client-s3";
 * import { emptyEveryVersion } from "./empty_bucket.ts";
 * await emptyEveryVersion(new S3Client({ region: "us-east-1" }), "pinpipe-0123456789ab-airflow");
 * ```
 */
import { DeleteObjectsCommand, ListObjectVersionsCommand, type S3Client } from "@aws-sdk/client-s3";

/** Deletes every object version and delete marker in `bucket`; returns how many. */
export async function emptyEveryVersion(s3: S3Client, bucket: string): Promise<number> {
  let removed = 0;
  for (;;) {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({
      Key: v.Key!,
      VersionId: v.VersionId,
    }));
    if (objects.length === 0) return removed;
    const answer = await s3.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }),
    );
    const failed = answer.Errors?.[0];
    if (failed) throw new Error(`DeleteObjects ${failed.Key}: ${failed.Code} ${failed.Message}`);
    removed += objects.length;
  }
}
