/**
 * The streaming consumer's DuckDB side. One database file holds the three
 * cleaned tables `<id>_pin_table`, `<id>_geo_table`, `<id>_user_table`, the
 * rejects table `<id>_rejects`, the schema drift counts `<id>_schema_drift`,
 * the per-shard checkpoint `<id>_stream_checkpoints` and the de-duplication
 * keys `<id>_seen_keys`.
 *
 * A micro-batch is cleaned in memory with the notebooks' own SQL files (the
 * DuckDB runner's raw-table reader and `cleanKind`), then ONE transaction on the
 * file appends the new rows, their keys, the rejects and the shards' last
 * sequence numbers. A kill at any moment leaves either all of a micro-batch
 * or none of it, so a restart from the checkpoint neither loses nor repeats.
 *
 * De-duplication is on the cleaned row's full content (what the batch
 * cleaning's DISTINCT compares), with bounded state: keys older than the
 * retention (by the records' arrival time) or beyond the key cap are pruned
 * each micro-batch.
 *
 * @example
 * ```ts
 * import { StreamStore } from "./store.ts";
 * const store = await StreamStore.open("out/stream.duckdb", "0123456789ab");
 * await store.checkpoints(); // Map { "streaming-0123456789ab-pin/shardId-000000000000" => "4968..." }
 * store.close();
 * ```
 */
import {
  cleanKind,
  type DuckDb,
  openDuckDb,
  registerRawFromRecords,
} from "../warehouse/duckdb_runner.ts";
import { dbFileError } from "../warehouse/file_errors.ts";
import { CliError } from "../core/errors.ts";
import { cleanTableName } from "../core/names.ts";
import type { SourceRecord } from "../core/records.ts";
import { TABLE_KINDS, type TableKind } from "../core/tables.ts";

/** Bounds on the de-duplication state. */
export interface DedupOptions {
  /** Keys older than this (by arrival time) are forgotten. Default 24 hours. */
  retentionMs: number;
  /** At most this many keys are kept; the oldest go first. Default 5 million. */
  maxKeys: number;
}

/** The defaults: a day of keys, at most five million. */
export const DEFAULT_DEDUP: Readonly<DedupOptions> = {
  retentionMs: 24 * 3600_000,
  maxKeys: 5_000_000,
};

/** A record that passed the shape check, with where it came from. */
export interface GoodRecord {
  record: SourceRecord;
  arrival: Date;
}

/** A record that did not, with the reason. */
export interface Reject {
  stream: string;
  shardId: string;
  sequenceNumber: string;
  arrival: Date;
  /** A name of `notebooks/sql/quarantine_reasons.json`. */
  reason: string;
  /** The reason for people, e.g. `field "index" must be a whole number, got "four"`. */
  detail: string;
  /** The data as text (base64 if it was not UTF-8). */
  data: string;
}

/** Records of one shard in one micro-batch that carried a field their table does not have. */
export interface SchemaDrift {
  kind: TableKind;
  stream: string;
  shardId: string;
  field: string;
  records: number;
  firstSequenceNumber: string;
  lastSequenceNumber: string;
}

/** One micro-batch: good records per table, rejects, and each shard's last sequence number read. */
export interface MicroBatch {
  records: Record<TableKind, GoodRecord[]>;
  rejects: Reject[];
  /** Unknown fields seen (the records were kept without them). */
  drift: SchemaDrift[];
  /** `stream/shardId` to the last sequence number this batch read from that shard. */
  checkpoints: Map<string, string>;
  /** Streams found recreated: their old checkpoints are dropped before these are set. */
  resetStreams: string[];
}

/** What a commit did. */
export interface CommitResult {
  appended: Record<TableKind, number>;
  /** Rows dropped as already in the table (within the retention) or repeated in the batch. */
  duplicates: Record<TableKind, number>;
  rejected: number;
  /** The index of each appended row, for latency measurements. */
  appendedIndexes: Record<TableKind, number[]>;
}

const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`;
const literal = (text: string): string => `'${text.replaceAll("'", "''")}'`;

/** The latest arrival time of `good` (epoch when empty). */
function latestArrival(good: readonly GoodRecord[]): Date {
  return new Date(good.reduce((max, g) => Math.max(max, g.arrival.getTime()), 0));
}

/** An empty per-table record. */
export function perKind<T>(make: () => T): Record<TableKind, T> {
  return { pin: make(), geo: make(), user: make() };
}

/** The consumer's database: cleaned tables, rejects, checkpoints and dedup keys. */
export class StreamStore {
  readonly #db: DuckDb;
  readonly #id: string;
  readonly #dedup: DedupOptions;
  /** The file, for messages. */
  readonly #path: string;

  private constructor(db: DuckDb, id: string, dedup: DedupOptions, path: string) {
    this.#db = db;
    this.#id = id;
    this.#dedup = dedup;
    this.#path = path;
  }

  /** Opens (creating if needed) the database file at `path` for pipeline `id`. */
  static async open(
    path: string,
    id: string,
    dedup: DedupOptions = DEFAULT_DEDUP,
  ): Promise<StreamStore> {
    const db = await openDuckDb();
    try {
      await db.connection.run(`ATTACH ${literal(path)} AS sink`);
    } catch (error) {
      db.close();
      throw new CliError(`cannot open the consumer database ${path}: ${(error as Error).message}`);
    }
    const store = new StreamStore(db, id, dedup, path);
    try {
      await store.#createTables();
    } catch (error) {
      db.close();
      throw dbFileError(error, "the consumer database", path);
    }
    return store;
  }

  /** The qualified name of a table in the file. */
  table(name: string): string {
    return `sink.main.${quote(name)}`;
  }

  /** Names of the state tables. */
  get names(): { rejects: string; drift: string; checkpoints: string; keys: string } {
    return {
      rejects: `${this.#id}_rejects`,
      drift: `${this.#id}_schema_drift`,
      checkpoints: `${this.#id}_stream_checkpoints`,
      keys: `${this.#id}_seen_keys`,
    };
  }

  async #createTables(): Promise<void> {
    const run = (sql: string) => this.#db.connection.run(sql);
    // The cleaned tables take their columns from the cleaning SQL itself, run on no rows.
    for (const kind of TABLE_KINDS) {
      await this.#clean(kind, []);
      await run(
        `CREATE TABLE IF NOT EXISTS ${
          this.table(cleanTableName(this.#id, kind))
        } AS SELECT * FROM memory.main.${kind} WITH NO DATA`,
      );
    }
    const { rejects, drift, checkpoints, keys } = this.names;
    await run(
      `CREATE TABLE IF NOT EXISTS ${this.table(rejects)} (stream VARCHAR, shard_id VARCHAR, ` +
        `sequence_number VARCHAR, arrival TIMESTAMP, reason VARCHAR, data VARCHAR, ` +
        `rejected_at TIMESTAMP, detail VARCHAR)`,
    );
    // A file made before rejects had a detail gains the column (NULL for its old rejects).
    await run(`ALTER TABLE ${this.table(rejects)} ADD COLUMN IF NOT EXISTS detail VARCHAR`);
    await run(
      `CREATE TABLE IF NOT EXISTS ${this.table(drift)} (stream VARCHAR, shard_id VARCHAR, ` +
        `field VARCHAR, records BIGINT, first_sequence_number VARCHAR, ` +
        `last_sequence_number VARCHAR, seen_at TIMESTAMP)`,
    );
    await run(
      `CREATE TABLE IF NOT EXISTS ${this.table(checkpoints)} (stream VARCHAR, shard_id VARCHAR, ` +
        `sequence_number VARCHAR, updated_at TIMESTAMP)`,
    );
    await run(
      `CREATE TABLE IF NOT EXISTS ${
        this.table(keys)
      } (kind VARCHAR, row_key VARCHAR, seen_at TIMESTAMP)`,
    );
  }

  /** Every shard's committed sequence number, keyed `stream/shardId`. */
  async checkpoints(): Promise<Map<string, string>> {
    const { rows } = await this.#db.query(
      `SELECT stream, shard_id, sequence_number FROM ${this.table(this.names.checkpoints)}`,
    );
    return new Map(
      rows.map(([stream, shard, sequence]) => [`${stream}/${shard}`, String(sequence)]),
    );
  }

  /** Runs the notebooks' parse and clean SQL over `records`, making memory table `<kind>`. */
  async #clean(kind: TableKind, records: readonly SourceRecord[]): Promise<void> {
    await registerRawFromRecords(this.#db, kind, records);
    await cleanKind(this.#db, kind);
  }

  /** Cleans, de-duplicates and appends a micro-batch, and moves the checkpoints, atomically. */
  async commit(batch: MicroBatch): Promise<CommitResult> {
    const result: CommitResult = {
      appended: perKind(() => 0),
      duplicates: perKind(() => 0),
      rejected: batch.rejects.length,
      appendedIndexes: perKind(() => [] as number[]),
    };
    // Outside the transaction: clean in memory and find the rows not seen before.
    const kinds = TABLE_KINDS.filter((kind) => batch.records[kind].length > 0);
    for (const kind of kinds) await this.#findNewRows(kind, batch.records[kind], result);
    await this.#inTransaction(async () => {
      for (const kind of kinds) await this.#appendNewRows(kind, latestArrival(batch.records[kind]));
      await this.#insertRejects(batch.rejects);
      await this.#dropCheckpoints(batch.resetStreams);
      await this.#insertDrift(batch.drift);
      await this.#moveCheckpoints(batch.checkpoints);
      await this.#prune();
    });
    return result;
  }

  /**
   * Cleans `good` into memory table `<kind>_new`, keeping only rows whose
   * content key is not in the keys table, and counts them into `result`.
   */
  async #findNewRows(kind: TableKind, good: GoodRecord[], result: CommitResult): Promise<void> {
    await this.#clean(kind, good.map((g) => g.record));
    const keys = this.table(this.names.keys);
    await this.#db.connection.run(
      `CREATE OR REPLACE TABLE memory.main.${kind}_new AS ` +
        `SELECT c.*, md5(CAST(to_json(c) AS VARCHAR)) AS row_key FROM memory.main.${kind} c ` +
        `WHERE NOT EXISTS (SELECT 1 FROM ${keys} k WHERE k.kind = ${literal(kind)} ` +
        `AND k.row_key = md5(CAST(to_json(c) AS VARCHAR)))`,
    );
    const { rows } = await this.#db.query(`SELECT ind FROM memory.main.${kind}_new`);
    result.appendedIndexes[kind] = rows.map((row) => Number(row[0]));
    result.appended[kind] = rows.length;
    result.duplicates[kind] = good.length - rows.length;
  }

  /** Runs `work` in one transaction on the file: all of it, or (on error) none. */
  async #inTransaction(work: () => Promise<void>): Promise<void> {
    await this.#run("BEGIN TRANSACTION");
    try {
      await work();
      await this.#run("COMMIT");
    } catch (error) {
      await this.#run("ROLLBACK").catch(() => {});
      throw dbFileError(error, "the consumer database", this.#path);
    }
  }

  /** Appends `<kind>_new` to the cleaned table and its keys, seen at `seenAt`. */
  async #appendNewRows(kind: TableKind, seenAt: Date): Promise<void> {
    const at = seenAt.toISOString().replace("Z", "");
    await this.#run(
      `INSERT INTO ${this.table(cleanTableName(this.#id, kind))} ` +
        `SELECT * EXCLUDE (row_key) FROM memory.main.${kind}_new`,
    );
    await this.#run(
      `INSERT INTO ${this.table(this.names.keys)} SELECT ${literal(kind)}, row_key, ` +
        `CAST(${literal(at)} AS TIMESTAMP) FROM memory.main.${kind}_new`,
    );
  }

  /** Appends the rejects, with the reason and where each came from. */
  async #insertRejects(rejects: readonly Reject[]): Promise<void> {
    for (const reject of rejects) {
      await this.#run(
        `INSERT INTO ${this.table(this.names.rejects)} ` +
          `(stream, shard_id, sequence_number, arrival, reason, data, rejected_at, detail) ` +
          `VALUES (?, ?, ?, CAST(? AS TIMESTAMP), ?, ?, now()::TIMESTAMP, ?)`,
        [
          reject.stream,
          reject.shardId,
          reject.sequenceNumber,
          reject.arrival.toISOString().replace("Z", ""),
          reject.reason,
          reject.data,
          reject.detail,
        ],
      );
    }
  }

  /** Appends the micro-batch's unknown fields, per shard, with how many records carried each. */
  async #insertDrift(drift: readonly SchemaDrift[]): Promise<void> {
    for (const d of drift) {
      await this.#run(
        `INSERT INTO ${this.table(this.names.drift)} VALUES ` +
          `(?, ?, ?, CAST(? AS BIGINT), ?, ?, now()::TIMESTAMP)`,
        [
          d.stream,
          d.shardId,
          d.field,
          String(d.records),
          d.firstSequenceNumber,
          d.lastSequenceNumber,
        ],
      );
    }
  }

  /** Forgets every checkpoint of `streams` (recreated: their shards are gone). */
  async #dropCheckpoints(streams: readonly string[]): Promise<void> {
    const table = this.table(this.names.checkpoints);
    for (const stream of streams) {
      await this.#run(`DELETE FROM ${table} WHERE stream = ?`, [stream]);
    }
  }

  /** Sets each shard's checkpoint (`stream/shardId`) to the last sequence number read. */
  async #moveCheckpoints(checkpoints: ReadonlyMap<string, string>): Promise<void> {
    const table = this.table(this.names.checkpoints);
    for (const [key, sequence] of checkpoints) {
      const slash = key.lastIndexOf("/");
      const [stream, shard] = [key.slice(0, slash), key.slice(slash + 1)];
      await this.#run(`DELETE FROM ${table} WHERE stream = ? AND shard_id = ?`, [stream, shard]);
      await this.#run(`INSERT INTO ${table} VALUES (?, ?, ?, now()::TIMESTAMP)`, [
        stream,
        shard,
        sequence,
      ]);
    }
  }

  /** Runs one statement, with `?` parameters. */
  #run(sql: string, values?: (string | null)[]): Promise<unknown> {
    return this.#db.connection.run(sql, values as never);
  }

  /** Forgets keys past the retention (relative to the newest key) and beyond the cap. */
  async #prune(): Promise<void> {
    const keys = this.table(this.names.keys);
    const seconds = Math.floor(this.#dedup.retentionMs / 1000);
    await this.#db.connection.run(
      `DELETE FROM ${keys} WHERE seen_at < ` +
        `(SELECT max(seen_at) FROM ${keys}) - to_seconds(${seconds})`,
    );
    const { rows } = await this.#db.query(`SELECT count(*) FROM ${keys}`);
    if (Number(rows[0][0]) <= this.#dedup.maxKeys) return;
    await this.#db.connection.run(
      `DELETE FROM ${keys} WHERE rowid IN (SELECT rowid FROM ${keys} ` +
        `ORDER BY seen_at DESC OFFSET ${Math.floor(this.#dedup.maxKeys)})`,
    );
  }

  /** Runs a query on the store (tests, summaries). */
  query(sql: string): ReturnType<DuckDb["query"]> {
    return this.#db.query(sql);
  }

  /** Closes the database. */
  close(): void {
    this.#db.close();
  }
}
