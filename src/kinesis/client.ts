/**
 * Builds the Kinesis client for real AWS or a local endpoint. The SDK speaks
 * HTTP/2 by default, which kinesalite on plain HTTP answers with "Protocol
 * error"; a local endpoint therefore gets the HTTP/1.1 handler and dummy
 * credentials (kinesalite checks only that a signature is present).
 *
 * @example
 * ```ts
 * import { kinesisClient } from "./client.ts";
 * const client = kinesisClient({ region: "us-east-1", endpoint: "http://127.0.0.1:14567" });
 * ```
 */
import { KinesisClient } from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import type { KinesisConfig } from "../core/config.ts";

/**
 * How long a call may go without an answer before it fails (a timeout, which the SDK and the
 * target treat as a call that may have been written): without it, a connection that stays open
 * and silent (a stalled network) holds a call, and its producer, for ever.
 */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * A client for `config`: the AWS credential chain, or local dummies for an
 * endpoint. `maxAttempts` 1 leaves retrying to the caller (the SDK's default
 * retries a call whose answer was lost, which writes a PutRecords twice).
 */
export function kinesisClient(
  config: KinesisConfig,
  { maxAttempts }: { maxAttempts?: number } = {},
): KinesisClient {
  if (config.endpoint === undefined) {
    return new KinesisClient({
      region: config.region,
      maxAttempts,
      requestHandler: { requestTimeout: REQUEST_TIMEOUT_MS },
    });
  }
  return new KinesisClient({
    region: config.region,
    maxAttempts,
    endpoint: config.endpoint,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: 2000,
      requestTimeout: REQUEST_TIMEOUT_MS,
    }),
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
}
