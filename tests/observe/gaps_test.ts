import assert from "node:assert/strict";
import { firstGap, formatAge, gapText, ledgerExitCode } from "../../src/observe/gaps.ts";
import type { Ledger } from "../../src/observe/ledger.ts";
import { reading, unreadable } from "../../src/observe/stage.ts";

function ledger(pinCommitted = 11000, pinAge: number | null = null): Ledger {
  const batch = () => [
    reading("source", 11000, null),
    reading("acknowledged", 11000, 0),
    reading("topic", 11000, 0),
    reading("committed", pinCommitted, 11000 - pinCommitted, { oldestAgeMs: pinAge }),
    reading("bucket", pinCommitted, 0),
  ];
  return {
    id: "0123456789ab",
    at: new Date(0).toISOString(),
    servers: [{ name: "database", where: "127.0.0.1:13306", up: true }],
    batch: { started: true, tables: { pin: batch(), geo: batch(), user: batch() } },
    // Not started: its source-only stages are not judged.
    stream: {
      started: false,
      tables: {
        pin: [reading("source", 11000, null)],
        geo: [reading("source", 11000, null)],
        user: [reading("source", 11000, null)],
      },
    },
    rejects: [],
    quarantine: [],
    drift: [],
  };
}

Deno.test("firstGap: none when caught up; else the first stage behind, in path, table, stage order", () => {
  assert.equal(firstGap(ledger()), undefined);
  assert.equal(ledgerExitCode(ledger()), 0);
  const behind = ledger(6000, 12_000);
  const gap = firstGap(behind)!;
  assert.deepEqual(gap, {
    path: "batch",
    kind: "pin",
    stage: "committed",
    upstream: "topic",
    behind: 5000,
    oldestAgeMs: 12_000,
  });
  assert.equal(
    gapText(gap),
    "batch pin: committed is 5000 record(s) behind topic, the oldest 12 s old",
  );
  assert.equal(ledgerExitCode(behind), 1);
});

Deno.test("ledgerExitCode: the database down is 3, a target down 4, even with a gap", () => {
  const down = ledger(6000);
  down.servers = [
    { name: "kafka", where: "127.0.0.1:1", up: false, error: "unreachable", exitCode: 4 },
    { name: "database", where: "127.0.0.1:2", up: false, error: "unreachable", exitCode: 3 },
  ];
  down.batch.tables.pin[2] = unreadable("topic", "unreachable");
  assert.equal(ledgerExitCode(down), 3);
  down.servers.pop();
  assert.equal(ledgerExitCode(down), 4);
});

Deno.test("formatAge", () => {
  assert.equal(formatAge(850), "850 ms");
  assert.equal(formatAge(12_400), "12 s");
  assert.equal(formatAge(4 * 60_000), "4 min");
  assert.equal(formatAge(3 * 3_600_000), "3 h");
});
