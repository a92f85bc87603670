/**
 * The source stage: rows in each RDS table, and how many lie past a
 * producer's checkpoint (index above its last acknowledged index). One
 * connection, kept between reads and opened again after a failure.
 *
 * Read every second, a full COUNT(*) of tables of a million rows is a
 * scan each time, taken from the database the producer is reading. So the
 * counts are kept between reads and brought up to date along the index's
 * key: rows appended above the highest index are counted on their own
 * (the key's ends cost nothing to read), and a checkpoint that moved from
 * one index to a later one costs a count of the range between. Anything
 * else (a row deleted, or put below the highest index) shows at the next
 * full count: `RECOUNT_IDLE_MS` after the last, or `RECOUNT_SENDING_MS`
 * while a checkpoint moves (it moved within `RECOUNT_IDLE_MS`), and at once
 * when the highest index falls.
 *
 * @example
 * ```ts
 * import { SourceReader } from "./source_reader.ts";
 * import { loadConfig } from "../core/config.ts";
 * const source = new SourceReader(loadConfig({ _: [] }).mysql);
 * await source.counts("pin", [10999, undefined]); // { rows: 11000, after: [0, 11000] }
 * await source.close();
 * ```
 */
import type { MysqlConfig } from "../core/config.ts";
import type { TableKind } from "../core/tables.ts";
import { openSource, type RdsSource } from "../source/rds_reader.ts";

/** A full count again after this long, when no checkpoint moves. */
export const RECOUNT_IDLE_MS = 60_000;
/** A full count again after this long while a checkpoint moves (a producer is reading). */
export const RECOUNT_SENDING_MS = 10 * 60_000;

/** One table's counts: its rows, and rows past each checkpoint given. */
export interface SourceCounts {
  rows: number;
  after: number[];
}

/** What is known of one table between reads. */
interface Tally {
  /** The highest index when `rows` was last brought up to date. */
  max: number;
  rows: number;
  countedAt: number;
  /** When a checkpoint was last seen to move (0: never). */
  movedAt: number;
  /** Per checkpoint (by its place in the list): the index it was at, and rows at or below it. */
  below: ({ index: number; rows: number } | undefined)[];
}

/** How often full counts are made again (defaults `RECOUNT_IDLE_MS`, `RECOUNT_SENDING_MS`). */
export interface RecountOptions {
  idleMs?: number;
  sendingMs?: number;
}

/** Counts rows in the source tables; throws `SourceError`s naming the host or table. */
export class SourceReader {
  #source: Promise<RdsSource> | undefined;
  readonly #tallies = new Map<TableKind, Tally>();
  readonly #recount: Required<RecountOptions>;

  constructor(readonly config: MysqlConfig, recount: RecountOptions = {}) {
    this.#recount = {
      idleMs: recount.idleMs ?? RECOUNT_IDLE_MS,
      sendingMs: recount.sendingMs ?? RECOUNT_SENDING_MS,
    };
  }

  /**
   * Rows of `kind`, and for each of `lastIndexes` the rows whose index is above it (not yet
   * past a checkpoint at it; undefined: no checkpoint, every row).
   */
  async counts(kind: TableKind, lastIndexes: (number | undefined)[]): Promise<SourceCounts> {
    const source = await this.#open();
    try {
      return await this.#count(source, kind, lastIndexes);
    } catch (error) {
      // The connection may be gone: the next read opens a new one and counts afresh.
      this.#tallies.delete(kind);
      this.#source = undefined;
      await source.close().catch(() => {});
      throw error;
    }
  }

  async #count(
    source: RdsSource,
    kind: TableKind,
    lastIndexes: (number | undefined)[],
  ): Promise<SourceCounts> {
    const now = Date.now();
    const range = await source.indexRange(kind);
    if (range === null) {
      this.#tallies.delete(kind);
      return { rows: 0, after: lastIndexes.map(() => 0) };
    }
    let tally = this.#tallies.get(kind);
    const moved = lastIndexes.some((index, slot) =>
      index !== undefined && tally?.below[slot] !== undefined && tally.below[slot].index !== index
    );
    if (tally && moved) tally.movedAt = now;
    // Sending: a checkpoint moved within the idle interval (a producer checkpoints each batch).
    const sending = tally !== undefined && now - tally.movedAt < this.#recount.idleMs;
    const recountAfter = sending ? this.#recount.sendingMs : this.#recount.idleMs;
    if (tally === undefined || range.max < tally.max || now - tally.countedAt >= recountAfter) {
      const rows = await source.countAfter(kind, Number.MIN_SAFE_INTEGER);
      tally = { max: range.max, rows, countedAt: now, movedAt: tally?.movedAt ?? 0, below: [] };
      this.#tallies.set(kind, tally);
    } else if (range.max > tally.max) {
      tally.rows += await source.countAfter(kind, tally.max);
      tally.max = range.max;
    }
    const after: number[] = [];
    for (const [slot, index] of lastIndexes.entries()) {
      if (index === undefined) {
        tally.below[slot] = undefined;
        after.push(tally.rows);
        continue;
      }
      const known = tally.below[slot];
      let below: number;
      if (known !== undefined && known.index <= index) {
        below = known.rows +
          (known.index === index ? 0 : await source.countBetween(kind, known.index, index));
      } else if (index - range.min <= range.max - index) {
        // Counted from whichever end of the key is nearer: a scan of the shorter side.
        below = await source.countBetween(kind, Number.MIN_SAFE_INTEGER, index);
      } else {
        below = tally.rows - await source.countAfter(kind, index);
      }
      tally.below[slot] = { index, rows: below };
      // Counts taken a moment apart can cross while rows are added: never below zero.
      after.push(Math.max(0, tally.rows - below));
    }
    return { rows: tally.rows, after };
  }

  #open(): Promise<RdsSource> {
    if (this.#source) return this.#source;
    const opening = this.#source = openSource(this.config);
    // A failed connect is not kept: the next read tries again.
    opening.catch(() => {
      if (this.#source === opening) this.#source = undefined;
    });
    return opening;
  }

  async close(): Promise<void> {
    const source = this.#source;
    this.#source = undefined;
    await (await source?.catch(() => undefined))?.close();
  }
}
