/**
 * The source side as the tests see it, read independently of the
 * producers' reader: the records built from the MariaDB rows, and SQL run
 * as MariaDB's root for a test's own databases.
 *
 * @example
 * ```ts
 * import { sourceRecords } from "./source.ts";
 * const first = await sourceRecords("geo", { limit: 10 });
 * ```
 */
import mysql from "mysql2/promise";
import { loadConfig } from "../../src/core/config.ts";
import { type SourceRecord, toRecord } from "../../src/core/records.ts";
import { type TableKind, TABLES } from "../../src/core/tables.ts";
// Shared with the benchmarks, so kept beside the local stack.
export { rootSql } from "../../infra/local/stack_admin.ts";

/**
 * The records built from the source rows of `kind`, as the reader user reads
 * them, in index order: all of them, or the first `limit`; from the local
 * stack's database, or `database`.
 */
export async function sourceRecords(
  kind: TableKind,
  { database, limit }: { database?: string; limit?: number } = {},
): Promise<SourceRecord[]> {
  const config = loadConfig({ _: [] }).mysql;
  const connection = await mysql.createConnection({
    ...config,
    database: database ?? config.database,
    dateStrings: true,
  });
  try {
    const spec = TABLES[kind];
    const [rows] = await connection.query(
      `SELECT ${spec.columns.map((c) => `\`${c}\``).join(", ")} FROM \`${spec.table}\`` +
        ` ORDER BY \`${spec.indexColumn}\`` + (limit === undefined ? "" : ` LIMIT ${limit}`),
    );
    return (rows as Record<string, string | number | null>[]).map((row) => toRecord(kind, row));
  } finally {
    await connection.end();
  }
}
