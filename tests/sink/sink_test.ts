/**
 * The sink without a broker: a Kafka nobody answers ends the run with one
 * line naming the brokers (exit 4) and writes nothing into the bucket.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../src/core/config.ts";
import { TargetError } from "../../src/core/errors.ts";
import { BucketSink } from "../../src/sink/sink.ts";
import { LocalBucket } from "../../src/sink/storage.ts";

Deno.test({
  name: "an unreachable broker: one TargetError naming it, nothing in the bucket",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "pinpipe_sink_unit_" });
    try {
      const config = loadConfig({ _: [], id: "0123456789ab", brokers: "127.0.0.1:28102" });
      const sink = new BucketSink(config, new LocalBucket(dir), {
        flushSize: 10,
        rotateMs: 0,
        group: "g",
        kinds: ["geo"],
        exitAtEnd: true,
      });
      await assert.rejects(sink.run(), (error) => {
        assert.ok(error instanceof TargetError, String(error));
        assert.equal(error.exitCode, 4);
        assert.match(error.message, /127\.0\.0\.1:28102/);
        assert.ok(!error.message.includes("\n"), error.message);
        return true;
      });
      assert.deepEqual([...Deno.readDirSync(dir)], []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
