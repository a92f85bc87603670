/**
 * Names of every AWS and local resource, derived from the pipeline id (the
 * original's 12-hex-digit user id). One setting names everything.
 *
 * @example
 * ```ts
 * import { topicName } from "./names.ts";
 * topicName("0123456789ab", "pin"); // "0123456789ab.pin"
 * ```
 */
import type { TableKind } from "./tables.ts";

const PIPELINE_ID = /^[0-9a-f]{12}$/;

/** Throws unless `id` is 12 lower-case hex digits. */
export function validatePipelineId(id: string): string {
  if (!PIPELINE_ID.test(id)) {
    throw new Error(`pipeline id "${id}" must be 12 lower-case hex digits, like 12c0d092d679`);
  }
  return id;
}

/** Kafka topic: `<id>.pin`. */
export const topicName = (id: string, kind: TableKind): string => `${id}.${kind}`;

/** Kinesis stream: `streaming-<id>-pin`. */
export const streamName = (id: string, kind: TableKind): string => `streaming-${id}-${kind}`;

/** S3 bucket the sink writes to: `user-<id>-bucket`. */
export const bucketName = (id: string): string => `user-${id}-bucket`;

/** Cleaned Delta (or DuckDB) table: `<id>_pin_table`. */
export const cleanTableName = (id: string, kind: TableKind): string => `${id}_${kind}_table`;
