/**
 * The stream path's last stages, from the consumer's DuckDB file
 * (`src/consumer/store.ts`): rows in each cleaned table, each shard's
 * committed sequence number, the rejects by reason with samples, and the
 * schema drift, read from a copy of the file (`duckdb_copy.ts`): a running
 * consumer holds the file's lock for its whole run.
 *
 * @example
 * ```ts
 * import { readConsumerStore } from "./consumer_store_reader.ts";
 * const store = await readConsumerStore("out/0123456789ab_stream.duckdb", "0123456789ab");
 * store?.rows.pin; // 10893
 * ```
 */
import { CliError } from "../core/errors.ts";
import { cleanTableName } from "../core/names.ts";
import { TABLE_KINDS, type TableKind } from "../core/tables.ts";
import { withDuckDbCopy } from "./duckdb_copy.ts";

/** A rejected record, as a sample. */
export interface RejectSample {
  /** Where it was: `shardId #sequence number`, or `object line N`. */
  where: string;
  detail: string | null;
  /** The start of the raw data. */
  data: string;
}

/** Rejects of one stream (or quarantined lines of one table) and reason. */
export interface RejectGroup {
  kind: TableKind;
  reason: string;
  count: number;
  samples: RejectSample[];
}

/** What the consumer's file holds. */
export interface ConsumerStoreState {
  rows: Record<TableKind, number>;
  /** `stream/shardId` to the last sequence number committed. */
  checkpoints: Map<string, string>;
  rejects: RejectGroup[];
  /** Unknown fields seen, with the records that carried each. */
  drift: { kind: TableKind; field: string; records: number }[];
}

/** Samples kept per stream and reason. */
const SAMPLES = 3;

const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** The consumer's state in `path` for pipeline `id`, or undefined when there is no such file. */
export async function readConsumerStore(
  path: string,
  id: string,
): Promise<ConsumerStoreState | undefined> {
  try {
    return await withDuckDbCopy(path, async (db) => {
      const count = async (table: string) =>
        Number((await db.query(`SELECT count(*) FROM ${quote(table)}`)).rows[0][0]);
      const rows = {} as Record<TableKind, number>;
      for (const kind of TABLE_KINDS) rows[kind] = await count(cleanTableName(id, kind));
      const checkpoints = new Map(
        (await db.query(
          `SELECT stream, shard_id, sequence_number FROM ${quote(`${id}_stream_checkpoints`)}`,
        )).rows.map(([stream, shard, sequence]) => [`${stream}/${shard}`, String(sequence)]),
      );
      const kindOf = (stream: string): TableKind =>
        TABLE_KINDS.find((kind) => stream.endsWith(`-${kind}`)) ?? "pin";
      const rejects: RejectGroup[] = [];
      const groups = await db.query(
        `SELECT stream, reason, count(*) FROM ${quote(`${id}_rejects`)} GROUP BY ALL ORDER BY ALL`,
      );
      const samples = await db.query(
        `SELECT stream, reason, shard_id, sequence_number, detail, left(data, 200) FROM (` +
          `SELECT *, row_number() OVER (PARTITION BY stream, reason ORDER BY rejected_at DESC) AS n ` +
          `FROM ${quote(`${id}_rejects`)}) WHERE n <= ${SAMPLES} ORDER BY ALL`,
      );
      for (const [stream, reason, n] of groups.rows) {
        rejects.push({
          kind: kindOf(String(stream)),
          reason: String(reason),
          count: Number(n),
          samples: samples.rows.filter((s) => s[0] === stream && s[1] === reason).map((s) => ({
            where: `${s[2]} #${s[3]}`,
            detail: s[4] === null ? null : String(s[4]),
            data: String(s[5]),
          })),
        });
      }
      const drift = (await db.query(
        `SELECT stream, field, sum(records) FROM ${quote(`${id}_schema_drift`)} ` +
          `GROUP BY ALL ORDER BY ALL`,
      )).rows.map(([stream, field, records]) => ({
        kind: kindOf(String(stream)),
        field: String(field),
        records: Number(records),
      }));
      return { rows, checkpoints, rejects, drift };
    });
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`the consumer database ${path}: ${(error as Error).message}`);
  }
}
