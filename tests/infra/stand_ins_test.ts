/**
 * The MSK Connect and Databricks stand-ins reject what the real APIs reject,
 * with the services' own error types and codes, so that a malformed request
 * from `apply` fails locally as it would in the account.
 */
import assert from "node:assert/strict";
import {
  CreateConnectorCommand,
  CreateCustomPluginCommand,
  DeleteCustomPluginCommand,
  DescribeCustomPluginCommand,
  KafkaConnectClient,
} from "@aws-sdk/client-kafkaconnect";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { DatabricksWorkspace } from "../../infra/aws/databricks_workspace.ts";
import { startDatabricksStandIn } from "../../infra/local/stand_ins/databricks.ts";
import { startKafkaConnectStandIn } from "../../infra/local/stand_ins/kafkaconnect.ts";

const rejects = (promise: Promise<unknown>, name: string, message: RegExp) =>
  assert.rejects(promise, (error: Error) => {
    assert.equal(error.name, name);
    assert.match(error.message, message);
    return true;
  });

Deno.test("the MSK Connect stand-in checks requests against the SDK's model", async () => {
  const standIn = startKafkaConnectStandIn({ port: 21960 + Math.floor(Math.random() * 5) });
  const client = new KafkaConnectClient({
    region: "us-east-1",
    endpoint: standIn.url,
    requestHandler: new NodeHttpHandler(),
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  try {
    const plugin = {
      name: "p",
      contentType: "ZIP" as const,
      location: { s3Location: { bucketArn: "arn:aws:s3:::b-bucket", fileKey: "k.zip" } },
    };
    await rejects(
      client.send(new CreateCustomPluginCommand({ ...plugin, contentType: "TAR" as never })),
      "BadRequestException",
      /at 'contentType' failed to satisfy constraint: Member must satisfy enum value set: \[JAR, ZIP\]/,
    );
    const { customPluginArn } = await client.send(new CreateCustomPluginCommand(plugin));
    await rejects(
      client.send(new CreateCustomPluginCommand(plugin)),
      "ConflictException",
      /already exists/,
    );
    const connector = {
      connectorName: "c",
      kafkaConnectVersion: "2.7.1",
      capacity: { provisionedCapacity: { mcuCount: 1, workerCount: 1 } },
      connectorConfiguration: { "connector.class": "x" },
      kafkaCluster: {
        apacheKafkaCluster: { bootstrapServers: "b:9098", vpc: { subnets: ["subnet-1"] } },
      },
      kafkaClusterClientAuthentication: { authenticationType: "IAM" as const },
      kafkaClusterEncryptionInTransit: { encryptionType: "TLS" as const },
      plugins: [{ customPlugin: { customPluginArn, revision: 1 } }],
      serviceExecutionRoleArn: "arn:aws:iam::111122223333:role/r",
    };
    // The plugin is still CREATING: no connector may use it yet.
    await rejects(
      client.send(new CreateConnectorCommand(connector)),
      "BadRequestException",
      /not ACTIVE/,
    );
    await client.send(new DescribeCustomPluginCommand({ customPluginArn }));
    const active = await client.send(new DescribeCustomPluginCommand({ customPluginArn }));
    assert.equal(active.customPluginState, "ACTIVE");
    const { serviceExecutionRoleArn: _role, ...noRole } = connector;
    await rejects(
      client.send(new CreateConnectorCommand(noRole as never)),
      "BadRequestException",
      /Value null at 'serviceExecutionRoleArn' failed to satisfy constraint: Member must not be null/,
    );
    await rejects(
      client.send(
        new CreateConnectorCommand({
          ...connector,
          capacity: { provisionedCapacity: { mcuCount: 3, workerCount: 1 } },
        }),
      ),
      "BadRequestException",
      /capacity.provisionedCapacity.mcuCount' failed to satisfy constraint: Member must be one of \[1, 2, 4, 8\]/,
    );
    await client.send(new CreateConnectorCommand(connector));
    await rejects(
      client.send(new DeleteCustomPluginCommand({ customPluginArn })),
      "ConflictException",
      /is used by connector c/,
    );
    standIn.deny("DescribeCustomPlugin");
    await rejects(
      client.send(new DescribeCustomPluginCommand({ customPluginArn })),
      "ForbiddenException",
      /not authorized to perform: kafkaconnect:DescribeCustomPlugin/,
    );
  } finally {
    client.destroy();
    await standIn.close();
  }
});

Deno.test("the Databricks stand-in answers with Databricks' error codes and runs only real notebooks", async () => {
  const standIn = startDatabricksStandIn({
    port: 21965 + Math.floor(Math.random() * 5),
    token: "dapi-t",
  });
  const workspace = new DatabricksWorkspace(standIn.url, "dapi-t");
  const fails = (call: Promise<unknown>, code: RegExp) =>
    assert.rejects(call, (error: Error) => code.test(error.message));
  try {
    await fails(
      new DatabricksWorkspace(standIn.url, "wrong").call("GET", "/api/2.0/workspace/list", {
        path: "/",
      }),
      /HTTP 403 PERMISSION_DENIED/,
    );
    const notebook = {
      path: "/Shared/p/nb",
      format: "SOURCE",
      content: btoa("# Databricks notebook source\n"),
    };
    await fails(
      workspace.call("POST", "/api/2.0/workspace/import", { ...notebook, language: "PYTHON" }),
      /HTTP 404 RESOURCE_DOES_NOT_EXIST: The parent folder \(\/Shared\/p\) does not exist/,
    );
    await workspace.call("POST", "/api/2.0/workspace/mkdirs", { path: "/Shared/p" });
    await fails(
      workspace.call("POST", "/api/2.0/workspace/import", notebook),
      /INVALID_PARAMETER_VALUE: The language must be given with format SOURCE/,
    );
    await workspace.call("POST", "/api/2.0/workspace/import", { ...notebook, language: "PYTHON" });
    await fails(
      workspace.call("POST", "/api/2.0/workspace/import", { ...notebook, language: "PYTHON" }),
      /RESOURCE_ALREADY_EXISTS/,
    );
    await fails(
      workspace.call("POST", "/api/2.0/workspace/delete", { path: "/Shared/p" }),
      /HTTP 400 DIRECTORY_NOT_EMPTY/,
    );

    const submit = (body: Record<string, unknown>) =>
      workspace.call("POST", "/api/2.1/jobs/runs/submit", body);
    await fails(
      submit({ notebook_task: { notebook_path: "/Shared/p/nb" } }),
      /Exactly one of existing_cluster_id and new_cluster/,
    );
    await fails(
      submit({
        notebook_task: { notebook_path: "/Shared/p/nb" },
        new_cluster: { node_type_id: "m5d.large" },
      }),
      /Value null at 'new_cluster.spark_version'/,
    );
    const ran = await submit({
      notebook_task: { notebook_path: "/Shared/p/nb" },
      existing_cluster_id: "c-1",
    });
    const missing = await submit({
      notebook_task: { notebook_path: "/Shared/p/other" },
      existing_cluster_id: "c-1",
    });
    const state = async (run: Record<string, unknown>) =>
      (await workspace.call("GET", "/api/2.1/jobs/runs/get", { run_id: run.run_id })).state;
    assert.deepEqual(await state(ran), {
      life_cycle_state: "TERMINATED",
      result_state: "SUCCESS",
      state_message: "",
    });
    assert.deepEqual(await state(missing), {
      life_cycle_state: "TERMINATED",
      result_state: "FAILED",
      state_message: "Notebook not found: /Shared/p/other",
    });
  } finally {
    await standIn.close();
  }
});
