/**
 * `cli.ts` and the runner of `command.ts`, without servers: flags parsed strictly against the
 * spec (each bad flag a one-line usage error naming it, `--help` answered with the usage, typed
 * readers with fallbacks), numbers parsed strictly (no hex, no
 * exponent, a negative value answered in one line naming the flag), deprecated unit spellings
 * taken as the new flag, and `runProgram`'s one prefix, help hint and exit codes, as a user
 * meets them through `main.ts`.
 */
import assert from "node:assert/strict";
import {
  choiceFlag,
  intFlag,
  numberFlag,
  onOffFlag,
  parseDecimal,
  parseFlags,
  parseInteger,
  stringFlag,
  tablesFlag,
} from "../../src/core/cli.ts";
import { reportError, VERSION } from "../../src/core/command.ts";
import {
  CliError,
  EXIT_CODES,
  HelpRequested,
  TargetError,
  UsageError,
} from "../../src/core/errors.ts";
import config from "../../deno.json" with { type: "json" };
import { runMain } from "../support/processes.ts";

const SPEC = {
  rows: { type: "string" as const },
  rate: { type: "string" as const },
  json: { type: "boolean" as const },
  "idle-exit-ms": { type: "string" as const },
  "idle-exit": { type: "string" as const, deprecated: { use: "idle-exit-ms", scale: 1000 } },
};

const usageMessage = (run: () => unknown): string => {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof UsageError, `a UsageError, got ${error}`);
    assert.equal(error.exitCode, EXIT_CODES.usage);
    return error.message;
  }
  assert.fail("no UsageError");
};

Deno.test("parseInteger and parseDecimal take only numbers as people write them", () => {
  for (const [text, value] of [["10", 10], ["-5", -5], ["11_000", 11000], ["0", 0]] as const) {
    assert.equal(parseInteger(text), value, text);
  }
  for (
    const text of [
      "0x10",
      "1e3",
      "1.5",
      "",
      " 5",
      "+5",
      "5_",
      "_5",
      "Infinity",
      "0b1",
      "9".repeat(20),
    ]
  ) {
    assert.equal(parseInteger(text), undefined, text);
  }
  for (const [text, value] of [["1.5", 1.5], ["-0.25", -0.25], [".5", 0.5], ["3", 3]] as const) {
    assert.equal(parseDecimal(text), value, text);
  }
  for (const text of ["1e3", "0x10", "NaN", "Infinity", "", "1.2.3", "-"]) {
    assert.equal(parseDecimal(text), undefined, text);
  }
});

Deno.test("a number flag refuses hex, exponents and out-of-range values, naming flag and value", () => {
  const flags = (value: string) => parseFlags(["--rows", value], SPEC, "usage");
  assert.equal(intFlag(flags("16"), "rows", 1, { min: 1, max: 100 }), 16);
  for (const value of ["0x10", "1e3", "1.5", "0", "101"]) {
    assert.equal(
      usageMessage(() => intFlag(flags(value), "rows", 1, { min: 1, max: 100 })),
      `--rows must be a whole number from 1 to 100, got "${value}"`,
    );
  }
  assert.equal(
    usageMessage(() => intFlag(flags("0x10"), "rows", 1, { min: 1 })),
    '--rows must be a whole number of at least 1, got "0x10"',
  );
  const rate = parseFlags(["--rate", "1e3"], SPEC, "usage");
  assert.equal(
    usageMessage(() => numberFlag(rate, "rate", 1, { min: 0.001 })),
    '--rate must be a number of at least 0.001, got "1e3"',
  );
  assert.equal(numberFlag(parseFlags(["--rate", "2.5"], SPEC, "u"), "rate", 1), 2.5);
});

Deno.test("a negative value reaches the flag's own check: one line, not parseArgs' three", () => {
  const flags = parseFlags(["--rows", "-5", "--json"], SPEC, "usage");
  assert.equal(flags.rows, "-5");
  assert.equal(flags.json, true);
  assert.equal(
    usageMessage(() => intFlag(flags, "rows", 1, { min: 1 })),
    '--rows must be a whole number of at least 1, got "-5"',
  );
  // A flag where a value should be is a missing value, in one line.
  assert.equal(
    usageMessage(() => parseFlags(["--rows", "--json"], SPEC, "u")),
    "--rows needs a value",
  );
  assert.equal(usageMessage(() => parseFlags(["--rows"], SPEC, "u")), "--rows needs a value");
  assert.equal(usageMessage(() => parseFlags(["-5"], SPEC, "u")), "unknown flag -5");
});

Deno.test("a deprecated unit spelling is taken as the new flag, scaled, with a note", () => {
  const flags = parseFlags(["--idle-exit", "1.5"], SPEC, "usage");
  assert.equal(flags["idle-exit-ms"], "1500");
  assert.equal(parseFlags(["--idle-exit", "1.1"], SPEC, "usage")["idle-exit-ms"], "1100");
  assert.equal(flags["idle-exit"], undefined);
  assert.equal(
    usageMessage(() => parseFlags(["--idle-exit", "2", "--idle-exit-ms", "5"], SPEC, "u")),
    "give --idle-exit-ms or --idle-exit, not both",
  );
  assert.equal(
    usageMessage(() => parseFlags(["--idle-exit", "1e3"], SPEC, "u")),
    '--idle-exit must be a number, got "1e3"',
  );
  assert.throws(() => parseFlags(["--rows", "1", "--help"], SPEC, "the usage"), HelpRequested);
});

Deno.test("reportError: one prefix, the help hint on usage errors, each error's exit code", () => {
  const lines: string[] = [];
  const original = { error: console.error, log: console.log };
  console.error = (line: string) => lines.push(`err ${line}`);
  console.log = (line: string) => lines.push(`out ${line}`);
  try {
    assert.equal(reportError("x", "deno task x", new UsageError("--rows bad\nmore")), 2);
    assert.equal(reportError("x", "deno task x", new TargetError("bucket /b is missing")), 4);
    assert.equal(reportError("x", "deno task x", new CliError("lock held")), 1);
    assert.equal(reportError("x", "deno task x", new Error("boom")), 1);
    assert.equal(reportError("x", "deno task x", new HelpRequested("Usage: x")), 0);
  } finally {
    Object.assign(console, original);
  }
  assert.deepEqual(lines, [
    "err pinpipe x: --rows bad (see deno task x --help)",
    "err pinpipe x: bucket /b is missing",
    "err pinpipe x: lock held",
    "err pinpipe x: boom",
    "out Usage: x",
  ]);
});

Deno.test("main.ts: --rows -5, 0x10 and 1e3 are one line naming flag and value, exit 2", async () => {
  for (const value of ["-5", "0x10", "1e3"]) {
    const { code, stdout, stderr } = await runMain([
      "generate",
      "--rows",
      value,
      "--out",
      "/nonexistent/x",
    ]);
    assert.equal(code, EXIT_CODES.usage, stderr);
    assert.equal(stdout, "");
    assert.match(
      stderr,
      new RegExp(
        `^pinpipe generate: --rows must be a whole number from 1 to \\d+, got "${value}" \\(see deno task generate --help\\)\\n$`,
      ),
    );
  }
});

Deno.test("main.ts: --version prints deno.json's version; --help lists every command and task", async () => {
  assert.equal(VERSION, config.version);
  for (const args of [["--version"], ["sim", "--version"]]) {
    const { code, stdout } = await runMain(args);
    assert.equal(code, 0);
    assert.equal(stdout, `pinpipe ${config.version}\n`);
  }
  const { code, stdout } = await runMain(["--help"]);
  assert.equal(code, 0);
  for (const name of Object.keys(config.tasks).filter((task) => task !== "test:unit")) {
    assert.match(stdout, new RegExp(`\\n  ${name} `), `--help lists ${name}`);
  }
});

Deno.test("every command of main.ts takes --json and --quiet and says so in its help", async () => {
  const commands = [
    "batch",
    "stream",
    "sim",
    "sink",
    "consume",
    "generate",
    "chaos",
    "status",
    "watch",
  ];
  for (const command of commands) {
    const { code, stdout } = await runMain([command, "--help"]);
    assert.equal(code, 0, command);
    assert.match(stdout, /\n {2}--json /, `${command} --help lists --json`);
    assert.match(stdout, /\n {2}--quiet /, `${command} --help lists --quiet`);
  }
});

/** A program run by `runProgram` in a child: `body` is its work. */
function program(body: string): Deno.ChildProcess {
  const command = new URL("../../src/core/command.ts", import.meta.url).href;
  const errors = new URL("../../src/core/errors.ts", import.meta.url).href;
  const code = `import { runProgram } from "${command}";
import { UsageError } from "${errors}";
Deno.exit(await runProgram("demo", "deno task demo", async () => { ${body} }));`;
  return new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", code],
    env: { PINPIPE_ENV_FILE: "" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

Deno.test("runProgram: SIGTERM or SIGINT while a program works ends it with exit 130", async () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    const child = program(
      `console.log("working"); await new Promise(() => setInterval(() => {}, 1000)); return 0;`,
    );
    const reader = child.stdout.getReader();
    const { value } = await reader.read();
    assert.equal(new TextDecoder().decode(value), "working\n");
    reader.releaseLock();
    child.kill(signal);
    const { code } = await child.output();
    assert.equal(code, EXIT_CODES.interrupted, signal);
  }
});

Deno.test("runProgram: a usage error thrown by the work is one line with the hint, exit 2", async () => {
  const { code, stdout, stderr } = await program(`throw new UsageError("--rows bad");`).output();
  assert.equal(code, EXIT_CODES.usage);
  assert.equal(new TextDecoder().decode(stdout), "");
  assert.equal(
    new TextDecoder().decode(stderr),
    "pinpipe demo: --rows bad (see deno task demo --help)\n",
  );
});

Deno.test("the deprecated unit spellings of the commands reach the same options as the -ms flags", async () => {
  const { TRANSFER_FLAGS, parseTransferOptions } = await import("../../src/transfer/driver.ts");
  const { CONSUMER_FLAGS, parseConsumerOptions } = await import(
    "../../src/consumer/consume_command.ts"
  );
  const transfer = (args: string[]) => parseTransferOptions(parseFlags(args, TRANSFER_FLAGS, "u"));
  assert.equal(transfer(["--poll-ms", "500"]).pollMs, 500);
  assert.equal(transfer(["--poll-interval", "500"]).pollMs, 500);
  assert.equal(transfer([]).pollMs, 1000);
  const consumer = (args: string[]) =>
    parseConsumerOptions(parseFlags(args, CONSUMER_FLAGS, "u"), "0123456789ab");
  const old = consumer(["--idle-exit", "1.5", "--wait-streams", "2"]);
  const now = consumer(["--idle-exit-ms", "1500", "--wait-streams-ms", "2000"]);
  assert.deepEqual([old.idleExitMs, old.waitStreamsMs], [1500, 2000]);
  assert.deepEqual(old, now);
  assert.equal(
    usageMessage(() => consumer(["--idle-exit-ms", "1.5"])),
    '--idle-exit-ms must be a whole number of at least 0, got "1.5"',
  );
});

const LIMIT_SPEC = {
  limit: { type: "string" as const },
  quiet: { type: "boolean" as const },
} as const;

/** Asserts `fn` throws a `UsageError` of one line that mentions `flag`. */
function refuses(fn: () => unknown, flag: string): void {
  const message = usageMessage(fn);
  assert.ok(message.includes(flag), message);
  assert.ok(!message.includes("\n"), message);
}

Deno.test("parseFlags: values, booleans and positionals as given", () => {
  const flags = parseFlags(["--limit", "10", "--quiet", "x"], LIMIT_SPEC, "usage", {
    positionals: true,
  });
  assert.equal(flags.limit, "10");
  assert.equal(flags.quiet, true);
  assert.deepEqual(flags._, ["x"]);
});

Deno.test("parseFlags: --help is the usage; unknown flags, missing values and positionals refused", () => {
  assert.throws(
    () => parseFlags(["--limit", "3", "--help"], LIMIT_SPEC, "the usage"),
    (error) => error instanceof HelpRequested && error.usage === "the usage",
  );
  refuses(() => parseFlags(["--limt", "3"], LIMIT_SPEC, ""), "--limt");
  refuses(() => parseFlags(["--limit"], LIMIT_SPEC, ""), "--limit");
  refuses(() => parseFlags(["stray"], LIMIT_SPEC, ""), "stray");
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
