/**
 * What a Kinesis failure means: throttling (slow down and retry), transient
 * (retry a few times), or fatal (stop). An SDK error becomes a `CallFailure`
 * here (`kinesisFailure`), which carries its class and whether it is
 * `retriable`, for the producer's and the consumer's retry loops; per-record
 * error codes are read here too, and errors described in one line.
 *
 * @example
 * ```ts
 * import { describeKinesisError, kinesisFailure } from "./errors.ts";
 * const error = Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" });
 * kinesisFailure(error).failureClass; // "throttle"
 * kinesisFailure(error).retriable; // true
 * describeKinesisError(error); // "ThrottlingException: Rate exceeded"
 * ```
 */

/** How a failed call should be answered: slow down, retry a few times, or stop. */
export type FailureClass = "throttle" | "transient" | "fatal";

/** A whole call failed; `failureClass` says how to answer it, `retriable` whether to try again. */
export class CallFailure extends Error {
  readonly retriable: boolean;

  constructor(readonly failureClass: FailureClass, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CallFailure";
    this.retriable = failureClass !== "fatal";
  }
}

/** Per-record error codes worth retrying; any other code is a fault to report. */
const RETRYABLE_RECORD_ERRORS = new Set([
  "ProvisionedThroughputExceededException",
  "InternalFailure",
  "KMSThrottlingException",
]);
const THROTTLE_ERRORS = new Set([
  "ProvisionedThroughputExceededException",
  "LimitExceededException",
  "ThrottlingException",
  "KMSThrottlingException",
]);
const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
]);

/** Whether a PutRecords per-record error code is worth retrying the record for. */
export function isRetryableRecordError(code: string): boolean {
  return RETRYABLE_RECORD_ERRORS.has(code);
}

/** Whether an error name or per-record error code means "too fast". */
export function isThrottle(code: string): boolean {
  return THROTTLE_ERRORS.has(code);
}

/** An error thrown by an SDK call as a `CallFailure`: its class, and its one-line description. */
export function kinesisFailure(error: unknown): CallFailure {
  if (error instanceof CallFailure) return error;
  return new CallFailure(classifyKinesisError(error), describeKinesisError(error), {
    cause: error,
  });
}

/** How to answer an error thrown by an SDK call. */
function classifyKinesisError(error: unknown): FailureClass {
  const e = error as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  if (e?.name && THROTTLE_ERRORS.has(e.name)) return "throttle";
  const status = e?.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return "transient";
  if (e?.name === "TimeoutError" || (e?.code && NETWORK_CODES.has(e.code))) return "transient";
  return "fatal";
}

/** Shortens a service message to one line of at most `max` characters. */
export function oneLine(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max)}...` : flat;
}

/** One line describing an SDK error: its name and message, shortened. */
export function describeKinesisError(error: unknown): string {
  const e = error as { name?: string; code?: string; message?: string };
  const name = e?.name && e.name !== "Error" ? e.name : e?.code ?? "Error";
  return `${name}: ${oneLine(e?.message ?? String(error))}`;
}
