/**
 * The AWS account and Databricks workspace of a rehearsal, on this machine:
 * moto (CloudFormation, S3, Kinesis, IAM, API Gateway, EC2) as the account,
 * with a VPC already in it (a stack of its own, as an account's existing
 * VPC would be), the given broker as MSK's, the Databricks stand-in started
 * here, and the local files `apply` uploads (an S3 sink plugin zip, the DAG
 * named for the pipeline id, its requirements). `env` is the environment
 * `./infra.sh aws apply|destroy` runs with against all of it.
 *
 * @example
 * ```ts
 * import { prepareLocalAws } from "./local_aws.ts";
 * const local = await prepareLocalAws({
 *   id: "0123456789ab",
 *   endpoint: "http://127.0.0.1:14566",
 *   brokers: "127.0.0.1:19092",
 * });
 * // ... deno run -A infra/aws/command.ts apply, with local.env ...
 * await local.close();
 * ```
 */
import { CloudFormationClient } from "@aws-sdk/client-cloudformation";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { type DatabricksStandIn, startDatabricksStandIn } from "../local/stand_ins/databricks.ts";
import { deleteStack, deployStack, findStack, outputsOf } from "./cloudformation.ts";
import { MWAA_REQUIREMENTS } from "./plan.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** The DAG file in the repository, named for the default pipeline id. */
const DAG_TEMPLATE = `${ROOT}dags/0123456789ab_dag.py`;

// An empty zip archive (its end-of-central-directory record alone): a real zip, holding nothing.
// moto does not make MSK Connect plugins, so nothing reads it: it is uploaded, and listed.
const EMPTY_ZIP = new Uint8Array([0x50, 0x4b, 0x05, 0x06, ...new Array(18).fill(0)]);

/** Local credentials for the SDK's chain: moto checks only that requests are signed. */
export const LOCAL_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: "pinpipe-local",
  AWS_SECRET_ACCESS_KEY: "pinpipe-local",
} as const;

/** The region of every rehearsal. */
export const LOCAL_REGION = "us-east-1";

/** A rehearsal's local account; `close` removes what `prepareLocalAws` made. */
export interface LocalAws {
  env: Record<string, string>;
  databricks: DatabricksStandIn;
  /** The folder holding `<id>_dag.py`. */
  dagsDir: string;
  /** The stack holding the account's VPC (not the app's: deleted by `close`). */
  vpcStack: string;
  close(): Promise<void>;
}

/** The account's VPC: three private and three public subnets, one of each per zone. */
export function accountVpcTemplate(region = LOCAL_REGION): string {
  const subnet = (index: number, kind: string) => ({
    Type: "AWS::EC2::Subnet",
    Properties: {
      VpcId: { Ref: "Vpc" },
      CidrBlock: `10.50.${index}.0/24`,
      AvailabilityZone: `${region}${"abc"[index % 3]}`,
      Tags: [{ Key: "Name", Value: `${kind}-${index % 3}` }],
    },
  });
  const resources: Record<string, unknown> = {
    Vpc: { Type: "AWS::EC2::VPC", Properties: { CidrBlock: "10.50.0.0/16" } },
  };
  const outputs: Record<string, unknown> = { VpcId: { Value: { Ref: "Vpc" } } };
  for (let i = 0; i < 6; i++) {
    const kind = i < 3 ? "Private" : "Public";
    resources[`${kind}${i % 3}`] = subnet(i, kind);
    outputs[`${kind}${i % 3}`] = { Value: { Ref: `${kind}${i % 3}` } };
  }
  return JSON.stringify({ Resources: resources, Outputs: outputs });
}

/** A CloudFormation client for a local endpoint. */
export function localCloudFormation(endpoint: string): CloudFormationClient {
  return new CloudFormationClient({
    region: LOCAL_REGION,
    endpoint,
    credentials: {
      accessKeyId: LOCAL_CREDENTIALS.AWS_ACCESS_KEY_ID,
      secretAccessKey: LOCAL_CREDENTIALS.AWS_SECRET_ACCESS_KEY,
    },
    requestHandler: new NodeHttpHandler({ connectionTimeout: 5000 }),
  });
}

/**
 * Makes the account's VPC in `endpoint` (moto), starts the Databricks
 * stand-in (on `port`, 0 for any free one), and writes the plugin zip and
 * the DAG copy to a temporary folder.
 */
export async function prepareLocalAws(options: {
  id: string;
  endpoint: string;
  brokers: string;
  databricksPort?: number;
}): Promise<LocalAws> {
  const { id, endpoint } = options;
  const region = LOCAL_REGION;
  const token = `dapi-local-${crypto.randomUUID()}`;
  const dir = await Deno.makeTempDir({ prefix: `pinpipe-local-aws-${id}-` });
  const dagsDir = `${dir}/dags`;
  await Deno.mkdir(dagsDir);
  await Deno.copyFile(DAG_TEMPLATE, `${dagsDir}/${id}_dag.py`);
  await Deno.copyFile(`${ROOT}dags/${MWAA_REQUIREMENTS}`, `${dagsDir}/${MWAA_REQUIREMENTS}`);
  const pluginZip = `${dir}/confluentinc-kafka-connect-s3-10.5.13.zip`;
  await Deno.writeFile(pluginZip, EMPTY_ZIP);

  const cloudformation = localCloudFormation(endpoint);
  const vpcStack = `pinpipe-${id}-rehearsal-account-vpc`;
  const databricks = startDatabricksStandIn({ port: options.databricksPort ?? 0, token });
  const close = async () => {
    await deleteStack(cloudformation, vpcStack, { pollMs: 500 }).catch(() => {});
    cloudformation.destroy();
    await databricks.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  let vpc: Record<string, string>;
  try {
    await deployStack(cloudformation, { name: vpcStack, template: accountVpcTemplate() }, {
      changeSets: false,
      pollMs: 500,
    });
    vpc = outputsOf(await findStack(cloudformation, vpcStack));
  } catch (error) {
    await close();
    throw error;
  }
  return {
    env: {
      ...LOCAL_CREDENTIALS,
      PINPIPE_ID: id,
      AWS_REGION: region,
      PINPIPE_VPC_ID: vpc.VpcId,
      PINPIPE_MSK_SUBNETS: [0, 1, 2].map((i) => vpc[`Private${i}`]).join(","),
      PINPIPE_PUBLIC_SUBNETS: [0, 1, 2].map((i) => vpc[`Public${i}`]).join(","),
      PINPIPE_AVAILABILITY_ZONES: ["a", "b", "c"].map((zone) => `${region}${zone}`).join(","),
      PINPIPE_KAFKA_BROKERS: options.brokers,
      PINPIPE_KAFKA_AUTH: "none",
      PINPIPE_S3_SINK_PLUGIN_ZIP: pluginZip,
      PINPIPE_DAGS_DIR: dagsDir,
      DATABRICKS_HOST: databricks.url,
      DATABRICKS_TOKEN: token,
      PINPIPE_AWS_CLOUDFORMATION_ENDPOINT: endpoint,
      PINPIPE_AWS_S3_ENDPOINT: endpoint,
    },
    databricks,
    dagsDir,
    vpcStack,
    close,
  };
}
