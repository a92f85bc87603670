/**
 * How Databricks reads the bucket: an instance profile (a role EC2 may
 * assume) that the workspace admin registers in Databricks and attaches to
 * the clusters that run the notebooks. It may list the bucket and read its
 * objects, nothing else.
 *
 * @example
 * ```ts
 * // In a stack: new DatabricksAccess(this, "Databricks", { id: "0123456789ab" });
 * ```
 */
import * as iam from "aws-cdk-lib/aws-iam";
import { Construct } from "constructs";
import { bucketName } from "../../../../src/core/names.ts";

export class DatabricksAccess extends Construct {
  readonly role: iam.Role;
  readonly instanceProfile: iam.CfnInstanceProfile;

  constructor(scope: Construct, id: string, props: { id: string }) {
    super(scope, id);
    const bucketArn = `arn:aws:s3:::${bucketName(props.id)}`;
    this.role = new iam.Role(this, "Role", {
      assumedBy: new iam.ServicePrincipal("ec2.amazonaws.com"),
      description: `pinpipe ${props.id}: Databricks clusters reading the bucket`,
      inlinePolicies: {
        bucket: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              actions: ["s3:ListBucket", "s3:GetBucketLocation"],
              resources: [bucketArn],
            }),
            new iam.PolicyStatement({ actions: ["s3:GetObject"], resources: [`${bucketArn}/*`] }),
          ],
        }),
      },
    });
    this.instanceProfile = new iam.CfnInstanceProfile(this, "InstanceProfile", {
      roles: [this.role.roleName],
    });
  }
}
