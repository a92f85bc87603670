/**
 * Loads the generated dataset into MariaDB / MySQL: creates the tables if
 * needed (`rds_schema.sql`), empties them, then inserts every row with
 * batched multi-row INSERTs over server-side prepared statements (values
 * always bound, never formatted into SQL). Each table is loaded in one
 * transaction, so a failed load leaves the table empty, never half-filled
 * without notice. Memory stays constant in the row count: one batch at a time.
 *
 * Writes as the admin user of `.local/stack.env` (PINPIPE_MYSQL_ADMIN_USER /
 * PINPIPE_MYSQL_ADMIN_PASSWORD, or the same variables in the environment);
 * the pipeline itself only ever reads, as `pinpipe_reader`.
 *
 * @example
 * ```ts
 * import { loadMysql } from "./mysql_loader.ts";
 * import { loadConfig } from "../../src/core/config.ts";
 * await loadMysql(loadConfig({ _: [] }).mysql, { rows: 11_000, seed: 100 });
 * ```
 */
import mysql from "mysql2/promise";
import { type MysqlConfig, readStackEnv } from "../../src/core/config.ts";
import { TABLE_KINDS, type TableKind, TABLES } from "../../src/core/tables.ts";
import { type DatasetOptions, generateRows, validateDatasetOptions } from "./generate.ts";

/** A user allowed to write the `pinterest_data` tables. */
export interface MysqlCredentials {
  user: string;
  password: string;
}

/** How far a load has got, reported after each batch. */
export interface LoadProgress {
  kind: TableKind;
  /** Rows of this table inserted so far. */
  rows: number;
  /** Rows this table will have. */
  total: number;
}

/** Options of `loadMysql`. */
export interface LoadOptions {
  /** Called after each batch. */
  onProgress?: (progress: LoadProgress) => void;
  /** Rows per INSERT statement (default 1000). */
  batchRows?: number;
  /** Who writes; default: the admin user from the environment or `.local/stack.env`. */
  credentials?: MysqlCredentials;
  /** Which tables to load (default all three). */
  kinds?: readonly TableKind[];
}

/**
 * The admin user and password from `env`, else `.local/stack.env`. Throws,
 * naming the variables, when either is missing.
 *
 * @example
 * ```ts
 * adminCredentials({ PINPIPE_MYSQL_ADMIN_USER: "admin", PINPIPE_MYSQL_ADMIN_PASSWORD: "s3cret" }, {});
 * // { user: "admin", password: "s3cret" }
 * ```
 */
export function adminCredentials(
  env: Record<string, string | undefined> = Deno.env.toObject(),
  stackEnv: Record<string, string> = readStackEnv(),
): MysqlCredentials {
  const user = env.PINPIPE_MYSQL_ADMIN_USER ?? stackEnv.PINPIPE_MYSQL_ADMIN_USER;
  const password = env.PINPIPE_MYSQL_ADMIN_PASSWORD ?? stackEnv.PINPIPE_MYSQL_ADMIN_PASSWORD;
  if (!user || password === undefined) {
    throw new Error(
      "loading MySQL needs PINPIPE_MYSQL_ADMIN_USER and PINPIPE_MYSQL_ADMIN_PASSWORD " +
        "(in the environment, or in .local/stack.env, which `bash infra.sh local up` writes)",
    );
  }
  return { user, password };
}

/**
 * The statements of `infra/local/rds_schema.sql`, comments removed, one per entry.
 *
 * @example
 * ```ts
 * (await schemaStatements()).length; // 3
 * ```
 */
export async function schemaStatements(): Promise<string[]> {
  const text = await Deno.readTextFile(
    new URL("../../infra/local/rds_schema.sql", import.meta.url),
  );
  return text.split("\n").filter((line) => !line.trimStart().startsWith("--")).join("\n")
    .split(";").map((statement) => statement.trim()).filter(Boolean);
}

/** How long emptying a table may wait for other sessions' locks. */
const LOCK_WAIT_SECONDS = 120;

/** `INSERT INTO t (cols) VALUES (?, ...), ...` for `rows` rows. */
function insertSql(kind: TableKind, rows: number): string {
  const { table, columns } = TABLES[kind];
  const tuple = `(${columns.map(() => "?").join(",")})`;
  return `INSERT INTO \`${table}\` (${columns.map((column) => `\`${column}\``).join(",")}) VALUES ${
    Array(rows).fill(tuple).join(",")
  }`;
}

/**
 * Creates the tables if missing, empties them, and loads `options.rows`
 * rows of each from the generator. Returns the rows loaded per table.
 * Errors name the table and the positions of the failing batch.
 *
 * @example
 * ```ts
 * const config = { host: "127.0.0.1", port: 13306, database: "pinterest_data" };
 * await loadMysql(config, { rows: 2000, seed: 100 }); // { pin: 2000, geo: 2000, user: 2000 }
 * ```
 */
export async function loadMysql(
  config: Pick<MysqlConfig, "host" | "port" | "database">,
  options: DatasetOptions,
  { onProgress, batchRows = 1000, credentials, kinds = TABLE_KINDS }: LoadOptions = {},
): Promise<Record<TableKind, number>> {
  validateDatasetOptions(options);
  if (!Number.isSafeInteger(batchRows) || batchRows < 1 || batchRows > 5000) {
    throw new RangeError(`batchRows must be a whole number from 1 to 5000, got ${batchRows}`);
  }
  const { user, password } = credentials ?? adminCredentials();
  const where = `${user}@${config.host}:${config.port}/${config.database}`;
  let connection: mysql.Connection;
  try {
    connection = await mysql.createConnection({
      host: config.host,
      port: config.port,
      user,
      password,
      database: config.database,
      charset: "utf8mb4",
    });
  } catch (error) {
    throw new Error(`cannot connect to MySQL as ${where}: ${(error as Error).message}`);
  }
  const loaded = { pin: 0, geo: 0, user: 0 } as Record<TableKind, number>;
  try {
    // Emptying a table waits for readers' metadata locks; fail after a while, not a year.
    await connection.query(`SET SESSION lock_wait_timeout = ${LOCK_WAIT_SECONDS}`);
    for (const statement of await schemaStatements()) await connection.query(statement);
    for (const kind of kinds) {
      loaded[kind] = await loadTable(connection, kind, options, batchRows, onProgress);
    }
  } finally {
    await connection.end();
  }
  return loaded;
}

async function loadTable(
  connection: mysql.Connection,
  kind: TableKind,
  options: DatasetOptions,
  batchRows: number,
  onProgress: LoadOptions["onProgress"],
): Promise<number> {
  const { table, columns } = TABLES[kind];
  const fullBatch = insertSql(kind, batchRows);
  // TRUNCATE commits on its own; the inserts then go in one transaction.
  try {
    await connection.query(`TRUNCATE TABLE \`${table}\``);
  } catch (error) {
    throw new Error(
      `${table}: emptying the table failed (another session may hold it for more than ` +
        `${LOCK_WAIT_SECONDS} s): ${(error as Error).message}`,
    );
  }
  await connection.beginTransaction();
  let inserted = 0;
  let values: (string | number | null)[] = [];
  const flush = async (): Promise<void> => {
    const rows = values.length / columns.length;
    if (rows === 0) return;
    try {
      await connection.execute(rows === batchRows ? fullBatch : insertSql(kind, rows), values);
    } catch (error) {
      throw new Error(
        `${table}: inserting positions ${inserted}..${inserted + rows - 1} failed: ${
          (error as Error).message
        }`,
      );
    }
    inserted += rows;
    values = [];
    onProgress?.({ kind, rows: inserted, total: options.rows });
  };
  try {
    for (const row of generateRows(kind, options)) {
      for (const column of columns) values.push(row[column]);
      if (values.length === batchRows * columns.length) await flush();
    }
    await flush();
    await connection.commit();
  } catch (error) {
    await connection.rollback().catch(() => {});
    throw error;
  }
  return inserted;
}
