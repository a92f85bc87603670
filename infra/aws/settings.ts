/**
 * What `./infra.sh aws plan|apply` needs to know about the AWS account and
 * the Databricks workspace, read from the environment. Nothing here is a
 * secret except DATABRICKS_TOKEN, which is kept out of every printed value.
 * A setting not given shows as `<set NAME>` in the plan; `apply` refuses
 * to start while any is missing.
 *
 * @example
 * ```ts
 * import { readAwsSettings } from "./settings.ts";
 * const settings = readAwsSettings({ PINPIPE_ID: "12c0d092d679" });
 * settings.id; // "12c0d092d679"
 * settings.databricksHost; // "<set DATABRICKS_HOST>"
 * ```
 */
import { DEFAULT_PIPELINE_ID } from "../../src/core/config.ts";
import { validatePipelineId } from "../../src/core/names.ts";
import type { SinkRotation } from "./s3_sink_connector.ts";

/** An environment variable `plan` and `apply` read, with what it is for. */
export interface SettingSpec {
  name: string;
  help: string;
}

/** The variables `apply` cannot do without (besides PINPIPE_ID and AWS_REGION), in plan order. */
export const AWS_SETTINGS = {
  sinkPluginZip: {
    name: "PINPIPE_S3_SINK_PLUGIN_ZIP",
    help: "local path of confluentinc-kafka-connect-s3-10.x.zip",
  },
  databricksHost: {
    name: "DATABRICKS_HOST",
    help: "workspace URL, https://<workspace>.cloud.databricks.com",
  },
} as const satisfies Record<string, SettingSpec>;

/** MSK's IAM bootstrap brokers: optional, asked of MSK once the network stack exists. */
export const BROKERS_SETTING: SettingSpec = {
  name: "PINPIPE_KAFKA_BROKERS",
  help: "MSK bootstrap brokers for IAM (port 9098), comma-separated (default: asked of MSK)",
};

/** Secrets `apply` needs; checked for presence only, never printed. */
export const AWS_SECRETS: readonly SettingSpec[] = [
  { name: "DATABRICKS_TOKEN", help: "a Databricks personal access token" },
];

type SettingKey = keyof typeof AWS_SETTINGS;

/** The settings, each a value or its `<set NAME>` placeholder; and how the sink cuts objects. */
export type AwsSettings =
  & { id: string; region: string; rotation: SinkRotation; kafkaBrokers?: string }
  & Record<SettingKey, string>;

/** The placeholder shown for a missing setting. */
export const placeholder = (name: string): string => `<set ${name}>`;

/** True when `value` is a placeholder, i.e. the setting was not given. */
export const isPlaceholder = (value: string): boolean => /^<set [A-Z0-9_]+>$/.test(value);

/**
 * Reads the settings from `env`. A bad pipeline id throws, naming PINPIPE_ID;
 * every other absent value becomes its placeholder.
 */
export function readAwsSettings(env: Record<string, string | undefined>): AwsSettings {
  const id = env.PINPIPE_ID?.trim() || DEFAULT_PIPELINE_ID;
  try {
    validatePipelineId(id);
  } catch (error) {
    throw new Error(`PINPIPE_ID: ${(error as Error).message}`);
  }
  const settings: Record<string, unknown> = {
    id,
    region: env.AWS_REGION?.trim() || "us-east-1",
    rotation: {
      flushSize: wholeNumber("PINPIPE_SINK_FLUSH_SIZE", env.PINPIPE_SINK_FLUSH_SIZE, 1000, 1),
      rotateMs: wholeNumber("PINPIPE_SINK_ROTATE_MS", env.PINPIPE_SINK_ROTATE_MS, 60_000, 0),
    },
  };
  for (const [key, spec] of Object.entries(AWS_SETTINGS)) {
    settings[key] = env[spec.name]?.trim() || placeholder(spec.name);
  }
  const brokers = env[BROKERS_SETTING.name]?.trim();
  if (brokers) settings.kafkaBrokers = brokers;
  return settings as AwsSettings;
}

/** Splits a comma-separated setting; a placeholder stays one item. */
export const listSetting = (value: string): string[] =>
  value.split(",").map((item) => item.trim()).filter(Boolean);

/**
 * The problems that stop `apply` before any call: every missing setting or
 * secret, with what it is for, and a plugin zip path that is not a file.
 */
export function applyBlockers(
  settings: AwsSettings,
  env: Record<string, string | undefined>,
  isFile: (path: string) => boolean,
): string[] {
  const problems: string[] = [];
  for (const [key, spec] of Object.entries(AWS_SETTINGS)) {
    if (isPlaceholder(settings[key as SettingKey])) problems.push(`${spec.name}: ${spec.help}`);
  }
  for (const spec of AWS_SECRETS) {
    if (!env[spec.name]?.trim()) problems.push(`${spec.name}: ${spec.help}`);
  }
  if (!isRegionName(settings.region)) {
    problems.push(`AWS_REGION: "${settings.region}" is not a region name like us-east-1`);
  }
  const zip = settings.sinkPluginZip;
  if (!isPlaceholder(zip) && !isFile(zip)) {
    problems.push(`PINPIPE_S3_SINK_PLUGIN_ZIP: "${zip}" is not a file`);
  }
  if (!isPlaceholder(settings.databricksHost) && !isWorkspaceUrl(settings.databricksHost)) {
    problems.push(
      `DATABRICKS_HOST: "${settings.databricksHost}" must start with https:// ` +
        "(http:// only on 127.0.0.1 or localhost, for a local stand-in)",
    );
  }
  if (!hasAwsCredentials(env)) {
    problems.push(
      "AWS credentials: none found; set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY " +
        "(on an instance or task role, set PINPIPE_AWS_ROLE_CREDENTIALS=1)",
    );
  }
  return problems;
}

// A workspace URL: https, or plain http on the loopback interface (a local stand-in).
const isWorkspaceUrl = (url: string): boolean =>
  /^https:\/\//.test(url) || /^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?(\/|$)/.test(url);

/** The variables that point the AWS calls at local endpoints instead of AWS. */
export const ENDPOINT_SETTINGS = {
  cloudformation: "PINPIPE_AWS_CLOUDFORMATION_ENDPOINT",
  s3: "PINPIPE_AWS_S3_ENDPOINT",
  kafka: "PINPIPE_AWS_KAFKA_ENDPOINT",
} as const;

/** Where the calls go: each service's endpoint (undefined: AWS itself). */
export interface AwsEndpoints {
  cloudformation?: string;
  s3?: string;
  /** MSK's API (GetBootstrapBrokers), not the brokers. */
  kafka?: string;
}

/** Reads the endpoints from `env`; a value that is not an http(s) URL throws, naming it. */
export function readEndpoints(env: Record<string, string | undefined>): AwsEndpoints {
  const endpoints: AwsEndpoints = {};
  for (const [service, name] of Object.entries(ENDPOINT_SETTINGS)) {
    const value = env[name]?.trim();
    if (!value) continue;
    if (!/^https?:\/\/[^/]+\/?$/.test(value)) {
      throw new Error(`${name}: "${value}" must be an endpoint URL like http://127.0.0.1:14566`);
    }
    endpoints[service as keyof typeof ENDPOINT_SETTINGS] = value.replace(/\/$/, "");
  }
  return endpoints;
}

/**
 * Whether the AWS SDK's credential chain has a source to read, judged
 * without any network call (the instance metadata service would be one).
 */
export function hasAwsCredentials(env: Record<string, string | undefined>): boolean {
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) return true;
  if (env.AWS_PROFILE || env.AWS_WEB_IDENTITY_TOKEN_FILE) return true;
  if (env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI || env.AWS_CONTAINER_CREDENTIALS_FULL_URI) {
    return true;
  }
  if (env.PINPIPE_AWS_ROLE_CREDENTIALS === "1") return true;
  const home = env.HOME;
  if (!home) return false;
  return [
    env.AWS_SHARED_CREDENTIALS_FILE ?? `${home}/.aws/credentials`,
    env.AWS_CONFIG_FILE ?? `${home}/.aws/config`,
  ].some((path) => {
    try {
      return Deno.statSync(path).isFile;
    } catch {
      return false;
    }
  });
}

/** True for a region name such as us-east-1 or ap-southeast-2. */
const isRegionName = (region: string): boolean => /^[a-z]{2}(-[a-z]+)+-\d$/.test(region);

/** How the MSK cluster is made: three provisioned brokers across zones, or serverless. */
export type MskMode = "provisioned" | "serverless";

/**
 * What the CDK app needs beyond the ids: all optional, each with a default
 * that gives the original system's shape. A new VPC unless PINPIPE_VPC_ID
 * names one (then PINPIPE_MSK_SUBNETS are its private subnets and
 * PINPIPE_PUBLIC_SUBNETS its public ones, one per zone).
 */
export interface StackSettings {
  id: string;
  region: string;
  mskMode: MskMode;
  /**
   * Three zones (the provisioned cluster puts one broker in each), or none:
   * the region's first three, chosen by CloudFormation at deploy time.
   */
  availabilityZones?: string[];
  existingVpc?: { vpcId: string; privateSubnets: string[]; publicSubnets: string[] };
  /** The S3 sink's `flush.size` (records per object) and `rotate.schedule.interval.ms`. */
  flushSize: number;
  rotateMs: number;
  /** The brokers, when known (after the network stack exists); else a parameter to fill. */
  kafkaBrokers?: string;
}

/** The variables the CDK app reads, with what each is for (all optional). */
export const STACK_SETTINGS = {
  mskMode: { name: "PINPIPE_MSK_MODE", help: "provisioned (3 brokers, default) or serverless" },
  availabilityZones: {
    name: "PINPIPE_AVAILABILITY_ZONES",
    help: "three zones, comma-separated (default: the region's first three)",
  },
  vpcId: { name: "PINPIPE_VPC_ID", help: "an existing VPC to use instead of a new one" },
  privateSubnets: {
    name: "PINPIPE_MSK_SUBNETS",
    help: "with PINPIPE_VPC_ID: its private subnet ids (MSK's, MWAA's), comma-separated",
  },
  publicSubnets: {
    name: "PINPIPE_PUBLIC_SUBNETS",
    help: "with PINPIPE_VPC_ID: its public subnet ids (the client host's), comma-separated",
  },
  flushSize: { name: "PINPIPE_SINK_FLUSH_SIZE", help: "records per S3 object (default 1000)" },
  rotateMs: {
    name: "PINPIPE_SINK_ROTATE_MS",
    help: "ms after which a partial object is written (default 60000)",
  },
} as const satisfies Record<string, SettingSpec>;

function wholeNumber(name: string, text: string | undefined, fallback: number, min: number) {
  const value = text?.trim() ? Number(text.trim()) : fallback;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new Error(`${name}: "${text}" must be a whole number of at least ${min}`);
  }
  return value;
}

/**
 * Reads the CDK app's settings from `env`; a bad value throws one line
 * naming its variable.
 */
export function readStackSettings(env: Record<string, string | undefined>): StackSettings {
  const { id, region, rotation } = readAwsSettings(env);
  if (!isRegionName(region)) {
    throw new Error(`AWS_REGION: "${region}" is not a region name like us-east-1`);
  }
  const mode = env.PINPIPE_MSK_MODE?.trim() || "provisioned";
  if (mode !== "provisioned" && mode !== "serverless") {
    throw new Error(`PINPIPE_MSK_MODE: "${mode}" must be provisioned or serverless`);
  }
  const zonesText = env.PINPIPE_AVAILABILITY_ZONES?.trim();
  const availabilityZones = zonesText ? listSetting(zonesText) : undefined;
  if (
    availabilityZones &&
    (availabilityZones.length !== 3 || availabilityZones.some((zone) => !zone.startsWith(region)))
  ) {
    throw new Error(
      `PINPIPE_AVAILABILITY_ZONES: "${zonesText}" must be three zones of ${region}, comma-separated`,
    );
  }
  const settings: StackSettings = {
    id,
    region,
    mskMode: mode,
    availabilityZones,
    ...rotation,
  };
  const vpcId = env.PINPIPE_VPC_ID?.trim();
  if (vpcId) {
    if (!/^vpc-([0-9a-f]{8}|[0-9a-f]{17})$/.test(vpcId)) {
      throw new Error(`PINPIPE_VPC_ID: "${vpcId}" is not a VPC id like vpc-0abc12345678`);
    }
    const subnets = (name: string) => {
      const ids = listSetting(env[name] ?? "");
      if (
        ids.length !== 3 ||
        ids.some((subnet) => !/^subnet-([0-9a-f]{8}|[0-9a-f]{17})$/.test(subnet))
      ) {
        throw new Error(
          `${name}: with PINPIPE_VPC_ID, three subnet ids (one per zone) are needed, got "${
            env[name] ?? ""
          }"`,
        );
      }
      return ids;
    };
    settings.existingVpc = {
      vpcId,
      privateSubnets: subnets(STACK_SETTINGS.privateSubnets.name),
      publicSubnets: subnets(STACK_SETTINGS.publicSubnets.name),
    };
  }
  const brokers = env[BROKERS_SETTING.name]?.trim();
  if (brokers) settings.kafkaBrokers = brokers;
  return settings;
}
