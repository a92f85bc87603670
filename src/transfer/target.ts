/**
 * The contract between the source-side driver (`driver.ts`) and a place
 * records are delivered to: Kafka, a Kafka REST proxy, Kinesis. The driver
 * reads, orders, paces and checkpoints; a target only sends and acknowledges.
 *
 * @example
 * ```ts
 * import type { DeliveryTarget } from "./target.ts";
 * import type { OutgoingRecord } from "../core/records.ts";
 * const printer: DeliveryTarget = {
 *   name: "stdout",
 *   async prepare() {},
 *   async send(_kind, records: OutgoingRecord[]) { records.forEach((r) => console.log(r.key)); },
 *   async close() {},
 * };
 * ```
 */
import type { OutgoingRecord } from "../core/records.ts";
import type { TableKind } from "../core/tables.ts";

/**
 * Where records go. `send` is called with one table's records at a time, in
 * order, and never twice concurrently for the same table.
 */
export interface DeliveryTarget {
  /** "kafka", "kafka-rest", "kinesis", "kinesis-api": used in messages and checkpoint file names. */
  readonly name: string;
  /** Creates topics/streams if missing; throws one clear line if the target is unusable (unreachable, auth...). */
  prepare(kinds: readonly TableKind[]): Promise<void>;
  /** Sends one table's records in order; resolves only when EVERY record is acknowledged; retries transient
   *  failures itself (with backoff); rejects with a clear error if any record could not be delivered. */
  send(kind: TableKind, records: OutgoingRecord[]): Promise<void>;
  close(): Promise<void>;
  /** Optional. The topic or stream `kind` goes to, for progress lines and summaries. */
  destination?(kind: TableKind): string;
  /**
   * Optional. The target's own position after the last acknowledged `send`
   * of `kind` (for Kafka: the end offset of each partition), as plain JSON.
   * The driver stores it in the checkpoint beside the last index.
   */
  position?(kind: TableKind): unknown;
  /**
   * Optional. Called on resume with the position stored in the checkpoint.
   * Returns a filter the driver applies to the records that follow the
   * checkpoint, in order: it answers true for each record the target already
   * holds (written after the checkpoint, before a crash), so it is not sent
   * twice. Also resets the target's position to "now".
   */
  resumeFilter?(
    kind: TableKind,
    saved: unknown,
  ): Promise<((record: OutgoingRecord) => boolean) | undefined>;
}

/** What every target's options start with: `new XTarget({ id, log, ...its own })`. */
export interface TargetOptions {
  /** The 12-hex-digit pipeline id that names the topics or streams. */
  id: string;
  /** Where the target's notes go (a stream created, records found already sent). Default stderr. */
  log?: (line: string) => void;
}

/** The default of `TargetOptions.log`. */
export function logToStderr(line: string): void {
  console.error(line);
}
