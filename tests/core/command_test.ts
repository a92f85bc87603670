/**
 * The command shell, over every command of `main.ts` as a user runs it: an
 * unknown flag is one line naming it and pointing to --help (exit 2); each
 * command takes and lists only the connection flags it uses; every help
 * ends with the one exit-code table.
 */
import assert from "node:assert/strict";
import { runMain } from "../support/processes.ts";
import { commandUsage, connectionFlags } from "../../src/core/command.ts";
import { EXIT_CODES, exitCodesUsage } from "../../src/core/errors.ts";

const COMMANDS = ["batch", "stream", "sim", "sink", "consume", "generate"];

const pinpipe = (...args: string[]) => runMain(args);

Deno.test("every command: an unknown flag is one line naming it, pointing to --help, exit 2", async () => {
  for (const command of COMMANDS) {
    const { code, stdout, stderr } = await pinpipe(command, "--frobnicate", "3");
    assert.equal(code, EXIT_CODES.usage, `${command}: ${stderr}`);
    assert.equal(stdout, "");
    assert.equal(
      stderr,
      `pinpipe ${command}: unknown flag --frobnicate (see deno task ${command} --help)\n`,
    );
  }
});

Deno.test("every command: a flag without its value is one line naming it, exit 2", async () => {
  const valueFlags: Record<string, string> = {
    batch: "--limit",
    stream: "--limit",
    sim: "--rows",
    sink: "--group",
    consume: "--db",
    generate: "--rows",
  };
  for (const [command, flag] of Object.entries(valueFlags)) {
    const { code, stderr } = await pinpipe(command, flag);
    assert.equal(code, EXIT_CODES.usage, `${command}: ${stderr}`);
    assert.equal(
      stderr,
      `pinpipe ${command}: ${flag} needs a value (see deno task ${command} --help)\n`,
    );
  }
});

Deno.test("each command takes and lists only the connection flags it uses", async () => {
  const uses: Record<string, { takes: string[]; refuses: string[] }> = {
    batch: { takes: ["--mysql-host", "--brokers", "--state-dir"], refuses: ["--kinesis-endpoint"] },
    stream: { takes: ["--mysql-host", "--kinesis-endpoint", "--region"], refuses: ["--brokers"] },
    sink: {
      takes: ["--brokers", "--bucket", "--region"],
      refuses: ["--mysql-host", "--state-dir"],
    },
    consume: { takes: ["--kinesis-endpoint", "--region"], refuses: ["--mysql-user", "--brokers"] },
    sim: { takes: ["--mysql-host", "--bucket"], refuses: ["--brokers", "--kinesis-endpoint"] },
    generate: { takes: ["--mysql-host"], refuses: ["--brokers", "--bucket"] },
  };
  for (const [command, { takes, refuses }] of Object.entries(uses)) {
    const help = await pinpipe(command, "--help");
    assert.equal(help.code, 0);
    for (const flag of takes) assert.match(help.stdout, new RegExp(`\\n {2}${flag} `), command);
    for (const flag of refuses) {
      assert.doesNotMatch(help.stdout, new RegExp(`${flag}\\b`), `${command} lists ${flag}`);
      const refused = await pinpipe(command, flag, "x");
      assert.equal(refused.code, EXIT_CODES.usage, `${command} ${flag}`);
      assert.match(refused.stderr, new RegExp(`unknown flag ${flag} `));
    }
    const footer = help.stdout.slice(help.stdout.lastIndexOf("Exit codes:"));
    assert.match(
      footer,
      /^Exit codes: 0 done,\s1 [^]*130 stopped by SIGINT\/SIGTERM[^]*\.\n$/,
      command,
    );
    // Each footer speaks of its own command: sim's checks only in sim's, a database only where
    // one is read.
    if (command !== "sim") assert.doesNotMatch(footer, /check failed|sim/, `${command}: ${footer}`);
    if (["sink", "consume"].includes(command)) {
      assert.doesNotMatch(footer, /database/, `${command}: ${footer}`);
    }
  }
});

Deno.test("connectionFlags keeps each flag's help lines, continuation lines included", () => {
  const { flags, usage } = connectionFlags(["mysql", "kafka"]);
  assert.deepEqual(Object.keys(flags).sort(), [
    "brokers",
    "kafka-auth",
    "mysql-database",
    "mysql-host",
    "mysql-port",
    "mysql-user",
  ]);
  assert.match(usage, /^Connection flags/);
  assert.match(usage, /password: PINPIPE_MYSQL_PASSWORD only/);
  assert.match(usage, /PINPIPE_KAFKA_BROKERS \(127\.0\.0\.1:19092\)/);
  assert.match(usage, /scram user\/password: PINPIPE_KAFKA_USERNAME/);
  assert.doesNotMatch(usage, /--id|--bucket|--region|--kinesis-endpoint|--state-dir/);
  assert.equal(connectionFlags([]).usage, "");
  const help = commandUsage({
    name: "none",
    usage: "Usage: none",
    flags: {},
    connections: [],
    run: () => Promise.resolve(0),
  });
  assert.equal(help, `Usage: none\n\n${exitCodesUsage()}`);
  assert.equal(
    exitCodesUsage(),
    "Exit codes: 0 done, 1 other failure, 2 bad flags, 130 stopped by SIGINT/SIGTERM.",
  );
});
