/**
 * The RDS reader without a database: each mysql2 failure as one line naming
 * host, user or table, and a server that is not there, or that hangs up at
 * once, answered with a `SourceError` rather than a wait.
 */
import assert from "node:assert/strict";
import type { MysqlConfig } from "../../src/core/config.ts";
import { EXIT_CODES, SourceError } from "../../src/core/errors.ts";
import { describeSourceError, openSource } from "../../src/source/rds_reader.ts";

const config = (port: number): MysqlConfig => ({
  host: "127.0.0.1",
  port,
  user: "reader",
  password: "secret",
  database: "pins",
});
const at = config(28103);

Deno.test("each mysql2 error code becomes one line naming what is wrong", () => {
  const cases: [string, string | undefined, string][] = [
    ["ECONNREFUSED", undefined, "database unreachable: MySQL 127.0.0.1:28103 (ECONNREFUSED)"],
    [
      "PROTOCOL_CONNECTION_LOST",
      "geo",
      "database unreachable: MySQL 127.0.0.1:28103 (PROTOCOL_CONNECTION_LOST)",
    ],
    [
      "ER_ACCESS_DENIED_ERROR",
      undefined,
      'database refused user "reader" at MySQL 127.0.0.1:28103: wrong password (set PINPIPE_MYSQL_PASSWORD)',
    ],
    ["ER_BAD_DB_ERROR", undefined, 'database "pins" does not exist at MySQL 127.0.0.1:28103'],
    ["ER_NO_SUCH_TABLE", "geo", "table pins.geolocation_data is missing at MySQL 127.0.0.1:28103"],
    [
      "ER_TABLEACCESS_DENIED_ERROR",
      "user",
      'user "reader" may not read table pins.user_data at MySQL 127.0.0.1:28103',
    ],
  ];
  for (const [code, kind, message] of cases) {
    const error = describeSourceError(
      Object.assign(new Error("raw"), { code }),
      at,
      kind as "geo" | undefined,
    );
    assert.ok(error instanceof SourceError);
    assert.equal(error.exitCode, EXIT_CODES.source);
    assert.equal(error.message, message);
  }
  const other = describeSourceError(new Error("Unknown column 'x'"), at, "pin");
  assert.equal(other.message, "MySQL 127.0.0.1:28103, pins.pinterest_data: Unknown column 'x'");
  const already = new SourceError("as it was");
  assert.equal(describeSourceError(already, at), already);
});

Deno.test("no server at the port: a SourceError naming it, not a hang", async () => {
  await assert.rejects(
    openSource(at),
    (error) =>
      error instanceof SourceError &&
      error.message === "database unreachable: MySQL 127.0.0.1:28103 (ECONNREFUSED)",
  );
});

Deno.test("a server that hangs up at once: a SourceError naming it", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 28104 });
  const hangUp = (async () => {
    for await (const connection of listener) connection.close();
  })();
  try {
    await assert.rejects(
      openSource(config(28104)),
      (error) => error instanceof SourceError && /MySQL 127\.0\.0\.1:28104/.test(error.message),
    );
  } finally {
    listener.close();
    await hangUp.catch(() => {});
  }
});
