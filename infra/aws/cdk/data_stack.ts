/**
 * The data stack, `pinpipe-<id>-data`: the sink's bucket, the MWAA bucket
 * and the three Kinesis streams. It comes before the pipeline stack because
 * `apply` uploads the S3 sink plugin, the DAG and its requirements into
 * these buckets, and the plugin and the MWAA environment read them when
 * they are made.
 *
 * @example
 * ```ts
 * import { App } from "aws-cdk-lib";
 * import { DataStack } from "./data_stack.ts";
 * import { readStackSettings } from "../settings.ts";
 * new DataStack(new App(), readStackSettings({}));
 * ```
 */
import { App, BootstraplessSynthesizer, CfnOutput, Stack } from "aws-cdk-lib";
import type * as kinesis from "aws-cdk-lib/aws-kinesis";
import type * as s3 from "aws-cdk-lib/aws-s3";
import { bucketName } from "../../../src/core/names.ts";
import type { StackSettings } from "../settings.ts";
import { privateBucket } from "./constructs/buckets.ts";
import { pipelineStreams } from "./constructs/streams.ts";
import { resourceNames, stackNames } from "./names.ts";

export class DataStack extends Stack {
  readonly bucket: s3.Bucket;
  readonly airflowBucket: s3.Bucket;
  readonly streams: kinesis.Stream[];

  constructor(app: App, settings: StackSettings) {
    super(app, stackNames(settings.id).data, {
      env: { region: settings.region },
      synthesizer: new BootstraplessSynthesizer(),
      description: `pinpipe ${settings.id}: buckets and Kinesis streams`,
      tags: { "pinpipe:id": settings.id },
    });
    this.bucket = privateBucket(this, "Bucket", bucketName(settings.id), { versioned: false });
    // MWAA reads only from a versioned bucket.
    this.airflowBucket = privateBucket(
      this,
      "AirflowBucket",
      resourceNames(settings.id).airflowBucket,
      { versioned: true },
    );
    this.streams = pipelineStreams(this, settings.id);
    new CfnOutput(this, "BucketName", { value: this.bucket.bucketName });
    new CfnOutput(this, "AirflowBucketName", { value: this.airflowBucket.bucketName });
  }
}
