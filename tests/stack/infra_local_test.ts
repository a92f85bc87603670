/** `infra.sh local`: status of the running stack, and clear usage errors. */
import assert from "node:assert/strict";

async function infra(...args: string[]) {
  return await infraWith({}, ...args);
}

async function infraWith(env: Record<string, string>, ...args: string[]) {
  // The settings the test sets, and no port this run inherited (`infra.sh local with` exports
  // the stack's): the settings file's value is what is under test.
  const inherited = Deno.env.toObject();
  delete inherited.PINPIPE_MYSQL_PORT;
  const output = await new Deno.Command("bash", {
    args: ["infra.sh", ...args],
    env: { ...inherited, ...env },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

Deno.test("infra.sh local status: each service up, where it listens, what its health check said", async () => {
  const { code, stdout } = await infra("local", "status");
  assert.equal(code, 0, stdout);
  const lines = stdout.trim().split("\n");
  assert.equal(lines.length, 3);
  assert.match(
    lines[0],
    /^mysql +up +127\.0\.0\.1:13306 +pid \d+ +query ok, pinterest_data: 3 table/,
  );
  assert.match(lines[1], /^kafka +up +127\.0\.0\.1:19092 +pid \d+ +metadata ok, 1 broker/);
  assert.match(lines[2], /^kinesis +up +127\.0\.0\.1:14567 +pid \d+ +ListStreams ok/);
});

Deno.test("infra.sh: an unknown action is a usage error naming the actions", async () => {
  const local = await infra("local", "restart");
  assert.equal(local.code, 2);
  assert.match(
    local.stderr,
    /usage: \.\/infra\.sh local up \[--aws\] \[--kafka-brokers N\]\|down\|status\|seed\|install\|with CMD\|aws up\|down\|status \(see \.\/infra\.sh --help\)\n$/,
  );
  const top = await infra("gcp");
  assert.equal(top.code, 2);
  assert.match(top.stderr, /usage: .*\| aws synth\|diff\|plan\|apply\|destroy \| rehearse/);
});

Deno.test("infra.sh --help: the full help on stdout, exit 0", async () => {
  for (
    const args of [["--help"], ["-h"], ["local", "up", "--help"], ["local", "status", "--help"]]
  ) {
    const { code, stdout, stderr } = await infra(...args);
    assert.equal(code, 0, `${args.join(" ")}: ${stderr}`);
    assert.equal(stderr, "");
    for (
      const action of [
        "local up",
        "local down",
        "local with CMD",
        "aws plan|apply|destroy",
        "rehearse",
      ]
    ) {
      assert.ok(stdout.includes(`./infra.sh ${action}`), `${args.join(" ")}: ${action}`);
    }
    assert.match(stdout, /PINPIPE_LOCAL_DIR/);
  }
});

Deno.test("infra.sh local: unknown flags and bad values refused in one line naming them, exit 2, nothing started", async () => {
  const cases: [string[], RegExp][] = [
    [
      ["local", "up", "--bogus"],
      /^infra\.sh: unknown flag for local up: --bogus \(see \.\/infra\.sh --help\)\n$/,
    ],
    // Every flag is read, in any order: a bad one after --aws is not ignored.
    [
      ["local", "up", "--aws", "--kafka-brokers", "2"],
      /--kafka-brokers must be 1, 3 or 5, got "2"/,
    ],
    [["local", "up", "--kafka-brokers=4", "--aws"], /--kafka-brokers must be 1, 3 or 5, got "4"/],
    [["local", "up", "--aws", "--kafka-brokers"], /--kafka-brokers needs a number/],
    [
      ["local", "up", "--kafka-brokers", "3", "--aws", "--nope"],
      /unknown flag for local up: --nope/,
    ],
    [["local", "status", "--verbose"], /unknown argument for local status: --verbose/],
    [["local", "aws", "status", "now"], /unknown argument for local aws status: now/],
  ];
  for (const [args, expected] of cases) {
    const { code, stdout, stderr } = await infra(...args);
    assert.equal(code, 2, `${args.join(" ")}: ${stderr}`);
    assert.equal(stdout, "");
    assert.match(stderr, expected, args.join(" "));
  }
});

Deno.test("infra.sh reads the settings file; the environment wins over it; a bad file is exit 2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pinpipe_infra_env_" });
  try {
    const file = `${dir}/pinpipe.env`;
    // A port nothing listens on: status finds MariaDB's process, but not its answer there.
    await Deno.writeTextFile(file, "# a wrong port\nPINPIPE_MYSQL_PORT=1\n");
    const fromFile = await infraWith({ PINPIPE_ENV_FILE: file }, "local", "status");
    assert.equal(fromFile.code, 1, fromFile.stdout);
    assert.match(fromFile.stdout, /^mysql +unhealthy +127\.0\.0\.1:1 /);
    const fromEnv = await infraWith(
      { PINPIPE_ENV_FILE: file, PINPIPE_MYSQL_PORT: "13306" },
      "local",
      "status",
    );
    assert.equal(fromEnv.code, 0, fromEnv.stdout);
    assert.match(fromEnv.stdout, /^mysql +up +127\.0\.0\.1:13306 /);

    await Deno.writeTextFile(file, "PINPIPE_MYSQL_PORT=13306\nnot a setting\n");
    const bad = await infraWith({ PINPIPE_ENV_FILE: file }, "local", "status");
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, `infra.sh: ${file}:2: not a KEY=value line: "not a setting"\n`);
    const missing = await infraWith({ PINPIPE_ENV_FILE: `${dir}/none` }, "local", "status");
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read the settings file .*none \(PINPIPE_ENV_FILE\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
