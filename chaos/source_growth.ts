/**
 * The growing source: inserts the generator's next rows (`rowAt` at the
 * positions after those in the tables) into the three RDS tables while the
 * producers read them, a chunk a second, each chunk in one transaction over
 * all three tables. A chunk never ends between an original and its copies
 * (rows sharing its index), so a follow-mode producer, which asks for rows
 * after the last index it sent, never misses a copy. After any failure (the
 * database killed or frozen) it reconnects and goes on after the highest index,
 * so a chunk whose commit was in doubt is never inserted twice.
 *
 * @example
 * ```ts
 * import { SourceGrowth } from "./source_growth.ts";
 * const growth = new SourceGrowth({ host: "127.0.0.1", port: 22300, user: "pinpipe_admin",
 *   password: "", database: "pinterest_data" }, 20);
 * const stop = new AbortController();
 * const running = growth.run(stop.signal);
 * stop.abort();
 * await running;
 * ```
 */
import mysql from "mysql2/promise";
import { TABLE_KINDS, TABLES } from "../src/core/tables.ts";
import { sleep } from "../src/util/retry.ts";
import { DEFAULT_DATASET, isDuplicatePosition, rowAt } from "../sim/datagen/generate.ts";

/** Where and as whom to insert. */
export interface AdminConnection {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

const isCopy = (position: number) =>
  isDuplicatePosition(position, { ...DEFAULT_DATASET, rows: position + 1 });

/**
 * The generator's positions to insert after the highest index in the
 * tables (an original's index is its position): `count` originals from
 * the first one after it, each with the copies that follow it. Copies of
 * a row already inserted are skipped, never sent after it.
 */
export function chunkPositions(highestIndex: number, count: number): number[] {
  let position = highestIndex + 1;
  while (isCopy(position)) position++;
  const positions: number[] = [];
  do positions.push(position++); while (positions.length < count || isCopy(position));
  return positions;
}

/** Keeps inserting rows until stopped. */
export class SourceGrowth {
  /** Rows inserted into each table by this run. */
  inserted = 0;
  /** Failed chunks (connection lost, database frozen past the timeout). */
  failures = 0;

  constructor(readonly admin: AdminConnection, readonly rowsPerSecond: number) {}

  async run(signal: AbortSignal): Promise<void> {
    let connection: mysql.Connection | undefined;
    while (!signal.aborted) {
      try {
        connection ??= await mysql.createConnection({
          ...this.admin,
          charset: "utf8mb4",
          connectTimeout: 5_000,
        });
        await this.#insertChunk(connection);
        await sleep(1_000, signal);
      } catch {
        this.failures++;
        connection?.destroy();
        connection = undefined;
        await sleep(1_000, signal);
      }
    }
    await connection?.end().catch(() => {});
  }

  async #insertChunk(connection: mysql.Connection): Promise<void> {
    // The rows already there say where to go on, whatever became of the last commit.
    const [highest] = await connection.query(
      `SELECT MAX(\`index\`) AS n FROM \`${TABLES.pin.table}\``,
    ) as [{ n: number }[], unknown];
    const positions = chunkPositions(Number(highest[0].n), this.rowsPerSecond);
    await connection.beginTransaction();
    try {
      for (const kind of TABLE_KINDS) {
        const { table, columns } = TABLES[kind];
        const tuple = `(${columns.map(() => "?").join(",")})`;
        const values = positions.flatMap((position) => {
          const row = rowAt(kind, position, { ...DEFAULT_DATASET, rows: position + 1 });
          return columns.map((column) => row[column] as string | number | null);
        });
        await connection.query({
          sql: `INSERT INTO \`${table}\` (${columns.map((c) => `\`${c}\``).join(",")}) VALUES ${
            positions.map(() => tuple).join(",")
          }`,
          values,
          timeout: 10_000,
        });
      }
      await connection.commit();
      this.inserted += positions.length;
    } catch (error) {
      await connection.rollback().catch(() => {});
      throw error;
    }
  }
}
