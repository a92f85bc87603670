/**
 * The IAM resource ARNs of the MSK cluster's parts, by name: MSK puts the
 * cluster's UUID in every ARN, unknown until the cluster exists, so each
 * ARN matches it with `*` and narrows by the cluster's name and the
 * pipeline's topic prefix instead.
 *
 * @example
 * ```ts
 * import { App, Stack } from "aws-cdk-lib";
 * import { kafkaArns } from "./kafka_arns.ts";
 * const arns = kafkaArns(new Stack(new App(), "Example"), "pinpipe-0123456789ab", "0123456789ab");
 * arns.topics; // a token for arn:aws:kafka:<region>:<account>:topic/pinpipe-0123456789ab/<uuid>/0123456789ab.*
 * ```
 */
import { ArnFormat, Stack } from "aws-cdk-lib";
import type { Construct } from "constructs";

export function kafkaArns(scope: Construct, clusterName: string, id: string) {
  const arn = (resource: string, resourceName: string) =>
    Stack.of(scope).formatArn({
      service: "kafka",
      resource,
      resourceName,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  return {
    cluster: arn("cluster", `${clusterName}/*`),
    /** The pipeline's three topics `<id>.pin|geo|user`. */
    topics: arn("topic", `${clusterName}/*/${id}.*`),
    /** MSK Connect's own offset, config and status topics. */
    connectTopics: arn("topic", `${clusterName}/*/__amazon_msk_connect_*`),
    /** MSK Connect's consumer groups (`connect-<connector>`) and its own. */
    connectGroups: arn("group", `${clusterName}/*/*connect*`),
  };
}
