/**
 * Counting and telling: per-table counters (read, sent, acknowledged,
 * failed), a progress line redrawn on a terminal (rows/s, counts per
 * destination, how far through the table), and the summary at the end, as
 * text or as JSON.
 *
 * @example
 * ```ts
 * import { TransferCounters } from "./progress.ts";
 * const counters = new TransferCounters("kafka", "0123456789ab", "sequential", ["geo"]);
 * counters.table("geo").read += 10;
 * counters.summary().tables.geo?.read; // 10
 * ```
 */
import type { TableKind } from "../core/tables.ts";

/** Counts for one table. */
export interface TableCounts {
  /** Where the records go: a topic or stream name. */
  destination: string;
  /** Rows read from the database in this run. */
  read: number;
  /** Records handed to the target in this run. */
  sent: number;
  /** Records the target acknowledged in this run. */
  acknowledged: number;
  /** Records in a send that failed. */
  failed: number;
  /** Records not sent because the target already held them (resume after a crash). */
  alreadyDelivered: number;
  /** Random order: offsets with no row. */
  missing: number;
  /** Rows to read in this run, when known (sequential). */
  total?: number;
  /** The last index acknowledged (sequential). */
  lastIndex?: number;
}

/** The summary a transfer ends with (`--json` prints it as is). */
export interface TransferSummary {
  target: string;
  id: string;
  order: "sequential" | "random";
  tables: Partial<Record<TableKind, TableCounts>>;
  totals: { read: number; sent: number; acknowledged: number; failed: number };
  /** Random order: samples acknowledged in this run. */
  samples?: number;
  seconds: number;
  rowsPerSecond: number;
  /** True when stopped by SIGINT/SIGTERM (after finishing and checkpointing the batch in flight). */
  interrupted: boolean;
  /** The error that ended the run, if any. */
  error?: string;
}

/** The live counters of a transfer. */
export class TransferCounters {
  readonly started = performance.now();
  readonly tables: Partial<Record<TableKind, TableCounts>> = {};
  samples?: number;
  interrupted = false;
  error?: string;

  constructor(
    readonly target: string,
    readonly id: string,
    readonly order: "sequential" | "random",
    kinds: readonly TableKind[],
    destination: (kind: TableKind) => string = (kind) => kind,
  ) {
    for (const kind of kinds) {
      this.tables[kind] = {
        destination: destination(kind),
        read: 0,
        sent: 0,
        acknowledged: 0,
        failed: 0,
        alreadyDelivered: 0,
        missing: 0,
      };
    }
  }

  /** The counters of `kind`. */
  table(kind: TableKind): TableCounts {
    const counts = this.tables[kind];
    if (!counts) throw new Error(`table ${kind} is not part of this transfer`);
    return counts;
  }

  /** Seconds since the start. */
  seconds(): number {
    return (performance.now() - this.started) / 1000;
  }

  /** The summary so far. */
  summary(): TransferSummary {
    const all = Object.values(this.tables);
    const sum = (pick: (counts: TableCounts) => number) =>
      all.reduce((total, counts) => total + pick(counts), 0);
    const seconds = this.seconds();
    const acknowledged = sum((counts) => counts.acknowledged);
    return {
      target: this.target,
      id: this.id,
      order: this.order,
      tables: structuredClone(this.tables),
      totals: {
        read: sum((counts) => counts.read),
        sent: sum((counts) => counts.sent),
        acknowledged,
        failed: sum((counts) => counts.failed),
      },
      ...(this.samples === undefined ? {} : { samples: this.samples }),
      seconds: Math.round(seconds * 1000) / 1000,
      rowsPerSecond: seconds > 0 ? Math.round(acknowledged / seconds) : 0,
      interrupted: this.interrupted,
      ...(this.error === undefined ? {} : { error: this.error }),
    };
  }
}

const number = (value: number): string => value.toLocaleString("en-US");

/** One progress line: rate, then per destination the acknowledged count and percentage. */
export function progressLine(counters: TransferCounters): string {
  const summary = counters.summary();
  const parts = Object.values(summary.tables).map((counts) => {
    const share = counts.total ? ` ${Math.floor((counts.read / counts.total) * 100)}%` : "";
    const of = counts.total === undefined ? "" : `/${number(counts.total)}`;
    return `${counts.destination} ${number(counts.acknowledged)}${of}${share}`;
  });
  return `${number(summary.rowsPerSecond)} rows/s  ${parts.join("  ")}`;
}

/** The summary as text, one line per table and a total. */
export function summaryText(summary: TransferSummary): string {
  const lines = Object.values(summary.tables).map((counts) =>
    `  ${counts.destination.padEnd(24)} read ${number(counts.read)}, sent ${
      number(counts.sent)
    }, acknowledged ${number(counts.acknowledged)}, failed ${number(counts.failed)}` +
    (counts.alreadyDelivered ? `, already delivered ${number(counts.alreadyDelivered)}` : "") +
    (counts.missing ? `, offsets without a row ${number(counts.missing)}` : "") +
    (counts.lastIndex === undefined ? "" : `, last index ${counts.lastIndex}`)
  );
  const { totals } = summary;
  const state = summary.error ? "failed" : summary.interrupted ? "interrupted" : "done";
  return [
    `${summary.target} ${summary.order}: ${state} in ${summary.seconds.toFixed(1)} s, ${
      number(summary.rowsPerSecond)
    } rows/s`,
    ...lines,
    `  total: read ${number(totals.read)}, sent ${number(totals.sent)}, acknowledged ${
      number(totals.acknowledged)
    }, failed ${number(totals.failed)}`,
  ].join("\n");
}

/**
 * Redraws the progress line on stderr every `intervalMs` while running, only
 * when stderr is a terminal. `stop()` clears the line.
 */
export class ProgressLine {
  #timer?: ReturnType<typeof setInterval>;
  #encoder = new TextEncoder();

  constructor(
    private counters: TransferCounters,
    readonly enabled = Deno.stderr.isTerminal(),
    intervalMs = 500,
  ) {
    if (enabled) this.#timer = setInterval(() => this.#draw(), intervalMs);
  }

  #draw(): void {
    let width = 100;
    try {
      width = Deno.consoleSize().columns;
    } catch {
      // not a console after all: keep the default width
    }
    const line = progressLine(this.counters).slice(0, Math.max(20, width - 1));
    Deno.stderr.writeSync(this.#encoder.encode(`\r\x1b[2K${line}`));
  }

  /** Stops redrawing and clears the line. */
  stop(): void {
    if (this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      Deno.stderr.writeSync(this.#encoder.encode("\r\x1b[2K"));
    }
  }
}
