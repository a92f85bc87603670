/**
 * What a chaos run must leave behind, checked after the drain. Per
 * pipeline and table:
 *
 * - sequential producers (`batch --follow`, `stream --follow`) send every
 *   source row exactly once: the topic's records (in the bucket) are the
 *   table's rows, copies included, as a multiset of indexes; the consumer's
 *   cleaned table holds each distinct row once (it drops exact copies by
 *   design) and every index of the source;
 * - the random producers sample with replacement, so they send repeats by
 *   design: the bucket must equal the draws, the first `samples` offsets of
 *   the seeded sampler (the checkpoint's count), each draw exactly once; the
 *   streams hold as many records as draws, and the cleaned tables each
 *   distinct draw once;
 * - the bucket's objects tile each partition's offsets from 0 to the end
 *   offset, with no gap and no overlap;
 * - checkpoints agree with what they describe: the producers' last index
 *   and acknowledged counts, the sinks' committed offsets (the end of each
 *   partition), and the consumer's shard checkpoints (a last run reads
 *   nothing new).
 *
 * @example
 * ```ts
 * import { type Check, failed } from "./invariants.ts";
 * const checks: Check[] = [{ name: "pin rows", rows: 3, held: true, detail: "" }];
 * failed(checks).length; // 0
 * ```
 */
import { join } from "node:path";
import mysql from "mysql2/promise";
import { listTopicFolder, parseObjectKey } from "../src/core/bucket_layout.ts";
import type { PipelineConfig } from "../src/core/config.ts";
import { cleanTableName, streamName } from "../src/core/names.ts";
import { TABLE_KINDS, type TableKind, TABLES } from "../src/core/tables.ts";
import { CheckpointStore } from "../src/transfer/checkpoint.ts";
import { OriginalSampler } from "../src/source/row_order.ts";
import { kafkaClient } from "../src/kafka/client.ts";
import { kinesisClient } from "../src/kinesis/client.ts";
import { ShardReader } from "../src/consumer/shards.ts";
import { openDuckDb } from "../src/warehouse/duckdb_runner.ts";
import type { AdminConnection } from "./source_growth.ts";

/** One invariant, checked. */
export interface Check {
  name: string;
  /** Records or rows it looked at. */
  rows: number;
  held: boolean;
  /** Why not, when it did not hold. */
  detail: string;
}

/** The checks that did not hold. */
export function failed(checks: readonly Check[]): Check[] {
  return checks.filter((check) => !check.held);
}

/** Counts of each value. */
function counts(values: readonly number[]): Map<number, number> {
  const map = new Map<number, number>();
  for (const value of values) map.set(value, (map.get(value) ?? 0) + 1);
  return map;
}

/** Where two multisets of indexes differ, in a few words ("" when equal). */
export function multisetDifference(got: readonly number[], want: readonly number[]): string {
  const [a, b] = [counts(got), counts(want)];
  const missing = [...b].filter(([v, n]) => (a.get(v) ?? 0) < n).map(([v]) => v);
  const extra = [...a].filter(([v, n]) => (b.get(v) ?? 0) < n).map(([v]) => v);
  if (missing.length === 0 && extra.length === 0) return "";
  return `${missing.length} index(es) missing or short (${missing.slice(0, 5).join(", ")}), ` +
    `${extra.length} extra or repeated (${extra.slice(0, 5).join(", ")})`;
}

/** Every source index of each table, in index order (the order random offsets count in). */
export async function sourceIndexes(admin: AdminConnection): Promise<Record<TableKind, number[]>> {
  const connection = await mysql.createConnection({ ...admin, connectTimeout: 10_000 });
  try {
    const out = {} as Record<TableKind, number[]>;
    for (const kind of TABLE_KINDS) {
      const { table, indexColumn } = TABLES[kind];
      const [rows] = await connection.query(
        `SELECT \`${indexColumn}\` AS i FROM \`${table}\` ORDER BY \`${indexColumn}\``,
      ) as [{ i: number }[], unknown];
      out[kind] = rows.map((row) => Number(row.i));
    }
    return out;
  } finally {
    await connection.end();
  }
}

/** One bucket object's place and its records' indexes. */
export interface ObjectSummary {
  partition: number;
  startOffset: number;
  indexes: number[];
}

/** The objects of `topic` in a local bucket. */
async function bucketObjects(bucket: string, topic: string, kind: TableKind) {
  const objects: ObjectSummary[] = [];
  for (const file of await listTopicFolder(join(bucket, "topics", topic))) {
    const key = `topics/${topic}/${file}`;
    const parsed = parseObjectKey(key);
    if (!parsed) throw new Error(`unexpected file in the bucket: ${key}`);
    const text = await Deno.readTextFile(join(bucket, key));
    const indexes = text.trim().split("\n").map((line) =>
      Number(JSON.parse(line)[TABLES[kind].indexColumn])
    );
    objects.push({ partition: parsed.partition, startOffset: parsed.startOffset, indexes });
  }
  return objects.sort((a, b) => a.partition - b.partition || a.startOffset - b.startOffset);
}

/** Records in a local bucket's objects of pipeline `id`, per table. */
export async function bucketRecords(
  bucket: string,
  id: string,
): Promise<Record<TableKind, number>> {
  const out = {} as Record<TableKind, number>;
  for (const kind of TABLE_KINDS) {
    const objects = await bucketObjects(bucket, `${id}.${kind}`, kind);
    out[kind] = objects.reduce((n, object) => n + object.indexes.length, 0);
  }
  return out;
}

/** Gaps or overlaps between objects of one topic, given each partition's end offset. */
export function tilingProblems(
  objects: readonly ObjectSummary[],
  ends: Map<number, number>,
): string[] {
  const problems: string[] = [];
  const next = new Map<number, number>();
  for (const object of objects) {
    const expected = next.get(object.partition) ?? 0;
    if (object.startOffset !== expected) {
      problems.push(
        `partition ${object.partition}: object at ${object.startOffset}, expected ${expected}`,
      );
    }
    next.set(object.partition, object.startOffset + object.indexes.length);
  }
  for (const [partition, end] of ends) {
    if ((next.get(partition) ?? 0) !== end) {
      problems.push(
        `partition ${partition}: objects end at ${next.get(partition) ?? 0}, topic at ${end}`,
      );
    }
  }
  return problems;
}

const check = (name: string, rows: number, problem: string): Check => ({
  name,
  rows,
  held: problem === "",
  detail: problem,
});

/** The checks of a Kafka pipeline: bucket against `expected` indexes, tiling, checkpoints. */
export async function checkKafkaPipeline(
  label: string,
  config: PipelineConfig,
  expected: (kind: TableKind) => number[],
  producerCheck: (kind: TableKind, topicRecords: number) => Promise<string>,
): Promise<Check[]> {
  const checks: Check[] = [];
  const kafka = await kafkaClient(config.kafka, "pinpipe-chaos-check");
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (const kind of TABLE_KINDS) {
      const topic = `${config.id}.${kind}`;
      const offsets = await admin.fetchTopicOffsets(topic);
      const ends = new Map(offsets.map((p) => [p.partition, Number(p.high)]));
      const total = [...ends.values()].reduce((a, b) => a + b, 0);
      const objects = await bucketObjects(config.bucket, topic, kind);
      const indexes = objects.flatMap((object) => object.indexes);
      checks.push(
        check(
          `${label} ${kind}: bucket, exactly once`,
          indexes.length,
          multisetDifference(indexes, expected(kind)),
        ),
      );
      checks.push(
        check(
          `${label} ${kind}: objects tile the offsets`,
          objects.length,
          tilingProblems(objects, ends).join("; "),
        ),
      );
      const [committed] = await admin.fetchOffsets({
        groupId: `connect-pinpipe-sink-${config.id}`,
        topics: [topic],
      });
      const behind = committed.partitions.filter((p) => Number(p.offset) !== ends.get(p.partition))
        .map((p) => `partition ${p.partition} committed ${p.offset} of ${ends.get(p.partition)}`);
      checks.push(check(`${label} ${kind}: sink checkpoint at the end`, total, behind.join("; ")));
      checks.push(
        check(`${label} ${kind}: producer checkpoint`, total, await producerCheck(kind, total)),
      );
    }
  } finally {
    await admin.disconnect();
  }
  return checks;
}

/** A sequential producer's checkpoint: its last index is the source's highest, it counted every row. */
export async function sequentialCheckpoint(
  config: PipelineConfig,
  target: "kafka" | "kinesis",
  kind: TableKind,
  source: readonly number[],
  sent: number,
): Promise<string> {
  const store = new CheckpointStore(config.stateDir, config.id, target);
  const saved = await store.load(store.sequentialFile(kind));
  const problems: string[] = [];
  if (saved?.lastIndex !== source.at(-1)) {
    problems.push(`last index ${saved?.lastIndex}, source ends at ${source.at(-1)}`);
  }
  const acknowledged = saved?.acknowledged[kind];
  if (acknowledged !== source.length || sent !== source.length) {
    problems.push(
      `acknowledged ${acknowledged}, in the ${target} ${sent}, source rows ${source.length}`,
    );
  }
  return problems.join("; ");
}

/** A random producer's draws so far (its checkpoint's sample count), as source indexes. */
export interface RandomDraws {
  samples: number;
  draws: Record<TableKind, number[]>;
  acknowledged: Partial<Record<TableKind, number>>;
}

/** The random producer's draws so far (its checkpoint's sample count), as source indexes. */
export async function randomDraws(
  config: PipelineConfig,
  target: "kafka" | "kinesis",
  seed: number,
  maxOffset: number,
  source: Record<TableKind, number[]>,
): Promise<RandomDraws> {
  const store = new CheckpointStore(config.stateDir, config.id, target);
  const saved = await store.load(store.randomFile(seed));
  const samples = saved?.samples ?? 0;
  const sampler = new OriginalSampler(seed, maxOffset);
  const offsets = Array.from({ length: samples }, () => sampler.next().offset);
  const draws = {} as Record<TableKind, number[]>;
  for (const kind of TABLE_KINDS) draws[kind] = offsets.map((offset) => source[kind][offset]);
  return { samples, draws, acknowledged: saved?.acknowledged ?? {} };
}

/** A random producer's checkpoint: it acknowledged every sample, the target holds each once. */
export function randomCheckpoint(
  random: RandomDraws,
  kind: TableKind,
  sent: number,
  where: string,
): string {
  return random.acknowledged[kind] === random.samples && sent === random.samples
    ? ""
    : `${random.samples} samples, acknowledged ${
      random.acknowledged[kind]
    }, in the ${where} ${sent}`;
}

/** Every record in the pipeline's three streams, per table (read from TRIM_HORIZON, every shard). */
async function streamCounts(config: PipelineConfig): Promise<Record<TableKind, number>> {
  const client = kinesisClient(config.kinesis);
  try {
    const reader = new ShardReader(
      client,
      TABLE_KINDS.map((kind) => ({ kind, stream: streamName(config.id, kind) })),
      { warn: () => {} },
    );
    await reader.open(10_000);
    const out: Record<TableKind, number> = { pin: 0, geo: 0, user: 0 };
    // A child shard is read from the poll after its parents ended, and a parent's last read may
    // be empty: only several empty polls in a row mean every shard was read (after resharding).
    for (let empty = 0; empty < 5;) {
      const { reads, behind } = await reader.poll();
      for (const read of reads) out[read.kind] += read.records.length;
      empty = reads.length === 0 && !behind ? empty + 1 : 0;
    }
    return out;
  } finally {
    client.destroy();
  }
}

/**
 * The checks of a Kinesis pipeline: the cleaned tables hold each distinct
 * `expected` index once, the producer's checkpoint agrees with the
 * streams' records, and a last consume read nothing new.
 */
export async function checkKinesisPipeline(
  label: string,
  config: PipelineConfig,
  db: string,
  expected: (kind: TableKind) => number[],
  producerCheck: (kind: TableKind, streamRecords: number) => Promise<string>,
  lastConsumeRecords: number,
): Promise<Check[]> {
  const checks: Check[] = [];
  const inStreams = await streamCounts(config);
  const duck = await openDuckDb(db);
  try {
    for (const kind of TABLE_KINDS) {
      const table = `"${cleanTableName(config.id, kind)}"`;
      const { rows } = await duck.query(`SELECT ind FROM ${table}`);
      const indexes = rows.map((row) => Number(row[0]));
      const distinct = [...new Set(expected(kind))];
      checks.push(
        check(
          `${label} ${kind}: cleaned table, each row once`,
          indexes.length,
          multisetDifference(indexes, distinct),
        ),
      );
      checks.push(check(
        `${label} ${kind}: producer checkpoint`,
        inStreams[kind],
        await producerCheck(kind, inStreams[kind]),
      ));
    }
  } finally {
    duck.close();
  }
  checks.push(check(
    `${label}: consumer checkpoints at the end`,
    lastConsumeRecords,
    lastConsumeRecords === 0 ? "" : `a last consume read ${lastConsumeRecords} record(s)`,
  ));
  return checks;
}
