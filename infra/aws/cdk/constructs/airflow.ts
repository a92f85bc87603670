/**
 * The MWAA environment that runs the pipeline's DAG: Airflow 2.10.3 (what
 * the DAG tests run), the smallest class, in two private subnets, reading
 * `dags/` of its own bucket and this pipeline's requirements file
 * (`requirements/<id>_requirements.txt`, never a shared root file). Its
 * execution role is MWAA's documented minimum, narrowed to this
 * environment, its bucket and its log groups.
 *
 * @example
 * ```ts
 * // In a stack: new AirflowEnvironment(this, "Airflow", { id, subnetIds, securityGroupId });
 * ```
 */
import { ArnFormat, Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as mwaa from "aws-cdk-lib/aws-mwaa";
import { Construct } from "constructs";
import { airflowKeys, resourceNames } from "../names.ts";

export interface AirflowEnvironmentProps {
  id: string;
  /** Two private subnets in different zones, as MWAA requires. */
  subnetIds: string[];
  securityGroupId: string;
}

/** The Airflow version of the environment and of `.cache/venv-airflow`. */
export const AIRFLOW_VERSION = "2.10.3";

export class AirflowEnvironment extends Construct {
  readonly environment: mwaa.CfnEnvironment;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: AirflowEnvironmentProps) {
    super(scope, id);
    const names = resourceNames(props.id);
    const stack = Stack.of(this);
    const bucketArn = `arn:aws:s3:::${names.airflowBucket}`;
    const logGroups = stack.formatArn({
      service: "logs",
      resource: "log-group",
      resourceName: `airflow-${names.airflowEnvironment}-*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.role = new iam.Role(this, "Role", {
      assumedBy: new iam.CompositePrincipal(
        new iam.ServicePrincipal("airflow.amazonaws.com"),
        new iam.ServicePrincipal("airflow-env.amazonaws.com"),
      ),
      description: `pinpipe ${props.id}: the MWAA environment's execution role`,
      inlinePolicies: {
        airflow: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              actions: ["airflow:PublishMetrics"],
              resources: [
                stack.formatArn({
                  service: "airflow",
                  resource: "environment",
                  resourceName: names.airflowEnvironment,
                  arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
                }),
              ],
            }),
            new iam.PolicyStatement({
              actions: ["s3:GetObject*", "s3:GetBucket*", "s3:List*"],
              resources: [bucketArn, `${bucketArn}/*`],
            }),
            new iam.PolicyStatement({
              actions: ["s3:GetAccountPublicAccessBlock"],
              resources: ["*"],
            }),
            new iam.PolicyStatement({
              actions: [
                "logs:CreateLogStream",
                "logs:CreateLogGroup",
                "logs:PutLogEvents",
                "logs:GetLogEvents",
                "logs:GetLogRecord",
                "logs:GetLogGroupFields",
                "logs:GetQueryResults",
              ],
              resources: [logGroups],
            }),
            new iam.PolicyStatement({ actions: ["logs:DescribeLogGroups"], resources: ["*"] }),
            new iam.PolicyStatement({ actions: ["cloudwatch:PutMetricData"], resources: ["*"] }),
            // Celery's queue is an SQS queue in an account of MWAA's own.
            new iam.PolicyStatement({
              actions: [
                "sqs:ChangeMessageVisibility",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
                "sqs:GetQueueUrl",
                "sqs:ReceiveMessage",
                "sqs:SendMessage",
              ],
              resources: [`arn:aws:sqs:${stack.region}:*:airflow-celery-*`],
            }),
            new iam.PolicyStatement({
              actions: ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey*", "kms:Encrypt"],
              notResources: [`arn:aws:kms:*:${stack.account}:key/*`],
              conditions: {
                StringLike: { "kms:ViaService": [`sqs.${stack.region}.amazonaws.com`] },
              },
            }),
          ],
        }),
      },
    });
    const keys = airflowKeys(props.id);
    const logs = { enabled: true, logLevel: "INFO" };
    this.environment = new mwaa.CfnEnvironment(this, "Environment", {
      name: names.airflowEnvironment,
      airflowVersion: AIRFLOW_VERSION,
      environmentClass: "mw1.small",
      maxWorkers: 1,
      executionRoleArn: this.role.roleArn,
      sourceBucketArn: bucketArn,
      dagS3Path: "dags",
      requirementsS3Path: keys.requirements,
      networkConfiguration: {
        subnetIds: props.subnetIds.slice(0, 2),
        securityGroupIds: [props.securityGroupId],
      },
      webserverAccessMode: "PUBLIC_ONLY",
      loggingConfiguration: {
        dagProcessingLogs: logs,
        schedulerLogs: logs,
        taskLogs: logs,
        webserverLogs: { enabled: true, logLevel: "WARNING" },
        workerLogs: { enabled: true, logLevel: "WARNING" },
      },
    });
  }
}
