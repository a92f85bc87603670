/** Object keys as the S3 sink connector names them, read back, and a local topic folder listed. */
import assert from "node:assert/strict";
import { listTopicFolder, objectKey, parseObjectKey } from "../../src/core/bucket_layout.ts";

Deno.test("an object key parses back into topic, partition and start offset", () => {
  const key = objectKey("0123456789ab.pin", 3, 42);
  assert.equal(key, "topics/0123456789ab.pin/partition=3/0123456789ab.pin+3+0000000042.json");
  assert.deepEqual(parseObjectKey(key), {
    topic: "0123456789ab.pin",
    partition: 3,
    startOffset: 42,
  });
  assert.equal(parseObjectKey("topics/a/partition=3/a+4+0000000042.json"), null);
});

Deno.test("a topic folder: every file of its folders, sorted; none when there is no folder", async () => {
  const bucket = await Deno.makeTempDir({ prefix: "pinpipe_layout_" });
  try {
    const topicDir = `${bucket}/topics/t`;
    assert.deepEqual(await listTopicFolder(topicDir), []);
    for (const key of [objectKey("t", 10, 0), objectKey("t", 2, 5), objectKey("t", 2, 0)]) {
      await Deno.mkdir(`${bucket}/${key.replace(/\/[^/]+$/, "")}`, { recursive: true });
      await Deno.writeTextFile(`${bucket}/${key}`, "{}\n");
    }
    await Deno.writeTextFile(`${topicDir}/stray.txt`, "");
    await Deno.mkdir(`${topicDir}/partition=2/nested`);
    assert.deepEqual(await listTopicFolder(topicDir), [
      "partition=10/t+10+0000000000.json",
      "partition=2/t+2+0000000000.json",
      "partition=2/t+2+0000000005.json",
    ]);
  } finally {
    await Deno.remove(bucket, { recursive: true });
  }
});
