/**
 * The warehouse stages behind the bucket, from the incremental runs' state
 * (`src/warehouse/incremental.ts`, `deno task sim --from bucket --incremental
 * --state FILE`): per table the lines read into bronze, the lines sent to
 * quarantine, and the rows in silver; and the quarantine by reason with
 * samples. Read from a copy of the file (`duckdb_copy.ts`), as a run holds
 * its lock.
 *
 * @example
 * ```ts
 * import { readWarehouseState } from "./warehouse_state_reader.ts";
 * const state = await readWarehouseState("out/sim/state.duckdb");
 * state?.tables.pin; // { bronze: 11000, quarantined: 0, silver: 10877 }
 * ```
 */
import { CliError } from "../core/errors.ts";
import { TABLE_KINDS, type TableKind } from "../core/tables.ts";
import type { RejectGroup } from "./consumer_store_reader.ts";
import { withDuckDbCopy } from "./duckdb_copy.ts";

/** One table's warehouse counts. */
export interface WarehouseCounts {
  /** Records read into bronze. */
  bronze: number;
  /** Lines of the table's objects that were not records. */
  quarantined: number;
  /** Cleaned rows, each exact duplicate once. */
  silver: number;
}

/** What the state holds. */
export interface WarehouseState {
  tables: Record<TableKind, WarehouseCounts>;
  quarantine: RejectGroup[];
}

/** Samples kept per table and reason. */
const SAMPLES = 3;

/** The state in `path`, or undefined when there is no such file. */
export async function readWarehouseState(path: string): Promise<WarehouseState | undefined> {
  try {
    return await withDuckDbCopy(path, async (db) => {
      const present = new Set(
        (await db.query("SELECT table_name FROM duckdb_tables()")).rows.map(([name]) =>
          String(name)
        ),
      );
      const count = async (table: string, where = "") =>
        present.has(table)
          ? Number((await db.query(`SELECT count(*) FROM "${table}" ${where}`)).rows[0][0])
          : 0;
      const tables = {} as Record<TableKind, WarehouseCounts>;
      for (const kind of TABLE_KINDS) {
        tables[kind] = {
          bronze: await count(`bronze_${kind}`),
          quarantined: await count("quarantine", `WHERE kind = '${kind}'`),
          silver: await count(`silver_${kind}`),
        };
      }
      const quarantine: RejectGroup[] = [];
      if (present.has("quarantine")) {
        const groups = await db.query(
          "SELECT kind, reason, count(*) FROM quarantine GROUP BY ALL ORDER BY ALL",
        );
        const samples = await db.query(
          "SELECT kind, reason, object, line, left(raw_text, 200) FROM (SELECT *, row_number() " +
            "OVER (PARTITION BY kind, reason ORDER BY object, line) AS n FROM quarantine) " +
            `WHERE n <= ${SAMPLES} ORDER BY ALL`,
        );
        for (const [kind, reason, n] of groups.rows) {
          quarantine.push({
            kind: kind as TableKind,
            reason: String(reason),
            count: Number(n),
            samples: samples.rows.filter((s) => s[0] === kind && s[1] === reason).map((s) => ({
              where: `${s[2]} line ${s[3]}`,
              detail: null,
              data: String(s[4]),
            })),
          });
        }
      }
      return { tables, quarantine };
    });
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`the warehouse state ${path}: ${(error as Error).message}`);
  }
}
