/**
 * The Kinesis target's delivery, whatever the transport: entries per record, reading a
 * PutRecords answer, retrying until every entry is accepted, waiting for ACTIVE.
 */
import assert from "node:assert/strict";
import {
  collectFailures,
  retryUntilAccepted,
  toKinesisEntry,
  waitUntilActive,
} from "../../src/kinesis/delivery.ts";
import { CallFailure } from "../../src/kinesis/errors.ts";
import { RecordRejectedError, TargetError } from "../../src/core/errors.ts";
import { ThrottlePacer } from "../../src/transfer/pacing.ts";
import { outgoing } from "../../src/core/records.ts";

Deno.test("partition keys: the row index by default, a random uuid as an option", () => {
  const record = outgoing("user", 42, { ind: 42 });
  const byIndex = toKinesisEntry("user", record, "index");
  assert.equal(byIndex.partitionKey, "42");
  assert.equal(byIndex.label, "user row 42");
  assert.equal(new TextDecoder().decode(byIndex.data), '{"ind":42}');
  const a = toKinesisEntry("user", record, "uuid").partitionKey;
  const b = toKinesisEntry("user", record, "uuid").partitionKey;
  assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.notEqual(a, b);
});

const entries = (n: number) =>
  Array.from(
    { length: n },
    (_, i) => ({ data: new Uint8Array(1), partitionKey: "k", label: `row ${i}` }),
  );

Deno.test("a PutRecords answer: throttled and internal failures retried, other codes refused", () => {
  const pending = entries(3);
  const outcome = collectFailures("s", pending, [
    {},
    { ErrorCode: "ProvisionedThroughputExceededException", ErrorMessage: "slow" },
    { ErrorCode: "InternalFailure", ErrorMessage: "oops" },
  ]);
  assert.deepEqual(outcome.failed, [pending[1], pending[2]]);
  assert.equal(outcome.throttled, 1);
  assert.equal(outcome.firstError, "ProvisionedThroughputExceededException: slow");
  assert.throws(
    () => collectFailures("s", pending, [{ ErrorCode: "AccessDeniedException" }, {}, {}]),
    (error) => error instanceof RecordRejectedError && /s: row 0 refused/.test(error.message),
  );
});

const context = (maxAttempts: number) => ({
  what: "PutRecords to s",
  pacer: new ThrottlePacer(1, 4),
  maxAttempts,
  backoff: { baseMs: 1, capMs: 4 },
  throttleTimeoutMs: 60_000,
});

Deno.test("retryUntilAccepted: failed entries are retried alone until accepted", async () => {
  const sent: number[] = [];
  const all = entries(5);
  await retryUntilAccepted(all, (pending) => {
    sent.push(pending.length);
    // Each call accepts all but the last pending entry, which fails inside the service.
    return Promise.resolve({
      failed: pending.slice(-1).filter(() => pending.length > 1),
      throttled: 0,
    });
  }, context(8));
  assert.deepEqual(sent, [5, 1]);
});

Deno.test("retryUntilAccepted: throttles slow the pacer and do not use up the attempts", async () => {
  const ctx = context(2);
  let calls = 0;
  await retryUntilAccepted(entries(2), () => {
    calls++;
    if (calls <= 4) throw new CallFailure("throttle", "slow down");
    return Promise.resolve({ failed: [], throttled: 0 });
  }, ctx);
  assert.equal(calls, 5);
  assert.equal(ctx.pacer.throttles, 4);
});

Deno.test("retryUntilAccepted: transient failures stop after maxAttempts, fatal ones at once", async () => {
  let calls = 0;
  await assert.rejects(
    retryUntilAccepted(entries(1), () => {
      calls++;
      throw new CallFailure("transient", "503");
    }, context(3)),
    (error) =>
      error instanceof TargetError && error.message === "PutRecords to s failed 3 times: 503",
  );
  assert.equal(calls, 3);
  await assert.rejects(
    retryUntilAccepted(entries(1), () => {
      throw new CallFailure("fatal", "403");
    }, context(3)),
    (error) => error instanceof TargetError && error.message === "PutRecords to s failed: 403",
  );
});

Deno.test("waitUntilActive: asks until ACTIVE, names a stream that vanished or stays CREATING", async () => {
  const answers = ["CREATING", "CREATING", "UPDATING"];
  let asked = 0;
  await waitUntilActive("s", () => Promise.resolve(answers[asked++]), 10_000);
  assert.equal(asked, 3);
  await assert.rejects(
    waitUntilActive("s", () => Promise.resolve(undefined), 10_000, "API u: "),
    (error) =>
      error instanceof TargetError &&
      error.message === "API u: stream s vanished while waiting for it",
  );
  await assert.rejects(
    waitUntilActive("s", () => Promise.resolve("CREATING"), 300),
    (error) =>
      error instanceof TargetError && error.message === "stream s still CREATING after 0.3 s",
  );
});
