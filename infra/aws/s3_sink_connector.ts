/**
 * The Confluent S3 sink connector (10.x) as MSK Connect runs it: the
 * connector configuration of the original system (see
 * shared/docs/pipeline-facts.md), with the pipeline id and region filled in,
 * and the fields the connector cannot start without.
 *
 * @example
 * ```ts
 * import { s3SinkConnectorConfig } from "./s3_sink_connector.ts";
 * s3SinkConnectorConfig("0123456789ab", "us-east-1")["s3.bucket.name"]; // "user-0123456789ab-bucket"
 * ```
 */
import { bucketName } from "../../src/core/names.ts";
import { TABLE_KINDS } from "../../src/core/tables.ts";

/** The Confluent S3 sink plugin version the docs download, and its key in the bucket. */
export const S3_SINK_PLUGIN = {
  version: "10.5.13",
  key: "kafka-connect-s3/confluentinc-kafka-connect-s3-10.5.13.zip",
};

/**
 * Fields the S3 sink needs set: those with no default in the connector
 * (connector.class, topics.regex, s3.bucket.name, format.class,
 * storage.class, flush.size) and those whose default would not give the
 * original's objects (s3.region defaults to us-west-2, the partitioner and
 * converters to the worker's).
 */
export const REQUIRED_S3_SINK_FIELDS = [
  "connector.class",
  "tasks.max",
  "topics.regex",
  "s3.bucket.name",
  "s3.region",
  "storage.class",
  "format.class",
  "partitioner.class",
  "flush.size",
  "key.converter",
  "value.converter",
  "value.converter.schemas.enable",
  "schema.compatibility",
] as const;

/** How the sink cuts objects: records per object, and ms after which a partial one is written. */
export interface SinkRotation {
  flushSize: number;
  /** 0: objects are cut by flushSize alone. */
  rotateMs: number;
}

/** The original's cut: one object per record, object names are offsets. */
export const ORIGINAL_ROTATION: SinkRotation = { flushSize: 1, rotateMs: 0 };

/** The connector configuration: every value a string, as MSK Connect requires. */
export function s3SinkConnectorConfig(
  id: string,
  region: string,
  rotation: SinkRotation = ORIGINAL_ROTATION,
): Record<string, string> {
  // Wall-clock rotation (what `deno task sink --rotate-ms` does) needs a time zone to be set.
  const rotate: Record<string, string> = rotation.rotateMs > 0
    ? { "rotate.schedule.interval.ms": String(rotation.rotateMs), "timezone": "UTC" }
    : {};
  return {
    "connector.class": "io.confluent.connect.s3.S3SinkConnector",
    // One task per topic; each topic has one partition.
    "tasks.max": String(TABLE_KINDS.length),
    // Only this pipeline's three topics; the original's `<id>.*` also matched
    // any topic that merely starts with the id.
    "topics.regex": `${id}\\.(${TABLE_KINDS.join("|")})`,
    "s3.bucket.name": bucketName(id),
    "s3.region": region,
    "storage.class": "io.confluent.connect.s3.storage.S3Storage",
    "format.class": "io.confluent.connect.s3.format.json.JsonFormat",
    "partitioner.class": "io.confluent.connect.storage.partitioner.DefaultPartitioner",
    "flush.size": String(rotation.flushSize),
    ...rotate,
    "key.converter": "org.apache.kafka.connect.storage.StringConverter",
    "value.converter": "org.apache.kafka.connect.json.JsonConverter",
    "value.converter.schemas.enable": "false",
    "schema.compatibility": "NONE",
  };
}

/** Names of required fields that `config` lacks or leaves empty. */
export function missingS3SinkFields(config: Record<string, string>): string[] {
  return REQUIRED_S3_SINK_FIELDS.filter((field) => !config[field]?.trim());
}
