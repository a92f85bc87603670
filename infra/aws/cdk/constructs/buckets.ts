/**
 * The pipeline's buckets: `user-<id>-bucket`, where the sink writes and the
 * Confluent plugin zip is kept, and the MWAA environment's own bucket
 * (versioned, as MWAA requires). Both block all public access, encrypt at
 * rest (SSE-S3), refuse plain HTTP, and go with their stack: `destroy`
 * empties them first (an auto-delete custom resource would be a Lambda
 * asset, which a stack without bootstrap cannot carry).
 *
 * @example
 * ```ts
 * import { App, Stack } from "aws-cdk-lib";
 * import { privateBucket } from "./buckets.ts";
 * const stack = new Stack(new App(), "Example");
 * privateBucket(stack, "Data", "user-0123456789ab-bucket", { versioned: false });
 * ```
 */
import { RemovalPolicy } from "aws-cdk-lib";
import * as s3 from "aws-cdk-lib/aws-s3";
import type { Construct } from "constructs";

/** A bucket closed to the public, encrypted, TLS only, deleted with its stack. */
export function privateBucket(
  scope: Construct,
  id: string,
  bucketName: string,
  { versioned }: { versioned: boolean },
): s3.Bucket {
  return new s3.Bucket(scope, id, {
    bucketName,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    versioned,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    removalPolicy: RemovalPolicy.DESTROY,
  });
}
