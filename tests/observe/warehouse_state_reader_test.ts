/**
 * The bronze and silver stages and the quarantine, read from the state a
 * real incremental run wrote over a bucket with one line that is not JSON.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { objectBody, objectKey } from "../../src/core/bucket_layout.ts";
import { readWarehouseState } from "../../src/observe/warehouse_state_reader.ts";
import { LocalBucket } from "../../src/sink/storage.ts";
import { runIncremental } from "../../src/warehouse/incremental.ts";
import golden from "../fixtures/golden_records.json" with { type: "json" };

const ID = "0123456789ab";

Deno.test("warehouse state reader: bronze, quarantine by reason with samples, silver", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pinpipe-ledger-warehouse-" });
  try {
    const state = join(dir, "state.duckdb");
    assert.equal(await readWarehouseState(state), undefined, "no state yet");
    const bucket = new LocalBucket(join(dir, "bucket"));
    for (const kind of ["pin", "geo", "user"] as const) {
      const body = objectBody(golden[kind]) + (kind === "pin" ? '{"index": 12, "title"\n' : "");
      await bucket.put(objectKey(`${ID}.${kind}`, 0, 0), body);
    }
    const run = await runIncremental(state, join(dir, "bucket"), ID, { maxBadRecords: 1 });

    const seen = await readWarehouseState(state);
    assert.ok(seen);
    assert.deepEqual(seen.tables.pin, {
      bronze: golden.pin.length,
      quarantined: 1,
      silver: run.added.pin.silver,
    });
    assert.equal(seen.tables.pin.silver, golden.pin.length - 1, "the one exact copy kept once");
    assert.equal(seen.tables.geo.quarantined, 0);
    assert.deepEqual(seen.quarantine.map(({ kind, reason, count }) => [kind, reason, count]), [
      ["pin", "not_json", 1],
    ]);
    assert.equal(seen.quarantine[0].samples[0].data, '{"index": 12, "title"');
    assert.match(
      seen.quarantine[0].samples[0].where,
      /partition=0\/.*\+0000000000\.json line 1[23]/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
