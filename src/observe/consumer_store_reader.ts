/**
 * The stream path's last stages, from the consumer's DuckDB file
 * (`src/consumer/store.ts`): rows in each cleaned table, each shard's
 * committed sequence number, the rejects by reason with samples, and the
 * schema drift. A running consumer holds the file's write lock for its whole
 * run, and DuckDB would refuse a second process even a read-only open; one
 * held by the ledger would in turn stop a consumer from starting. So the
 * ledger never opens the file itself: it copies the file and its WAL (plain
 * reads, no lock) and opens the copy. The copy is kept only if the main file
 * did not change while it was taken, which makes it the state a crash at the
 * moment the WAL was copied would leave, one DuckDB itself recovers from.
 *
 * @example
 * ```ts
 * import { readConsumerStore } from "./consumer_store_reader.ts";
 * const store = await readConsumerStore("out/0123456789ab_stream.duckdb", "0123456789ab");
 * store?.rows.pin; // 10893
 * ```
 */
import { join } from "node:path";
import { CliError } from "../core/errors.ts";
import { cleanTableName } from "../core/names.ts";
import { TABLE_KINDS, type TableKind } from "../core/tables.ts";
import { openDuckDb } from "../warehouse/duckdb_runner.ts";

/** A rejected record, as a sample. */
export interface RejectSample {
  shard: string;
  sequenceNumber: string;
  detail: string | null;
  /** The start of the raw data. */
  data: string;
}

/** Rejects of one stream and reason. */
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

/** How many times a copy is taken again when the file changed under it. */
const COPY_ATTEMPTS = 5;
/** Samples kept per stream and reason. */
const SAMPLES = 3;

const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** The file's identity: size and modification time, or undefined when it does not exist. */
async function fileVersion(path: string): Promise<string | undefined> {
  try {
    const info = await Deno.stat(path);
    return `${info.size}:${info.mtime?.getTime()}:${info.ino}`;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** Copies `path` and its WAL into `dir`, retrying while the main file changes; false when absent. */
async function copyStable(path: string, copy: string): Promise<boolean> {
  for (let attempt = 0; attempt < COPY_ATTEMPTS; attempt++) {
    const before = await fileVersion(path);
    if (before === undefined) return false;
    await Deno.remove(`${copy}.wal`).catch(() => {});
    // The WAL first: the main file changes only at a checkpoint, which the second stat sees.
    await Deno.copyFile(`${path}.wal`, `${copy}.wal`).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
    await Deno.copyFile(path, copy);
    if (await fileVersion(path) === before) return true;
  }
  throw new CliError(`the consumer database ${path} kept changing while being copied`);
}

/** The consumer's state in `path` for pipeline `id`, or undefined when there is no such file. */
export async function readConsumerStore(
  path: string,
  id: string,
): Promise<ConsumerStoreState | undefined> {
  const dir = await Deno.makeTempDir({ prefix: "pinpipe-ledger-" });
  try {
    const copy = join(dir, "consumer.duckdb");
    if (!(await copyStable(path, copy))) return undefined;
    const db = await openDuckDb(copy, { memoryLimit: "256MB" });
    try {
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
            shard: String(s[2]),
            sequenceNumber: String(s[3]),
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
    } finally {
      db.close();
    }
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`the consumer database ${path}: ${(error as Error).message}`);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
