/**
 * A failed deploy names the resource that failed first in the latest
 * operation and CloudFormation's reason, from events shaped as a real
 * account's DescribeStackEvents gives them (moto answers a failing resource
 * with an error on CreateStack, and writes no such events).
 */
import assert from "node:assert/strict";
import type { StackEvent } from "@aws-sdk/client-cloudformation";
import { failureIn } from "../../infra/aws/cloudformation.ts";

const STACK = "pinpipe-0123456789ab-pipeline";
const event = (
  LogicalResourceId: string,
  ResourceStatus: string,
  ResourceType = "AWS::CloudFormation::Stack",
  ResourceStatusReason?: string,
): StackEvent => ({
  StackId: `arn:aws:cloudformation:us-east-1:123456789012:stack/${STACK}/1`,
  EventId: crypto.randomUUID(),
  Timestamp: new Date(),
  StackName: STACK,
  LogicalResourceId,
  ResourceStatus: ResourceStatus as StackEvent["ResourceStatus"],
  ResourceType,
  ResourceStatusReason,
});

// Newest first. An update that failed on the connector's role, after a create that failed on the
// bucket: the update's own first failure is the answer, not the cancellations after it.
const events: StackEvent[] = [
  event(STACK, "UPDATE_ROLLBACK_COMPLETE"),
  event("ApiRole", "UPDATE_FAILED", "AWS::IAM::Role", "Resource update cancelled"),
  event(STACK, "UPDATE_ROLLBACK_IN_PROGRESS", undefined, "The following resource(s) failed"),
  event(
    "ConnectorRole",
    "UPDATE_FAILED",
    "AWS::IAM::Role",
    'Resource handler returned message: "Policy arn:aws:iam::aws:policy/x does not exist"',
  ),
  event("ConnectorRole", "UPDATE_IN_PROGRESS", "AWS::IAM::Role"),
  event(STACK, "UPDATE_IN_PROGRESS", undefined, "User Initiated"),
  event(STACK, "CREATE_COMPLETE"),
  event(STACK, "CREATE_IN_PROGRESS", undefined, "User Initiated"),
  event(STACK, "DELETE_COMPLETE"),
  event("Bucket", "CREATE_FAILED", "AWS::S3::Bucket", "pinpipe-x already exists"),
  event(STACK, "CREATE_IN_PROGRESS", undefined, "User Initiated"),
];

Deno.test("the latest operation's first failed resource is named, with AWS's reason", () => {
  assert.equal(
    failureIn(events, STACK),
    "ConnectorRole (AWS::IAM::Role) UPDATE_FAILED: Resource handler returned message: " +
      '"Policy arn:aws:iam::aws:policy/x does not exist"',
  );
});

Deno.test("a failed create is read back to its own start", () => {
  assert.equal(
    failureIn(events.slice(8), STACK),
    "Bucket (AWS::S3::Bucket) CREATE_FAILED: pinpipe-x already exists",
  );
});

Deno.test("events that name no failed resource say so", () => {
  assert.equal(failureIn(events.slice(6), STACK), "no resource event says why");
  assert.equal(failureIn([], STACK), "no resource event says why");
  assert.equal(
    failureIn([event("Bucket", "CREATE_FAILED", "AWS::S3::Bucket")], STACK),
    "Bucket (AWS::S3::Bucket) CREATE_FAILED: no reason given",
  );
});
