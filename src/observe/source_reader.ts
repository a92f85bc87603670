/**
 * The source stage: rows in each RDS table, and how many lie past a
 * producer's checkpoint (index above its last acknowledged index). One
 * connection, kept between reads and opened again after a failure.
 *
 * @example
 * ```ts
 * import { SourceReader } from "./source_reader.ts";
 * import { loadConfig } from "../core/config.ts";
 * const source = new SourceReader(loadConfig({ _: [] }).mysql);
 * await source.rows("pin"); // 11000
 * await source.close();
 * ```
 */
import type { MysqlConfig } from "../core/config.ts";
import type { TableKind } from "../core/tables.ts";
import { openSource, type RdsSource } from "../source/rds_reader.ts";

/** Counts rows in the source tables; throws `SourceError`s naming the host or table. */
export class SourceReader {
  #source: Promise<RdsSource> | undefined;

  constructor(readonly config: MysqlConfig) {}

  /** Every row of `kind`. */
  rows(kind: TableKind): Promise<number> {
    return this.rowsAfter(kind, Number.MIN_SAFE_INTEGER);
  }

  /** Rows of `kind` whose index is above `lastIndex` (not yet past a checkpoint at it). */
  async rowsAfter(kind: TableKind, lastIndex: number): Promise<number> {
    const source = await this.#open();
    try {
      return await source.countAfter(kind, lastIndex);
    } catch (error) {
      // The connection may be gone: the next read opens a new one.
      this.#source = undefined;
      await source.close().catch(() => {});
      throw error;
    }
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
