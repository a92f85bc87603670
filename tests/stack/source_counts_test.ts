/**
 * The ledger's source counts against MariaDB, on a database of the test's
 * own: every count equals a COUNT(*) taken directly while rows are appended,
 * checkpoints move forward and back, and the highest rows are deleted; a row
 * put below the highest index (which no cheap read sees) shows at the next
 * full count.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../src/core/config.ts";
import { SourceReader } from "../../src/observe/source_reader.ts";
import { randomId } from "../support/processes.ts";
import { rootSql } from "../support/source.ts";

Deno.test("source counts: kept up to date along the key, equal to COUNT(*) at every step", async () => {
  const database = `pinpipe_sc_${randomId()}`;
  const table = `${database}.geolocation_data`;
  const copy = (where: string) =>
    rootSql(`INSERT INTO ${table} SELECT * FROM pinterest_data.geolocation_data WHERE ${where}`);
  const direct = async (where = "TRUE") =>
    Number((await rootSql(`SELECT COUNT(*) FROM ${table} WHERE ${where}`)).trim());
  await rootSql(
    `CREATE DATABASE ${database}; ` +
      `CREATE TABLE ${table} LIKE pinterest_data.geolocation_data; ` +
      `GRANT SELECT ON ${database}.* TO 'pinpipe_reader'@'127.0.0.1';`,
  );
  const config = { ...loadConfig({ _: [] }).mysql, database };
  const reader = new SourceReader(config, { idleMs: 4000 });
  try {
    assert.deepEqual(await reader.counts("geo", [undefined, 10]), { rows: 0, after: [0, 0] });
    await copy("ind < 200");
    const expect = async (lastIndexes: (number | undefined)[], what: string) => {
      const rows = await direct();
      const after = await Promise.all(
        lastIndexes.map((index) => index === undefined ? rows : direct(`ind > ${index}`)),
      );
      assert.deepEqual(await reader.counts("geo", lastIndexes), { rows, after }, what);
    };
    await expect([undefined, undefined], "first read");
    await expect([20, 180], "checkpoints near either end of the key");
    await expect([90, 180], "one checkpoint moved forward");
    await copy("ind >= 200 AND ind < 300");
    await expect([150, 250], "rows appended, both checkpoints moved");
    await expect([40, 250], "a checkpoint moved back (a run from the start)");
    await rootSql(`DELETE FROM ${table} WHERE ind >= 280`);
    await expect([40, 250], "the highest rows deleted");
    // A copy of a row low in the key: no read along the key sees it until the next full count.
    const before = await direct();
    await copy("ind = 5");
    assert.equal(await direct(), before + 1);
    assert.equal((await reader.counts("geo", [40, 250])).rows, before, "not seen yet");
    await new Promise((resolve) => setTimeout(resolve, 4100));
    await expect([40, 250], "the full count after the idle interval");
  } finally {
    await reader.close();
    await rootSql(
      `REVOKE ALL PRIVILEGES ON ${database}.* FROM 'pinpipe_reader'@'127.0.0.1'; ` +
        `DROP DATABASE ${database};`,
    );
  }
});
