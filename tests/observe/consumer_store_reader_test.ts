/**
 * The consumer's DuckDB file read while another process holds it open (and
 * its write lock), as `consume` does for its whole run: the ledger's copy
 * sees every committed micro-batch, and leaves no lock behind.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { StreamStore } from "../../src/consumer/store.ts";
import { readConsumerStore } from "../../src/observe/consumer_store_reader.ts";
import golden from "../fixtures/golden_records.json" with { type: "json" };

const ID = "0123456789ab";
const STREAM = `streaming-${ID}-geo`;

/** A process that commits one micro-batch of the golden geo records and two rejects, then holds the file. */
function holder(path: string): Deno.ChildProcess {
  const store = new URL("../../src/consumer/store.ts", import.meta.url).href;
  const fixture = new URL("../fixtures/golden_records.json", import.meta.url).href;
  const script = `
    import { perKind, StreamStore } from ${JSON.stringify(store)};
    import golden from ${JSON.stringify(fixture)} with { type: "json" };
    const store = await StreamStore.open(${JSON.stringify(path)}, "${ID}");
    const records = perKind(() => []);
    records.geo = golden.geo.map((record) => ({ record, arrival: new Date() }));
    const rejects = ["{", "[1]"].map((data, i) => ({
      stream: "${STREAM}", shardId: "shardId-000000000000", sequenceNumber: String(100 + i),
      arrival: new Date(), reason: i === 0 ? "not_json" : "not_an_object", detail: "bad " + i, data,
    }));
    await store.commit({ records, rejects, drift: [], resetStreams: [],
      checkpoints: new Map([["${STREAM}/shardId-000000000000", "101"]]) });
    console.log("committed");
    for await (const _ of Deno.stdin.readable) { /* hold the file until stdin closes */ }
    store.close();
  `;
  return new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", script],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
}

Deno.test("consumer store reader: counts, checkpoints and rejects while another process holds the file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pinpipe-ledger-store-" });
  const path = join(dir, "stream.duckdb");
  assert.equal(await readConsumerStore(path, ID), undefined, "no file yet");
  const child = holder(path);
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    assert.match((await reader.read()).value ?? "", /committed/);
    // The holder has the write lock: DuckDB refuses another process even a read-only open.
    await assert.rejects(() =>
      new Deno.Command(Deno.execPath(), {
        args: [
          "eval",
          `import { DuckDBInstance } from "@duckdb/node-api";
           await DuckDBInstance.create(${JSON.stringify(path)}, { access_mode: "READ_ONLY" });`,
        ],
        stdout: "null",
        stderr: "null",
      }).output().then(({ code }) => code === 0 ? Promise.resolve() : Promise.reject(code))
    );

    const seen = await readConsumerStore(path, ID);
    assert.ok(seen);
    assert.equal(seen.rows.geo, golden.geo.length - 1, "the one exact copy dropped");
    assert.equal(seen.rows.pin, 0);
    assert.deepEqual([...seen.checkpoints], [[`${STREAM}/shardId-000000000000`, "101"]]);
    assert.deepEqual(
      seen.rejects.map((
        { kind, reason, count, samples },
      ) => [kind, reason, count, samples[0].data]),
      [["geo", "not_an_object", 1, "[1]"], ["geo", "not_json", 1, "{"]],
    );
    reader.releaseLock();
  } finally {
    await child.stdin.close();
    await child.status;
    await child.stdout.cancel().catch(() => {});
  }
  // Nothing of the ledger's holds the file: a consumer opens it again.
  const again = await StreamStore.open(path, ID);
  again.close();
  await Deno.remove(dir, { recursive: true });
});
