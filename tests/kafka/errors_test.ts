/**
 * kafkajs failures in one line: the whole cause chain is searched, so a
 * broker's answer wrapped in retries and connection errors is still named.
 */
import assert from "node:assert/strict";
import {
  describeKafkaError,
  errorChain,
  hasKafkaErrorType,
  kafkaFailure,
} from "../../src/kafka/errors.ts";
import { RecordRejectedError, TargetError } from "../../src/core/errors.ts";

const brokers = ["b-1:9098", "b-2:9098"];

/** An error shaped as kafkajs builds them: a name, maybe a broker type, maybe a cause. */
function kafkaError(name: string, message: string, fields: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { name, ...fields });
}

Deno.test("the chain follows cause, originalError and aggregated errors", () => {
  const inner = kafkaError("KafkaJSProtocolError", "exists", { type: "TOPIC_ALREADY_EXISTS" });
  const wrapped = kafkaError("KafkaJSNumberOfRetriesExceeded", "retries", { originalError: inner });
  const aggregate = Object.assign(new Error("many"), { errors: [wrapped] });
  assert.deepEqual(errorChain(aggregate).map((e) => e.name), [
    "Error",
    "KafkaJSNumberOfRetriesExceeded",
    "KafkaJSProtocolError",
  ]);
  assert.ok(hasKafkaErrorType(aggregate, "TOPIC_ALREADY_EXISTS"));
  assert.ok(!hasKafkaErrorType(aggregate, "MESSAGE_TOO_LARGE"));
});

Deno.test("authentication, authorization and unreachable brokers are named with the brokers", () => {
  assert.equal(
    describeKafkaError(kafkaError("KafkaJSSASLAuthenticationError", "bad password"), brokers)
      ?.message,
    "Kafka authentication failed at b-1:9098,b-2:9098: bad password",
  );
  assert.equal(
    describeKafkaError(
      kafkaError("KafkaJSProtocolError", "no", { type: "TOPIC_AUTHORIZATION_FAILED" }),
      brokers,
      "t.pin",
    )
      ?.message,
    "Kafka: not authorized for topic t.pin at b-1:9098,b-2:9098",
  );
  assert.equal(
    describeKafkaError(
      kafkaError("KafkaJSProtocolError", "no", { type: "CLUSTER_AUTHORIZATION_FAILED" }),
      brokers,
      "t.pin",
    )
      ?.message,
    "Kafka: not authorized on the cluster at b-1:9098,b-2:9098 (creating t.pin)",
  );
  const refused = kafkaError("KafkaJSConnectionError", "Connection error: ECONNREFUSED");
  const retried = kafkaError("KafkaJSNumberOfRetriesExceeded", "gave up", { cause: refused });
  assert.equal(
    describeKafkaError(retried, brokers)?.message,
    "Kafka broker unreachable at b-1:9098,b-2:9098: Connection error: ECONNREFUSED",
  );
});

Deno.test("errors already ours pass through; unknown ones get kafkajs's message in one line", () => {
  const rejected = new RecordRejectedError("record too large");
  assert.equal(describeKafkaError(rejected, brokers), rejected);
  assert.equal(describeKafkaError(new Error("strange"), brokers), undefined);
  const failure = kafkaFailure(new Error("strange"), brokers, "t.geo");
  assert.ok(failure instanceof TargetError);
  assert.equal(failure.message, "Kafka topic t.geo at b-1:9098,b-2:9098: strange");
  assert.equal(
    kafkaFailure(new Error("strange"), brokers).message,
    "Kafka at b-1:9098,b-2:9098: strange",
  );
});
