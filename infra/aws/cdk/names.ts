/**
 * The names the CDK app gives what it makes, from the pipeline id: the
 * stacks, and the resources other stacks, `apply` and the pipeline's own
 * commands find by name (the bucket, streams and topics keep the names of
 * src/core/names.ts).
 *
 * @example
 * ```ts
 * import { stackNames } from "./names.ts";
 * stackNames("0123456789ab").network; // "pinpipe-0123456789ab-network"
 * ```
 */

/** The three stacks, in the order they are deployed (destroyed last first). */
export const stackNames = (id: string) => ({
  /** The VPC, its security groups and the MSK cluster: slow to make, long-lived. */
  network: `pinpipe-${id}-network`,
  /** The buckets and the Kinesis streams: what holds data, and what apply uploads into. */
  data: `pinpipe-${id}-data`,
  /** The roles, MSK Connect, the REST API, the client host and MWAA: what reads the uploads. */
  pipeline: `pinpipe-${id}-pipeline`,
});

/** The stack kinds in deployment order. */
export const STACK_ORDER = ["network", "data", "pipeline"] as const;
export type StackKind = (typeof STACK_ORDER)[number];

/** Names of single resources, used across stacks as plain strings (no exports needed). */
export const resourceNames = (id: string) => ({
  cluster: `pinpipe-${id}`,
  /** The MWAA environment's own bucket: the DAG, its requirements, nothing shared. */
  airflowBucket: `pinpipe-${id}-airflow`,
  airflowEnvironment: `pinpipe-${id}`,
  api: `pinpipe-${id}-api`,
  connector: `pinpipe-${id}-s3-sink`,
  plugin: `pinpipe-${id}-confluent-s3-sink`,
  connectorLogGroup: `/pinpipe/${id}/msk-connect`,
  clientHost: `pinpipe-${id}-client`,
});

/** Keys in the Airflow bucket: this pipeline's DAG and requirements, never a shared root file. */
export const airflowKeys = (id: string) => ({
  dag: `dags/${id}_dag.py`,
  requirements: `requirements/${id}_requirements.txt`,
});

/** The port of the Kafka REST proxy on the client host (Confluent's default). */
export const REST_PROXY_PORT = 8082;

/** The port of MSK's IAM-authenticated TLS listener. */
export const MSK_IAM_PORT = 9098;
