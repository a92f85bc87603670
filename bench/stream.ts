/**
 * `deno task bench stream`: the stream path against the local kinesalite.
 *
 * 1. Throughput: `stream` (the shared transfer driver reading MariaDB, the
 *    Kinesis target) beside a bare PutRecords loop sending the same records
 *    in the same batch sizes (500) and as many calls in flight per stream
 *    (`--in-flight`, 2, the target's default), three streams at once as the
 *    driver does: the emulator's ceiling. Rounds alternate which goes first;
 *    the median of the per-round ratios is the figure (target: at least 80%).
 * 2. Latency: the consumer runs while `stream` sends at a steady rate; each
 *    appended row's latency is its micro-batch's commit time minus the time
 *    the driver handed the row to the target (right after reading it).
 *
 * @example
 * ```ts
 * import { main } from "./stream.ts";
 * await main(["--rounds", "3"]);
 * ```
 */
import { median } from "./measure.ts";
import { type KinesisClient, PutRecordsCommand } from "@aws-sdk/client-kinesis";
import { intFlag, numberFlag, parseFlags } from "../src/core/cli.ts";
import { loadConfig, type PipelineConfig } from "../src/core/config.ts";
import type { DeliveryTarget } from "../src/transfer/target.ts";
import type { OutgoingRecord } from "../src/core/records.ts";
import { kinesisClient } from "../src/kinesis/client.ts";
import { type KinesisEntry, planBatches } from "../src/kinesis/batches.ts";
import { KinesisTarget, prepareStreams } from "../src/kinesis/target.ts";
import { SdkTransport } from "../src/kinesis/sdk_transport.ts";
import { sleep } from "../src/util/retry.ts";
import { streamName } from "../src/core/names.ts";
import { openSource } from "../src/source/rds_reader.ts";
import { type SourceRecord, toRecord } from "../src/core/records.ts";
import { TABLE_KINDS, type TableKind } from "../src/core/tables.ts";
import { parseTransferOptions, runTransfer } from "../src/transfer/driver.ts";
import { parseConsumerOptions } from "../src/consumer/consume_command.ts";
import { runConsumer } from "../src/consumer/consumer.ts";
import { deleteStreams, randomId } from "../infra/local/stack_admin.ts";
import { requireStack } from "./prerequisites.ts";

const USAGE =
  `Usage: deno task bench stream [--rows N] [--rounds R] [--latency-rows N] [--rate R] [--poll-ms MS]
                              [--in-flight N]

  --rows N          rows per table in the throughput runs (all: 11000)
  --rounds R        throughput rounds, alternating which contender goes first (3)
  --latency-rows N  rows per table in the latency run (5000)
  --rate R          rows/s per table while latency is measured (1000)
  --poll-ms MS      the consumer's pause between polls when caught up (100)
  --in-flight N     PutRecords calls in flight per stream, for both contenders (2)

Needs the local stack up (\`bash infra.sh local up\`).`;

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};

async function readSource(config: PipelineConfig, rows: number) {
  const source = await openSource(config.mysql);
  const records = {} as Record<TableKind, SourceRecord[]>;
  try {
    for (const kind of TABLE_KINDS) {
      records[kind] = [];
      for await (const row of source.rowsAfter(kind, Number.MIN_SAFE_INTEGER)) {
        if (records[kind].length >= rows) break;
        records[kind].push(toRecord(kind, row));
      }
    }
  } finally {
    await source.close();
  }
  return records;
}

/** Creates the streams of `id` and waits until ACTIVE (not timed). */
function createStreams(config: PipelineConfig, id: string): Promise<void> {
  return prepareStreams(config.kinesis, id, TABLE_KINDS);
}

/** The bare loop: the same records, the same batches, PutRecords back to back, a loop per stream. */
async function bareLoop(
  client: KinesisClient,
  id: string,
  records: Record<TableKind, SourceRecord[]>,
  inFlight: number,
): Promise<number> {
  const encoder = new TextEncoder();
  const batches = Object.fromEntries(TABLE_KINDS.map((kind) => [
    kind,
    planBatches(records[kind].map((record, i): KinesisEntry => ({
      data: encoder.encode(JSON.stringify(record)),
      partitionKey: String(i),
      label: `${kind} ${i}`,
    }))),
  ])) as Record<TableKind, KinesisEntry[][]>;
  const began = performance.now();
  let sent = 0;
  // Per stream, `inFlight` calls at once, as the target sends them.
  await Promise.all(TABLE_KINDS.flatMap((kind) => {
    let next = 0;
    return Array.from({ length: inFlight }, async () => {
      while (next < batches[kind].length) {
        const batch = batches[kind][next++];
        const answer = await client.send(
          new PutRecordsCommand({
            StreamName: streamName(id, kind),
            Records: batch.map((e) => ({ Data: e.data, PartitionKey: e.partitionKey })),
          }),
        );
        if (answer.FailedRecordCount) {
          throw new Error(`bare loop: ${answer.FailedRecordCount} failed`);
        }
        sent += batch.length;
      }
    });
  }));
  return sent / ((performance.now() - began) / 1000);
}

/** `stream` itself: the transfer driver and the Kinesis target, streams already ACTIVE. */
async function streamRun(
  config: PipelineConfig,
  rows: number,
  stateDir: string,
  inFlight: number,
): Promise<number> {
  const cfg = { ...config, stateDir };
  const options = parseTransferOptions({ _: [], limit: String(rows), quiet: true });
  const target = new KinesisTarget({
    transport: new SdkTransport(config.kinesis),
    id: config.id,
    shards: 1,
    inFlight,
  });
  const began = performance.now();
  const summary = await runTransfer(cfg, options, target);
  return summary.totals.acknowledged / ((performance.now() - began) / 1000);
}

/** Wraps a target to note when each row was handed over. */
function stamping(target: DeliveryTarget, stamps: Map<string, number>): DeliveryTarget {
  return {
    name: target.name,
    prepare: (kinds) => target.prepare(kinds),
    send: (kind: TableKind, records: OutgoingRecord[]) => {
      const now = performance.now();
      for (const record of records) {
        const key = `${kind}/${record.index}`;
        if (!stamps.has(key)) stamps.set(key, now);
      }
      return target.send(kind, records);
    },
    close: () => target.close(),
  };
}

/** `deno task bench stream [flags]`. */
export async function main(args: string[]): Promise<number> {
  const flags = parseFlags(args, {
    rows: { type: "string" },
    rounds: { type: "string" },
    "latency-rows": { type: "string" },
    rate: { type: "string" },
    "poll-ms": { type: "string" },
    "in-flight": { type: "string" },
  }, USAGE);
  const rows = intFlag(flags, "rows", 11_000, { min: 500 });
  const rounds = intFlag(flags, "rounds", 3, { min: 1, max: 20 });
  const latencyRows = intFlag(flags, "latency-rows", 5_000, { min: 100 });
  const rate = numberFlag(flags, "rate", 1_000, { min: 1 });
  const pollMs = intFlag(flags, "poll-ms", 100, { min: 0 });
  const inFlight = intFlag(flags, "in-flight", 2, { min: 1, max: 16 });
  await requireStack();
  const base = loadConfig({ _: [] });
  const client = kinesisClient(base.kinesis);
  const stateDir = await Deno.makeTempDir({ prefix: "pinpipe_bench_stream_" });
  const records = await readSource(base, rows);
  const total = TABLE_KINDS.reduce((n, kind) => n + records[kind].length, 0);
  console.log(
    `stream bench: ${total} records (${rows} rows x 3 tables) into kinesalite ` +
      `${base.kinesis.endpoint}, 1 shard per stream, 500 records per PutRecords, ` +
      `${inFlight} call(s) in flight per stream`,
  );
  const bare: number[] = [];
  const produced: number[] = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      const order = round % 2 ? ["bare", "stream"] : ["stream", "bare"];
      for (const who of order) {
        const id = randomId();
        await createStreams(base, id);
        try {
          if (who === "bare") bare.push(await bareLoop(client, id, records, inFlight));
          else produced.push(await streamRun({ ...base, id }, rows, stateDir, inFlight));
        } finally {
          await deleteStreams(client, id);
        }
      }
      console.log(
        `  round ${round}: bare PutRecords ${bare.at(-1)!.toFixed(0)} rec/s, ` +
          `stream ${produced.at(-1)!.toFixed(0)} rec/s`,
      );
    }
    // Each round's two runs are back to back, so their ratio is the least noisy comparison.
    const ratios = produced.map((rate, i) => rate / bare[i]);
    const ratio = median(ratios);
    console.log(
      `throughput: stream ${median(produced).toFixed(0)} rec/s, bare loop ${
        median(bare).toFixed(0)
      } rec/s (medians of ${rounds}); per-round ratios ${
        ratios.map((r) => `${(r * 100).toFixed(0)}%`).join(" ")
      }; median ratio ${(ratio * 100).toFixed(1)}% (target >= 80%: ${
        ratio >= 0.8 ? "met" : "NOT met"
      })`,
    );

    // Latency: consumer and producer together, the producer paced.
    const id = randomId();
    await createStreams(base, id);
    const stamps = new Map<string, number>();
    const latencies: number[] = [];
    const stop = new AbortController();
    try {
      const db = `${stateDir}/latency.duckdb`;
      const consumer = runConsumer(
        { ...base, id },
        parseConsumerOptions({ _: [], db, "poll-ms": String(pollMs) }, id),
        {
          client: kinesisClient(base.kinesis),
          signal: stop.signal,
          log: () => {},
          onCommit: (result, committedAt) => {
            for (const kind of TABLE_KINDS) {
              for (const index of result.appendedIndexes[kind]) {
                const sentAt = stamps.get(`${kind}/${index}`);
                if (sentAt !== undefined) latencies.push(committedAt - sentAt);
              }
            }
          },
        },
      );
      const target = stamping(
        new KinesisTarget({
          transport: new SdkTransport(base.kinesis),
          id,
          shards: 1,
        }),
        stamps,
      );
      await runTransfer(
        { ...base, id, stateDir },
        parseTransferOptions({
          _: [],
          limit: String(latencyRows),
          rate: String(rate),
          quiet: true,
        }),
        target,
      );
      // Let the consumer catch up with the last rows, then stop it.
      const deadline = Date.now() + 30_000;
      while (latencies.length < stamps.size * 0.98 && Date.now() < deadline) {
        await sleep(100);
      }
      await sleep(1_000);
      stop.abort();
      const summary = await consumer;
      console.log(
        `latency (row handed to the target -> row committed in its cleaned table), ` +
          `${latencies.length} rows at ${rate} rows/s per table, consumer poll ${pollMs} ms, ` +
          `${summary.microBatches} micro-batches: p50 ${
            percentile(latencies, 50).toFixed(0)
          } ms, ` +
          `p99 ${percentile(latencies, 99).toFixed(0)} ms, max ${
            Math.max(...latencies).toFixed(0)
          } ms`,
      );
    } finally {
      stop.abort();
      await deleteStreams(client, id);
    }
  } finally {
    client.destroy();
    await Deno.remove(stateDir, { recursive: true });
  }
  return 0;
}
