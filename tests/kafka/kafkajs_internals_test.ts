/**
 * The patches' fence: any kafkajs but the release they were written for is
 * refused with an error naming the patch and both versions; the installed
 * one is read from the package.json of the kafkajs the imports resolve to.
 */
import assert from "node:assert/strict";
import {
  assertPatchedKafkajs,
  checkKafkajsVersion,
  installedKafkajsVersion,
  KAFKAJS_PATCHED_FOR,
  kafkajsPath,
  KafkajsVersionError,
  loadedKafkajsModules,
} from "../../src/kafka/kafkajs_internals.ts";
import denoJson from "../../deno.json" with { type: "json" };

Deno.test("the installed kafkajs is the one deno.json pins and the patches were written for", () => {
  assert.equal(installedKafkajsVersion(), KAFKAJS_PATCHED_FOR);
  assert.equal(denoJson.imports.kafkajs, `npm:kafkajs@${KAFKAJS_PATCHED_FOR}`);
  assert.doesNotThrow(() => assertPatchedKafkajs("fast_encoder.ts"));
  assert.ok(
    kafkajsPath("src/protocol/encoder.js").endsWith("/kafkajs/2.2.4/src/protocol/encoder.js"),
  );
});

Deno.test("any other version is refused, naming the patch and both versions", () => {
  for (const other of ["2.2.5", "2.3.0", "3.0.0", "2.2.4-beta.1", "2.2.3", ""]) {
    assert.throws(
      () => checkKafkajsVersion(other, "pooled_encoder.ts"),
      (error: Error) => {
        assert.ok(error instanceof KafkajsVersionError);
        assert.equal(
          error.message,
          `kafkajs ${other} is installed, but src/kafka/pooled_encoder.ts patches kafkajs 2.2.4's ` +
            `internals: pin npm:kafkajs@2.2.4 in deno.json, or check every patch against ` +
            `${other} and update KAFKAJS_PATCHED_FOR in src/kafka/kafkajs_internals.ts`,
        );
        return true;
      },
    );
  }
  assert.throws(() => checkKafkajsVersion("2.2.4", "x.ts", "2.3.0"), KafkajsVersionError);
  assert.doesNotThrow(() => checkKafkajsVersion("2.3.0", "x.ts", "2.3.0"));
});

Deno.test("loaded kafkajs modules are listed by their path in the package", async () => {
  assert.ok(!loadedKafkajsModules().includes("src/protocol/encoder.js"));
  await import("kafkajs/src/protocol/encoder.js");
  assert.ok(loadedKafkajsModules().includes("src/protocol/encoder.js"));
});
