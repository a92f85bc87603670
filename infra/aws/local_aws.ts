/**
 * The AWS account and Databricks workspace of a rehearsal, on this machine:
 * the MSK Connect and Databricks stand-ins started here, the S3 endpoint
 * (moto) and Kinesis (kinesalite) and the broker given, and what the real
 * account has before `apply` (the MWAA environment's bucket, the S3 sink
 * plugin zip, the DAG file named for the pipeline id). `env` is the
 * environment `./infra.sh aws apply|destroy` runs with against all of it.
 *
 * @example
 * ```ts
 * import { prepareLocalAws } from "./local_aws.ts";
 * const local = await prepareLocalAws({
 *   id: "0123456789ab",
 *   s3Endpoint: "http://127.0.0.1:14566",
 *   kinesisEndpoint: "http://127.0.0.1:14567",
 *   brokers: "127.0.0.1:19092",
 * });
 * // ... deno run -A infra/aws/command.ts apply, with local.env ...
 * await local.close();
 * ```
 */
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListObjectsV2Command,
} from "@aws-sdk/client-s3";
import { s3Client } from "../../src/util/s3_client.ts";
import { type DatabricksStandIn, startDatabricksStandIn } from "../local/stand_ins/databricks.ts";
import {
  type KafkaConnectStandIn,
  startKafkaConnectStandIn,
} from "../local/stand_ins/kafkaconnect.ts";
import { MWAA_REQUIREMENTS } from "./plan.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** The DAG file in the repository, named for the default pipeline id. */
const DAG_TEMPLATE = `${ROOT}dags/0123456789ab_dag.py`;

// An empty zip archive (its end-of-central-directory record alone): a real zip, holding nothing.
const EMPTY_ZIP = new Uint8Array([0x50, 0x4b, 0x05, 0x06, ...new Array(18).fill(0)]);

/** Local credentials for the SDK's chain: moto and kinesalite check only that requests are signed. */
export const LOCAL_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: "pinpipe-local",
  AWS_SECRET_ACCESS_KEY: "pinpipe-local",
} as const;

/** A rehearsal's local account; `close` removes what `prepareLocalAws` made. */
export interface LocalAws {
  env: Record<string, string>;
  kafkaconnect: KafkaConnectStandIn;
  databricks: DatabricksStandIn;
  /** The folder holding `<id>_dag.py`, as MWAA's bucket will. */
  dagsDir: string;
  mwaaBucket: string;
  close(): Promise<void>;
}

/**
 * Starts the stand-ins (on `ports`, 0 for any free port), makes the MWAA
 * bucket in the S3 endpoint, and writes the plugin zip and the DAG copy to
 * a temporary folder.
 */
export async function prepareLocalAws(options: {
  id: string;
  s3Endpoint: string;
  kinesisEndpoint: string;
  brokers: string;
  ports?: { kafkaconnect?: number; databricks?: number };
  region?: string;
}): Promise<LocalAws> {
  const { id, s3Endpoint, region = "us-east-1" } = options;
  const token = `dapi-local-${crypto.randomUUID()}`;
  const dir = await Deno.makeTempDir({ prefix: `pinpipe-local-aws-${id}-` });
  const dagsDir = `${dir}/dags`;
  await Deno.mkdir(dagsDir);
  await Deno.copyFile(DAG_TEMPLATE, `${dagsDir}/${id}_dag.py`);
  await Deno.copyFile(`${ROOT}dags/${MWAA_REQUIREMENTS}`, `${dagsDir}/${MWAA_REQUIREMENTS}`);
  const pluginZip = `${dir}/confluentinc-kafka-connect-s3-10.5.13.zip`;
  await Deno.writeFile(pluginZip, EMPTY_ZIP);

  const mwaaBucket = `pinpipe-mwaa-${id}`;
  const s3 = s3Client({
    region,
    endpoint: s3Endpoint,
    credentials: {
      accessKeyId: LOCAL_CREDENTIALS.AWS_ACCESS_KEY_ID,
      secretAccessKey: LOCAL_CREDENTIALS.AWS_SECRET_ACCESS_KEY,
    },
  });
  const kafkaconnect = startKafkaConnectStandIn({
    port: options.ports?.kafkaconnect ?? 0,
    s3Endpoint,
  });
  const databricks = startDatabricksStandIn({ port: options.ports?.databricks ?? 0, token });
  const close = async () => {
    await emptyAndDelete(s3, mwaaBucket).catch(() => {});
    s3.destroy();
    await kafkaconnect.close();
    await databricks.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    await s3.send(new CreateBucketCommand({ Bucket: mwaaBucket }));
  } catch (error) {
    await close();
    throw error;
  }
  return {
    env: {
      ...LOCAL_CREDENTIALS,
      PINPIPE_ID: id,
      AWS_REGION: region,
      PINPIPE_KAFKA_BROKERS: options.brokers,
      PINPIPE_KAFKA_AUTH: "none",
      PINPIPE_MSK_SUBNETS: "subnet-0local1,subnet-0local2",
      PINPIPE_MSK_SECURITY_GROUPS: "sg-0local",
      PINPIPE_MSK_CONNECT_ROLE_ARN: "arn:aws:iam::123456789012:role/pinpipe-msk-connect",
      PINPIPE_S3_SINK_PLUGIN_ZIP: pluginZip,
      PINPIPE_MWAA_BUCKET: mwaaBucket,
      PINPIPE_DAGS_DIR: dagsDir,
      DATABRICKS_HOST: databricks.url,
      DATABRICKS_TOKEN: token,
      PINPIPE_AWS_S3_ENDPOINT: s3Endpoint,
      PINPIPE_AWS_KAFKACONNECT_ENDPOINT: kafkaconnect.url,
      PINPIPE_AWS_KINESIS_ENDPOINT: options.kinesisEndpoint,
    },
    kafkaconnect,
    databricks,
    dagsDir,
    mwaaBucket,
    close,
  };
}

async function emptyAndDelete(s3: ReturnType<typeof s3Client>, bucket: string): Promise<void> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  for (const object of listed.Contents ?? []) {
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.Key! }));
  }
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
}
