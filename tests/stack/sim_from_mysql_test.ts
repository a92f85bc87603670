/**
 * `deno task sim --from mysql` against the seeded MariaDB of the local
 * stack: the same answers as from the generated rows (the rest of the
 * command is tested offline in tests/sim/sim_command_test.ts).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../src/core/config.ts";
import { DEFAULT_DATASET } from "../../sim/datagen/generate.ts";
import { simJson } from "../support/sim.ts";

Deno.test("sim: --from mysql (the seeded RDS tables) answers as the generator does", async () => {
  // infra.sh seeds MariaDB with the default dataset; the round trip through
  // the database and its DATETIME and FLOAT columns must change nothing.
  const config = loadConfig({ _: [] });
  const mysql = (await import("mysql2/promise")).default;
  const connection = await mysql.createConnection(config.mysql);
  const [rows] = await connection.query("SELECT COUNT(*) AS n FROM pinterest_data");
  await connection.end();
  assert.equal(Number((rows as { n: number }[])[0].n), DEFAULT_DATASET.rows, "default seed");
  const out = await Deno.makeTempDir();
  try {
    const generated = await simJson(join(out, "g"));
    const fromMysql = await simJson(join(out, "m"), "--from", "mysql");
    assert.match(fromMysql.source, /^MySQL 127\.0\.0\.1:13306\/pinterest_data$/);
    assert.deepEqual(fromMysql.cleaned, generated.cleaned);
    assert.deepEqual(fromMysql.answers, generated.answers);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
