/**
 * The Databricks stand-in rejects what the real API rejects, with its own
 * error codes, so that a malformed request from `apply` or the DAG fails
 * locally as it would in the workspace.
 */
import assert from "node:assert/strict";
import { DatabricksWorkspace } from "../../infra/aws/databricks_workspace.ts";
import { startDatabricksStandIn } from "../../infra/local/stand_ins/databricks.ts";

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

    // A job's run ends as its notebook would, and fails where the workspace has no such notebook.
    const jobOn = async (path: string) =>
      (await workspace.call("POST", "/api/2.1/jobs/create", {
        name: `pinpipe-0123456789ab-${path.split("/").at(-1)}`,
        tasks: [{
          task_key: "batch",
          notebook_task: { notebook_path: path },
          new_cluster: {
            spark_version: "15.4.x-scala2.12",
            node_type_id: "m5d.large",
            num_workers: 1,
          },
        }],
      })).job_id;
    const state = async (job_id: unknown) => {
      const { run_id } = await workspace.call("POST", "/api/2.1/jobs/run-now", { job_id });
      return (await workspace.call("GET", "/api/2.1/jobs/runs/get", { run_id })).state;
    };
    assert.deepEqual(await state(await jobOn("/Shared/p/nb")), {
      life_cycle_state: "TERMINATED",
      result_state: "SUCCESS",
      state_message: "",
    });
    assert.deepEqual(await state(await jobOn("/Shared/p/other")), {
      life_cycle_state: "TERMINATED",
      result_state: "FAILED",
      state_message: "Notebook not found: /Shared/p/other",
    });
    await fails(
      workspace.call("GET", "/api/2.1/jobs/runs/get", { run_id: 1 }),
      /HTTP 404 RESOURCE_DOES_NOT_EXIST: Run 1 does not exist/,
    );
  } finally {
    await standIn.close();
  }
});

Deno.test("the Databricks stand-in's Jobs API rejects what the Jobs API rejects, one case each", async (t) => {
  const standIn = startDatabricksStandIn({
    port: 21970 + Math.floor(Math.random() * 5),
    token: "dapi-t",
  });
  const workspace = new DatabricksWorkspace(standIn.url, "dapi-t");
  const cluster = {
    spark_version: "15.4.x-scala2.12",
    node_type_id: "m5d.large",
    num_workers: 1,
  };
  const job = (task: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    name: "pinpipe-0123456789ab-stream",
    max_concurrent_runs: 1,
    tasks: [{
      task_key: "stream",
      notebook_task: { notebook_path: "/Shared/p/nb", base_parameters: { trigger: "continuous" } },
      new_cluster: cluster,
      ...task,
    }],
    ...extra,
  });
  const create = (body: Record<string, unknown>) =>
    workspace.call("POST", "/api/2.1/jobs/create", body);
  const refused = (call: Promise<unknown>, message: RegExp) =>
    assert.rejects(call, (error: Error) => {
      assert.match(error.message, /HTTP 400 INVALID_PARAMETER_VALUE/);
      assert.match(error.message, message);
      return true;
    });
  try {
    await t.step("a notebook task without notebook_path", () =>
      refused(
        create(job({ notebook_task: { base_parameters: { a: "b" } } })),
        /'tasks\[0\]\.notebook_task\.notebook_path' failed to satisfy constraint: Member must not be null/,
      ));
    await t.step("a task with no task type", () =>
      refused(
        create(job({ notebook_task: undefined })),
        /Task stream has no task type: notebook_task must be given/,
      ));
    await t.step(
      "a task key that is not letters, digits, - and _",
      () => refused(create(job({ task_key: "my task" })), /'tasks\[0\]\.task_key'.*pattern/),
    );
    await t.step("a task key used twice", async () => {
      const body = job({});
      (body.tasks as unknown[]).push((body.tasks as unknown[])[0]);
      await refused(create(body), /Task key stream is not unique/);
    });
    await t.step("a Spark version the workspace does not have", () =>
      refused(
        create(job({ new_cluster: { ...cluster, spark_version: "99.9.x-scala2.12" } })),
        /Invalid spark version 99\.9\.x-scala2\.12/,
      ));
    await t.step("a node type the workspace does not offer", () =>
      refused(
        create(job({ new_cluster: { ...cluster, node_type_id: "m5d.huge" } })),
        /Node type m5d\.huge is not supported/,
      ));
    await t.step("a cluster without num_workers or autoscale", () =>
      refused(
        create(job({ new_cluster: { ...cluster, num_workers: undefined } })),
        /needs num_workers or autoscale/,
      ));
    await t.step("an availability AWS does not know", () =>
      refused(
        create(job({ new_cluster: { ...cluster, aws_attributes: { availability: "CHEAP" } } })),
        /aws_attributes\.availability.*enum value set/,
      ));
    await t.step("both an existing cluster and a new one", () =>
      refused(
        create(job({ existing_cluster_id: "0923-164208-abcd1234" })),
        /exactly one of existing_cluster_id and new_cluster/,
      ));
    await t.step(
      "max_concurrent_runs above 1000",
      () => refused(create(job({}, { max_concurrent_runs: 1001 })), /max_concurrent_runs/),
    );
    await t.step(
      "a cluster naming an instance profile the workspace has not registered",
      async () => {
        const arn = "arn:aws:iam::123456789012:instance-profile/pinpipe-databricks";
        const withProfile = job({
          new_cluster: { ...cluster, aws_attributes: { instance_profile_arn: arn } },
        });
        await refused(create(withProfile), new RegExp(`Instance profile ${arn} is not registered`));
        const profiles = (body: Record<string, unknown>, call: string) =>
          workspace.call("POST", `/api/2.0/instance-profiles/${call}`, body);
        await refused(
          profiles({ instance_profile_arn: "pinpipe-databricks" }, "add"),
          /instance_profile_arn.*regular expression/,
        );
        await profiles({ instance_profile_arn: arn }, "add");
        await assert.rejects(
          profiles({ instance_profile_arn: arn }, "add"),
          /RESOURCE_ALREADY_EXISTS/,
        );
        assert.deepEqual(await workspace.call("GET", "/api/2.0/instance-profiles/list", {}), {
          instance_profiles: [{ instance_profile_arn: arn }],
        });
        const { job_id } = await create(withProfile);
        await workspace.call("POST", "/api/2.1/jobs/delete", { job_id });
        await profiles({ instance_profile_arn: arn }, "remove");
        await assert.rejects(
          profiles({ instance_profile_arn: arn }, "remove"),
          /HTTP 404 RESOURCE_DOES_NOT_EXIST/,
        );
      },
    );
    await t.step("reset, delete or run-now of a job that does not exist", async () => {
      for (const call of ["reset", "delete", "run-now"]) {
        await refused(
          workspace.call("POST", `/api/2.1/jobs/${call}`, { job_id: 999, new_settings: job({}) }),
          /Job 999 does not exist/,
        );
      }
    });

    await t.step(
      "a valid job: created, found by name, reset, run, cancelled, deleted",
      async () => {
        await workspace.call("POST", "/api/2.0/workspace/mkdirs", { path: "/Shared/p" });
        await workspace.call("POST", "/api/2.0/workspace/import", {
          path: "/Shared/p/nb",
          format: "SOURCE",
          language: "PYTHON",
          content: btoa("# Databricks notebook source\n"),
        });
        const { job_id } = await create(job({}));
        const listed = await workspace.call("GET", "/api/2.1/jobs/list", {
          name: "PINPIPE-0123456789ab-stream",
        }) as { jobs: { job_id: number }[] };
        assert.deepEqual(listed.jobs.map((j) => j.job_id), [job_id]);
        await refused(
          workspace.call("POST", "/api/2.1/jobs/reset", {
            job_id,
            new_settings: job({ notebook_task: {} }),
          }),
          /new_settings\.tasks\[0\]\.notebook_task\.notebook_path/,
        );
        await workspace.call("POST", "/api/2.1/jobs/reset", {
          job_id,
          new_settings: job({ new_cluster: { ...cluster, num_workers: 2 } }),
        });
        const got = await workspace.call("GET", "/api/2.1/jobs/get", { job_id }) as {
          settings: { tasks: { new_cluster: { num_workers: number } }[] };
        };
        assert.equal(got.settings.tasks[0].new_cluster.num_workers, 2);
        const { run_id } = await workspace.call("POST", "/api/2.1/jobs/run-now", { job_id });
        // One at a time: a second run-now is skipped.
        await workspace.call("POST", "/api/2.1/jobs/run-now", { job_id });
        const active = await workspace.call("GET", "/api/2.1/jobs/runs/list", {
          job_id,
          active_only: true,
        }) as { runs: { run_id: number }[] };
        assert.deepEqual(active.runs.map((r) => r.run_id), [run_id]);
        await workspace.call("POST", "/api/2.1/jobs/runs/cancel-all", { job_id });
        assert.deepEqual(standIn.jobs()[0].runs, ["TERMINATED CANCELED", "SKIPPED"]);
        await workspace.call("POST", "/api/2.1/jobs/delete", { job_id });
        assert.deepEqual(standIn.jobs(), []);
      },
    );

    await t.step("a batch job's run ends; a token seen before answers its run", async () => {
      const { job_id } = await create({
        ...job({ notebook_task: { notebook_path: "/Shared/p/nb" } }),
        name: "pinpipe-0123456789ab-batch",
      });
      await refused(
        workspace.call("POST", "/api/2.1/jobs/run-now", { job_id, notebook_params: { n: 1 } }),
        /'notebook_params\.n' failed to satisfy constraint: Member must be a string/,
      );
      await refused(
        workspace.call("POST", "/api/2.1/jobs/run-now", {
          job_id,
          idempotency_token: "x".repeat(65),
        }),
        /idempotency_token.*length less than or equal to 64/,
      );
      const runNow = () =>
        workspace.call("POST", "/api/2.1/jobs/run-now", {
          job_id,
          notebook_params: { max_bad_records: "0" },
          idempotency_token: "day-1",
        }) as Promise<{ run_id: number }>;
      const first = await runNow();
      assert.equal((await runNow()).run_id, first.run_id);
      const got = await workspace.call("GET", "/api/2.1/jobs/runs/get", {
        run_id: first.run_id,
      }) as { state: Record<string, string> };
      assert.equal(got.state.life_cycle_state, "TERMINATED");
      assert.equal(got.state.result_state, "SUCCESS");
      assert.deepEqual(standIn.jobs()[0].runs, ["TERMINATED SUCCESS"]);
      await workspace.call("POST", "/api/2.1/jobs/delete", { job_id });
    });
  } finally {
    await standIn.close();
  }
});
