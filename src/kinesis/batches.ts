/**
 * Splits records into PutRecords calls that respect the Kinesis service
 * limits: at most 500 records and 5 MiB per call, 1 MiB per record, where a
 * record's size is its data plus its partition key (as AWS counts it), and a
 * partition key of 1 to 256 characters. A record over the limit is an error
 * naming it, never a silent drop. The Kinesis target batches here, whatever its transport.
 *
 * @example
 * ```ts
 * import { planBatches } from "./batches.ts";
 * const entries = [{ data: new Uint8Array(10), partitionKey: "1", label: "pin row 1" }];
 * planBatches(entries); // [[entries[0]]]
 * ```
 */

/** The PutRecords limits of Kinesis Data Streams. */
export interface KinesisLimits {
  recordsPerCall: number;
  bytesPerCall: number;
  bytesPerRecord: number;
  partitionKeyLength: number;
}

/** The service's documented limits. */
export const KINESIS_LIMITS: Readonly<KinesisLimits> = {
  recordsPerCall: 500,
  bytesPerCall: 5 * 1024 * 1024,
  bytesPerRecord: 1024 * 1024,
  partitionKeyLength: 256,
};

/** One record ready for PutRecords, with a label that names it in errors. */
export interface KinesisEntry {
  data: Uint8Array;
  partitionKey: string;
  /** e.g. `pin row 42`: what an error message calls this record. */
  label: string;
}

const encoder = new TextEncoder();

/** The size AWS counts against the limits: data bytes plus partition key bytes. */
export function entrySize(entry: KinesisEntry): number {
  return entry.data.byteLength + encoder.encode(entry.partitionKey).byteLength;
}

/** Throws, naming the record, unless it fits in one PutRecords entry. */
export function checkEntry(entry: KinesisEntry, limits: KinesisLimits = KINESIS_LIMITS): void {
  const keyLength = entry.partitionKey.length;
  if (keyLength < 1 || keyLength > limits.partitionKeyLength) {
    throw new Error(
      `${entry.label}: partition key of ${keyLength} characters (Kinesis allows 1 to ${limits.partitionKeyLength})`,
    );
  }
  const size = entrySize(entry);
  if (size > limits.bytesPerRecord) {
    throw new Error(
      `${entry.label}: ${size} bytes with its partition key, over the Kinesis limit of ${limits.bytesPerRecord} per record`,
    );
  }
}

/**
 * The entries before the first one that cannot be sent (all of them if
 * none), and why that one cannot: a target sends those first, so the
 * records before a refused one are delivered and checkpointed once.
 */
export function fittingPrefix<T extends KinesisEntry>(
  entries: readonly T[],
  limits: KinesisLimits = KINESIS_LIMITS,
): { fitting: T[]; refused?: string } {
  for (let i = 0; i < entries.length; i++) {
    try {
      checkEntry(entries[i], limits);
    } catch (error) {
      return { fitting: entries.slice(0, i), refused: (error as Error).message };
    }
  }
  return { fitting: [...entries] };
}

/**
 * Groups `entries`, in order, into calls of at most `maxRecords` (never over
 * the service's 500) and `limits.bytesPerCall` bytes each.
 */
export function planBatches<T extends KinesisEntry>(
  entries: readonly T[],
  maxRecords: number = KINESIS_LIMITS.recordsPerCall,
  limits: KinesisLimits = KINESIS_LIMITS,
): T[][] {
  const perCall = Math.max(1, Math.min(maxRecords, limits.recordsPerCall));
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const entry of entries) {
    checkEntry(entry, limits);
    const size = entrySize(entry);
    if (current.length > 0 && (current.length >= perCall || bytes + size > limits.bytesPerCall)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
