/**
 * Authentication and authorization failures of `deno task batch`, against a
 * real broker that enforces them: a private single-node Kafka started from
 * the stack's jars with SASL/SCRAM-SHA-512 (plaintext transport, hence
 * `--kafka-tls off`) and ACLs (StandardAuthorizer, nothing allowed unless
 * granted). Each failure is one line, exit code 4, and no checkpoint written.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  ResourcePatternTypes,
} from "kafkajs";
import { EXIT_CODES } from "../../src/core/errors.ts";
import { kafkaClient } from "../../src/kafka/client.ts";
import { randomId, runMain } from "../support/processes.ts";
import { startPrivateBroker } from "../support/private_broker.ts";
import { topicName } from "../../src/core/names.ts";

Deno.test({
  name:
    "batch errors: authentication failed, and topic not authorized, on a broker with SCRAM and ACLs",
  fn: async () => {
    const users = { admin: crypto.randomUUID(), alice: crypto.randomUUID() };
    const broker = await startPrivateBroker(users);
    const state = await Deno.makeTempDir({ prefix: "pinpipe-state-" });
    const id = randomId();
    const topic = topicName(id, "geo");
    try {
      // As the super user: the topic exists; alice may see it and write another topic only
      // (so her idempotent producer may start), not this one.
      const kafka = await kafkaClient(
        { brokers: broker.brokers, auth: "scram", username: "admin", password: users.admin },
        "pinpipe-test",
        "us-east-1",
        { ssl: false },
      );
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic }, { topic: `${id}.other` }],
      });
      const grant = (resourceName: string, operation: AclOperationTypes) => ({
        resourceType: AclResourceTypes.TOPIC,
        resourceName,
        resourcePatternType: ResourcePatternTypes.LITERAL,
        principal: "User:alice",
        host: "*",
        operation,
        permissionType: AclPermissionTypes.ALLOW,
      });
      await admin.createAcls({
        acl: [
          grant(topic, AclOperationTypes.DESCRIBE),
          grant(`${id}.other`, AclOperationTypes.DESCRIBE),
          grant(`${id}.other`, AclOperationTypes.WRITE),
        ],
      });
      await admin.disconnect();

      const args = [
        "batch",
        "--id",
        id,
        "--state-dir",
        state,
        "--tables",
        "geo",
        "--limit",
        "20",
        "--brokers",
        broker.brokers[0],
        "--kafka-auth",
        "scram",
        "--kafka-tls",
        "off",
      ];
      const wrong = await runMain(args, {
        PINPIPE_KAFKA_USERNAME: "alice",
        PINPIPE_KAFKA_PASSWORD: "not-her-password",
      });
      assert.equal(wrong.code, EXIT_CODES.target, wrong.stderr);
      assert.match(
        wrong.stderr.trim(),
        new RegExp(`^pinpipe batch: Kafka authentication failed at ${broker.brokers[0]}: [^\\n]+$`),
      );

      const refused = await runMain(args, {
        PINPIPE_KAFKA_USERNAME: "alice",
        PINPIPE_KAFKA_PASSWORD: users.alice,
      });
      assert.equal(refused.code, EXIT_CODES.target, refused.stderr);
      assert.match(
        refused.stderr.trim().split("\n").at(-1)!,
        new RegExp(
          `^pinpipe batch: Kafka: not authorized for topic ${id}\\.geo at ${broker.brokers[0]}$`,
        ),
      );
      await assert.rejects(
        Deno.stat(join(state, id, "kafka", "sequential-geo.json")),
        Deno.errors.NotFound,
        "no checkpoint: nothing was acknowledged",
      );
    } finally {
      await broker.destroy();
      await Deno.remove(state, { recursive: true });
    }
  },
});
