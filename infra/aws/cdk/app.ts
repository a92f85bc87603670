/**
 * The CDK app: the three stacks of one pipeline, from its settings, in
 * deployment order (network, data, pipeline).
 *
 * @example
 * ```ts
 * import { pinpipeApp } from "./app.ts";
 * import { readStackSettings } from "../settings.ts";
 * const { app } = pinpipeApp(readStackSettings({}), "/tmp/pinpipe-cdk.out");
 * app.synth().stacks.length; // 3
 * ```
 */
import { App } from "aws-cdk-lib";
import type { StackSettings } from "../settings.ts";
import { DataStack } from "./data_stack.ts";
import { NetworkStack } from "./network_stack.ts";
import { PipelineStack } from "./pipeline_stack.ts";

export function pinpipeApp(settings: StackSettings, outdir: string) {
  // No cdk.json, so no context: the app reads nothing from the machine or the account.
  const app = new App({
    outdir,
    analyticsReporting: false,
    // Exports stay while a stack imports them: the network outlives the pipeline on top of it.
    context: { "@aws-cdk/core:defaultCrossStackReferences": "strong" },
  });
  const network = new NetworkStack(app, settings);
  const data = new DataStack(app, settings);
  const pipeline = new PipelineStack(app, settings, network);
  pipeline.addStackDependency(data, "apply uploads the plugin zip and the DAG into the data stack");
  return { app, stacks: { network, data, pipeline } };
}
