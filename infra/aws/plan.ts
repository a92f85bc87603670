/**
 * The AWS side of pinpipe as a list of steps: what the original system set
 * up by hand in the console, in the order it must exist. Each step names
 * the service, the call and the exact request `apply` sends, and the call
 * that tells whether the step is already in place. Building the plan reads
 * only local files and settings: no credentials, no network.
 *
 * @example
 * ```ts
 * import { buildPlan } from "./plan.ts";
 * import { readAwsSettings } from "./settings.ts";
 * const steps = buildPlan(readAwsSettings({}), { notebooksDir: "notebooks", dagsDir: "dags" });
 * steps[0].action; // "CreateBucket"
 * ```
 */
import { bucketName, streamName, topicName } from "../../src/core/names.ts";
import { TABLE_KINDS } from "../../src/core/tables.ts";
import { airflowKeys } from "./cdk/names.ts";
import { S3_SINK_PLUGIN, s3SinkConnectorConfig } from "./s3_sink_connector.ts";
import { type AwsSettings, isPlaceholder, listSetting } from "./settings.ts";
import { workspaceDir, workspaceFolders, workspaceImports } from "./workspace_files.ts";

/** The services a step talks to; `kafka` is the MSK brokers themselves, through kafkajs. */
export type StepService = "s3" | "kafka" | "kafkaconnect" | "kinesis" | "databricks";

/** A JSON request body. */
export type Request = Record<string, unknown>;

/** One thing to make exist. */
export interface PlanStep {
  /** What the step makes, in words: `create bucket user-0123456789ab-bucket`. */
  name: string;
  service: StepService;
  /** The SDK command (`CreateBucket`) or REST call (`POST /api/2.0/workspace/import`). */
  action: string;
  /** The exact request; a file's bytes show as `<file PATH>`, filled in by apply. */
  request: Request;
  /** The call that finds the step already in place, and when it counts as in place. */
  check: { action: string; request: Request; inPlaceWhen: string };
  /** The call `destroy` makes to remove what the step made, and what else it does. */
  destroy: { action: string; request: Request; note?: string };
  /** A local file whose content fills `request[field]` (raw bytes or base64) at apply time. */
  file?: { field: string; path: string; encoding: "bytes" | "base64" };
}

/** Where the plan's local files are. */
export interface PlanSources {
  notebooksDir: string;
  dagsDir: string;
}

/** The name of the MSK Connect custom plugin and of the connector. */
export const connectNames = (id: string) => ({
  plugin: `pinpipe-${id}-confluent-s3-sink`,
  connector: `pinpipe-${id}-s3-sink`,
});

/** The placeholder for the plugin ARN, known only once the plugin exists. */
export const pluginArnPlaceholder = (id: string): string =>
  `<ARN of custom plugin ${connectNames(id).plugin}>`;

/** The MWAA requirements file (the Databricks provider, under MWAA's Airflow constraints). */
export const MWAA_REQUIREMENTS = "mwaa_requirements.txt";

// A file's content in the printed request; a path not yet set says which variable sets it.
const fileText = (path: string): string =>
  isPlaceholder(path) ? `<file named by ${path.slice(5, -1)} (not set)>` : `<file ${path}>`;

/** The pipeline's bucket, closed to the public, with the S3 sink plugin uploaded to it. */
function bucketSteps(settings: AwsSettings): PlanStep[] {
  const { id, region } = settings;
  const bucket = bucketName(id);
  const blockAll = {
    BlockPublicAcls: true,
    IgnorePublicAcls: true,
    BlockPublicPolicy: true,
    RestrictPublicBuckets: true,
  };
  return [
    {
      name: `create bucket ${bucket}`,
      service: "s3",
      action: "CreateBucket",
      request: {
        Bucket: bucket,
        // us-east-1 is S3's default and rejects an explicit LocationConstraint.
        ...(region === "us-east-1"
          ? {}
          : { CreateBucketConfiguration: { LocationConstraint: region } }),
      },
      // Not HeadBucket: it answers for a bucket of another account too (403, or 200 if public).
      // A name taken by someone else is then CreateBucket's BucketAlreadyExists, by name.
      check: {
        action: "ListBuckets",
        request: { Prefix: bucket },
        inPlaceWhen: "the account's own buckets include it",
      },
      destroy: {
        action: "DeleteBucket",
        request: { Bucket: bucket },
        note: "after DeleteObjects of every object left in it",
      },
    },
    {
      name: `block public access to ${bucket}`,
      service: "s3",
      action: "PutPublicAccessBlock",
      request: { Bucket: bucket, PublicAccessBlockConfiguration: blockAll },
      check: {
        action: "GetPublicAccessBlock",
        request: { Bucket: bucket },
        inPlaceWhen: "all four settings are true",
      },
      destroy: { action: "DeletePublicAccessBlock", request: { Bucket: bucket } },
    },
    {
      name: `upload the Confluent S3 sink plugin ${S3_SINK_PLUGIN.version}`,
      service: "s3",
      action: "PutObject",
      request: {
        Bucket: bucket,
        Key: S3_SINK_PLUGIN.key,
        ContentType: "application/zip",
        Body: fileText(settings.sinkPluginZip),
      },
      check: {
        action: "HeadObject",
        request: { Bucket: bucket, Key: S3_SINK_PLUGIN.key },
        inPlaceWhen: "its ETag is the local file's MD5",
      },
      destroy: { action: "DeleteObject", request: { Bucket: bucket, Key: S3_SINK_PLUGIN.key } },
      file: { field: "Body", path: settings.sinkPluginZip, encoding: "bytes" },
    },
  ];
}

/** One topic per table on the MSK brokers. */
function topicSteps(settings: AwsSettings): PlanStep[] {
  const brokers = () => listSetting(settings.kafkaBrokers);
  return TABLE_KINDS.map((kind): PlanStep => {
    const topic = topicName(settings.id, kind);
    return {
      name: `create topic ${topic}`,
      service: "kafka",
      action: "CreateTopics",
      request: {
        brokers: brokers(),
        // One partition: the batch notebook reads partition=0, as the original did.
        // Replication -1 takes the cluster's default.replication.factor.
        topics: [{ topic, numPartitions: 1, replicationFactor: -1 }],
      },
      check: {
        action: "ListTopics",
        request: { brokers: brokers() },
        inPlaceWhen: `the list has ${topic}`,
      },
      destroy: { action: "DeleteTopics", request: { brokers: brokers(), topics: [topic] } },
    };
  });
}

/** The MSK Connect custom plugin from the uploaded zip, and the S3 sink connector using it. */
function mskConnectSteps(settings: AwsSettings): PlanStep[] {
  const { id, region } = settings;
  const names = connectNames(id);
  return [
    {
      name: `create MSK Connect custom plugin ${names.plugin}`,
      service: "kafkaconnect",
      action: "CreateCustomPlugin",
      request: {
        name: names.plugin,
        contentType: "ZIP",
        location: {
          s3Location: { bucketArn: `arn:aws:s3:::${bucketName(id)}`, fileKey: S3_SINK_PLUGIN.key },
        },
      },
      check: {
        action: "ListCustomPlugins",
        request: { namePrefix: names.plugin },
        inPlaceWhen: `a plugin is named ${names.plugin} (apply waits until it is ACTIVE)`,
      },
      destroy: {
        action: "DeleteCustomPlugin",
        request: { customPluginArn: pluginArnPlaceholder(id) },
        note: "then waits until it is gone",
      },
    },
    {
      name: `create MSK Connect connector ${names.connector}`,
      service: "kafkaconnect",
      action: "CreateConnector",
      request: {
        connectorName: names.connector,
        kafkaConnectVersion: "2.7.1",
        capacity: { provisionedCapacity: { mcuCount: 1, workerCount: 1 } },
        connectorConfiguration: s3SinkConnectorConfig(id, region, settings.rotation),
        kafkaCluster: {
          apacheKafkaCluster: {
            bootstrapServers: settings.kafkaBrokers,
            vpc: {
              subnets: listSetting(settings.mskSubnets),
              securityGroups: listSetting(settings.mskSecurityGroups),
            },
          },
        },
        kafkaClusterClientAuthentication: { authenticationType: "IAM" },
        kafkaClusterEncryptionInTransit: { encryptionType: "TLS" },
        plugins: [{ customPlugin: { customPluginArn: pluginArnPlaceholder(id), revision: 1 } }],
        serviceExecutionRoleArn: settings.connectRoleArn,
      },
      check: {
        action: "ListConnectors",
        request: { connectorNamePrefix: names.connector },
        inPlaceWhen: `a connector is named ${names.connector}`,
      },
      destroy: {
        action: "DeleteConnector",
        request: { connectorArn: `<ARN of connector ${names.connector}>` },
        note: "then waits until it is gone",
      },
    },
  ];
}

/** One Kinesis stream per table. */
function kinesisSteps(id: string): PlanStep[] {
  return TABLE_KINDS.map((kind): PlanStep => {
    const stream = streamName(id, kind);
    return {
      name: `create Kinesis stream ${stream}`,
      service: "kinesis",
      action: "CreateStream",
      // One provisioned shard (1 MB/s in) is far above the ~3 records/s sent,
      // and costs less than on-demand's per-stream hour.
      request: {
        StreamName: stream,
        ShardCount: 1,
        StreamModeDetails: { StreamMode: "PROVISIONED" },
      },
      check: {
        action: "DescribeStreamSummary",
        request: { StreamName: stream },
        inPlaceWhen: "the stream exists",
      },
      destroy: {
        action: "DeleteStream",
        request: { StreamName: stream },
        note: "then waits until it is gone",
      },
    };
  });
}

/** The DAG and its requirements, uploaded to the MWAA environment's bucket. */
function mwaaSteps(settings: AwsSettings, sources: PlanSources): PlanStep[] {
  const dagFile = `${settings.id}_dag.py`;
  const uploads = [
    [`${sources.dagsDir}/${dagFile}`, `dags/${dagFile}`, "the DAG"],
    // This pipeline's own file: the bucket's root requirements.txt may be another DAG's too.
    [
      `${sources.dagsDir}/${MWAA_REQUIREMENTS}`,
      airflowKeys(settings.id).requirements,
      "the DAG's requirements",
    ],
  ];
  return uploads.map(([source, key, what]): PlanStep => ({
    name: `upload ${what} to the MWAA bucket's ${key}`,
    service: "s3",
    action: "PutObject",
    request: {
      Bucket: settings.mwaaBucket,
      Key: key,
      ContentType: "text/plain",
      Body: fileText(source),
    },
    check: {
      action: "HeadObject",
      request: { Bucket: settings.mwaaBucket, Key: key },
      inPlaceWhen: "its ETag is the local file's MD5",
    },
    destroy: { action: "DeleteObject", request: { Bucket: settings.mwaaBucket, Key: key } },
    file: { field: "Body", path: source, encoding: "bytes" },
  }));
}

/** The notebooks and SQL in the Databricks workspace: its folders first, then each file. */
function databricksSteps(id: string, sources: PlanSources): PlanStep[] {
  const imports = workspaceImports(sources.notebooksDir, workspaceDir(id));
  const folders = workspaceFolders(imports).map((folder): PlanStep => ({
    name: `create workspace folder ${folder}`,
    service: "databricks",
    action: "POST /api/2.0/workspace/mkdirs",
    request: { path: folder },
    check: {
      action: "GET /api/2.0/workspace/get-status",
      request: { path: folder },
      inPlaceWhen: "it is a DIRECTORY",
    },
    // Not recursive: the files inside were removed first (destroy runs in reverse).
    destroy: {
      action: "POST /api/2.0/workspace/delete",
      request: { path: folder, recursive: false },
    },
  }));
  const files = imports.map((item): PlanStep => ({
    name: `import ${item.source} as ${item.language ? "notebook" : "file"} ${item.path}`,
    service: "databricks",
    action: "POST /api/2.0/workspace/import",
    request: {
      path: item.path,
      format: item.format,
      ...(item.language ? { language: item.language } : {}),
      overwrite: true,
      content: `<base64 of file ${item.source}>`,
    },
    check: {
      action: "GET /api/2.0/workspace/export",
      request: { path: item.path, format: item.language ? "SOURCE" : "AUTO" },
      inPlaceWhen: "the exported content equals the local file",
    },
    destroy: { action: "POST /api/2.0/workspace/delete", request: { path: item.path } },
    file: { field: "content", path: item.source, encoding: "base64" },
  }));
  return [...folders, ...files];
}

/**
 * Builds every step, in the order they must exist, for `settings`: the
 * bucket, the topics, MSK Connect writing the topics to the bucket, the
 * streams, the DAG on MWAA, and the notebooks in Databricks.
 */
export function buildPlan(settings: AwsSettings, sources: PlanSources): PlanStep[] {
  return [
    ...bucketSteps(settings),
    ...topicSteps(settings),
    ...mskConnectSteps(settings),
    ...kinesisSteps(settings.id),
    ...mwaaSteps(settings, sources),
    ...databricksSteps(settings.id, sources),
  ];
}
