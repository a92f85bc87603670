/**
 * The pipeline's two Databricks jobs, as Jobs API 2.1 settings: the batch
 * notebook (run by the DAG, daily) and the streaming notebook (started by
 * `apply`, running until `destroy` cancels it), each on a small job
 * cluster of its own, named for the pipeline id so `apply` finds them again
 * (jobs/list by name) and resets a job whose settings changed.
 *
 * @example
 * ```ts
 * import { jobSettings } from "./databricks_jobs.ts";
 * jobSettings("0123456789ab", "us-east-1", "stream").name; // "pinpipe-0123456789ab-stream"
 * ```
 */
import { stackNames } from "./cdk/names.ts";
import { workspaceDir } from "./workspace_files.ts";

export type JobKind = "batch" | "stream";

/** The job's name in the workspace. */
export const jobName = (id: string, kind: JobKind): string => `pinpipe-${id}-${kind}`;

/**
 * The pipeline stack's instance profile (read access to the bucket and streams), as `apply`
 * fills it in from the stack's output once the stack exists; the plan shows the placeholder.
 */
export const instanceProfileArn = (id: string): string =>
  `<output DatabricksInstanceProfileArn of ${stackNames(id).pipeline}>`;

/**
 * One driver and one worker: enough for ~33,000 rows a day and three ~3 records/s streams,
 * with the instance profile the notebooks read the bucket and streams through.
 */
export const jobCluster = (id: string) => ({
  spark_version: "15.4.x-scala2.12",
  node_type_id: "m5d.large",
  num_workers: 1,
  aws_attributes: {
    availability: "SPOT_WITH_FALLBACK",
    first_on_demand: 1,
    instance_profile_arn: instanceProfileArn(id),
  },
});

const NOTEBOOKS: Record<JobKind, string> = {
  batch: "batch_notebook",
  stream: "streaming_notebook",
};

/** The job's settings, as jobs/create takes them and jobs/reset's `new_settings`. */
export function jobSettings(id: string, region: string, kind: JobKind): Record<string, unknown> {
  const parameters: Record<string, string> = kind === "batch"
    ? { pipeline_id: id }
    : { pipeline_id: id, region, trigger: "continuous" };
  return {
    name: jobName(id, kind),
    tags: { "pinpipe-id": id },
    // One run at a time: a second streaming run would share the first's checkpoints.
    max_concurrent_runs: 1,
    tasks: [{
      task_key: kind,
      notebook_task: {
        notebook_path: `${workspaceDir(id)}/${NOTEBOOKS[kind]}`,
        base_parameters: parameters,
        source: "WORKSPACE",
      },
      new_cluster: jobCluster(id),
    }],
  };
}
