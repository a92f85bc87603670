/**
 * The network stack, `pinpipe-<id>-network`: the VPC (or an existing one),
 * its security groups and the MSK cluster. Slow to make (MSK takes 20 to 40
 * minutes) and long-lived: the pipeline's own stacks come and go on top.
 * It exports the subnet and security-group ids the pipeline stack places
 * its workers in.
 *
 * @example
 * ```ts
 * import { App } from "aws-cdk-lib";
 * import { NetworkStack } from "./network_stack.ts";
 * import { readStackSettings } from "../settings.ts";
 * const network = new NetworkStack(new App(), readStackSettings({}));
 * network.network.privateSubnetIds.length; // 3
 * ```
 */
import { App, BootstraplessSynthesizer, CfnOutput, Stack } from "aws-cdk-lib";
import type { StackSettings } from "../settings.ts";
import { MskCluster } from "./constructs/msk_cluster.ts";
import { PipelineNetwork } from "./constructs/network.ts";
import { resourceNames, stackNames } from "./names.ts";

export class NetworkStack extends Stack {
  readonly network: PipelineNetwork;
  readonly cluster: MskCluster;

  constructor(app: App, settings: StackSettings) {
    super(app, stackNames(settings.id).network, {
      env: { region: settings.region },
      // No bootstrap stack: nothing here is an asset, and deploying needs no CDK toolkit.
      synthesizer: new BootstraplessSynthesizer(),
      description: `pinpipe ${settings.id}: network and MSK cluster (${settings.mskMode})`,
      tags: { "pinpipe:id": settings.id },
    });
    this.network = new PipelineNetwork(this, "Network", {
      availabilityZones: settings.availabilityZones,
      existingVpc: settings.existingVpc,
    });
    this.cluster = new MskCluster(this, "Cluster", {
      name: resourceNames(settings.id).cluster,
      mode: settings.mskMode,
      subnetIds: this.network.privateSubnetIds,
      securityGroupId: this.network.brokers.securityGroupId,
    });
    new CfnOutput(this, "ClusterArn", {
      value: this.cluster.arn,
      description: "the MSK cluster: apply reads its bootstrap brokers (IAM) from it",
    });
  }
}
