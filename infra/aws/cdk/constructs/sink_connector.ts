/**
 * MSK Connect writing the topics to the bucket: the Confluent S3 sink as a
 * custom plugin (the zip `apply` uploaded to the bucket), the connector
 * with the original's configuration (flush size and rotation settable),
 * its worker logs in a CloudWatch log group, and its service role: read
 * the pipeline's topics, keep MSK Connect's own topics and groups, write
 * objects under `topics/` of the bucket, nothing else.
 *
 * @example
 * ```ts
 * // In a stack: new SinkConnector(this, "Sink", { id, region, clusterName, ... });
 * ```
 */
import { RemovalPolicy, Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kafkaconnect from "aws-cdk-lib/aws-kafkaconnect";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { bucketName } from "../../../../src/core/names.ts";
import {
  S3_SINK_PLUGIN,
  s3SinkConnectorConfig,
  type SinkRotation,
} from "../../s3_sink_connector.ts";
import { resourceNames } from "../names.ts";
import { kafkaArns } from "./kafka_arns.ts";

export interface SinkConnectorProps {
  id: string;
  clusterName: string;
  /** The brokers' IAM bootstrap string (port 9098). */
  bootstrapServers: string;
  subnetIds: string[];
  securityGroupId: string;
  rotation: SinkRotation;
}

export class SinkConnector extends Construct {
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly connector: kafkaconnect.CfnConnector;

  constructor(scope: Construct, id: string, props: SinkConnectorProps) {
    super(scope, id);
    const names = resourceNames(props.id);
    const bucketArn = `arn:aws:s3:::${bucketName(props.id)}`;
    const kafka = kafkaArns(this, props.clusterName, props.id);
    this.role = new iam.Role(this, "Role", {
      assumedBy: new iam.ServicePrincipal("kafkaconnect.amazonaws.com"),
      description: `pinpipe ${props.id}: MSK Connect's S3 sink`,
      inlinePolicies: {
        sink: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              actions: ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"],
              resources: [kafka.cluster],
            }),
            new iam.PolicyStatement({
              actions: ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"],
              resources: [kafka.topics],
            }),
            new iam.PolicyStatement({
              actions: [
                "kafka-cluster:CreateTopic",
                "kafka-cluster:DescribeTopic",
                "kafka-cluster:ReadData",
                "kafka-cluster:WriteData",
              ],
              resources: [kafka.connectTopics],
            }),
            new iam.PolicyStatement({
              actions: ["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"],
              resources: [kafka.connectGroups],
            }),
            new iam.PolicyStatement({
              actions: ["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"],
              resources: [bucketArn],
            }),
            new iam.PolicyStatement({
              actions: [
                "s3:PutObject",
                "s3:GetObject",
                "s3:AbortMultipartUpload",
                "s3:ListMultipartUploadParts",
              ],
              resources: [`${bucketArn}/topics/*`],
            }),
          ],
        }),
      },
    });
    this.logGroup = new logs.LogGroup(this, "Logs", {
      logGroupName: names.connectorLogGroup,
      retention: logs.RetentionDays.ONE_WEEK,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const plugin = new kafkaconnect.CfnCustomPlugin(this, "Plugin", {
      name: names.plugin,
      contentType: "ZIP",
      description: `Confluent S3 sink ${S3_SINK_PLUGIN.version}`,
      location: { s3Location: { bucketArn, fileKey: S3_SINK_PLUGIN.key } },
    });
    this.connector = new kafkaconnect.CfnConnector(this, "Connector", {
      connectorName: names.connector,
      kafkaConnectVersion: "2.7.1",
      capacity: { provisionedCapacity: { mcuCount: 1, workerCount: 1 } },
      connectorConfiguration: s3SinkConnectorConfig(
        props.id,
        Stack.of(this).region,
        props.rotation,
      ),
      kafkaCluster: {
        apacheKafkaCluster: {
          bootstrapServers: props.bootstrapServers,
          vpc: { subnets: props.subnetIds, securityGroups: [props.securityGroupId] },
        },
      },
      kafkaClusterClientAuthentication: { authenticationType: "IAM" },
      kafkaClusterEncryptionInTransit: { encryptionType: "TLS" },
      plugins: [{
        customPlugin: {
          customPluginArn: plugin.attrCustomPluginArn,
          revision: plugin.attrRevision,
        },
      }],
      serviceExecutionRoleArn: this.role.roleArn,
      logDelivery: {
        workerLogDelivery: {
          cloudWatchLogs: { enabled: true, logGroup: this.logGroup.logGroupName },
        },
      },
    });
  }
}
