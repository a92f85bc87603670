/**
 * What a kafkajs failure means, in one line naming the brokers or the topic:
 * authentication, authorization, an unreachable broker. kafkajs wraps its
 * errors (retries exceeded, around a connection error, around a protocol
 * error), so each question here walks the whole chain. The producer and the
 * sink describe their failures here.
 *
 * @example
 * ```ts
 * import { kafkaFailure } from "./errors.ts";
 * const error = Object.assign(new Error("Connection error"), { name: "KafkaJSConnectionError" });
 * kafkaFailure(error, ["127.0.0.1:19092"]).message;
 * // "Kafka broker unreachable at 127.0.0.1:19092: Connection error"
 * ```
 */
import { RecordRejectedError, TargetError } from "../core/errors.ts";

/** An error and its causes (and the errors it aggregates), each as a plain record. */
export function errorChain(error: unknown): Array<Record<string, unknown>> {
  const chain: Array<Record<string, unknown>> = [];
  let current = error as Record<string, unknown> | undefined;
  while (current && typeof current === "object" && chain.length < 10) {
    chain.push(current);
    current = (current.cause ?? current.originalError) as Record<string, unknown> | undefined;
  }
  const nested = (error as { errors?: unknown[] })?.errors;
  if (Array.isArray(nested)) { for (const inner of nested) chain.push(...errorChain(inner)); }
  return chain;
}

/** Whether the broker answered one of `types` (e.g. `TOPIC_ALREADY_EXISTS`) anywhere in the chain. */
export function hasKafkaErrorType(error: unknown, ...types: string[]): boolean {
  return errorChain(error).some((e) => types.includes(String(e.type)));
}

/** Turns a kafkajs error into one line naming the brokers or the topic; undefined if unknown. */
export function describeKafkaError(
  error: unknown,
  brokers: string[],
  topic?: string,
): TargetError | undefined {
  if (error instanceof TargetError || error instanceof RecordRejectedError) return error;
  const chain = errorChain(error);
  const type = chain.map((e) => e.type).find((t) => typeof t === "string") as string | undefined;
  const names = chain.map((e) => String(e.name));
  const where = brokers.join(",");
  const on = topic ? ` topic ${topic}` : "";
  if (names.includes("KafkaJSSASLAuthenticationError") || type === "SASL_AUTHENTICATION_FAILED") {
    return new TargetError(`Kafka authentication failed at ${where}: ${chain[0].message}`);
  }
  if (type === "TOPIC_AUTHORIZATION_FAILED") {
    return new TargetError(`Kafka: not authorized for${on || " the topic"} at ${where}`);
  }
  if (type === "CLUSTER_AUTHORIZATION_FAILED") {
    return new TargetError(
      `Kafka: not authorized on the cluster at ${where}${topic ? ` (creating ${topic})` : ""}`,
    );
  }
  if (
    names.some((name) =>
      name === "KafkaJSConnectionError" || name === "KafkaJSNumberOfRetriesExceeded" ||
      name === "KafkaJSBrokerNotFound" || name === "KafkaJSNoBrokerAvailableError"
    )
  ) {
    return new TargetError(`Kafka broker unreachable at ${where}: ${chain.at(-1)?.message}`);
  }
  return undefined;
}

/** `describeKafkaError`, else a `TargetError` with kafkajs's own message: always one line. */
export function kafkaFailure(error: unknown, brokers: string[], topic?: string): TargetError {
  return describeKafkaError(error, brokers, topic) ??
    new TargetError(
      `Kafka${topic ? ` topic ${topic}` : ""} at ${brokers.join(",")}: ${(error as Error).message}`,
    );
}
