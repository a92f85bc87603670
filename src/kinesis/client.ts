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
import { Agent } from "node:http";
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
 *
 * `freshConnections` gives an HTTP/1.1 endpoint a new connection per call:
 * Deno's `node:http` (2.9) sends a request again, unasked, when a reused
 * keep-alive connection is reset before the answer, even a POST the server
 * has already taken (denoland/deno#36786), so a PutRecords cut after it was
 * written would land twice with no error to look it up by. On a fresh
 * connection the reset reaches the caller. AWS itself is spoken to over the
 * SDK's HTTP/2 handler, which that retry is not part of.
 */
export function kinesisClient(
  config: KinesisConfig,
  { maxAttempts, freshConnections = false }: { maxAttempts?: number; freshConnections?: boolean } =
    {},
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
      ...(freshConnections ? { httpAgent: new Agent({ keepAlive: false }) } : {}),
    }),
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
}
