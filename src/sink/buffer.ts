/**
 * The records of one topic partition waiting to become an object, as the
 * Confluent S3 sink keeps them: consecutive offsets from the committed one,
 * written as one object named by its first offset when `flushSize` records
 * are in, or earlier when no record came for the rotate interval. Only after
 * the object is written does the sink commit `start + count`, so a crash
 * replays from `start` and rewrites the very same object name.
 *
 * A buffer can be told the exact size of the object that starts at an
 * offset (`pinObject`): when the sink reads again from an object it wrote but
 * could not confirm the commit of, it writes that object again byte for byte
 * (same records, same name), whatever the flush size or the clock says.
 * The same pin adopts an object an earlier owner wrote but never committed:
 * `startsUnknown` says when a record begins an object the bucket may already
 * hold (the first one at an offset this buffer did not cut to itself), and
 * the sink then pins the size of the object it finds there.
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
  /** Where the last object this buffer cut ends: the next one there is new, not adopted. */
  #cutEnd = -1;
  /** The object that must be cut at exactly `records` records if a buffer starts at `start`. */
  #pinned?: { start: number; records: number };
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
    if (!this.#records.length) {
      this.#start = offset;
      if (this.#pinned && this.#pinned.start !== offset) this.#pinned = undefined;
    }
    this.#records.push(record);
    this.lastArrival = now;
    return this.#records.length >= this.#target ? this.take() : undefined;
  }

  /**
   * Whether the record at `offset` begins an object the bucket may already
   * hold: it starts an object (the buffer is empty, or the consumer was sent
   * back), at an offset that is neither where this buffer's last object ended
   * nor a pinned start. The consumer starts a partition (a join, a restart)
   * at the committed offset, where an owner's uncommitted object may stand.
   */
  startsUnknown(offset: number): boolean {
    if (this.#records.length && offset === this.nextOffset) return false;
    return offset !== this.#cutEnd && this.#pinned?.start !== offset;
  }

  /** Records the object being filled is cut at. */
  get #target(): number {
    return this.#pinned?.start === this.#start ? this.#pinned.records : this.flushSize;
  }

  /**
   * The next object starting at `start` holds exactly `records` records (it
   * was written before; writing it again must give the same object).
   */
  pinObject(start: number, records: number): void {
    this.clear();
    this.#pinned = { start, records };
  }

  /** Whether the rotate interval has passed with records waiting (never for a pinned object). */
  rotateDue(rotateMs: number, now = Date.now()): boolean {
    return this.#records.length > 0 && rotateMs > 0 && now - this.lastArrival >= rotateMs &&
      this.#pinned?.start !== this.#start;
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
    if (this.#pinned?.start === this.#start) this.#pinned = undefined;
    this.#cutEnd = pending.commitOffset;
    this.clear();
    return pending;
  }

  /** Drops what is waiting (it was not committed, so it will be read again). */
  clear(): void {
    this.#records = [];
    this.#start = -1;
  }
}
