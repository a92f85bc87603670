/**
 * The loader against the real local MariaDB (`bash infra.sh local up`, or
 * `deno task test`, which brings it up): loads a small dataset into the
 * `pinterest_data` database, reads every row back as the pipeline does
 * (read-only user, text protocol, `dateStrings: true`) and compares each with
 * the generator's, FLOATs included. Restores the default 11,000 rows at the
 * end, through the command line, so other tests see the default data.
 */
import assert from "node:assert/strict";
import mysql from "mysql2/promise";
import { loadConfig } from "../../src/core/config.ts";
import { TABLE_KINDS, TABLES } from "../../src/core/tables.ts";
import { DEFAULT_DATASET, generateRows, isDuplicatePosition } from "../../sim/datagen/generate.ts";
import { loadMysql } from "../../sim/datagen/mysql_loader.ts";
import type { Row } from "../../src/core/records.ts";

const SMALL = { rows: 2000, seed: DEFAULT_DATASET.seed };
const config = loadConfig({ _: [] }).mysql;

async function connectReader(): Promise<mysql.Connection> {
  try {
    return await mysql.createConnection({ ...config, dateStrings: true, charset: "utf8mb4" });
  } catch (error) {
    throw new Error(
      `MariaDB at ${config.host}:${config.port} as ${config.user} is not reachable ` +
        `(start it with \`bash infra.sh local up\`): ${(error as Error).message}`,
    );
  }
}

async function count(reader: mysql.Connection, table: string): Promise<number> {
  const [rows] = await reader.query<mysql.RowDataPacket[]>(
    `SELECT COUNT(*) AS n FROM \`${table}\``,
  );
  return Number(rows[0].n);
}

async function restoreDefault(): Promise<void> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts", "generate", "--to", "mysql"],
    cwd: new URL("../..", import.meta.url),
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
}

Deno.test({
  name:
    "the loader puts exactly the generated rows into MariaDB, and reseeding restores the default",
  fn: async () => {
    const reader = await connectReader();
    try {
      const loaded = await loadMysql(config, SMALL);
      assert.deepEqual(loaded, { pin: 2000, geo: 2000, user: 2000 });

      for (const kind of TABLE_KINDS) {
        const { table, indexColumn } = TABLES[kind];
        assert.equal(await count(reader, table), SMALL.rows, `${table} row count`);
        // Every row, read back as the pipeline reads it, equals the generator's row:
        // ints, text with quotes and accents, DATETIME text, and FLOATs to the last digit.
        const [stored] = await reader.query<mysql.RowDataPacket[]>(
          `SELECT * FROM \`${table}\` ORDER BY \`${indexColumn}\``,
        );
        const expected = [...generateRows(kind, SMALL)];
        assert.equal(stored.length, expected.length);
        stored.forEach((row, i) => {
          assert.deepEqual({ ...row }, expected[i], `${table} row ${i}`);
        });
      }

      // Spot checks that name what matters, on rows the full comparison covered.
      const [titles] = await reader.query<mysql.RowDataPacket[]>(
        "SELECT `index`, title FROM pinterest_data WHERE title LIKE '%\"%' LIMIT 1",
      );
      assert.equal(titles.length, 1, "a title with double quotes was stored");
      const [accents] = await reader.query<mysql.RowDataPacket[]>(
        "SELECT ind, first_name, last_name FROM user_data " +
          "WHERE CONCAT(first_name, last_name) <> CONVERT(CONCAT(first_name, last_name) USING ascii) LIMIT 1",
      );
      assert.equal(accents.length, 1, "a non-ASCII name survived the round trip");
      const [coordinates] = await reader.query<mysql.RowDataPacket[]>(
        "SELECT ind, latitude, longitude FROM geolocation_data WHERE ABS(longitude) >= 100 LIMIT 1",
      );
      const geo = [...generateRows("geo", SMALL)].find((row: Row) =>
        row.ind === coordinates[0].ind
      );
      assert.equal(coordinates[0].longitude, geo?.longitude, "a 6-digit FLOAT is exact");
      assert.equal(typeof coordinates[0].latitude, "number");

      // Copies are stored as copies: one index value, two identical rows.
      let copies = 0;
      for (let position = 0; position < SMALL.rows; position++) {
        if (isDuplicatePosition(position, SMALL)) copies++;
      }
      const [repeated] = await reader.query<mysql.RowDataPacket[]>(
        "SELECT COUNT(*) - COUNT(DISTINCT `index`) AS n FROM pinterest_data",
      );
      assert.equal(Number(repeated[0].n), copies, "repeated index values equal the copies made");
      assert.ok(copies > 0);

      // A bad password fails before anything is emptied.
      await assert.rejects(
        () =>
          loadMysql(config, SMALL, { credentials: { user: "pinpipe_admin", password: "wrong" } }),
        /cannot connect to MySQL as pinpipe_admin@127\.0\.0\.1:\d+\/pinterest_data/,
      );
      assert.equal(await count(reader, "pinterest_data"), SMALL.rows, "data kept after a failure");
    } finally {
      // The default data, through the command line as infra.sh seeds it; loading
      // over existing rows must replace them, not add to them.
      await restoreDefault();
      try {
        for (const kind of TABLE_KINDS) {
          assert.equal(await count(reader, TABLES[kind].table), DEFAULT_DATASET.rows);
        }
        const [first] = await reader.query<mysql.RowDataPacket[]>(
          "SELECT * FROM user_data ORDER BY ind LIMIT 1",
        );
        assert.deepEqual(
          { ...first[0] },
          [...generateRows("user", { ...DEFAULT_DATASET, rows: 1 })][0],
        );
      } finally {
        await reader.end();
      }
    }
  },
});
