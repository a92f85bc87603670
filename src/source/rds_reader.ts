/**
 * Reads the RDS tables with streaming queries: rows come one at a time with
 * backpressure (the connection pauses while the consumer is busy), so no
 * table is ever held in memory. SQL is parameterized; identifiers come only
 * from `tables.ts`, backtick-quoted (`index` is a reserved word). DATETIME
 * columns arrive as the database's own text (`dateStrings`), for `toRecord`.
 * Failures become one-line `SourceError`s naming the host, user or table.
 *
 * @example
 * ```ts
 * import { openSource } from "./rds_reader.ts";
 * import { loadConfig } from "../core/config.ts";
 * const source = await openSource(loadConfig({ _: [] }).mysql);
 * for await (const row of source.rowsAfter("geo", -1)) console.log(row.ind);
 * await source.close();
 * ```
 */
import mysql from "mysql2";
import type { Connection } from "mysql2";
import type { MysqlConfig } from "../core/config.ts";
import { SourceError } from "../core/errors.ts";
import type { Row } from "../core/records.ts";
import { type TableKind, TABLES } from "../core/tables.ts";

/** A backtick-quoted identifier from the table specs (never from input). */
const quote = (name: string): string => `\`${name.replaceAll("`", "``")}\``;

/** The SELECT list and FROM clause of a table, in the record's column order. */
function selectFrom(kind: TableKind): string {
  const spec = TABLES[kind];
  return `SELECT ${spec.columns.map(quote).join(", ")} FROM ${quote(spec.table)}`;
}

/** Turns a mysql2 error into one line that names what was wrong. */
export function describeSourceError(
  error: unknown,
  config: MysqlConfig,
  kind?: TableKind,
): SourceError {
  if (error instanceof SourceError) return error;
  const e = error as { code?: string; message?: string };
  const where = `MySQL ${config.host}:${config.port}`;
  const table = kind ? `${config.database}.${TABLES[kind].table}` : config.database;
  switch (e.code) {
    case "ECONNREFUSED":
    case "ENOTFOUND":
    case "EHOSTUNREACH":
    case "ETIMEDOUT":
    case "ECONNRESET":
    case "PROTOCOL_CONNECTION_LOST":
      return new SourceError(`database unreachable: ${where} (${e.code})`);
    case "ER_ACCESS_DENIED_ERROR":
      return new SourceError(
        `database refused user "${config.user}" at ${where}: wrong password ` +
          `(set PINPIPE_MYSQL_PASSWORD)`,
      );
    case "ER_BAD_DB_ERROR":
      return new SourceError(`database "${config.database}" does not exist at ${where}`);
    case "ER_DBACCESS_DENIED_ERROR":
      return new SourceError(
        `user "${config.user}" may not read database "${config.database}" at ${where}`,
      );
    case "ER_NO_SUCH_TABLE":
      return new SourceError(`table ${table} is missing at ${where}`);
    case "ER_TABLEACCESS_DENIED_ERROR":
      return new SourceError(`user "${config.user}" may not read table ${table} at ${where}`);
    case "ER_BAD_FIELD_ERROR":
      return new SourceError(`table ${table} at ${where}: ${e.message}`);
    default:
      return new SourceError(`${where}, ${table}: ${e.message ?? String(error)}`);
  }
}

/** An open connection to the RDS database, reading the three tables. */
export class RdsSource {
  #connection: Connection;
  /** The row streams in progress; a lost connection must end them, not leave them waiting. */
  #streams = new Set<{ destroy(error?: Error): void }>();

  private constructor(connection: Connection, readonly config: MysqlConfig) {
    this.#connection = connection;
    // mysql2 reports a server that dies mid-stream on the connection only: a paused row
    // stream would wait forever for rows that never come. Fail every stream instead.
    connection.on("error", (error) => this.#lost(error));
    connection.on("end", () =>
      this.#lost(Object.assign(new Error("connection closed"), {
        code: "PROTOCOL_CONNECTION_LOST",
      })));
  }

  #lost(error: Error): void {
    for (const stream of this.#streams) stream.destroy(error);
    this.#streams.clear();
  }

  /** Connects, failing with one clear line (unreachable, wrong password, unknown database). */
  static async open(config: MysqlConfig): Promise<RdsSource> {
    const connection = mysql.createConnection({
      host: config.host,
      port: config.port,
      user: config.user,
      password: config.password,
      database: config.database,
      dateStrings: true,
      connectTimeout: 5000,
      charset: "utf8mb4",
      // A peer that vanishes without a word (host down, network cut) is noticed too.
      enableKeepAlive: true,
      keepAliveInitialDelay: 10_000,
    });
    await new Promise<void>((resolve, reject) => {
      connection.connect((error) => error ? reject(error) : resolve());
    }).catch((error) => {
      connection.destroy();
      throw describeSourceError(error, config);
    });
    return new RdsSource(connection, config);
  }

  #query<T>(sql: string, values: unknown[], kind?: TableKind): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#connection.query(sql, values, (error, result) => {
        if (error) reject(describeSourceError(error, this.config, kind));
        else resolve(result as T);
      });
    });
  }

  /** Throws a `SourceError` naming the first of `kinds` whose table is missing or unreadable. */
  async checkTables(kinds: readonly TableKind[]): Promise<void> {
    for (const kind of kinds) {
      await this.#query(`${selectFrom(kind)} LIMIT 0`, [], kind);
    }
  }

  /** How many rows of `kind` have an index above `afterIndex`. */
  async countAfter(kind: TableKind, afterIndex: number): Promise<number> {
    const spec = TABLES[kind];
    const rows = await this.#query<{ n: number }[]>(
      `SELECT COUNT(*) AS n FROM ${quote(spec.table)} WHERE ${quote(spec.indexColumn)} > ?`,
      [afterIndex],
      kind,
    );
    return Number(rows[0].n);
  }

  /** How many rows of `kind` have an index above `afterIndex` and at most `upTo` (a range of its key). */
  async countBetween(kind: TableKind, afterIndex: number, upTo: number): Promise<number> {
    const spec = TABLES[kind];
    const column = quote(spec.indexColumn);
    const rows = await this.#query<{ n: number }[]>(
      `SELECT COUNT(*) AS n FROM ${quote(spec.table)} WHERE ${column} > ? AND ${column} <= ?`,
      [afterIndex, upTo],
      kind,
    );
    return Number(rows[0].n);
  }

  /** The lowest and highest index of `kind` (read from its key's ends), or null when it is empty. */
  async indexRange(kind: TableKind): Promise<{ min: number; max: number } | null> {
    const spec = TABLES[kind];
    const column = quote(spec.indexColumn);
    const rows = await this.#query<{ lo: number | null; hi: number | null }[]>(
      `SELECT MIN(${column}) AS lo, MAX(${column}) AS hi FROM ${quote(spec.table)}`,
      [],
      kind,
    );
    const { lo, hi } = rows[0];
    return lo === null || hi === null ? null : { min: Number(lo), max: Number(hi) };
  }

  /**
   * The index of the `limit`-th row after `afterIndex` (in index order), or
   * undefined when fewer rows follow. Reading up to and including this index
   * takes at least `limit` rows and never splits the copies of one index.
   */
  async indexBound(
    kind: TableKind,
    afterIndex: number,
    limit: number,
  ): Promise<number | undefined> {
    const spec = TABLES[kind];
    const column = quote(spec.indexColumn);
    const rows = await this.#query<Record<string, number>[]>(
      `SELECT ${column} AS i FROM ${quote(spec.table)} WHERE ${column} > ? ` +
        `ORDER BY ${column} LIMIT 1 OFFSET ?`,
      [afterIndex, limit - 1],
      kind,
    );
    return rows.length ? Number(rows[0].i) : undefined;
  }

  /**
   * Streams the rows of `kind` with index above `afterIndex` (and at most
   * `upToIndex`), in index order, one at a time with backpressure.
   */
  async *rowsAfter(kind: TableKind, afterIndex: number, upToIndex?: number): AsyncGenerator<Row> {
    for await (const rows of this.rowChunksAfter(kind, afterIndex, upToIndex)) yield* rows;
  }

  /**
   * The rows of `rowsAfter`, in the arrays they arrive in: whatever the
   * stream holds when the consumer asks (at least one row, at most about
   * the stream's high-water mark of 512), so a consumer of many rows does
   * not wait on a promise per row. The connection still pauses while the
   * consumer is busy.
   */
  async *rowChunksAfter(
    kind: TableKind,
    afterIndex: number,
    upToIndex?: number,
  ): AsyncGenerator<Row[]> {
    const spec = TABLES[kind];
    const column = quote(spec.indexColumn);
    const bounded = upToIndex !== undefined;
    const sql = `${selectFrom(kind)} WHERE ${column} > ?${bounded ? ` AND ${column} <= ?` : ""} ` +
      `ORDER BY ${column}`;
    const stream = this.#connection.query(sql, bounded ? [afterIndex, upToIndex] : [afterIndex])
      .stream({ highWaterMark: 512 });
    this.#streams.add(stream);
    let ended = false;
    let failure: unknown;
    let wake: (() => void) | undefined;
    const signal = () => {
      const waiting = wake;
      wake = undefined;
      waiting?.();
    };
    const onEnd = () => {
      ended = true;
      signal();
    };
    // Closed before its end without an error: as Node's stream iterator, a premature close.
    const onClose = () => {
      if (!ended) failure ??= new Error("the query's row stream closed before its end");
      signal();
    };
    const onError = (error: unknown) => {
      failure ??= error;
      signal();
    };
    stream.on("readable", signal);
    stream.on("end", onEnd);
    stream.on("close", onClose);
    stream.on("error", onError);
    try {
      for (;;) {
        if (failure !== undefined) throw failure;
        const rows: Row[] = [];
        for (let row = stream.read(); row !== null; row = stream.read()) rows.push(row as Row);
        if (rows.length) {
          yield rows;
          continue;
        }
        if (failure !== undefined) throw failure;
        if (ended) return;
        // read() returned null: the next 'readable', 'end' or 'error' wakes this up.
        await new Promise<void>((resolve) => wake = resolve);
      }
    } catch (error) {
      throw describeSourceError(error, this.config, kind);
    } finally {
      stream.off("readable", signal);
      stream.off("end", onEnd);
      stream.off("close", onClose);
      stream.off("error", onError);
      this.#streams.delete(stream);
      stream.destroy();
    }
  }

  /** The row at `offset` in index order (the original's `LIMIT offset, 1`), or undefined. */
  async rowAt(kind: TableKind, offset: number): Promise<Row | undefined> {
    const spec = TABLES[kind];
    const rows = await this.#query<Row[]>(
      `${selectFrom(kind)} ORDER BY ${quote(spec.indexColumn)} LIMIT ?, 1`,
      [offset],
      kind,
    );
    return rows[0];
  }

  /** Closes the connection (immediately, abandoning any query in flight). */
  close(): Promise<void> {
    return new Promise((resolve) => {
      // end() waits for queries; a stream abandoned mid-table would keep it open.
      const timer = setTimeout(() => {
        this.#connection.destroy();
        resolve();
      }, 1000);
      this.#connection.end(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/** Opens the source; shorthand for `RdsSource.open`. */
export function openSource(config: MysqlConfig): Promise<RdsSource> {
  return RdsSource.open(config);
}
