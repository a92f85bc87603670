/**
 * The last 15 minutes of ledgers, in memory (no time-series server): one
 * point per read, each stage's count and how far behind it was, in a ring
 * buffer of fixed size. From it come the rates (records a second) and each
 * stage's state: `flowing` (its count rose lately), `caught up` (nothing
 * behind, nothing moving), `stalled` (behind, and no progress for
 * `STALL_AFTER_MS`), or `unreadable`.
 *
 * @example
 * ```ts
 * import { History } from "./history.ts";
 * const history = new History();
 * // history.add(ledger); history.view().states["batch.pin.committed"]; // "flowing"
 * ```
 */
import { TABLE_KINDS } from "../../core/tables.ts";
import type { Ledger } from "../ledger.ts";

/** How long the history reaches back. */
export const WINDOW_MS = 15 * 60_000;
/** A stage behind that has not moved for this long is stalled. */
export const STALL_AFTER_MS = 5_000;
/** Rates are taken over this much of the most recent history. */
export const RATE_OVER_MS = 5_000;

/** A stage's state. */
export type StageState = "flowing" | "caught up" | "stalled" | "unreadable";

/** One read: per stage key (`batch.pin.committed`) its count and how far behind. */
export interface Point {
  t: number;
  count: Record<string, number | null>;
  behind: Record<string, number | null>;
  /** Records a second since the point before, per stage key. */
  rate: Record<string, number>;
}

/** Every stage of a started path, as `path.kind.stage` with its reading. */
export function stageEntries(ledger: Ledger) {
  return (["batch", "stream"] as const).flatMap((path) =>
    ledger[path].started
      ? TABLE_KINDS.flatMap((kind) =>
        ledger[path].tables[kind].map((stage) => ({ key: `${path}.${kind}.${stage.stage}`, stage }))
      )
      : []
  );
}

/** What the page and the JSON endpoint show besides the ledger. */
export interface HistoryView {
  states: Record<string, StageState>;
  /** Records a second over the last `RATE_OVER_MS`, per stage key. */
  rates: Record<string, number>;
  /** When each stage's count last changed while watched (epoch ms), per stage key. */
  lastProgress: Record<string, number>;
}

/** A ring buffer of points over `WINDOW_MS`. */
export class History {
  readonly #points: Point[];
  #next = 0;
  #size = 0;
  readonly #lastMove = new Map<string, number>();
  readonly #firstSeen = new Map<string, number>();
  #states: Record<string, StageState> = {};

  constructor(readonly capacity = 1200) {
    this.#points = new Array(capacity);
  }

  /** The points still inside the window, oldest first. */
  points(now = Date.now()): Point[] {
    const points: Point[] = [];
    for (let i = 0; i < this.#size; i++) {
      const point = this.#points[(this.#next - this.#size + i + this.capacity) % this.capacity];
      if (now - point.t <= WINDOW_MS) points.push(point);
    }
    return points;
  }

  /** The newest point. */
  last(): Point | undefined {
    return this.#size ? this.#points[(this.#next - 1 + this.capacity) % this.capacity] : undefined;
  }

  /** Adds a read made at `t`; returns its point. */
  add(ledger: Ledger, t = Date.now()): Point {
    const previous = this.last();
    const point: Point = { t, count: {}, behind: {}, rate: {} };
    const states: Record<string, StageState> = {};
    for (const { key, stage } of stageEntries(ledger)) {
      point.count[key] = stage.count;
      point.behind[key] = stage.behind;
      const before = previous?.count[key];
      const moved = previous !== undefined && typeof before === "number" &&
        stage.count !== null && stage.count !== before;
      point.rate[key] = moved
        ? Math.max(0, (stage.count! - before) / ((t - previous.t) / 1000))
        : 0;
      if (moved) this.#lastMove.set(key, t);
      if (!this.#firstSeen.has(key)) this.#firstSeen.set(key, t);
      // Stalled only once watched that long without a move: a stage just seen gets the doubt.
      const still = t - (this.#lastMove.get(key) ?? this.#firstSeen.get(key)!);
      const behind = (stage.behind ?? 0) > 0;
      states[key] = stage.error !== undefined
        ? "unreadable"
        : this.#lastMove.has(key) && t - this.#lastMove.get(key)! < STALL_AFTER_MS
        ? "flowing"
        : behind && still >= STALL_AFTER_MS
        ? "stalled"
        : behind
        ? "flowing"
        : "caught up";
    }
    this.#points[this.#next] = point;
    this.#next = (this.#next + 1) % this.capacity;
    this.#size = Math.min(this.#size + 1, this.capacity);
    this.#states = states;
    return point;
  }

  /** The states, the recent rates and the last progress of every stage. */
  view(now = Date.now()): HistoryView {
    const points = this.points(now);
    // Over the last RATE_OVER_MS, or the last two points when reads come slower than that.
    const within = points.filter((point) => now - point.t <= RATE_OVER_MS);
    const recent = within.length >= 2 ? within : points.slice(-2);
    const rates: Record<string, number> = {};
    const first = recent[0];
    const last = recent.at(-1);
    for (const key of Object.keys(this.#states)) {
      const from = first?.count[key];
      const to = last?.count[key];
      const seconds = first && last ? (last.t - first.t) / 1000 : 0;
      rates[key] = seconds > 0 && typeof from === "number" && typeof to === "number"
        ? Math.max(0, (to - from) / seconds)
        : 0;
    }
    return {
      states: { ...this.#states },
      rates,
      lastProgress: Object.fromEntries(this.#lastMove),
    };
  }
}
