/**
 * The one way pinpipe builds an S3 client: the AWS credential chain and the
 * region, and for an S3-compatible `endpoint` (moto locally) path-style
 * addressing over the HTTP/1.1 handler, which plain-HTTP servers answer.
 * The sink writes through it, the simulator reads through it, and
 * `./infra.sh aws` provisions through it.
 *
 * @example
 * ```ts
 * import { s3Client } from "./s3_client.ts";
 * const client = s3Client({ region: "us-east-1", endpoint: "http://127.0.0.1:14566" });
 * client.destroy();
 * ```
 */
import { S3Client } from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";

/**
 * A client for AWS S3 in `region`, or for the S3-compatible server at
 * `endpoint`; `credentials` replace the chain (a local server's dummies).
 */
export function s3Client(
  { region, endpoint, credentials }: {
    region: string;
    endpoint?: string;
    credentials?: { accessKeyId: string; secretAccessKey: string };
  },
): S3Client {
  if (!endpoint) return new S3Client({ region, credentials });
  return new S3Client({
    region,
    endpoint,
    credentials,
    forcePathStyle: true,
    requestHandler: new NodeHttpHandler({ connectionTimeout: 5000 }),
  });
}
