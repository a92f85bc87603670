import assert from "node:assert/strict";
import type { Ledger } from "../../src/observe/ledger.ts";
import { reading, unreadable } from "../../src/observe/stage.ts";
import { History, STALL_AFTER_MS, WINDOW_MS } from "../../src/observe/watch/history.ts";

/** A batch-only ledger where the pin topic holds `topic` records and the group committed `committed`. */
function ledger(topic: number, committed: number | Error): Ledger {
  const stages = () => [
    reading("source", 11000, null),
    reading("topic", topic, 0),
    committed instanceof Error
      ? unreadable("committed", committed.message)
      : reading("committed", committed, topic - committed),
  ];
  const source = () => [reading("source", 11000, null)];
  return {
    id: "0123456789ab",
    at: new Date(0).toISOString(),
    servers: [],
    batch: { started: true, tables: { pin: stages(), geo: stages(), user: stages() } },
    stream: { started: false, tables: { pin: source(), geo: source(), user: source() } },
    rejects: [],
    quarantine: [],
    drift: [],
  };
}

Deno.test("history: rates from the counts, and flowing, stalled, caught up, unreadable", () => {
  const history = new History();
  const t0 = 1_000_000;
  history.add(ledger(1000, 500), t0);
  // Just seen and behind: flowing until watched long enough.
  assert.equal(history.view(t0).states["batch.pin.committed"], "flowing");
  const point = history.add(ledger(2000, 1500), t0 + 1000);
  assert.equal(point.rate["batch.pin.topic"], 1000);
  assert.equal(point.rate["batch.pin.committed"], 1000);
  assert.equal(history.view(t0 + 1000).states["batch.pin.committed"], "flowing");
  assert.equal(history.view(t0 + 1000).rates["batch.pin.topic"], 1000);
  // The group stops; the topic grows on: stalled once STALL_AFTER_MS passed without a move.
  history.add(ledger(3000, 1500), t0 + 2000);
  assert.equal(history.view().states["batch.pin.committed"], "flowing");
  history.add(ledger(4000, 1500), t0 + 1000 + STALL_AFTER_MS);
  assert.equal(history.view().states["batch.pin.committed"], "stalled");
  assert.equal(history.view().states["batch.pin.topic"], "flowing");
  // Caught up and still.
  history.add(ledger(4000, 4000), t0 + 2000 + STALL_AFTER_MS);
  history.add(ledger(4000, 4000), t0 + 3000 + 2 * STALL_AFTER_MS);
  assert.equal(history.view().states["batch.pin.committed"], "caught up");
  assert.equal(history.view().states["batch.pin.topic"], "caught up");
  history.add(ledger(4000, new Error("broker down")), t0 + 4000 + 2 * STALL_AFTER_MS);
  assert.equal(history.view().states["batch.pin.committed"], "unreadable");
});

Deno.test("history: a ring buffer over the last 15 minutes", () => {
  const history = new History(10);
  const t0 = 5_000_000;
  for (let i = 0; i < 25; i++) history.add(ledger(i, i), t0 + i * 1000);
  const points = history.points(t0 + 24_000);
  assert.equal(points.length, 10, "at most its capacity");
  assert.deepEqual(points.map((p) => p.count["batch.pin.topic"]), [
    15,
    16,
    17,
    18,
    19,
    20,
    21,
    22,
    23,
    24,
  ]);
  // Fifteen minutes on, only the points of the last 15 minutes are left.
  const later = history.points(t0 + WINDOW_MS + 20_000);
  assert.deepEqual(later.map((p) => p.count["batch.pin.topic"]), [20, 21, 22, 23, 24]);
});

Deno.test("history: with reads slower than the rate window, the rate is over the last two points", () => {
  const history = new History();
  history.add(ledger(1000, 1000), 0);
  history.add(ledger(8000, 8000), 7000);
  assert.equal(history.view(7000).rates["batch.pin.topic"], 1000);
});
