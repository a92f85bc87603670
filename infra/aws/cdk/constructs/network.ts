/**
 * The network the pipeline runs in: a new VPC over three zones (public
 * subnets for the client host, private ones with one NAT gateway for MSK,
 * MSK Connect and MWAA, an S3 gateway endpoint so the sink's writes stay in
 * the VPC), or an existing VPC by id; and the security groups, each opened
 * only to what talks to it.
 *
 * @example
 * ```ts
 * import { App, Stack } from "aws-cdk-lib";
 * import { PipelineNetwork } from "./network.ts";
 * const stack = new Stack(new App(), "Example", { env: { region: "us-east-1" } });
 * const network = new PipelineNetwork(stack, "Network", {
 *   availabilityZones: ["us-east-1a", "us-east-1b", "us-east-1c"],
 * });
 * network.privateSubnetIds.length; // 3
 * ```
 */
import { Fn } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import { Construct } from "constructs";
import { MSK_IAM_PORT, REST_PROXY_PORT } from "../names.ts";

export interface PipelineNetworkProps {
  /** Three zone names; by default the region's first three, resolved by CloudFormation. */
  availabilityZones?: string[];
  existingVpc?: { vpcId: string; privateSubnets: string[]; publicSubnets: string[] };
}

export class PipelineNetwork extends Construct {
  readonly vpc: ec2.IVpc;
  readonly privateSubnetIds: string[];
  readonly publicSubnetIds: string[];
  /** On the brokers: 9098 from the client host and the connector only. */
  readonly brokers: ec2.SecurityGroup;
  /** On the client host: the REST proxy's port from API Gateway (which has no fixed addresses). */
  readonly clientHost: ec2.SecurityGroup;
  /** On MSK Connect's workers: outbound only. */
  readonly connector: ec2.SecurityGroup;
  /** On MWAA: its own members (MWAA requires it), outbound to anything. */
  readonly airflow: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: PipelineNetworkProps) {
    super(scope, id);
    // Zone names are not known offline; Fn::GetAZs gives the region's own at deploy time.
    const zones = props.availabilityZones ?? [0, 1, 2].map((i) => Fn.select(i, Fn.getAzs()));
    if (props.existingVpc) {
      const given = props.existingVpc;
      this.vpc = ec2.Vpc.fromVpcAttributes(this, "Vpc", {
        vpcId: given.vpcId,
        availabilityZones: zones,
        privateSubnetIds: given.privateSubnets,
        publicSubnetIds: given.publicSubnets,
      });
    } else {
      this.vpc = new ec2.Vpc(this, "Vpc", {
        ipAddresses: ec2.IpAddresses.cidr("10.40.0.0/16"),
        availabilityZones: zones,
        // One NAT gateway (not one per zone): MWAA installs from PyPI, and the cost is per hour.
        natGateways: 1,
        subnetConfiguration: [
          { name: "public", subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
          { name: "private", subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        ],
        gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
        // The restriction is a custom resource (a Lambda asset), which a stack without bootstrap
        // cannot carry; the default group is left unused instead.
        restrictDefaultSecurityGroup: false,
      });
    }
    this.privateSubnetIds = this.vpc.privateSubnets.map((subnet) => subnet.subnetId);
    this.publicSubnetIds = this.vpc.publicSubnets.map((subnet) => subnet.subnetId);

    const group = (name: string, description: string) =>
      new ec2.SecurityGroup(this, name, { vpc: this.vpc, description, allowAllOutbound: true });
    this.brokers = group("Brokers", "pinpipe MSK brokers: IAM TLS listener");
    this.clientHost = group("ClientHost", "pinpipe client host: Kafka REST proxy");
    this.connector = group("Connector", "pinpipe MSK Connect workers");
    this.airflow = group("Airflow", "pinpipe MWAA environment");
    for (const [peer, who] of [[this.clientHost, "client host"], [this.connector, "connector"]]) {
      this.brokers.addIngressRule(
        peer as ec2.SecurityGroup,
        ec2.Port.tcp(MSK_IAM_PORT),
        `Kafka (IAM, TLS) from the ${who}`,
      );
    }
    this.clientHost.addIngressRule(
      ec2.Peer.anyIpv4(),
      ec2.Port.tcp(REST_PROXY_PORT),
      "Kafka REST proxy, called by API Gateway's HTTP proxy integration",
    );
    this.airflow.addIngressRule(this.airflow, ec2.Port.allTraffic(), "MWAA's own members");
  }
}
