import assert from "node:assert/strict";
import { loadConfig } from "../../src/core/config.ts";
import { UsageError } from "../../src/core/errors.ts";
import { bucketName, cleanTableName, streamName, topicName } from "../../src/core/names.ts";

Deno.test("config defaults point at the local stack", () => {
  const config = loadConfig({ _: [] }, {}, {});
  assert.equal(config.id, "0123456789ab");
  assert.deepEqual(config.kafka.brokers, ["127.0.0.1:19092"]);
  assert.equal(config.kafka.auth, "none");
  assert.equal(config.mysql.port, 13306);
  assert.equal(config.mysql.user, "pinpipe_reader");
  assert.equal(config.mysql.password, "");
  assert.equal(config.kinesis.endpoint, "http://127.0.0.1:14567");
  assert.equal(config.bucket, ".local/bucket/user-0123456789ab-bucket");
});

Deno.test("config takes flags over env over the stack file", () => {
  const stack = { PINPIPE_MYSQL_PASSWORD: "from-file", PINPIPE_ID: "aaaaaaaaaaaa" };
  const env = { PINPIPE_ID: "bbbbbbbbbbbb", PINPIPE_KAFKA_BROKERS: "b1:9098, b2:9098" };
  const config = loadConfig({ _: [], id: "cccccccccccc" }, env, stack);
  assert.equal(config.id, "cccccccccccc");
  assert.deepEqual(config.kafka.brokers, ["b1:9098", "b2:9098"]);
  assert.equal(config.mysql.password, "from-file");
  assert.equal(loadConfig({ _: [] }, env, stack).id, "bbbbbbbbbbbb");
  assert.equal(loadConfig({ _: [] }, {}, stack).id, "aaaaaaaaaaaa");
  assert.equal(
    loadConfig({ _: [] }, { PINPIPE_MYSQL_PASSWORD: "env" }, stack).mysql.password,
    "env",
  );
});

Deno.test("config names the bad setting", () => {
  assert.throws(() => loadConfig({ _: [], id: "XYZ" }, {}, {}), (error: Error) => {
    assert.ok(error instanceof UsageError);
    assert.match(error.message, /--id \/ PINPIPE_ID: pipeline id "XYZ" must be 12 lower-case hex/);
    return true;
  });
  assert.throws(
    () => loadConfig({ _: [], "mysql-port": "70000" }, {}, {}),
    /--mysql-port must be a whole number from 1 to 65535, got "70000"/,
  );
  assert.throws(
    () => loadConfig({ _: [] }, { PINPIPE_KAFKA_AUTH: "kerberos" }, {}),
    /PINPIPE_KAFKA_AUTH must be none, iam or scram, got "kerberos"/,
  );
});

Deno.test("config: kinesis endpoint 'aws' means the real service", () => {
  const config = loadConfig({ _: [], "kinesis-endpoint": "aws", region: "eu-west-1" }, {}, {});
  assert.equal(config.kinesis.endpoint, undefined);
  assert.equal(config.kinesis.region, "eu-west-1");
  assert.equal(config.aws.region, "eu-west-1", "S3 and Kafka IAM use the same region");
});

Deno.test("every resource name derives from the pipeline id", () => {
  assert.equal(topicName("12c0d092d679", "pin"), "12c0d092d679.pin");
  assert.equal(streamName("12c0d092d679", "geo"), "streaming-12c0d092d679-geo");
  assert.equal(bucketName("12c0d092d679"), "user-12c0d092d679-bucket");
  assert.equal(cleanTableName("12c0d092d679", "user"), "12c0d092d679_user_table");
});
