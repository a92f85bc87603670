/**
 * The eight answers over the streaming tables as they fill, what
 * `display()` shows on Databricks: the marts of `notebooks/sql/` run on a
 * copy of the consumer's DuckDB file (`duckdb_copy.ts`), its cleaned tables
 * standing in for `pin`, `geo` and `user`.
 *
 * @example
 * ```ts
 * import { readStreamAnswers } from "./stream_answers.ts";
 * const answers = await readStreamAnswers("out/0123456789ab_stream.duckdb", "0123456789ab");
 * answers?.map((answer) => answer.name); // ["q1_...", ...]
 * ```
 */
import { CliError } from "../core/errors.ts";
import { cleanTableName } from "../core/names.ts";
import { TABLE_KINDS } from "../core/tables.ts";
import { type QueryAnswer, runQueries } from "../warehouse/duckdb_runner.ts";
import { withDuckDbCopy } from "./duckdb_copy.ts";

/** The answers over the consumer's tables in `path`, or undefined when there is no such file. */
export async function readStreamAnswers(
  path: string,
  id: string,
): Promise<QueryAnswer[] | undefined> {
  try {
    return await withDuckDbCopy(path, async (db) => {
      for (const kind of TABLE_KINDS) {
        await db.connection.run(
          `CREATE VIEW ${kind} AS SELECT * FROM "${cleanTableName(id, kind)}"`,
        );
      }
      return await runQueries(db);
    });
  } catch (error) {
    throw new CliError(`the answers over ${path}: ${(error as Error).message}`);
  }
}
