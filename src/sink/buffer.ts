/**
 * The records of one topic partition waiting to become an object, as the
 * Confluent S3 sink keeps them: consecutive offsets from the committed one,
 * written as one object named by its first offset when `flushSize` records
 * are in, or earlier when no record came for the rotate interval. Only after
 * the object is written does the sink commit `start + count`, so a crash
 * replays from `start` and rewrites the very same object name.
 *
 * @example
 * ```ts
 * import { PartitionBuffer } from "./buffer.ts";
 * const buffer = new PartitionBuffer("0123456789ab.geo", 0, 2);
 * buffer.add(0, { ind: 1 });
 * buffer.add(1, { ind: 2 })?.key; // "topics/0123456789ab.geo/partition=0/0123456789ab.geo+0+0000000000.json"
 * ```
 */
import { objectBody, objectKey } from "../core/bucket_layout.ts";

/** An object ready to write, and the offset to commit once it is written. */
export interface PendingObject {
  topic: string;
  partition: number;
  key: string;
  body: string;
  startOffset: number;
  records: number;
  /** The next offset to read: commit this after the object is written. */
  commitOffset: number;
}

/** The buffer of one topic partition. */
export class PartitionBuffer {
  #start = -1;
  #records: unknown[] = [];
  /** When the last record arrived (ms since epoch), for the rotate interval. */
  lastArrival = 0;

  constructor(readonly topic: string, readonly partition: number, readonly flushSize: number) {
    if (!Number.isSafeInteger(flushSize) || flushSize < 1) {
      throw new Error(`flush size ${flushSize} must be a whole number of at least 1`);
    }
  }

  /** Records waiting. */
  get size(): number {
    return this.#records.length;
  }

  /** The offset the next record should have, or -1 when empty. */
  get nextOffset(): number {
    return this.#records.length ? this.#start + this.#records.length : -1;
  }

  /**
   * Adds the record at `offset`; returns the object to write when the buffer
   * is full. An offset that does not follow the buffer (the consumer was
   * sent back to the committed offset after a rebalance) restarts the buffer
   * there: those records will be read again, in order.
   */
  add(offset: number, record: unknown, now = Date.now()): PendingObject | undefined {
    if (this.#records.length && offset !== this.nextOffset) this.clear();
    if (!this.#records.length) this.#start = offset;
    this.#records.push(record);
    this.lastArrival = now;
    return this.#records.length >= this.flushSize ? this.take() : undefined;
  }

  /** Whether the rotate interval has passed with records waiting. */
  rotateDue(rotateMs: number, now = Date.now()): boolean {
    return this.#records.length > 0 && rotateMs > 0 && now - this.lastArrival >= rotateMs;
  }

  /** Takes everything waiting as one object (undefined when empty). */
  take(): PendingObject | undefined {
    if (!this.#records.length) return undefined;
    const pending: PendingObject = {
      topic: this.topic,
      partition: this.partition,
      key: objectKey(this.topic, this.partition, this.#start),
      body: objectBody(this.#records),
      startOffset: this.#start,
      records: this.#records.length,
      commitOffset: this.#start + this.#records.length,
    };
    this.clear();
    return pending;
  }

  /** Drops what is waiting (it was not committed, so it will be read again). */
  clear(): void {
    this.#records = [];
    this.#start = -1;
  }
}
