/** Kinesis failures classified (throttling, transient, fatal), retriable or not, and described in one line. */
import assert from "node:assert/strict";
import { describeKinesisError, kinesisFailure, oneLine } from "../../src/kinesis/errors.ts";
import { isRetriable } from "../../src/util/retry.ts";

Deno.test("SDK errors become call failures that carry their class and whether to retry", () => {
  const named = (name: string, status?: number) =>
    Object.assign(new Error("x"), { name, $metadata: { httpStatusCode: status } });
  const cases: [unknown, string, boolean][] = [
    [named("ProvisionedThroughputExceededException", 400), "throttle", true],
    [named("LimitExceededException", 400), "throttle", true],
    [named("InternalFailure", 500), "transient", true],
    [Object.assign(new Error("refused"), { code: "ECONNREFUSED" }), "transient", true],
    [named("ResourceNotFoundException", 400), "fatal", false],
    [named("ValidationException", 400), "fatal", false],
  ];
  for (const [error, failureClass, retriable] of cases) {
    const failure = kinesisFailure(error);
    assert.equal(failure.failureClass, failureClass, String(error));
    assert.equal(failure.retriable, retriable);
    assert.equal(isRetriable(failure), retriable);
    assert.equal(failure.cause, error);
  }
  const once = kinesisFailure(named("InternalFailure", 500));
  assert.equal(kinesisFailure(once), once, "a call failure is not wrapped again");
  assert.equal(kinesisFailure(named("ThrottlingException")).message, "ThrottlingException: x");
});

Deno.test("an SDK error is described in one line, its name first", () => {
  const error = Object.assign(new Error("Rate\n  exceeded"), { name: "ThrottlingException" });
  assert.equal(describeKinesisError(error), "ThrottlingException: Rate exceeded");
  const network = Object.assign(new Error("connect failed"), { code: "ECONNREFUSED" });
  assert.equal(describeKinesisError(network), "ECONNREFUSED: connect failed");
  assert.equal(oneLine("x".repeat(10), 4), "xxxx...");
});
