/**
 * Builds the kafkajs client for the local broker (plaintext) or MSK: TLS
 * with SASL/OAUTHBEARER signed by AWS IAM (the AWS credential chain, via
 * `aws-msk-iam-sasl-signer-js`, as MSK's port 9098 expects), or TLS with
 * SASL/SCRAM-SHA-512 (port 9096). The producer, the sink and the AWS
 * provisioning all connect through here.
 *
 * @example
 * ```ts
 * import { kafkaClient } from "./client.ts";
 * const kafka = kafkaClient({ brokers: ["127.0.0.1:19092"], auth: "none" }, "pinpipe-batch", "us-east-1");
 * ```
 */
import process from "node:process";
import { Kafka, type KafkaConfig as KafkaJsConfig, logLevel, type SASLOptions } from "kafkajs";
import type { KafkaConfig } from "../core/config.ts";

// kafkajs 2.2.4 schedules a timer with a negative delay on every connection,
// which newer runtimes report as TimeoutNegativeWarning (kafkajs issue 1751).
// It is harmless; drop that one warning so real ones stay visible.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const type = typeof rest[0] === "string" ? rest[0] : (rest[0] as { type?: string })?.type;
  if (type === "TimeoutNegativeWarning" || String(warning).includes("is a negative number")) return;
  (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;

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

/** A kafkajs client for `config`; errors are logged by the caller, not by kafkajs. */
export async function kafkaClient(
  config: KafkaConfig,
  clientId: string,
  region = "us-east-1",
  overrides: Partial<KafkaJsConfig> = {},
): Promise<Kafka> {
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
