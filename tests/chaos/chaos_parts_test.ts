/**
 * The chaos run's parts that need no stack: the seeded fault schedule, the TCP proxy, the growing
 * source's chunks (never splitting an original from its copies), and the
 * checks that decide a violation (multisets of indexes, offsets tiling).
 */
import assert from "node:assert/strict";
import net from "node:net";
import { FAULT_KINDS, faultSchedule } from "../../chaos/faults.ts";
import { multisetDifference, tilingProblems } from "../../chaos/invariants.ts";
import { chunkPositions } from "../../chaos/source_growth.ts";
import { TcpProxy } from "../../chaos/tcp_proxy.ts";
import { DEFAULT_DATASET, isDuplicatePosition } from "../../sim/datagen/generate.ts";

Deno.test("fault schedule: the same seed gives the same faults, another seed others", () => {
  const a = faultSchedule(9, 120_000);
  assert.deepEqual(faultSchedule(9, 120_000), a);
  assert.notDeepEqual(faultSchedule(10, 120_000), a);
  assert.ok(a.length >= 20 && a.length <= 40, `${a.length} faults in 2 minutes`);
  for (const [i, fault] of a.entries()) {
    assert.ok(FAULT_KINDS.includes(fault.kind));
    assert.ok(fault.pauseMs >= 1_000 && fault.pauseMs <= 6_000);
    assert.ok(fault.picks.every((pick) => pick >= 0 && pick < 1));
    if (i > 0) assert.ok(fault.atMs - a[i - 1].atMs >= 3_000);
  }
  const kills = a.filter((f) => f.kind === "kill").length;
  assert.ok(kills >= 3, `${kills} kills: single faults stay the most common`);
});

Deno.test("fault schedule: every kind comes once before any random draw, even in a short span", () => {
  for (const seed of [1, 9, 2026]) {
    const schedule = faultSchedule(seed, 5_000);
    assert.deepEqual(schedule.map((f) => f.kind).sort(), [...FAULT_KINDS].sort(), `seed ${seed}`);
    const longer = faultSchedule(seed, 300_000);
    assert.deepEqual(longer.slice(0, FAULT_KINDS.length), schedule, "the first round is the same");
  }
  const some = faultSchedule(3, 5_000, ["kill", "network reset"]);
  assert.deepEqual(some.map((f) => f.kind).sort(), ["kill", "network reset"]);
});

Deno.test("source chunks: the next originals with their copies, never a copy alone", () => {
  const isCopy = (p: number) => isDuplicatePosition(p, { ...DEFAULT_DATASET, rows: p + 1 });
  let highest = 10_999;
  for (let i = 0; i < 300; i++) {
    const chunk = chunkPositions(highest, 7);
    assert.ok(chunk.length >= 7);
    assert.ok(!isCopy(chunk[0]), `chunk starts with a copy at ${chunk[0]}`);
    assert.ok(!isCopy(chunk.at(-1)! + 1), `the copy after ${chunk.at(-1)} left for the next chunk`);
    assert.deepEqual(chunk, chunk.map((_, j) => chunk[0] + j), "consecutive positions");
    highest = Math.max(...chunk.filter((p) => !isCopy(p)));
  }
});

Deno.test("multiset check: equal passes; a lost, an extra and a repeated index fail", () => {
  assert.equal(multisetDifference([3, 1, 2, 2], [1, 2, 2, 3]), "");
  assert.match(multisetDifference([1, 2], [1, 2, 3]), /^1 index\(es\) missing or short \(3\)/);
  assert.match(multisetDifference([1, 2, 3, 3], [1, 2, 3]), /1 extra or repeated \(3\)$/);
  assert.match(multisetDifference([1, 2, 2], [1, 2, 2, 2]), /missing or short \(2\)/);
});

Deno.test("tiling check: contiguous objects to the end pass; a gap, an overlap or a short end fail", () => {
  const object = (partition: number, startOffset: number, n: number) => ({
    partition,
    startOffset,
    indexes: Array.from({ length: n }, (_, i) => startOffset + i),
  });
  const ends = new Map([[0, 5], [1, 2]]);
  assert.deepEqual(tilingProblems([object(0, 0, 3), object(0, 3, 2), object(1, 0, 2)], ends), []);
  assert.match(
    tilingProblems([object(0, 0, 3), object(0, 4, 1), object(1, 0, 2)], ends)[0],
    /at 4, expected 3/,
  );
  assert.match(
    tilingProblems([object(0, 0, 3), object(0, 2, 3), object(1, 0, 2)], ends)[0],
    /at 2, expected 3/,
  );
  assert.match(
    tilingProblems([object(0, 0, 5)], ends)[0],
    /partition 1: objects end at 0, topic at 2/,
  );
});

/** A server that answers each line with the same line, on a port of this test's own. */
function echoServer(port: number) {
  const server = net.createServer((socket) =>
    socket.on("data", (chunk) => socket.write(chunk)).on("error", () => {})
  );
  return new Promise<net.Server>((resolve) =>
    server.listen(port, "127.0.0.1", () => resolve(server))
  );
}

/** Connects through the proxy; `send` writes a line and resolves with the answer (or the error). */
async function client(port: number) {
  const socket = net.connect(port, "127.0.0.1");
  await new Promise((resolve) => socket.once("connect", resolve));
  let pending: ((answer: string) => void) | undefined;
  socket.on("data", (chunk) => pending?.(chunk.toString()));
  socket.on("error", (error) => pending?.(`error ${(error as NodeJS.ErrnoException).code}`));
  socket.on("close", () => pending?.("closed"));
  const send = (line: string, timeoutMs = 2_000) =>
    new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve("no answer"), timeoutMs);
      pending = (answer) => {
        clearTimeout(timer);
        pending = undefined;
        resolve(answer);
      };
      socket.write(line);
    });
  return { socket, send };
}

Deno.test("TCP proxy: passes bytes, stalls them until healed, delays them, resets connections", async () => {
  const server = await echoServer(32750);
  const proxy = new TcpProxy("echo", 32751, 32750);
  await proxy.listen();
  try {
    const { socket, send } = await client(32751);
    assert.equal(await send("a"), "a");
    proxy.stall();
    assert.equal(await send("b", 500), "no answer", "held while stalled");
    const released = new Promise<string>((resolve) => socket.once("data", (c) => resolve(`${c}`)));
    proxy.heal();
    assert.equal(await released, "b", "the held bytes go on once healed");
    proxy.delay(300);
    const began = Date.now();
    assert.equal(await send("c"), "c");
    assert.ok(Date.now() - began >= 550, `delayed both ways: ${Date.now() - began} ms`);
    proxy.heal();
    const ended = new Promise<string>((resolve) =>
      socket.once("error", (error) => resolve((error as NodeJS.ErrnoException).code ?? ""))
    );
    assert.equal(proxy.reset(), 1);
    assert.equal(await ended, "ECONNRESET", "the client sees a reset, not an orderly close");
    socket.destroy();
    const again = await client(32751);
    assert.equal(await again.send("e"), "e", "new connections pass after a reset");
    again.socket.destroy();
    assert.equal(proxy.accepted, 2);
  } finally {
    await proxy.close();
    await new Promise((resolve) => server.close(resolve));
  }
});
