/**
 * `s3://name` locations, apart from the S3 client so that parsing one does
 * not load the AWS SDK (the sink and the simulator load it only for S3).
 *
 * @example
 * ```ts
 * import { isS3Location, s3BucketName } from "./s3_location.ts";
 * isS3Location("s3://user-0123456789ab-bucket"); // true
 * s3BucketName("s3://user-0123456789ab-bucket"); // "user-0123456789ab-bucket"
 * ```
 */

/** True for anything that starts `s3://` (valid or not: `s3BucketName` says which). */
export const isS3Location = (location: string): boolean => location.startsWith("s3://");

/** The bucket name of `s3://name`; throws for anything else, a path included. */
export function s3BucketName(location: string): string {
  const match = /^s3:\/\/([^/]+)\/?$/.exec(location);
  if (!match) throw new Error(`bucket "${location}" must be s3://name, without a path`);
  return match[1];
}
