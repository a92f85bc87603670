/**
 * The pipeline stack, `pinpipe-<id>-pipeline`: what moves the data, each
 * with a role of its own. MSK Connect's S3 sink (plugin, connector, log
 * group), the client host with the Kafka REST proxy, the REST API in front
 * of it and of Kinesis, the MWAA environment, and the instance profile
 * Databricks reads the bucket with. It places its workers in the network
 * stack's subnets and security groups (CloudFormation exports), and finds
 * the data stack's buckets and streams by name.
 *
 * The brokers' bootstrap string is the `KafkaBootstrapServers` parameter:
 * CloudFormation cannot read it off the cluster, so `apply` asks MSK for it
 * once the network stack exists (or PINPIPE_KAFKA_BROKERS sets its default).
 *
 * @example
 * ```ts
 * import { App } from "aws-cdk-lib";
 * import { NetworkStack } from "./network_stack.ts";
 * import { PipelineStack } from "./pipeline_stack.ts";
 * import { readStackSettings } from "../settings.ts";
 * const app = new App();
 * const settings = readStackSettings({});
 * new PipelineStack(app, settings, new NetworkStack(app, settings));
 * ```
 */
import { App, BootstraplessSynthesizer, CfnOutput, CfnParameter, Stack } from "aws-cdk-lib";
import { streamName } from "../../../src/core/names.ts";
import { TABLE_KINDS } from "../../../src/core/tables.ts";
import type { StackSettings } from "../settings.ts";
import { AirflowEnvironment } from "./constructs/airflow.ts";
import { ClientHost } from "./constructs/client_host.ts";
import { DatabricksAccess } from "./constructs/databricks_access.ts";
import { PipelineRestApi } from "./constructs/rest_api.ts";
import { SinkConnector } from "./constructs/sink_connector.ts";
import { resourceNames, REST_PROXY_PORT, stackNames } from "./names.ts";
import type { NetworkStack } from "./network_stack.ts";

/** The parameter `apply` fills with MSK's IAM bootstrap brokers. */
export const BOOTSTRAP_PARAMETER = "KafkaBootstrapServers";

export class PipelineStack extends Stack {
  readonly connector: SinkConnector;
  readonly clientHost: ClientHost;
  readonly api: PipelineRestApi;
  readonly airflow: AirflowEnvironment;
  readonly databricks: DatabricksAccess;

  constructor(app: App, settings: StackSettings, network: NetworkStack) {
    super(app, stackNames(settings.id).pipeline, {
      env: { region: settings.region },
      synthesizer: new BootstraplessSynthesizer(),
      description: `pinpipe ${settings.id}: MSK Connect, REST API, client host, MWAA`,
      tags: { "pinpipe:id": settings.id },
    });
    const { id } = settings;
    const names = resourceNames(id);
    const net = network.network;
    const bootstrap = new CfnParameter(this, BOOTSTRAP_PARAMETER, {
      type: "String",
      description: "MSK's bootstrap brokers for IAM (port 9098), comma-separated: " +
        "aws kafka get-bootstrap-brokers --cluster-arn <the network stack's ClusterArn>",
      allowedPattern: "^[A-Za-z0-9.-]+:\\d+(,[A-Za-z0-9.-]+:\\d+)*$",
      ...(settings.kafkaBrokers ? { default: settings.kafkaBrokers } : {}),
    }).valueAsString;

    this.connector = new SinkConnector(this, "Sink", {
      id,
      clusterName: names.cluster,
      bootstrapServers: bootstrap,
      subnetIds: net.privateSubnetIds,
      securityGroupId: net.connector.securityGroupId,
      rotation: { flushSize: settings.flushSize, rotateMs: settings.rotateMs },
    });
    this.clientHost = new ClientHost(this, "ClientHost", {
      id,
      clusterName: names.cluster,
      bootstrapServers: bootstrap,
      vpc: net.vpc,
      securityGroup: net.clientHost,
    });
    this.api = new PipelineRestApi(this, "Api", {
      id,
      restProxyUrl: `http://${this.clientHost.instance.instancePublicDnsName}:${REST_PROXY_PORT}`,
      streamArns: TABLE_KINDS.map((kind) =>
        this.formatArn({
          service: "kinesis",
          resource: "stream",
          resourceName: streamName(id, kind),
        })
      ),
    });
    this.airflow = new AirflowEnvironment(this, "Airflow", {
      id,
      subnetIds: net.privateSubnetIds,
      securityGroupId: net.airflow.securityGroupId,
    });
    this.databricks = new DatabricksAccess(this, "Databricks", { id });

    new CfnOutput(this, "ApiUrl", {
      value: this.api.api.url,
      description: "batch --via rest <this URL>; stream --via api <this URL>",
    });
    new CfnOutput(this, "DatabricksInstanceProfileArn", {
      value: this.databricks.instanceProfile.attrArn,
      description: "register in the Databricks workspace and attach to the notebooks' clusters",
    });
    new CfnOutput(this, "AirflowEnvironmentName", { value: names.airflowEnvironment });
  }
}
