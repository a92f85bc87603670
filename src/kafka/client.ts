/**
 * Builds the kafkajs client for the local broker (plaintext) or MSK: TLS
 * with SASL/OAUTHBEARER signed by AWS IAM (the AWS credential chain, via
 * `aws-msk-iam-sasl-signer-js`, as MSK's port 9098 expects), or TLS with
 * SASL/SCRAM-SHA-512 (port 9096). The producer, the sink and the AWS
 * provisioning all connect through here, and kafkajs's retry settings are
 * written here only (`KAFKA_RETRY`, `producerClientOptions`, `IDEMPOTENT_PRODUCER`).
 *
 * @example
 * ```ts
 * import { KAFKA_RETRY, kafkaClient } from "./client.ts";
 * const kafka = await kafkaClient({ brokers: ["127.0.0.1:19092"], auth: "none" }, "pinpipe-batch", "us-east-1");
 * const admin = kafka.admin({ retry: KAFKA_RETRY.quick });
 * ```
 */
import {
  Kafka,
  type KafkaConfig as KafkaJsConfig,
  logLevel,
  Partitioners,
  type ProducerConfig,
  type RetryOptions,
  type SASLOptions,
} from "kafkajs";
import { DEFAULT_AWS_REGION, type KafkaConfig } from "../core/config.ts";
import { stopIdleRequestQueueTimer } from "./idle_request_queue.ts";

/** kafkajs retry settings: how long a client keeps trying a broker before failing. */
export const KAFKA_RETRY = {
  /** Producers: as long as the broker stays away; the target bounds the wait (--broker-wait-ms). */
  patient: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 5_000 },
  /** Admin calls: two quick retries, then a clear failure. */
  quick: { retries: 2, initialRetryTime: 300, maxRetryTime: 2_000 },
  /** Admin calls right after a topic was created: a few more. */
  settling: { retries: 5, initialRetryTime: 300, maxRetryTime: 2_000 },
  /** Tests' clients that ride out a broker restart or failover: eight retries, kafkajs's pacing. */
  recovering: { retries: 8 },
  /** Probes (health checks): one try. */
  none: { retries: 0 },
} as const satisfies Record<string, RetryOptions>;

/** The producer's client settings: TLS or not, slow requests allowed, and how long to retry. */
export function producerClientOptions(
  tls: boolean,
  retry: RetryOptions = KAFKA_RETRY.patient,
): Partial<KafkaJsConfig> {
  return { ssl: tls, requestTimeout: 15_000, retry };
}

/**
 * The idempotent producer: acks from all in-sync replicas, one request in
 * flight, retries that reuse the same sequence numbers (so the broker drops
 * a retried duplicate), the Java client's partitioner.
 */
export const IDEMPOTENT_PRODUCER: ProducerConfig = {
  idempotent: true,
  maxInFlightRequests: 1,
  createPartitioner: Partitioners.DefaultPartitioner,
  retry: KAFKA_RETRY.patient,
};

/** SASL options for `config.auth`, or undefined for plaintext. */
async function saslFor(config: KafkaConfig, region: string): Promise<SASLOptions | undefined> {
  switch (config.auth) {
    case "none":
      return undefined;
    case "scram":
      if (!config.username || !config.password) {
        throw new Error("Kafka SCRAM needs PINPIPE_KAFKA_USERNAME and PINPIPE_KAFKA_PASSWORD");
      }
      return { mechanism: "scram-sha-512", username: config.username, password: config.password };
    case "iam": {
      const { generateAuthToken } = await import("aws-msk-iam-sasl-signer-js");
      return {
        mechanism: "oauthbearer",
        oauthBearerProvider: async () => ({ value: (await generateAuthToken({ region })).token }),
      };
    }
  }
}

/**
 * A kafkajs client for `config` (`region`: the AWS region IAM tokens are signed
 * for); errors are logged by the caller, not by kafkajs.
 */
export async function kafkaClient(
  config: KafkaConfig,
  clientId: string,
  region = DEFAULT_AWS_REGION,
  overrides: Partial<KafkaJsConfig> = {},
): Promise<Kafka> {
  // Before kafkajs connects: its idle queue timer warns and wakes every millisecond otherwise.
  stopIdleRequestQueueTimer();
  const sasl = await saslFor(config, region);
  return new Kafka({
    clientId,
    brokers: config.brokers,
    ssl: sasl !== undefined,
    sasl,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    ...overrides,
  });
}
