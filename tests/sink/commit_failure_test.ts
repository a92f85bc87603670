/**
 * What a failed commit means to a member of the sink's group, judged over
 * kafkajs's whole error chain (its retries wrap the broker's answer).
 */
import assert from "node:assert/strict";
import { commitFailureKind, groupAnswer } from "../../src/sink/commit_failure.ts";

const protocolError = (type: string) => Object.assign(new Error(type), { type });
const retriesExceeded = (cause: Error) =>
  Object.assign(new Error(cause.message), {
    name: "KafkaJSNumberOfRetriesExceeded",
    originalError: cause,
  });

Deno.test("commitFailureKind: the group moved on: rejoin", () => {
  for (const type of ["REBALANCE_IN_PROGRESS", "ILLEGAL_GENERATION", "UNKNOWN_MEMBER_ID"]) {
    assert.equal(commitFailureKind(protocolError(type)), "generation-over", type);
    const wrapped = retriesExceeded(protocolError(type));
    assert.equal(commitFailureKind(wrapped), "generation-over", type);
    assert.equal((groupAnswer(wrapped) as { type: string }).type, type, "the broker's answer");
  }
});

Deno.test("commitFailureKind: the coordinator unreachable or moved: outcome unknown", () => {
  assert.equal(commitFailureKind(protocolError("NOT_COORDINATOR_FOR_GROUP")), "outcome-unknown");
  const refused = Object.assign(new Error("Connection error"), { name: "KafkaJSConnectionError" });
  assert.equal(commitFailureKind(retriesExceeded(refused)), "outcome-unknown");
});

Deno.test("commitFailureKind: anything else is fatal", () => {
  assert.equal(commitFailureKind(protocolError("GROUP_AUTHORIZATION_FAILED")), "fatal");
  assert.equal(commitFailureKind(new Error("disk full")), "fatal");
});
