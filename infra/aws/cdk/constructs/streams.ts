/**
 * The three Kinesis streams, `streaming-<id>-pin|geo|user`: one provisioned
 * shard each (1 MB/s in, far above the ~3 records/s sent, and cheaper than
 * on-demand's per-stream hour), encrypted with the AWS-managed key, deleted
 * with their stack.
 *
 * @example
 * ```ts
 * import { App, Stack } from "aws-cdk-lib";
 * import { pipelineStreams } from "./streams.ts";
 * const streams = pipelineStreams(new Stack(new App(), "Example"), "0123456789ab");
 * streams.length; // 3
 * ```
 */
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import * as kinesis from "aws-cdk-lib/aws-kinesis";
import type { Construct } from "constructs";
import { streamName } from "../../../../src/core/names.ts";
import { TABLE_KINDS } from "../../../../src/core/tables.ts";

export function pipelineStreams(scope: Construct, id: string): kinesis.Stream[] {
  return TABLE_KINDS.map((kind) =>
    new kinesis.Stream(scope, `Stream-${kind}`, {
      streamName: streamName(id, kind),
      streamMode: kinesis.StreamMode.PROVISIONED,
      shardCount: 1,
      retentionPeriod: Duration.hours(24),
      encryption: kinesis.StreamEncryption.MANAGED,
      removalPolicy: RemovalPolicy.DESTROY,
    })
  );
}
