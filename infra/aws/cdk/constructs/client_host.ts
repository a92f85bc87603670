/**
 * The EC2 client host, as the original system had it: in a public subnet,
 * it makes the pipeline's three topics on MSK and runs Confluent's Kafka
 * REST proxy on port 8082, authenticated to MSK with IAM (the aws-msk-iam-
 * auth jar), which API Gateway's `/{proxy+}` forwards to. Reached with
 * Session Manager, so no SSH key or port. Its role may make, describe and
 * write the pipeline's topics only.
 *
 * @example
 * ```ts
 * // In a stack: new ClientHost(this, "ClientHost", { id, clusterName, bootstrapServers, ... });
 * ```
 */
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as iam from "aws-cdk-lib/aws-iam";
import { Construct } from "constructs";
import { topicName } from "../../../../src/core/names.ts";
import { TABLE_KINDS } from "../../../../src/core/tables.ts";
import { resourceNames, REST_PROXY_PORT } from "../names.ts";
import { kafkaArns } from "./kafka_arns.ts";

export interface ClientHostProps {
  id: string;
  clusterName: string;
  bootstrapServers: string;
  vpc: ec2.IVpc;
  securityGroup: ec2.ISecurityGroup;
}

/** What the host downloads: the Kafka CLI, the REST proxy and MSK's IAM login module. */
export const CLIENT_DOWNLOADS = {
  kafka: "https://archive.apache.org/dist/kafka/3.9.1/kafka_2.13-3.9.1.tgz",
  confluent: "https://packages.confluent.io/archive/7.7/confluent-community-7.7.1.tar.gz",
  mskIamAuth:
    "https://github.com/aws/aws-msk-iam-auth/releases/download/v2.2.0/aws-msk-iam-auth-2.2.0-all.jar",
};

/** The user data's shell lines: install, client properties, topics, the REST proxy service. */
export function clientHostScript(id: string, bootstrapServers: string): string[] {
  const topics = TABLE_KINDS.map((kind) => topicName(id, kind));
  const iamClient = [
    "security.protocol=SASL_SSL",
    "sasl.mechanism=AWS_MSK_IAM",
    "sasl.jaas.config=software.amazon.msk.auth.iam.IAMLoginModule required;",
    "sasl.client.callback.handler.class=software.amazon.msk.auth.iam.IAMClientCallbackHandler",
  ];
  return [
    "set -euxo pipefail",
    "dnf install -y -q java-17-amazon-corretto-headless",
    "mkdir -p /opt/pinpipe && cd /opt/pinpipe",
    `curl -fsSL ${CLIENT_DOWNLOADS.kafka} | tar xz && ln -sfn kafka_2.13-3.9.1 kafka`,
    `curl -fsSL ${CLIENT_DOWNLOADS.confluent} | tar xz && ln -sfn confluent-7.7.1 confluent`,
    `curl -fsSL -o kafka/libs/aws-msk-iam-auth.jar ${CLIENT_DOWNLOADS.mskIamAuth}`,
    "cp kafka/libs/aws-msk-iam-auth.jar confluent/share/java/kafka-rest/",
    `printf '%s\\n' ${iamClient.map((line) => `'${line}'`).join(" ")} > client.properties`,
    `BOOTSTRAP='${bootstrapServers}'`,
    ...topics.map((topic) =>
      `kafka/bin/kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --command-config client.properties ` +
      `--create --if-not-exists --topic ${topic} --partitions 1`
    ),
    "{",
    `  echo "listeners=http://0.0.0.0:${REST_PROXY_PORT}"`,
    '  echo "bootstrap.servers=$BOOTSTRAP"',
    "  sed 's/^/client./' client.properties",
    "} > kafka-rest.properties",
    "cat > /etc/systemd/system/kafka-rest.service <<'UNIT'",
    "[Unit]",
    "Description=Confluent Kafka REST proxy for pinpipe",
    "After=network-online.target",
    "[Service]",
    "ExecStart=/opt/pinpipe/confluent/bin/kafka-rest-start /opt/pinpipe/kafka-rest.properties",
    "Restart=always",
    "[Install]",
    "WantedBy=multi-user.target",
    "UNIT",
    "systemctl daemon-reload && systemctl enable --now kafka-rest",
  ];
}

export class ClientHost extends Construct {
  readonly instance: ec2.Instance;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: ClientHostProps) {
    super(scope, id);
    const kafka = kafkaArns(this, props.clusterName, props.id);
    this.role = new iam.Role(this, "Role", {
      assumedBy: new iam.ServicePrincipal("ec2.amazonaws.com"),
      description: `pinpipe ${props.id}: the client host (topics, REST proxy)`,
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName("AmazonSSMManagedInstanceCore")],
      inlinePolicies: {
        topics: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              actions: ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"],
              resources: [kafka.cluster],
            }),
            new iam.PolicyStatement({
              actions: [
                "kafka-cluster:CreateTopic",
                "kafka-cluster:DescribeTopic",
                "kafka-cluster:WriteData",
              ],
              resources: [kafka.topics],
            }),
          ],
        }),
      },
    });
    const userData = ec2.UserData.forLinux();
    userData.addCommands(...clientHostScript(props.id, props.bootstrapServers));
    this.instance = new ec2.Instance(this, "Instance", {
      instanceName: resourceNames(props.id).clientHost,
      vpc: props.vpc,
      // The first public subnet: one host is enough, in any zone.
      vpcSubnets: { subnets: [props.vpc.publicSubnets[0]] },
      associatePublicIpAddress: true,
      instanceType: ec2.InstanceType.of(ec2.InstanceClass.T3, ec2.InstanceSize.MICRO),
      machineImage: ec2.MachineImage.latestAmazonLinux2023(),
      securityGroup: props.securityGroup,
      role: this.role,
      userData,
    });
    // IMDSv2 only, through a launch template of this pipeline's name: CDK's requireImdsv2 names
    // its template after the construct alone, which a second pipeline in the account collides with.
    const launchTemplateName = `${resourceNames(props.id).clientHost}-imdsv2`;
    const imdsv2 = new ec2.CfnLaunchTemplate(this, "Imdsv2", {
      launchTemplateName,
      launchTemplateData: { metadataOptions: { httpTokens: "required" } },
    });
    (this.instance.node.defaultChild as ec2.CfnInstance).launchTemplate = {
      launchTemplateName,
      version: imdsv2.attrLatestVersionNumber,
    };
  }
}
