/**
 * `./infra.sh aws plan|apply` without AWS: the plan (each stack's changes
 * and every other step) against its committed golden file, the S3 sink
 * connector's required fields, apply refusing before any call when settings
 * or credentials are missing, and the Databricks import steps run against a
 * local recording HTTP server.
 *
 * Regenerate the golden file after an intended change (a notebook added, a
 * step changed): `PINPIPE_UPDATE_GOLDEN=1 deno test -A tests/infra/aws_plan_test.ts`.
 */
import assert from "node:assert/strict";
import { main, planFor } from "../../infra/aws/command.ts";
import { applyPlan, StepFailed, stepsWithoutRunner } from "../../infra/aws/apply.ts";
import { DatabricksWorkspace } from "../../infra/aws/databricks_workspace.ts";
import {
  missingS3SinkFields,
  REQUIRED_S3_SINK_FIELDS,
  s3SinkConnectorConfig,
} from "../../infra/aws/s3_sink_connector.ts";
import { ROOT } from "../support/processes.ts";

const GOLDEN = `${ROOT}tests/infra/aws_plan.golden.txt`;

const EXAMPLE_ENV = {
  PINPIPE_ID: "12c0d092d679",
  AWS_REGION: "us-east-1",
  PINPIPE_KAFKA_BROKERS: "b-1.example.kafka.us-east-1.amazonaws.com:9098," +
    "b-2.example.kafka.us-east-1.amazonaws.com:9098",
  PINPIPE_S3_SINK_PLUGIN_ZIP: "/tmp/does-not-exist/confluentinc-kafka-connect-s3-10.5.13.zip",
  DATABRICKS_HOST: "https://dbc-example.cloud.databricks.com",
};

/** Runs `main` with console output captured. */
async function runMain(args: string[], env: Record<string, string>) {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...parts: unknown[]) => out.push(parts.join(" "));
  console.error = (...parts: unknown[]) => err.push(parts.join(" "));
  try {
    const code = await main(args, env);
    return { code, stdout: out.join("\n"), stderr: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

Deno.test("plan with no settings matches the committed golden file", async () => {
  const { stdout, code } = await runMain(["plan"], {});
  assert.equal(code, 0);
  const text = stdout + "\n";
  if (Deno.env.get("PINPIPE_UPDATE_GOLDEN") === "1") await Deno.writeTextFile(GOLDEN, text);
  const golden = await Deno.readTextFile(GOLDEN);
  if (text !== golden) {
    const got = text.split("\n");
    const want = golden.split("\n");
    const line = got.findIndex((value, index) => value !== want[index]);
    assert.fail(
      `plan differs from tests/infra/aws_plan.golden.txt at line ${line + 1}:\n` +
        `  golden: ${want[line]}\n  plan:   ${got[line]}\n` +
        "If the change is intended: PINPIPE_UPDATE_GOLDEN=1 deno test -A tests/infra/aws_plan_test.ts",
    );
  }
  // Each stack's resources, as its first deploy adds them.
  assert.match(text, /^pinpipe-0123456789ab-data\n {2}\+ \w+ AWS::/m);
  assert.match(text, /^ {2}\+ \w+ AWS::KafkaConnect::Connector$/m);
  // The stacks and the steps CloudFormation cannot do, in dependency order.
  const steps = planFor({}).steps;
  const at = (name: string) => steps.findIndex((step) => step.name.startsWith(name));
  assert.deepEqual(
    steps.filter((step) => step.service === "cloudformation").map((step) => step.stack),
    ["network", "data", "pipeline"],
  );
  assert.equal(at("deploy stack pinpipe-0123456789ab-network"), 0);
  assert.ok(at("deploy stack pinpipe-0123456789ab-data") < at("upload the Confluent S3 sink"));
  // MSK Connect reads the plugin zip, MWAA the DAG and requirements, when the stack makes them.
  for (const upload of ["upload the Confluent S3 sink", "upload the DAG"]) {
    assert.ok(at(upload) < at("deploy stack pinpipe-0123456789ab-pipeline"), upload);
  }
  // What CloudFormation makes is no step of its own; the client host makes the topics.
  assert.deepEqual(
    [...new Set(steps.map((step) => step.service))],
    ["cloudformation", "s3", "databricks"],
  );
  assert.ok(steps.some((s) => s.action === "POST /api/2.0/workspace/import"));
  // The jobs come after the notebooks they run; the streaming job is started last.
  assert.deepEqual(steps.slice(-3).map((step) => step.name), [
    "create job pinpipe-0123456789ab-batch",
    "create job pinpipe-0123456789ab-stream",
    "start job pinpipe-0123456789ab-stream",
  ]);
  const stream = steps.at(-2)!.request as { tasks: { notebook_task: Record<string, unknown> }[] };
  assert.deepEqual(stream.tasks[0].notebook_task, {
    notebook_path: "/Shared/pinpipe/0123456789ab/streaming_notebook",
    base_parameters: { pipeline_id: "0123456789ab", region: "us-east-1", trigger: "continuous" },
    source: "WORKSPACE",
  });
});

Deno.test("plan is the same from any working directory and calls nothing", async () => {
  const before = Deno.cwd();
  Deno.chdir("/tmp");
  try {
    const result = await runMain(["plan"], {});
    assert.equal(result.code, 0);
    assert.equal(result.stdout + "\n", await Deno.readTextFile(GOLDEN));
  } finally {
    Deno.chdir(before);
  }
});

Deno.test("plan with settings shows the exact requests and no secret", () => {
  const secret = "dapi-0123456789abcdef-secret";
  const { text, steps } = planFor({
    ...EXAMPLE_ENV,
    DATABRICKS_TOKEN: secret,
    AWS_SECRET_ACCESS_KEY: "aws-secret-value",
  });
  assert.doesNotMatch(text, /<set /);
  assert.match(text, /Every setting is given\./);
  assert.ok(!text.includes(secret) && !text.includes("aws-secret-value"));

  const pipeline = steps.find((step) => step.stack === "pipeline")!.request;
  assert.equal(pipeline.StackName, "pinpipe-12c0d092d679-pipeline");
  assert.deepEqual(pipeline.Parameters, [
    { ParameterKey: "KafkaBootstrapServers", ParameterValue: EXAMPLE_ENV.PINPIPE_KAFKA_BROKERS },
  ]);

  const dag = steps.find((step) => step.request.Key === "dags/12c0d092d679_dag.py");
  assert.ok(dag, "the DAG is uploaded under the pipeline id's file name");
  assert.equal(dag.request.Bucket, "pinpipe-12c0d092d679-airflow", "the data stack's bucket");
  assert.equal(dag.file?.path, "dags/12c0d092d679_dag.py");
  const requirements = steps.find((step) => step.name.startsWith("upload the DAG's requirements"));
  assert.equal(requirements?.request.Key, "requirements/12c0d092d679_requirements.txt");

  // Without the brokers, the plan says they come from MSK once the network stack exists.
  const { PINPIPE_KAFKA_BROKERS: _brokers, ...noBrokers } = EXAMPLE_ENV;
  const asked = planFor(noBrokers).steps.find((step) => step.stack === "pipeline")!.request;
  assert.deepEqual(asked.Parameters, [{
    ParameterKey: "KafkaBootstrapServers",
    ParameterValue: "<IAM bootstrap brokers of MSK cluster pinpipe-12c0d092d679>",
  }]);
  const batch = steps.find((step) => String(step.request.path).endsWith("/batch_notebook"));
  assert.equal(batch?.request.path, "/Shared/pinpipe/12c0d092d679/batch_notebook");
  assert.equal(batch?.request.language, "PYTHON");
});

Deno.test("every step of the plan has a runner that applies it and destroys it", () => {
  const { steps } = planFor(EXAMPLE_ENV);
  assert.deepEqual(stepsWithoutRunner(steps), []);
  for (const step of steps) {
    assert.ok(step.destroy.action, `${step.name} says how destroy removes it`);
  }
  // A step of a kind nothing carries out is reported, not silently skipped.
  assert.deepEqual(stepsWithoutRunner([{ ...steps[0], action: "CreateStack" }]), [
    "cloudformation CreateStack",
  ]);
});

Deno.test("the S3 sink connector config has every field the connector requires", () => {
  const config = s3SinkConnectorConfig("0123456789ab", "us-east-1");
  assert.deepEqual(missingS3SinkFields(config), []);
  // The original's configuration (pipeline-facts.md), field by field.
  assert.equal(config["connector.class"], "io.confluent.connect.s3.S3SinkConnector");
  assert.equal(config["format.class"], "io.confluent.connect.s3.format.json.JsonFormat");
  assert.equal(
    config["partitioner.class"],
    "io.confluent.connect.storage.partitioner.DefaultPartitioner",
  );
  assert.equal(config["storage.class"], "io.confluent.connect.s3.storage.S3Storage");
  assert.equal(config["key.converter"], "org.apache.kafka.connect.storage.StringConverter");
  assert.equal(config["flush.size"], "1");
  assert.equal(config["s3.bucket.name"], "user-0123456789ab-bucket");
  assert.equal(config["s3.region"], "us-east-1");
  // The regex takes exactly the pipeline's three topics.
  const regex = new RegExp(`^(?:${config["topics.regex"]})$`);
  assert.deepEqual(
    ["0123456789ab.pin", "0123456789ab.geo", "0123456789ab.user", "0123456789abX.pin"]
      .filter((topic) => regex.test(topic)),
    ["0123456789ab.pin", "0123456789ab.geo", "0123456789ab.user"],
  );
  assert.ok(Object.values(config).every((value) => typeof value === "string"));
  // And the check catches a field removed or left empty.
  for (const field of REQUIRED_S3_SINK_FIELDS) {
    const { [field]: _removed, ...rest } = config;
    assert.deepEqual(missingS3SinkFields(rest), [field]);
    assert.deepEqual(missingS3SinkFields({ ...config, [field]: " " }), [field]);
  }
});

Deno.test("apply without settings or credentials refuses before any call", async () => {
  const home = await Deno.makeTempDir();
  try {
    const result = await runMain(["apply"], { HOME: home });
    assert.equal(result.code, 1);
    for (
      const name of [
        "PINPIPE_S3_SINK_PLUGIN_ZIP",
        "DATABRICKS_HOST",
        "DATABRICKS_TOKEN",
        "AWS credentials: none found",
      ]
    ) {
      assert.match(result.stderr, new RegExp(name), `apply's refusal should name ${name}`);
    }
    // The brokers are optional: apply asks MSK for them once the network stack exists.
    assert.doesNotMatch(result.stderr, /PINPIPE_KAFKA_BROKERS/);
    assert.equal(result.stdout, "");

    // Everything set but the plugin zip path is wrong and no credentials: still refused.
    const partial = await runMain(["apply"], {
      ...EXAMPLE_ENV,
      HOME: home,
      DATABRICKS_TOKEN: "t",
    });
    assert.equal(partial.code, 1);
    assert.match(partial.stderr, /PINPIPE_S3_SINK_PLUGIN_ZIP: ".*" is not a file/);
    assert.match(partial.stderr, /AWS credentials: none found/);
    assert.doesNotMatch(partial.stderr, /DATABRICKS_HOST/);

    // A pipeline id with no DAG file of its name: refused before any call, naming the file.
    const noDag = await runMain(["apply"], { ...EXAMPLE_ENV, HOME: home, DATABRICKS_TOKEN: "t" });
    assert.match(noDag.stderr, /dags\/12c0d092d679_dag\.py: not a file \(step \d+, upload the DAG/);
    assert.doesNotMatch(noDag.stderr, /mwaa_requirements\.txt: not a file/);
    assert.equal(noDag.stdout, "");

    const badRegion = await runMain(["apply"], { ...EXAMPLE_ENV, AWS_REGION: "mars-1" });
    assert.match(badRegion.stderr, /AWS_REGION: "mars-1" is not a region name like us-east-1/);

    // A stack setting the templates cannot be made from: refused too, naming it.
    const badVpc = await runMain(["apply"], { ...EXAMPLE_ENV, PINPIPE_VPC_ID: "vpc-1" });
    assert.equal(badVpc.code, 1);
    assert.match(badVpc.stderr, /PINPIPE_VPC_ID: "vpc-1" is not a VPC id/);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("a bad command or pipeline id is a usage error naming it", async () => {
  const bad = await runMain(["deploy"], {});
  assert.equal(bad.code, 2);
  assert.match(
    bad.stderr,
    /expected "synth --out DIR", "diff --against DIR", "plan \[--against DIR\]", "apply" or "destroy \[--yes\]", got "deploy"/,
  );
  const badId = await runMain(["plan"], { PINPIPE_ID: "XYZ" });
  assert.equal(badId.code, 1);
  assert.match(badId.stderr, /PINPIPE_ID: pipeline id "XYZ" must be 12 lower-case hex digits/);
});

Deno.test("apply's Databricks steps create folders, import files, and skip them on rerun", async () => {
  const token = "dapi-local-test";
  const workspace = new Map<string, { type: string; content?: string }>();
  const calls: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    calls.push(`${req.method} ${url.pathname}`);
    if (req.headers.get("authorization") !== `Bearer ${token}`) {
      return Response.json({ error_code: "PERMISSION_DENIED", message: "bad token" }, {
        status: 403,
      });
    }
    const notFound = () =>
      Response.json({ error_code: "RESOURCE_DOES_NOT_EXIST", message: "no such path" }, {
        status: 404,
      });
    const path = url.searchParams.get("path") ?? "";
    switch (url.pathname) {
      case "/api/2.0/workspace/get-status": {
        const item = workspace.get(path);
        return item ? Response.json({ path, object_type: item.type }) : notFound();
      }
      case "/api/2.0/workspace/export": {
        const item = workspace.get(path);
        return item?.content ? Response.json({ content: item.content }) : notFound();
      }
      case "/api/2.0/workspace/mkdirs": {
        const body = await req.json();
        workspace.set(body.path, { type: "DIRECTORY" });
        return Response.json({});
      }
      case "/api/2.0/workspace/import": {
        const body = await req.json();
        workspace.set(body.path, {
          type: body.language ? "NOTEBOOK" : "FILE",
          content: body.content,
        });
        return Response.json({});
      }
    }
    return notFound();
  });
  const before = Deno.cwd();
  try {
    const steps = planFor({ DATABRICKS_HOST: "http://unused" }).steps
      .filter((step) => step.action.startsWith("POST /api/2.0/workspace/"));
    const clients = {
      id: "0123456789ab",
      databricks: new DatabricksWorkspace(`http://127.0.0.1:${server.addr.port}`, token),
    };
    const log: string[] = [];
    // Step files are repository-relative, as apply runs from the repository root.
    Deno.chdir(ROOT);
    const first = await applyPlan(steps, clients, (line) => log.push(line));
    assert.deepEqual(first, { ran: steps.length, skipped: 0 });

    // The batch notebook arrived as a notebook, byte for byte.
    const batch = workspace.get("/Shared/pinpipe/0123456789ab/batch_notebook");
    assert.equal(batch?.type, "NOTEBOOK");
    const sent = Uint8Array.from(atob(batch!.content!), (c) => c.charCodeAt(0));
    assert.deepEqual(sent, await Deno.readFile(`${ROOT}notebooks/batch_notebook.py`));
    assert.equal(workspace.get("/Shared/pinpipe/0123456789ab/sql")?.type, "DIRECTORY");
    assert.equal(workspace.get("/Shared/pinpipe/0123456789ab/sql/manifest.json")?.type, "FILE");

    calls.length = 0;
    const second = await applyPlan(steps, clients, (line) => log.push(line));
    assert.deepEqual(second, { ran: 0, skipped: steps.length });
    assert.ok(calls.every((call) => call.startsWith("GET ")), "a rerun only reads");

    // A failure stops at that step, naming it and Databricks' own error.
    const refused = {
      ...clients,
      databricks: new DatabricksWorkspace(clients.databricks.host, "x"),
    };
    await assert.rejects(
      applyPlan(steps, refused, () => {}),
      (error: unknown) =>
        error instanceof StepFailed && error.number === 1 &&
        /step 1 \(create workspace folder \/Shared\/pinpipe\/0123456789ab\) failed: .*HTTP 403 PERMISSION_DENIED: bad token/
          .test(error.message),
    );
  } finally {
    Deno.chdir(before);
    await server.shutdown();
  }
});

Deno.test("plan --against DIR shows only what changed since those templates", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assert.equal((await runMain(["synth", "--out", dir], {})).code, 0);
    const same = await runMain(["plan", "--against", dir], {});
    assert.equal(same.code, 0, same.stderr);
    assert.match(same.stdout, /against the templates in /);
    assert.doesNotMatch(same.stdout, /^ {2}[+~-] /m, "the same settings change no resource");
    const changed = await runMain(["plan", "--against", dir], { PINPIPE_SINK_FLUSH_SIZE: "250" });
    assert.match(changed.stdout, /^ {2}~ SinkConnector\w+ AWS::KafkaConnect::Connector$/m);
    assert.match(changed.stdout, /flush\.size.*"1000" -> "250"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
