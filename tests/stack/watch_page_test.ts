/**
 * `deno task watch` in a real headless Chromium (the Debian `chromium`,
 * driven by playwright-core) against real `batch` and `sink` runs on the
 * local stack, with a pipeline id of its own: the server listens on
 * 127.0.0.1 only; the page loads nothing but itself and its event stream;
 * it changes without a reload while `batch` runs (counts rising, rates
 * above zero); a SIGKILLed sink shows as stalled with its lag growing, and
 * after a restart catches up to zero; then, with `stream` and `consume` run
 * too, every number on the page equals the JSON endpoint's and the counts
 * taken directly (source rows, topic end offsets, lines in the bucket, rows
 * in the cleaned tables), and the eight answers on the page equal those the
 * consumer's file gives itself.
 *
 * PINPIPE_WATCH_SCREENSHOT=FILE also saves the page, at the stall, as PNG.
 */
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { cleanTableName, topicName } from "../../src/core/names.ts";
import { openDuckDb, runQueries } from "../../src/warehouse/duckdb_runner.ts";
import { TABLE_KINDS } from "../../src/core/tables.ts";
import type { WatchView } from "../../src/observe/watch/server.ts";
import { findChromium } from "../support/browser.ts";
import { readBucket } from "../support/bucket.ts";
import { deleteTopics, endOffsets } from "../support/kafka.ts";
import { deleteStreams } from "../support/kinesis.ts";
import { loadConfig } from "../../src/core/config.ts";
import { kinesisClient } from "../../src/kinesis/client.ts";
import { finish, randomId, spawnMain, waitFor } from "../support/processes.ts";
import { listeningAddresses } from "../support/sockets.ts";
import { sourceRecords } from "../support/source.ts";

/** A port in this test's range (30200-30899). */
const PORT = 30200 + Math.floor(Math.random() * 700);

Deno.test({
  name:
    "watch: live page in Chromium, sink stalled and caught up, numbers equal the JSON and direct counts",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const id = randomId();
    const dir = await Deno.makeTempDir({ prefix: "pinpipe-watch-" });
    const bucket = `${dir}/bucket`;
    const db = `${dir}/stream.duckdb`;
    const state = ["--id", id, "--state-dir", `${dir}/state`];
    const sinkArgs = ["sink", "--id", id, "--bucket", bucket, "--rotate-ms", "300", "--quiet"];
    const base = `http://127.0.0.1:${PORT}`;
    const watch = spawnMain([
      "watch",
      ...state,
      "--bucket",
      bucket,
      "--db",
      db,
      "--port",
      String(PORT),
    ]);
    const children: Deno.ChildProcess[] = [];
    const browser = await chromium.launch({
      executablePath: findChromium() ?? "/usr/bin/chromium",
      args: ["--no-sandbox"],
      headless: true,
    });
    try {
      const ledgerJson = async () =>
        (await (await fetch(`${base}/ledger.json`)).json()) as WatchView;
      await waitFor(
        "the watch server",
        () => ledgerJson().then((v) => v.ledger !== null, () => false),
      );
      assert.deepEqual(await listeningAddresses(watch.pid), [`127.0.0.1:${PORT}`]);

      const page = await browser.newPage({ viewport: { width: 1300, height: 1400 } });
      const requests: string[] = [];
      page.on("request", (request) => requests.push(request.url()));
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(error.message));
      const response = await page.goto(`${base}/`);
      assert.match(response!.headers()["content-security-policy"], /default-src 'none'/);
      await page.waitForSelector('[data-path="batch"]');
      const cell = async (key: string) => {
        const text = await page.locator(`[data-cell="${key}"]`).textContent({ timeout: 2000 })
          .catch(() => null);
        return text === null ? null : Number(text.replaceAll(",", ""));
      };
      const stateOf = (key: string) =>
        page.locator(`[data-state="${key}"]`).textContent({ timeout: 2000 }).catch(() => null);

      // batch at 400 rows/s per table (about 27 s), the sink beside it.
      const batch = spawnMain(["batch", ...state, "--rate", "400", "--quiet"]);
      children.push(batch);
      await waitFor(
        "the page to show the batch running",
        async () => (await cell("batch.pin.acknowledged.count") ?? 0) > 0,
        60_000,
        200,
      );
      // The topics exist now: the sink starts beside the producer.
      let sink = spawnMain(sinkArgs);
      children.push(sink);
      const before = (await cell("batch.pin.acknowledged.count"))!;
      await waitFor(
        "the acknowledged count to rise on the page",
        async () => (await cell("batch.pin.acknowledged.count"))! > before,
        20_000,
        200,
      );
      await waitFor(
        "a rate above zero on the page",
        async () => (await cell("batch.pin.acknowledged.rate") ?? 0) > 0,
        20_000,
        200,
      );
      await waitFor(
        "the sink to commit",
        async () => (await cell("batch.pin.committed.count") ?? 0) > 0,
        30_000,
        200,
      );
      assert.equal(await stateOf("batch.pin.acknowledged"), "flowing");

      // The sink dies while the producer goes on.
      sink.kill("SIGKILL");
      await finish(sink);
      await waitFor(
        "the committed stage to show stalled",
        async () => (await stateOf("batch.pin.committed")) === "stalled",
        30_000,
        200,
      );
      const lag = (await cell("batch.pin.committed.behind"))!;
      const screenshot = Deno.env.get("PINPIPE_WATCH_SCREENSHOT");
      if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
      await waitFor(
        "the lag to grow on the page",
        async () => (await cell("batch.pin.committed.behind") ?? 0) > lag,
        20_000,
        200,
      );
      assert.equal(await stateOf("batch.pin.committed"), "stalled");

      // The producer finishes; a new sink catches up.
      assert.equal((await finish(batch)).code, 0);
      sink = spawnMain(sinkArgs);
      children.push(sink);
      await waitFor(
        "every committed stage caught up on the page",
        async () => {
          for (const kind of TABLE_KINDS) {
            if ((await stateOf(`batch.${kind}.committed`)) !== "caught up") return false;
            if ((await cell(`batch.${kind}.committed.behind`)) !== 0) return false;
          }
          return true;
        },
        60_000,
        300,
      );

      // The stream path too: stream, then consume to the end.
      for (
        const args of [
          ["stream", ...state, "--shards", "2", "--quiet"],
          ["consume", "--id", id, "--db", db, "--idle-exit-ms", "2000", "--quiet"],
        ]
      ) {
        const run = await finish(spawnMain(args));
        assert.equal(run.code, 0, `${args[0]}: ${run.stderr}`);
      }
      const consumedAt = Date.now();
      await waitFor(
        "the stream path caught up on the page",
        async () => {
          for (const kind of TABLE_KINDS) {
            if ((await stateOf(`stream.${kind}.consumed`)) !== "caught up") return false;
            if ((await cell(`stream.${kind}.consumed.behind`)) !== 0) return false;
          }
          return true;
        },
        60_000,
        300,
      );

      // All still: the page, the JSON endpoint and direct counts agree.
      const json = (await ledgerJson()).ledger!;
      const ends = await endOffsets(id);
      for (const kind of TABLE_KINDS) {
        const rows = (await sourceRecords(kind)).length;
        const topic = topicName(id, kind);
        const lines = (await readBucket(bucket, topic)).reduce((n, o) => n + o.records.length, 0);
        const direct: Record<string, number> = {
          source: rows,
          acknowledged: rows,
          topic: ends[topic][0],
          committed: ends[topic][0],
          bucket: lines,
        };
        for (const stage of json.batch.tables[kind]) {
          const key = `batch.${kind}.${stage.stage}`;
          assert.equal(await cell(`${key}.count`), stage.count, `${key}: page and JSON`);
          assert.equal(stage.count, direct[stage.stage], `${key}: JSON and direct count`);
        }
        assert.equal(lines, rows);
        const cleaned = await openDuckDb(db);
        const inTable = Number(
          (await cleaned.query(`SELECT count(*) FROM "${cleanTableName(id, kind)}"`)).rows[0][0],
        );
        cleaned.close();
        const streamDirect: Record<string, number> = {
          source: rows,
          acknowledged: rows,
          consumed: rows,
          cleaned: inTable,
        };
        for (const stage of json.stream.tables[kind]) {
          const key = `stream.${kind}.${stage.stage}`;
          assert.equal(await cell(`${key}.count`), stage.count, `${key}: page and JSON`);
          assert.equal(stage.count, streamDirect[stage.stage], `${key}: JSON and direct count`);
        }
      }
      // The eight answers over the streaming tables, as the file itself answers them: answers
      // begun after the consumer finished (they are remade every 10 s).
      await waitFor(
        "the answers on the page",
        async () => {
          const answers = (await ledgerJson()).answers;
          return answers !== null && Date.parse(answers.at) >= consumedAt &&
            answers.answers.length > 0 &&
            (await page.locator("[data-answer]").count()) === answers.answers.length &&
            (await page.locator("#answers-at").textContent()) === `made at ${answers.at}`;
        },
        40_000,
        500,
      );
      const direct = await openDuckDb(db);
      try {
        for (const kind of TABLE_KINDS) {
          await direct.connection.run(
            `CREATE VIEW ${kind} AS SELECT * FROM "${cleanTableName(id, kind)}"`,
          );
        }
        const answers = await runQueries(direct);
        const shown = (await ledgerJson()).answers!.answers;
        assert.deepEqual(shown.map((a) => [a.name, a.rows]), answers.map((a) => [a.name, a.rows]));
        for (const answer of answers) {
          const text = await page.locator(`[data-answer="${answer.name}"] .small`).textContent();
          assert.equal(text, `${answer.rows.length} row(s)`, answer.name);
        }
      } finally {
        direct.close();
      }
      assert.deepEqual(errors, []);
      const elsewhere = requests.filter((url) => !url.startsWith(`${base}/`));
      assert.deepEqual(elsewhere, [], "the page loads nothing from the network");
      assert.deepEqual([...new Set(requests)].sort(), [`${base}/`, `${base}/events`]);
    } finally {
      await browser.close();
      for (const child of children) {
        try {
          child.kill("SIGKILL");
        } catch { /* already ended */ }
        await finish(child).catch(() => {});
      }
      watch.kill("SIGINT");
      const stopped = await finish(watch);
      assert.equal(stopped.code, 130, stopped.stderr);
      await deleteTopics(id);
      const client = kinesisClient(loadConfig({ _: [], id }).kinesis);
      await deleteStreams(client, id);
      client.destroy();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "watch: with the broker unreachable the page says so and goes on updating",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const id = randomId();
    const dir = await Deno.makeTempDir({ prefix: "pinpipe-watch-" });
    const state = ["--id", id, "--state-dir", `${dir}/state`];
    const port = PORT + 1;
    const sent = await finish(spawnMain(["batch", ...state, "--limit", "100", "--quiet"]));
    assert.equal(sent.code, 0, sent.stderr);
    // A port of this test's range that nothing listens on.
    const watch = spawnMain([
      "watch",
      ...state,
      "--bucket",
      `${dir}/bucket`,
      "--brokers",
      "127.0.0.1:30998",
      "--port",
      String(port),
    ]);
    const browser = await chromium.launch({
      executablePath: findChromium() ?? "/usr/bin/chromium",
      args: ["--no-sandbox"],
      headless: true,
    });
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitFor(
        "the watch server",
        () => fetch(`${base}/ledger.json`).then((r) => r.ok, () => false),
      );
      const page = await browser.newPage();
      await page.goto(`${base}/`);
      const server = page.locator('[data-server="kafka"]');
      await waitFor(
        "kafka shown down",
        async () => (await server.textContent().catch(() => "")) === "down",
      );
      assert.equal(
        await page.locator('[data-state="batch.pin.topic"]').textContent(),
        "unreadable",
      );
      assert.equal(
        await page.locator('[data-cell="batch.pin.source.count"]').textContent(),
        "11,000",
      );
      const readAt = page.locator("#read-at");
      const first = await readAt.getAttribute("data-at");
      await waitFor(
        "another read on the page",
        async () => (await readAt.getAttribute("data-at")) !== first,
      );
      assert.equal(await server.textContent(), "down");
    } finally {
      await browser.close();
      watch.kill("SIGINT");
      assert.equal((await finish(watch)).code, 130);
      await deleteTopics(id);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
