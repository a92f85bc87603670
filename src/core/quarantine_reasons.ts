/**
 * The names of the reasons a record is quarantined or rejected, read from
 * `notebooks/sql/quarantine_reasons.json`, the one list every engine uses
 * (the Spark notebooks read the same file). A name not in the file is a
 * programming error, so `quarantineReason` throws on it.
 *
 * @example
 * ```ts
 * import { quarantineReason } from "./quarantine_reasons.ts";
 * quarantineReason("not_json"); // "not_json"
 * ```
 */
import file from "../../notebooks/sql/quarantine_reasons.json" with { type: "json" };

/** Where a reason can occur: the batch quarantine, the stream rejects, or both. */
export type QuarantinePath = "batch" | "stream";

/** One reason: its name, where it occurs and what it means. */
export interface QuarantineReasonSpec {
  readonly name: string;
  readonly paths: readonly QuarantinePath[];
  readonly means: string;
}

/** Every reason, in the order a record is checked. */
export const QUARANTINE_REASONS: readonly QuarantineReasonSpec[] = file
  .reasons as QuarantineReasonSpec[];

/** The check name under which unknown fields are counted and named. */
export const SCHEMA_DRIFT_CHECK: string = file.schema_drift.check_name;

/** `name`, checked against the file. */
export function quarantineReason(name: string): string {
  if (!QUARANTINE_REASONS.some((reason) => reason.name === name)) {
    throw new Error(`"${name}" is not a reason of notebooks/sql/quarantine_reasons.json`);
  }
  return name;
}
