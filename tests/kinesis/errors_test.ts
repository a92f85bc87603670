/** Kinesis failures classified (throttling, transient, fatal) and described in one line. */
import assert from "node:assert/strict";
import { classifyKinesisError, describeKinesisError, oneLine } from "../../src/kinesis/errors.ts";

Deno.test("SDK errors are classified: throttling, transient, fatal", () => {
  const named = (name: string, status?: number) =>
    Object.assign(new Error("x"), { name, $metadata: { httpStatusCode: status } });
  assert.equal(
    classifyKinesisError(named("ProvisionedThroughputExceededException", 400)),
    "throttle",
  );
  assert.equal(classifyKinesisError(named("LimitExceededException", 400)), "throttle");
  assert.equal(classifyKinesisError(named("InternalFailure", 500)), "transient");
  assert.equal(
    classifyKinesisError(Object.assign(new Error("refused"), { code: "ECONNREFUSED" })),
    "transient",
  );
  assert.equal(classifyKinesisError(named("ResourceNotFoundException", 400)), "fatal");
  assert.equal(classifyKinesisError(named("ValidationException", 400)), "fatal");
});

Deno.test("an SDK error is described in one line, its name first", () => {
  const error = Object.assign(new Error("Rate\n  exceeded"), { name: "ThrottlingException" });
  assert.equal(describeKinesisError(error), "ThrottlingException: Rate exceeded");
  const network = Object.assign(new Error("connect failed"), { code: "ECONNREFUSED" });
  assert.equal(describeKinesisError(network), "ECONNREFUSED: connect failed");
  assert.equal(oneLine("x".repeat(10), 4), "xxxx...");
});
