/**
 * What a failed offset commit (or heartbeat) means to a member of the sink's
 * consumer group:
 *
 * - `generation-over`: the group moved on without this member
 *   (`REBALANCE_IN_PROGRESS`, `ILLEGAL_GENERATION`, `UNKNOWN_MEMBER_ID`). The
 *   commit was refused; the member rejoins and starts every partition it gets
 *   again at the group's committed offset.
 * - `outcome-unknown`: the coordinator could not be reached or moved
 *   (a broker failover). The commit may or may not have landed; the
 *   membership may still hold.
 * - `fatal`: anything else ends the sink.
 *
 * @example
 * ```ts
 * import { commitFailureKind } from "./commit_failure.ts";
 * commitFailureKind({ type: "REBALANCE_IN_PROGRESS" }); // "generation-over"
 * ```
 */
import { errorChain } from "../kafka/errors.ts";

/** How the sink handles a failed commit. */
export type CommitFailureKind = "generation-over" | "outcome-unknown" | "fatal";

const GENERATION_OVER = new Set([
  "REBALANCE_IN_PROGRESS",
  "ILLEGAL_GENERATION",
  "UNKNOWN_MEMBER_ID",
]);

const OUTCOME_UNKNOWN_TYPES = new Set([
  "NOT_COORDINATOR_FOR_GROUP",
  "GROUP_COORDINATOR_NOT_AVAILABLE",
  "GROUP_LOAD_IN_PROGRESS",
  "REQUEST_TIMED_OUT",
  "NOT_ENOUGH_REPLICAS",
  "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
]);

const OUTCOME_UNKNOWN_NAMES = new Set([
  "KafkaJSConnectionError",
  "KafkaJSRequestTimeoutError",
  "KafkaJSBrokerNotFound",
  "KafkaJSConnectionClosedError",
]);

/** Classifies `error` by every error in its kafkajs chain. */
export function commitFailureKind(error: unknown): CommitFailureKind {
  const chain = errorChain(error);
  if (chain.some((e) => GENERATION_OVER.has(String(e.type)))) return "generation-over";
  if (
    chain.some((e) =>
      OUTCOME_UNKNOWN_TYPES.has(String(e.type)) || OUTCOME_UNKNOWN_NAMES.has(String(e.name))
    )
  ) {
    return "outcome-unknown";
  }
  return "fatal";
}

/** The error in the chain that names the group's answer, for kafkajs's runner to rejoin on. */
export function groupAnswer(error: unknown): unknown {
  return errorChain(error).find((e) => GENERATION_OVER.has(String(e.type))) ?? error;
}
