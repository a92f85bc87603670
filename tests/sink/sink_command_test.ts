/** The sink command's own flags, its summary text, and bad flags refused before any connection. */
import assert from "node:assert/strict";
import { UsageError } from "../../src/core/errors.ts";
import { main, parseSinkOptions, sinkSummaryText } from "../../src/sink/sink_command.ts";

Deno.test("the sink's flags: defaults named after the pipeline, values as given", () => {
  assert.deepEqual(parseSinkOptions({ _: [] }, "0123456789ab"), {
    flushSize: 1000,
    rotateMs: 10_000,
    group: "connect-pinpipe-sink-0123456789ab",
    kinds: ["pin", "geo", "user"],
    exitAtEnd: false,
    tls: undefined,
  });
  const flags = {
    _: [],
    "flush-size": "1",
    "rotate-ms": "0",
    group: "g",
    tables: "user",
    "exit-at-end": true,
    "kafka-tls": "on",
  };
  assert.deepEqual(parseSinkOptions(flags, "0123456789ab"), {
    flushSize: 1,
    rotateMs: 0,
    group: "g",
    kinds: ["user"],
    exitAtEnd: true,
    tls: true,
  });
});

Deno.test("bad sink flags are usage errors naming the flag, before any broker is asked", async () => {
  for (
    const [args, flag] of [
      [["--flush-size", "0"], "--flush-size"],
      [["--rotate-ms", "-1"], "--rotate-ms"],
      [["--tables", "pins"], "--tables"],
      [["--kafka-tls", "maybe"], "--kafka-tls"],
      [["--flush"], "--flush"],
    ] as [string[], string][]
  ) {
    await assert.rejects(
      main([...args, "--brokers", "127.0.0.1:28102"]),
      (error) => error instanceof UsageError && error.message.includes(flag),
      args.join(" "),
    );
  }
});

Deno.test("the summary text: done or stopped, the bucket, a line per topic", () => {
  const summary = {
    bucket: "/tmp/b",
    group: "g",
    topics: { "x.pin": { objects: 2, records: 1500 }, "x.geo": { objects: 0, records: 0 } },
    seconds: 3.25,
    interrupted: false,
  };
  assert.equal(
    sinkSummaryText(summary),
    "sink: done in 3.3 s, into /tmp/b\n" +
      `  ${"x.pin".padEnd(24)} 2 objects, 1500 records\n` +
      `  ${"x.geo".padEnd(24)} 0 objects, 0 records`,
  );
  assert.match(sinkSummaryText({ ...summary, interrupted: true }), /^sink: stopped in/);
});
