/**
 * Flag parsing: strict against the spec, each bad flag a one-line usage error
 * naming it, `--help` answered with the usage, typed readers with fallbacks.
 */
import assert from "node:assert/strict";
import {
  choiceFlag,
  intFlag,
  onOffFlag,
  parseFlags,
  stringFlag,
  tablesFlag,
} from "../../src/core/cli.ts";
import { HelpRequested, UsageError } from "../../src/core/errors.ts";

const SPEC = {
  limit: { type: "string" as const },
  quiet: { type: "boolean" as const },
} as const;

/** Asserts `fn` throws a `UsageError` of one line that mentions `flag`. */
function refuses(fn: () => unknown, flag: string): void {
  assert.throws(fn, (error) => {
    assert.ok(error instanceof UsageError, String(error));
    assert.equal(error.exitCode, 2);
    assert.ok(error.message.includes(flag), error.message);
    assert.ok(!error.message.includes("\n"), error.message);
    return true;
  });
}

Deno.test("parseFlags: values, booleans and positionals as given", () => {
  const flags = parseFlags(["--limit", "10", "--quiet", "x"], SPEC, "usage", { positionals: true });
  assert.equal(flags.limit, "10");
  assert.equal(flags.quiet, true);
  assert.deepEqual(flags._, ["x"]);
});

Deno.test("parseFlags: --help is the usage; unknown flags, missing values and positionals refused", () => {
  assert.throws(
    () => parseFlags(["--limit", "3", "--help"], SPEC, "the usage"),
    (error) => error instanceof HelpRequested && error.usage === "the usage",
  );
  refuses(() => parseFlags(["--limt", "3"], SPEC, ""), "--limt");
  refuses(() => parseFlags(["--limit"], SPEC, ""), "--limit");
  refuses(() => parseFlags(["stray"], SPEC, ""), "stray");
});

Deno.test("typed readers: fallbacks when absent, the value when good, the flag named when bad", () => {
  const flags = { _: [], n: "12", mode: "uuid", tls: "off", tables: "geo, pin,geo" };
  assert.equal(intFlag(flags, "n", 1, { min: 1, max: 20 }), 12);
  assert.equal(intFlag(flags, "absent", 7), 7);
  refuses(() => intFlag(flags, "n", 1, { max: 10 }), "--n");
  refuses(() => intFlag({ _: [], n: "ten" }, "n", 1), "--n");
  assert.equal(choiceFlag(flags, "mode", ["index", "uuid"] as const, "index"), "uuid");
  refuses(() => choiceFlag(flags, "mode", ["index"] as const, "index"), "--mode");
  assert.equal(onOffFlag(flags, "tls"), false);
  assert.equal(onOffFlag(flags, "absent"), undefined);
  assert.deepEqual(tablesFlag(flags), ["geo", "pin"]);
  assert.deepEqual(tablesFlag({ _: [] }), ["pin", "geo", "user"]);
  refuses(() => tablesFlag({ _: [], tables: "pins" }), "--tables");
  assert.equal(stringFlag(flags, "absent", "x"), "x");
  refuses(() => stringFlag({ _: [], quiet: true }, "quiet"), "--quiet");
});
