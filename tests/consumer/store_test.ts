/**
 * The consumer's DuckDB file, in a temp directory: a micro-batch appended
 * with its rejects, drift and checkpoints in one commit; copies dropped
 * within a batch and across batches and reopenings; a recreated stream's
 * checkpoints forgotten; the key cap pruning the oldest; a path that cannot
 * hold a database refused in one line.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type MicroBatch, perKind, StreamStore } from "../../src/consumer/store.ts";
import { CliError } from "../../src/core/errors.ts";
import type { SourceRecord } from "../../src/core/records.ts";
import golden from "../fixtures/golden_records.json" with { type: "json" };

const ID = "0123456789ab";
const STREAM = `streaming-${ID}-geo`;
const SHARD = "shardId-000000000000";

function batch(
  geo: SourceRecord[],
  checkpoint: string,
  extra: Partial<MicroBatch> = {},
  arrival = new Date("2026-01-01T00:00:00Z"),
): MicroBatch {
  const records = perKind(() => [] as MicroBatch["records"]["geo"]);
  records.geo = geo.map((record) => ({ record, arrival }));
  return {
    records,
    rejects: [],
    drift: [],
    checkpoints: new Map([[`${STREAM}/${SHARD}`, checkpoint]]),
    resetStreams: [],
    ...extra,
  };
}

async function count(store: StreamStore, table: string): Promise<number> {
  const { rows } = await store.query(`SELECT count(*) FROM ${store.table(table)}`);
  return Number(rows[0][0]);
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "pinpipe_store_unit_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const geo = golden.geo as SourceRecord[];
/** The fixture's geo records without its one exact copy. */
const distinct = geo.filter((record, i) => geo.findIndex((r) => r.ind === record.ind) === i);

Deno.test("a micro-batch: rows, rejects, drift and the checkpoint in one commit; copies dropped", () =>
  withDir(async (dir) => {
    const path = join(dir, "stream.duckdb");
    const store = await StreamStore.open(path, ID);
    try {
      assert.deepEqual(await store.checkpoints(), new Map());
      const result = await store.commit(batch(geo, "101", {
        rejects: [{
          stream: STREAM,
          shardId: SHARD,
          sequenceNumber: "100",
          arrival: new Date(),
          reason: "not_json",
          detail: "not JSON",
          data: "{",
        }],
        drift: [{
          kind: "geo",
          stream: STREAM,
          shardId: SHARD,
          field: "altitude",
          records: 2,
          firstSequenceNumber: "90",
          lastSequenceNumber: "95",
        }],
      }));
      // The fixture holds one exact copy of geo 3.
      assert.equal(result.appended.geo, geo.length - 1);
      assert.equal(result.duplicates.geo, 1);
      assert.equal(result.rejected, 1);
      assert.deepEqual(
        [...result.appendedIndexes.geo].sort((a, b) => a - b),
        Array.from({ length: 11 }, (_, i) => i + 1),
      );
      assert.equal(await count(store, `${ID}_geo_table`), geo.length - 1);
      assert.equal(await count(store, `${ID}_pin_table`), 0);
      assert.equal(await count(store, store.names.rejects), 1);
      assert.equal(await count(store, store.names.drift), 1);
      assert.deepEqual(await store.checkpoints(), new Map([[`${STREAM}/${SHARD}`, "101"]]));
    } finally {
      store.close();
    }

    // Reopened: the same records again are all copies; the checkpoint moves on.
    const again = await StreamStore.open(path, ID);
    try {
      const result = await again.commit(batch(geo.slice(0, 4), "120"));
      assert.equal(result.appended.geo, 0);
      assert.equal(result.duplicates.geo, 4);
      assert.equal(await count(again, `${ID}_geo_table`), geo.length - 1);
      assert.deepEqual(await again.checkpoints(), new Map([[`${STREAM}/${SHARD}`, "120"]]));
      // A recreated stream: its old checkpoints go before the new ones are set.
      await again.commit(batch([], "5", {
        checkpoints: new Map([[`${STREAM}/shardId-000000000001`, "5"]]),
        resetStreams: [STREAM],
      }));
      assert.deepEqual(
        await again.checkpoints(),
        new Map([[`${STREAM}/shardId-000000000001`, "5"]]),
      );
    } finally {
      again.close();
    }
  }));

Deno.test("the key cap: beyond it the oldest keys are forgotten, so an old copy comes in again", () =>
  withDir(async (dir) => {
    const store = await StreamStore.open(join(dir, "s.duckdb"), ID, {
      retentionMs: 24 * 3600_000,
      maxKeys: 3,
    });
    try {
      await store.commit(batch(distinct.slice(0, 1), "1", {}, new Date("2026-01-01T00:00:00Z")));
      await store.commit(batch(distinct.slice(1, 4), "2", {}, new Date("2026-01-01T00:01:00Z")));
      assert.equal(await count(store, store.names.keys), 3);
      const later = new Date("2026-01-01T00:02:00Z");
      assert.equal(
        (await store.commit(batch(distinct.slice(3, 4), "3", {}, later))).appended.geo,
        0,
      );
      assert.equal(
        (await store.commit(batch(distinct.slice(0, 1), "4", {}, later))).appended.geo,
        1,
      );
      assert.equal(await count(store, `${ID}_geo_table`), 5);
    } finally {
      store.close();
    }
  }));

Deno.test("a path that cannot hold a database: one line naming it", () =>
  withDir(async (dir) => {
    await assert.rejects(
      StreamStore.open(join(dir, "missing", "deeper", "s.duckdb"), ID),
      (error) => {
        assert.ok(error instanceof CliError, String(error));
        assert.match(error.message, /consumer database .*missing\/deeper\/s\.duckdb/);
        assert.ok(!error.message.includes("\n"), error.message);
        return true;
      },
    );
  }));
