/**
 * The pipeline's settings, in one typed object. Each setting comes from a
 * flag, else an environment variable (which `pinpipe.env` fills where unset, see
 * `env_file.ts`), else `.local/stack.env` (written by
 * `infra.sh local up`, ignored by git), else a default that points at the
 * local stack. Secrets come only from the environment or that file.
 *
 * @example
 * ```ts
 * import { loadConfig } from "./config.ts";
 * const config = loadConfig({ _: [] }, { PINPIPE_ID: "12c0d092d679" });
 * config.kafka.brokers; // ["127.0.0.1:19092"]
 * ```
 */
import { type Flags, type FlagSpec, intFlag, stringFlag } from "./cli.ts";
import { UsageError } from "./errors.ts";
import { validatePipelineId } from "./names.ts";

/** Ports the local stack listens on (chosen not to clash with system servers). */
export const LOCAL_PORTS = { mysql: 13306, kafka: 19092, kafkaController: 19093, kinesis: 14567 };

/** The default pipeline id: 12 hex digits, as the original's user id. */
export const DEFAULT_PIPELINE_ID = "0123456789ab";

/** Where the local stack keeps its data and generated secrets. */
export const LOCAL_DIR = ".local";

export interface MysqlConfig {
  host: string;
  port: number;
  user: string;
  /** From PINPIPE_MYSQL_PASSWORD or `.local/stack.env`; never from a flag. */
  password: string;
  database: string;
}

/** How the Kafka client authenticates: none locally, IAM or SCRAM on MSK. */
export type KafkaAuth = "none" | "iam" | "scram";

export interface KafkaConfig {
  brokers: string[];
  auth: KafkaAuth;
  /** SCRAM user and password, from the environment. */
  username?: string;
  password?: string;
}

/** The AWS region of every AWS service used: Kinesis, S3, MSK's IAM tokens (AWS_REGION). */
export const DEFAULT_AWS_REGION = "us-east-1";

export interface AwsConfig {
  region: string;
}

export interface KinesisConfig {
  /** The same as `aws.region`. */
  region: string;
  /** An endpoint URL (kinesalite locally), or undefined for real AWS. */
  endpoint?: string;
}

export interface PipelineConfig {
  /** The 12-hex-digit id that names topics, streams, bucket and tables. */
  id: string;
  mysql: MysqlConfig;
  kafka: KafkaConfig;
  kinesis: KinesisConfig;
  /** Settings of AWS as a whole: the region for S3 and Kafka IAM. */
  aws: AwsConfig;
  /** The bucket: a local directory, or `s3://name` for real S3. */
  bucket: string;
  /** Where checkpoints are kept. */
  stateDir: string;
}

/** Flags every command that talks to the pipeline's services accepts. */
export const CONFIG_FLAGS: Record<string, FlagSpec> = {
  id: { type: "string" },
  "mysql-host": { type: "string" },
  "mysql-port": { type: "string" },
  "mysql-user": { type: "string" },
  "mysql-database": { type: "string" },
  brokers: { type: "string" },
  "kafka-auth": { type: "string" },
  "kinesis-endpoint": { type: "string" },
  region: { type: "string" },
  bucket: { type: "string" },
  "state-dir": { type: "string" },
};

/** Help text for `CONFIG_FLAGS`, to append to a command's usage. */
export const CONFIG_USAGE = `Connection flags (else env, else pinpipe.env, else the local stack):
  --id ID               pipeline id, 12 hex digits        PINPIPE_ID (${DEFAULT_PIPELINE_ID})
  --mysql-host HOST     RDS / MariaDB host                 PINPIPE_MYSQL_HOST (127.0.0.1)
  --mysql-port PORT                                        PINPIPE_MYSQL_PORT (${LOCAL_PORTS.mysql})
  --mysql-user USER     a read-only user                   PINPIPE_MYSQL_USER (pinpipe_reader)
  --mysql-database DB                                      PINPIPE_MYSQL_DATABASE (pinterest_data)
                        password: PINPIPE_MYSQL_PASSWORD only (never a flag)
  --brokers LIST        Kafka bootstrap servers, comma-separated
                                                           PINPIPE_KAFKA_BROKERS (127.0.0.1:${LOCAL_PORTS.kafka})
  --kafka-auth MODE     none | iam | scram                 PINPIPE_KAFKA_AUTH (none)
                        scram user/password: PINPIPE_KAFKA_USERNAME, PINPIPE_KAFKA_PASSWORD
  --kinesis-endpoint U  endpoint URL, or "aws" for the real service
                                                           PINPIPE_KINESIS_ENDPOINT (http://127.0.0.1:${LOCAL_PORTS.kinesis})
  --region REGION                                          AWS_REGION (${DEFAULT_AWS_REGION})
  --bucket DIR|s3://B   where the sink writes              PINPIPE_BUCKET (.local/bucket/user-<id>-bucket)
  --state-dir DIR       checkpoints                        PINPIPE_STATE_DIR (.local/state)`;

/** Reads `KEY=value` lines of `.local/stack.env`; a missing file is empty. */
export function readStackEnv(path = `${LOCAL_DIR}/stack.env`): Record<string, string> {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return {};
    throw error;
  }
  const entries: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const match = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
    if (match) entries[match[1]] = match[2].trim();
  }
  return entries;
}

/**
 * Builds the configuration from flags, then `env`, then `.local/stack.env`,
 * then local defaults. Bad values throw a `UsageError` naming the setting.
 */
export function loadConfig(
  flags: Flags,
  env: Record<string, string | undefined> = Deno.env.toObject(),
  stackEnv: Record<string, string> = readStackEnv(),
): PipelineConfig {
  const setting = (flag: string, variable: string, fallback: string): string =>
    stringFlag(flags, flag) ?? env[variable] ?? stackEnv[variable] ?? fallback;
  const secret = (variable: string): string | undefined => env[variable] ?? stackEnv[variable];

  let id: string;
  try {
    id = validatePipelineId(setting("id", "PINPIPE_ID", DEFAULT_PIPELINE_ID));
  } catch (error) {
    throw new UsageError(`--id / PINPIPE_ID: ${(error as Error).message}`);
  }
  const mysqlPort = intFlag(
    { _: [], "mysql-port": setting("mysql-port", "PINPIPE_MYSQL_PORT", String(LOCAL_PORTS.mysql)) },
    "mysql-port",
    LOCAL_PORTS.mysql,
    { min: 1, max: 65535 },
  );
  const auth = setting("kafka-auth", "PINPIPE_KAFKA_AUTH", "none");
  if (auth !== "none" && auth !== "iam" && auth !== "scram") {
    throw new UsageError(
      `--kafka-auth / PINPIPE_KAFKA_AUTH must be none, iam or scram, got "${auth}"`,
    );
  }
  const region = setting("region", "AWS_REGION", DEFAULT_AWS_REGION);
  const endpoint = setting(
    "kinesis-endpoint",
    "PINPIPE_KINESIS_ENDPOINT",
    `http://127.0.0.1:${LOCAL_PORTS.kinesis}`,
  );
  return {
    id,
    mysql: {
      host: setting("mysql-host", "PINPIPE_MYSQL_HOST", "127.0.0.1"),
      port: mysqlPort,
      user: setting("mysql-user", "PINPIPE_MYSQL_USER", "pinpipe_reader"),
      password: secret("PINPIPE_MYSQL_PASSWORD") ?? "",
      database: setting("mysql-database", "PINPIPE_MYSQL_DATABASE", "pinterest_data"),
    },
    kafka: {
      brokers: setting("brokers", "PINPIPE_KAFKA_BROKERS", `127.0.0.1:${LOCAL_PORTS.kafka}`)
        .split(",").map((broker) => broker.trim()).filter(Boolean),
      auth,
      username: secret("PINPIPE_KAFKA_USERNAME"),
      password: secret("PINPIPE_KAFKA_PASSWORD"),
    },
    kinesis: { region, endpoint: endpoint === "aws" ? undefined : endpoint },
    aws: { region },
    bucket: setting("bucket", "PINPIPE_BUCKET", `${LOCAL_DIR}/bucket/user-${id}-bucket`),
    stateDir: setting("state-dir", "PINPIPE_STATE_DIR", `${LOCAL_DIR}/state`),
  };
}
