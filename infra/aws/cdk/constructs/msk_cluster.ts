/**
 * The MSK cluster: three provisioned brokers, one per zone, or a serverless
 * cluster; IAM authentication only, TLS between clients and brokers and
 * within the cluster. Its ARN is known to policies by name
 * (`cluster/pinpipe-<id>/*`), so no other stack needs an export from it.
 *
 * @example
 * ```ts
 * import { App, Stack } from "aws-cdk-lib";
 * import { MskCluster } from "./msk_cluster.ts";
 * const stack = new Stack(new App(), "Example");
 * new MskCluster(stack, "Cluster", {
 *   name: "pinpipe-0123456789ab",
 *   mode: "serverless",
 *   subnetIds: ["subnet-0aaaaaaaa", "subnet-0bbbbbbbb", "subnet-0cccccccc"],
 *   securityGroupId: "sg-0aaaaaaaa",
 * });
 * ```
 */
import * as msk from "aws-cdk-lib/aws-msk";
import { Construct } from "constructs";
import type { MskMode } from "../../settings.ts";

export interface MskClusterProps {
  name: string;
  mode: MskMode;
  subnetIds: string[];
  securityGroupId: string;
}

/** MSK's version for new provisioned clusters (the local stack runs Kafka 3.9). */
export const MSK_KAFKA_VERSION = "3.8.x";

export class MskCluster extends Construct {
  /** The cluster's ARN (CloudFormation's Ref of either kind). */
  readonly arn: string;

  constructor(scope: Construct, id: string, props: MskClusterProps) {
    super(scope, id);
    const iamOnly = { sasl: { iam: { enabled: true } }, unauthenticated: { enabled: false } };
    if (props.mode === "serverless") {
      const cluster = new msk.CfnServerlessCluster(this, "Serverless", {
        clusterName: props.name,
        clientAuthentication: { sasl: { iam: { enabled: true } } },
        vpcConfigs: [{ subnetIds: props.subnetIds, securityGroups: [props.securityGroupId] }],
      });
      this.arn = cluster.ref;
      return;
    }
    const cluster = new msk.CfnCluster(this, "Provisioned", {
      clusterName: props.name,
      kafkaVersion: MSK_KAFKA_VERSION,
      numberOfBrokerNodes: props.subnetIds.length,
      brokerNodeGroupInfo: {
        // The smallest broker: ~3 records/s need no more.
        instanceType: "kafka.t3.small",
        clientSubnets: props.subnetIds,
        securityGroups: [props.securityGroupId],
        storageInfo: { ebsStorageInfo: { volumeSize: 10 } },
      },
      clientAuthentication: iamOnly,
      encryptionInfo: { encryptionInTransit: { clientBroker: "TLS", inCluster: true } },
    });
    this.arn = cluster.ref;
  }
}
