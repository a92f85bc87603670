/**
 * The run lock between real processes: a live holder refuses the next copy
 * by name and pid; copies started at once leave exactly one holder; a holder
 * killed with SIGKILL, a zombie, or one that died mid-write is taken over
 * with a note; the file goes at a normal end and at `Deno.exit` (a signal);
 * a full disk is one error naming the file.
 */
import assert from "node:assert/strict";
import { hostname } from "node:os";
import { join } from "node:path";
import { CliError } from "../../src/core/errors.ts";
import { holderAlive, RunLock, RunLockHeldError } from "../../src/core/run_lock.ts";
import { processStat } from "../../src/core/process_state.ts";
import { waitFor, waitForLine } from "../support/processes.ts";

const MODULE = new URL("../../src/core/run_lock.ts", import.meta.url).href;

/**
 * A process that takes the lock at `path`, prints "won" or "refused: <message>",
 * and if it won holds it `holdMs` (SIGTERM exits 130 through `Deno.exit`, as the command shell does).
 */
function lockingProcess(path: string, holdMs: number): Deno.ChildProcess {
  const script = `
    import { RunLock } from ${JSON.stringify(MODULE)};
    Deno.addSignalListener("SIGTERM", () => Deno.exit(130));
    try {
      const lock = await RunLock.acquire(${JSON.stringify(path)}, () => {});
      console.error("won");
      await new Promise((resolve) => setTimeout(resolve, ${holdMs}));
      lock.release();
    } catch (error) {
      console.error("refused: " + error.message);
      Deno.exit(1);
    }`;
  return new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", script],
    stdout: "null",
    stderr: "piped",
  }).spawn();
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "pinpipe-lock-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("run lock: a live holder refuses the next copy, naming the file and its pid; SIGTERM releases", () =>
  withDir(async (dir) => {
    const path = join(dir, "run.lock");
    const holder = lockingProcess(path, 60_000);
    assert.match(await waitForLine(holder, /won|refused/), /won/);
    await assert.rejects(
      RunLock.acquire(path),
      (error) =>
        error instanceof RunLockHeldError && error.holder.pid === holder.pid &&
        error.message.includes(path) && error.message.includes(`pid ${holder.pid}`),
    );
    holder.kill("SIGTERM");
    assert.equal((await holder.status).code, 130);
    await assert.rejects(Deno.stat(path), Deno.errors.NotFound, "the lock went with Deno.exit");
    const lock = await RunLock.acquire(path);
    lock.release();
    await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
  }));

Deno.test("run lock: four copies started at once leave exactly one holder", () =>
  withDir(async (dir) => {
    const path = join(dir, "run.lock");
    const copies = Array.from({ length: 4 }, () => lockingProcess(path, 60_000));
    // The winner holds on until every copy has answered, however slowly each started.
    const answers = await Promise.all(
      copies.map(async (copy) => (await waitForLine(copy, /won|refused.*\n/)).trim()),
    );
    const winners = copies.filter((_, i) => answers[i] === "won");
    assert.equal(winners.length, 1, answers.join(" | "));
    for (const [i, copy] of copies.entries()) {
      if (copy === winners[0]) continue;
      assert.equal((await copy.status).code, 1);
      assert.match(
        answers[i],
        new RegExp(
          `^refused: another copy is running: .*run\\.lock is held by pid ${winners[0].pid} `,
        ),
      );
    }
    winners[0].kill("SIGTERM");
    assert.equal((await winners[0].status).code, 130);
    await assert.rejects(Deno.stat(path), Deno.errors.NotFound, "the winner released it");
  }));

Deno.test("run lock: a SIGKILLed holder's lock is taken over with a note", () =>
  withDir(async (dir) => {
    const path = join(dir, "run.lock");
    const holder = lockingProcess(path, 60_000);
    assert.match(await waitForLine(holder, /won|refused/), /won/);
    holder.kill("SIGKILL");
    await holder.status;
    assert.ok(await Deno.stat(path), "SIGKILL leaves the file");
    const notes: string[] = [];
    const lock = await RunLock.acquire(path, (line) => notes.push(line));
    assert.equal(notes.length, 1);
    assert.match(notes[0], new RegExp(`^taking over .*run\\.lock: its holder, pid ${holder.pid} `));
    assert.equal(JSON.parse(await Deno.readTextFile(path)).pid, Deno.pid);
    lock.release();
  }));

Deno.test("run lock: a zombie holder counts as dead (kill -0 would still find it)", () =>
  withDir(async (dir) => {
    // The background sleep's parent becomes the exec'd sleep, which never reaps it.
    const parent = new Deno.Command("bash", {
      args: ["-c", "sleep 60 & echo $!; exec sleep 60"],
      stdout: "piped",
    }).spawn();
    const reader = parent.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const pid = Number((await reader.read()).value!.trim());
    try {
      const start = processStat(pid)!.start;
      const zombie = {
        pid,
        command: "sleep 60",
        host: hostname(),
        startedAt: "",
        processStart: start,
      };
      assert.equal(holderAlive(zombie), true);
      assert.equal(holderAlive({ ...zombie, processStart: "1" }), false, "a reused pid");
      // Killed while its parent is still the shell, the child is reaped by it and is gone, not a
      // zombie: kill it only once the shell has become the exec'd sleep.
      const comm = `/proc/${parent.pid}/comm`;
      await waitFor(
        "the shell's exec",
        async () => (await Deno.readTextFile(comm)).trim() === "sleep",
        10_000,
        20,
      );
      Deno.kill(pid, "SIGKILL");
      await waitFor("the zombie", () => processStat(pid)?.state === "Z", 10_000, 20);
      assert.equal(holderAlive(zombie), false);
      const path = join(dir, "run.lock");
      await Deno.writeTextFile(path, JSON.stringify(zombie));
      const notes: string[] = [];
      const lock = await RunLock.acquire(path, (line) => notes.push(line));
      assert.match(notes[0], new RegExp(`its holder, pid ${pid} .* is gone`));
      lock.release();
    } finally {
      parent.kill("SIGKILL");
      await parent.status;
      await reader.cancel();
    }
  }));

Deno.test("run lock: a file its writer left empty is taken over; another process's lock is never released", () =>
  withDir(async (dir) => {
    const path = join(dir, "sub", "run.lock");
    await Deno.mkdir(join(dir, "sub"));
    await Deno.writeTextFile(path, "");
    const notes: string[] = [];
    const lock = await RunLock.acquire(path, (line) => notes.push(line));
    assert.match(notes[0], /it names no holder/);
    // Someone removed it and another copy took it: releasing must leave that one's file.
    await Deno.writeTextFile(path, JSON.stringify({ ...lock.holder, pid: 1 }));
    lock.release();
    assert.equal(JSON.parse(await Deno.readTextFile(path)).pid, 1);
  }));

Deno.test({
  name: "run lock: a full disk is one error naming the lock file, and leaves no file",
  ignore: Deno.uid() !== 0, // mounting a tmpfs needs root (CI runs as root)
  async fn() {
    await withDir(async (dir) => {
      const run = async (program: string, ...args: string[]) => {
        const { code, stderr } = await new Deno.Command(program, { args, stderr: "piped" })
          .output();
        if (code !== 0) throw new Error(`${program}: ${new TextDecoder().decode(stderr)}`);
      };
      await run("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir);
      try {
        await run("dd", "if=/dev/zero", `of=${join(dir, "filler")}`, "bs=4k").catch(() => {});
        const path = join(dir, "run.lock");
        await assert.rejects(
          RunLock.acquire(path),
          (error) =>
            error instanceof CliError && !(error instanceof RunLockHeldError) &&
            error.message === `cannot take the lock ${path}: No space left on device (os error 28)`,
        );
        assert.deepEqual([...Deno.readDirSync(dir)].map((entry) => entry.name), ["filler"]);
      } finally {
        await run("umount", dir);
      }
    });
  },
});
