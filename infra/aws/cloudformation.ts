/**
 * Deploying and deleting a stack through CloudFormation's change sets, as
 * `apply`, `destroy` and the rehearsal do: a change set of type CREATE or
 * UPDATE, reviewed (no changes: nothing is executed and the stack is left
 * as it is), executed, and waited on. A failure names the resource that
 * failed and CloudFormation's reason, from the stack's events.
 *
 * @example
 * ```ts
 * import { CloudFormationClient } from "@aws-sdk/client-cloudformation";
 * import { deployStack } from "./cloudformation.ts";
 * const client = new CloudFormationClient({ region: "us-east-1" });
 * const template = await Deno.readTextFile("out/pinpipe-0123456789ab-data.template.json");
 * await deployStack(client, { name: "pinpipe-0123456789ab-data", template }); // "created"
 * ```
 */
import {
  type CloudFormationClient,
  CreateChangeSetCommand,
  CreateStackCommand,
  DeleteChangeSetCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  GetTemplateCommand,
  type Parameter,
  type Stack,
  type StackEvent,
  UpdateStackCommand,
} from "@aws-sdk/client-cloudformation";
import { sleep } from "../../src/util/retry.ts";

/** What a deploy did. */
export type DeployResult = "created" | "updated" | "unchanged";

/** A stack operation that failed: the stack, the resource, and CloudFormation's reason. */
export class StackFailed extends Error {
  override name = "StackFailed";
}

export interface StackToDeploy {
  name: string;
  template: string;
  parameters?: Record<string, string>;
}

export interface WaitOptions {
  /**
   * false: CreateStack/UpdateStack instead of change sets. For moto, whose change sets publish
   * no exports (so a stack importing them cannot be made) and never roll back.
   */
  changeSets?: boolean;
  /** How long to wait for a stack to settle (MSK takes up to 40 minutes), and how often to look. */
  waitMs?: number;
  pollMs?: number;
}

/** The stack named `name`, or undefined when there is none (or it was deleted). */
export async function findStack(
  client: CloudFormationClient,
  name: string,
): Promise<Stack | undefined> {
  try {
    const { Stacks } = await client.send(new DescribeStacksCommand({ StackName: name }));
    const stack = Stacks?.[0];
    return stack && stack.StackStatus !== "DELETE_COMPLETE" ? stack : undefined;
  } catch (error) {
    if (/does not exist/.test((error as Error).message)) return undefined;
    throw error;
  }
}

/** The stack's outputs by key. */
export const outputsOf = (stack: Stack | undefined): Record<string, string> =>
  Object.fromEntries((stack?.Outputs ?? []).map((o) => [o.OutputKey!, o.OutputValue ?? ""]));

// Looks again after 250 ms, doubling up to pollMs: moto answers at once, AWS in minutes.
async function settle(
  client: CloudFormationClient,
  name: string,
  { waitMs = 3_600_000, pollMs = 15_000 }: WaitOptions,
): Promise<Stack | undefined> {
  const deadline = Date.now() + waitMs;
  for (let attempt = 0;; attempt++) {
    const stack = await findStack(client, name);
    if (!stack || !stack.StackStatus!.endsWith("_IN_PROGRESS")) return stack;
    if (Date.now() > deadline) throw new StackFailed(`stack ${name}: gave up waiting`);
    await sleep(Math.min(pollMs, 250 * 2 ** attempt));
  }
}

/** The first resource that failed in the stack's latest operation, and why. */
async function firstFailure(client: CloudFormationClient, name: string): Promise<string> {
  // One page (100 events, newest first) holds a whole operation of these stacks' size.
  const { StackEvents = [] } = await client.send(
    new DescribeStackEventsCommand({ StackName: name }),
  );
  return failureIn(StackEvents, name);
}

// The stack's own event that begins an operation a user asked for.
const OPERATION_STARTS = new Set([
  "CREATE_IN_PROGRESS",
  "UPDATE_IN_PROGRESS",
  "DELETE_IN_PROGRESS",
]);

/**
 * From a stack's events (newest first, as DescribeStackEvents gives them):
 * the resource that failed first in the latest operation, its type, status
 * and CloudFormation's reason. The first failure is the cause; those after
 * it are mostly "Resource creation cancelled", and an earlier operation's
 * failures are not this one's.
 *
 * @example
 * ```ts
 * import { failureIn } from "./cloudformation.ts";
 * failureIn([], "pinpipe-0123456789ab-data"); // "no resource event says why"
 * ```
 */
export function failureIn(events: readonly StackEvent[], name: string): string {
  const start = events.findIndex((event) =>
    event.LogicalResourceId === name && OPERATION_STARTS.has(event.ResourceStatus ?? "")
  );
  const latest = start === -1 ? events : events.slice(0, start);
  const failed = latest.filter((event) =>
    event.ResourceStatus?.endsWith("_FAILED") && event.LogicalResourceId !== name
  ).at(-1);
  return failed
    ? `${failed.LogicalResourceId} (${failed.ResourceType}) ${failed.ResourceStatus}: ${
      failed.ResourceStatusReason ?? "no reason given"
    }`
    : "no resource event says why";
}

/** Creates or updates `stack` through a change set; unchanged when the change set is empty. */
export async function deployStack(
  client: CloudFormationClient,
  stack: StackToDeploy,
  wait: WaitOptions = {},
): Promise<DeployResult> {
  const existing = await settle(client, stack.name, wait);
  if (existing?.StackStatus === "ROLLBACK_COMPLETE") {
    throw new StackFailed(
      `stack ${stack.name} is ROLLBACK_COMPLETE from a failed create: ${await firstFailure(
        client,
        stack.name,
      )}; run destroy, then apply again`,
    );
  }
  const type = existing ? "UPDATE" : "CREATE";
  if (existing && (await sameAsDeployed(client, existing, stack))) return "unchanged";
  if (wait.changeSets === false) return await deployDirectly(client, stack, type, wait);
  const changeSetName = `pinpipe-${Date.now()}`;
  await client.send(
    new CreateChangeSetCommand({
      StackName: stack.name,
      ChangeSetName: changeSetName,
      ChangeSetType: type,
      TemplateBody: stack.template,
      Parameters: parametersOf(stack),
      Capabilities: [...CAPABILITIES],
    }),
  );
  const ids = { StackName: stack.name, ChangeSetName: changeSetName };
  let changeSet;
  for (let attempt = 0;; attempt++) {
    changeSet = await client.send(new DescribeChangeSetCommand(ids));
    if (!/PENDING|IN_PROGRESS/.test(changeSet.Status ?? "")) break;
    await sleep(Math.min(5000, 250 * 2 ** attempt));
  }
  const noChanges = (changeSet.Changes ?? []).length === 0 ||
    /didn't contain changes|No updates/.test(changeSet.StatusReason ?? "");
  if (type === "UPDATE" && noChanges) {
    await client.send(new DeleteChangeSetCommand(ids));
    return "unchanged";
  }
  if (changeSet.Status === "FAILED") {
    throw new StackFailed(`stack ${stack.name}: change set failed: ${changeSet.StatusReason}`);
  }
  await client.send(new ExecuteChangeSetCommand(ids));
  return await settled(client, stack.name, type, wait);
}

/** True when the stack already runs this template with these parameters. */
async function sameAsDeployed(
  client: CloudFormationClient,
  existing: Stack,
  stack: StackToDeploy,
): Promise<boolean> {
  const { TemplateBody } = await client.send(
    new GetTemplateCommand({ StackName: stack.name, TemplateStage: "Original" }),
  );
  if (!TemplateBody || !sameJson(JSON.parse(TemplateBody), JSON.parse(stack.template))) {
    return false;
  }
  const deployed = Object.fromEntries(
    (existing.Parameters ?? []).map((p) => [p.ParameterKey!, p.ParameterValue ?? ""]),
  );
  // A parameter left out keeps its default, or its previous value.
  return Object.entries(stack.parameters ?? {}).every(([key, value]) => deployed[key] === value);
}

/** Deep equality of two JSON values, object keys in any order. */
function sameJson(a: unknown, b: unknown): boolean {
  if (typeof a !== "object" || a === null || typeof b !== "object" || b === null) return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  return keysA.length === keysB.length &&
    keysA.every((key) =>
      sameJson((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])
    );
}

const CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"] as const;

const parametersOf = (stack: StackToDeploy): Parameter[] =>
  Object.entries(stack.parameters ?? {}).map(([key, value]) => ({
    ParameterKey: key,
    ParameterValue: value,
  }));

/** Waits for the create or update to finish; throws with the failed resource when it did not. */
async function settled(
  client: CloudFormationClient,
  name: string,
  type: "CREATE" | "UPDATE",
  wait: WaitOptions,
): Promise<DeployResult> {
  const done = await settle(client, name, wait);
  const status = done?.StackStatus ?? "gone";
  if (status !== `${type}_COMPLETE`) {
    throw new StackFailed(`stack ${name} ${status}: ${await firstFailure(client, name)}`);
  }
  return type === "CREATE" ? "created" : "updated";
}

async function deployDirectly(
  client: CloudFormationClient,
  stack: StackToDeploy,
  type: "CREATE" | "UPDATE",
  wait: WaitOptions,
): Promise<DeployResult> {
  const request = {
    StackName: stack.name,
    TemplateBody: stack.template,
    Parameters: parametersOf(stack),
    Capabilities: [...CAPABILITIES],
  };
  try {
    await client.send(
      type === "CREATE" ? new CreateStackCommand(request) : new UpdateStackCommand(request),
    );
  } catch (error) {
    if (/No updates are to be performed/.test((error as Error).message)) return "unchanged";
    throw new StackFailed(`stack ${stack.name}: ${(error as Error).message}`);
  }
  return await settled(client, stack.name, type, wait);
}

/** Deletes the stack; false when there was none. */
export async function deleteStack(
  client: CloudFormationClient,
  name: string,
  wait: WaitOptions = {},
): Promise<boolean> {
  if (!(await settle(client, name, wait))) return false;
  await client.send(new DeleteStackCommand({ StackName: name }));
  const left = await settle(client, name, wait);
  if (left) {
    throw new StackFailed(
      `stack ${name} ${left.StackStatus}: ${await firstFailure(client, name)}`,
    );
  }
  return true;
}
