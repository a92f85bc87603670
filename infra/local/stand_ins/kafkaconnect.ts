/**
 * A stand-in for the MSK Connect API (kafkaconnect, REST-JSON, as
 * `@aws-sdk/client-kafkaconnect` calls it) on 127.0.0.1: custom plugins and
 * connectors with their state, and each request checked against the SDK's
 * model (required members, types, allowed values) and the API reference's
 * limits. No emulator in the package registries serves this API (moto
 * answers it with a 404 page), and `apply`'s "already in place" checks and
 * its failures need a server that keeps state and answers as the service.
 *
 * A plugin is CREATING on its first Describe and ACTIVE from the second, and
 * CREATE_FAILED when its zip is not in the S3 endpoint given; a connector is
 * CREATING, then RUNNING. `deny(operation)` makes an operation answer
 * ForbiddenException, as an IAM policy without that action would.
 *
 * @example
 * ```ts
 * import { startKafkaConnectStandIn } from "./kafkaconnect.ts";
 * const standIn = startKafkaConnectStandIn({ port: 0 });
 * standIn.url; // "http://127.0.0.1:PORT", the client's endpoint
 * await standIn.close();
 * ```
 */
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import { s3Client } from "../../../src/util/s3_client.ts";
import { check, integer, list, map, type Shape, string, structure } from "./shapes.ts";

const ACCOUNT = "123456789012";

const NAME = string({ min: 1, max: 128 });

const CREATE_CUSTOM_PLUGIN: Shape = structure({
  contentType: [string({ values: ["JAR", "ZIP"] }), true],
  description: [string({ max: 1024 }), false],
  location: [
    structure({
      s3Location: [
        structure({
          bucketArn: [string({ pattern: /^arn:aws:s3:::[a-z0-9.-]{3,63}$/ }), true],
          fileKey: [string({ min: 1 }), true],
          objectVersion: [string(), false],
        }),
        true,
      ],
    }),
    true,
  ],
  name: [NAME, true],
  tags: [map(string()), false],
});

const CREATE_CONNECTOR: Shape = structure({
  capacity: [
    structure({
      autoScaling: [
        structure({
          maxWorkerCount: [integer({ min: 1, max: 10 }), true],
          mcuCount: [integer({ values: [1, 2, 4, 8] }), true],
          minWorkerCount: [integer({ min: 1, max: 10 }), true],
        }),
        false,
      ],
      provisionedCapacity: [
        structure({
          mcuCount: [integer({ values: [1, 2, 4, 8] }), true],
          workerCount: [integer({ min: 1, max: 10 }), true],
        }),
        false,
      ],
    }),
    true,
  ],
  connectorConfiguration: [map(string()), true],
  connectorDescription: [string({ max: 1024 }), false],
  connectorName: [NAME, true],
  kafkaCluster: [
    structure({
      apacheKafkaCluster: [
        structure({
          bootstrapServers: [string({ min: 1 }), true],
          vpc: [
            structure({
              securityGroups: [list(string({ pattern: /^sg-[0-9a-z]+$/ })), false],
              subnets: [list(string({ pattern: /^subnet-[0-9a-z]+$/ }), 1), true],
            }),
            true,
          ],
        }),
        true,
      ],
    }),
    true,
  ],
  kafkaClusterClientAuthentication: [
    structure({ authenticationType: [string({ values: ["IAM", "NONE"] }), true] }),
    true,
  ],
  kafkaClusterEncryptionInTransit: [
    structure({ encryptionType: [string({ values: ["PLAINTEXT", "TLS"] }), true] }),
    true,
  ],
  kafkaConnectVersion: [string({ values: ["2.7.1", "3.7.x"] }), true],
  plugins: [
    list(
      structure({
        customPlugin: [
          structure({
            customPluginArn: [string({ pattern: /^arn:aws:kafkaconnect:/ }), true],
            revision: [integer({ min: 1 }), true],
          }),
          true,
        ],
      }),
      1,
    ),
    true,
  ],
  serviceExecutionRoleArn: [string({ pattern: /^arn:aws:iam::\d{12}:role\/.+$/ }), true],
  tags: [map(string()), false],
});

interface PluginRecord {
  arn: string;
  name: string;
  state: "CREATING" | "ACTIVE" | "CREATE_FAILED";
  described: number;
  created: string;
  location: { bucket: string; key: string };
  failure?: string;
}

interface ConnectorRecord {
  arn: string;
  name: string;
  state: "CREATING" | "RUNNING";
  described: number;
  created: string;
  request: Record<string, unknown>;
}

/** A running stand-in. */
export interface KafkaConnectStandIn {
  /** The endpoint to give the SDK client. */
  readonly url: string;
  /** Makes `operation` (e.g. "CreateConnector") answer ForbiddenException until `allow`. */
  deny(operation: string): void;
  allow(operation: string): void;
  /** The names of the plugins and connectors that exist. */
  state(): { plugins: string[]; connectors: string[] };
  /** Operations received, in order (`CreateConnector`, ...). */
  readonly calls: string[];
  close(): Promise<void>;
}

class ServiceError extends Error {
  constructor(readonly status: number, readonly type: string, message: string) {
    super(message);
  }
}

/**
 * Starts the stand-in on 127.0.0.1:`port` (0: any free port). With
 * `s3Endpoint`, a plugin whose zip that endpoint does not hold goes
 * CREATE_FAILED, as the service's would.
 */
export function startKafkaConnectStandIn(
  { port = 0, s3Endpoint }: { port?: number; s3Endpoint?: string } = {},
): KafkaConnectStandIn {
  const region = "us-east-1";
  const plugins = new Map<string, PluginRecord>();
  const connectors = new Map<string, ConnectorRecord>();
  const denied = new Set<string>();
  const calls: string[] = [];
  let serial = 0;
  const arn = (kind: string, name: string) =>
    `arn:aws:kafkaconnect:${region}:${ACCOUNT}:${kind}/${name}/${crypto.randomUUID()}-${++serial}`;
  // The model gives these timestamps the date-time format: RFC 3339 strings.
  const now = () => new Date().toISOString();

  const pluginSummary = (plugin: PluginRecord) => ({
    customPluginArn: plugin.arn,
    customPluginState: plugin.state,
    name: plugin.name,
    creationTime: plugin.created,
    latestRevision: {
      contentType: "ZIP",
      creationTime: plugin.created,
      revision: 1,
      location: {
        s3Location: {
          bucketArn: `arn:aws:s3:::${plugin.location.bucket}`,
          fileKey: plugin.location.key,
        },
      },
    },
    ...(plugin.failure ? { stateDescription: { code: "FAILED", message: plugin.failure } } : {}),
  });

  const connectorSummary = (connector: ConnectorRecord) => ({
    connectorArn: connector.arn,
    connectorName: connector.name,
    connectorState: connector.state,
    creationTime: connector.created,
    currentVersion: "1",
    kafkaConnectVersion: connector.request.kafkaConnectVersion,
    serviceExecutionRoleArn: connector.request.serviceExecutionRoleArn,
  });

  // A paged list: nextToken is the index of the next item.
  const page = <T>(items: T[], query: URLSearchParams) => {
    const max = Number(query.get("maxResults") ?? 100);
    const start = Number(query.get("nextToken") ?? 0);
    const slice = items.slice(start, start + max);
    return {
      slice,
      nextToken: start + max < items.length ? String(start + max) : undefined,
    };
  };

  // The service reads the zip with its own credentials; the stand-in signs with local dummies.
  const s3 = s3Endpoint
    ? s3Client({
      region,
      endpoint: s3Endpoint,
      credentials: { accessKeyId: "kafkaconnect-stand-in", secretAccessKey: "local" },
    })
    : undefined;
  const pluginZipExists = (bucket: string, key: string): Promise<boolean> =>
    s3
      ? s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(() => true, () => false)
      : Promise.resolve(true);

  async function handle(
    operation: string,
    request: Request,
    params: Record<string, string>,
  ): Promise<unknown> {
    calls.push(operation);
    if (denied.has(operation)) {
      throw new ServiceError(
        403,
        "ForbiddenException",
        `User: arn:aws:iam::${ACCOUNT}:user/pinpipe is not authorized to perform: ` +
          `kafkaconnect:${operation} with an explicit deny`,
      );
    }
    const query = new URL(request.url).searchParams;
    const body = request.method === "POST" ? await readJson(request) : {};
    switch (operation) {
      case "CreateCustomPlugin": {
        invalid(check(body, CREATE_CUSTOM_PLUGIN));
        const name = String(body.name);
        if ([...plugins.values()].some((plugin) => plugin.name === name)) {
          throw new ServiceError(409, "ConflictException", `Custom plugin ${name} already exists.`);
        }
        const s3 = (body.location as { s3Location: { bucketArn: string; fileKey: string } })
          .s3Location;
        const bucket = s3.bucketArn.slice("arn:aws:s3:::".length);
        const plugin: PluginRecord = {
          arn: arn("custom-plugin", name),
          name,
          state: "CREATING",
          described: 0,
          created: now(),
          location: { bucket, key: s3.fileKey },
        };
        if (!(await pluginZipExists(bucket, s3.fileKey))) {
          plugin.failure = `The object s3://${bucket}/${s3.fileKey} does not exist.`;
        }
        plugins.set(plugin.arn, plugin);
        return {
          customPluginArn: plugin.arn,
          customPluginState: plugin.state,
          name,
          revision: 1,
        };
      }
      case "ListCustomPlugins": {
        const prefix = query.get("namePrefix") ?? "";
        const { slice, nextToken } = page(
          [...plugins.values()].filter((plugin) => plugin.name.startsWith(prefix)),
          query,
        );
        return { customPlugins: slice.map(pluginSummary), nextToken };
      }
      case "DescribeCustomPlugin": {
        const plugin = plugins.get(params.arn) ?? notFound("Custom plugin", params.arn);
        // CREATING when first looked at, then ACTIVE (or CREATE_FAILED): apply must wait.
        if (plugin.described++ > 0 && plugin.state === "CREATING") {
          plugin.state = plugin.failure ? "CREATE_FAILED" : "ACTIVE";
        }
        return pluginSummary(plugin);
      }
      case "DeleteCustomPlugin": {
        const plugin = plugins.get(params.arn) ?? notFound("Custom plugin", params.arn);
        const user = [...connectors.values()].find((connector) =>
          JSON.stringify(connector.request.plugins).includes(plugin.arn)
        );
        if (user) {
          throw new ServiceError(
            409,
            "ConflictException",
            `Custom plugin ${plugin.name} is used by connector ${user.name}.`,
          );
        }
        plugins.delete(plugin.arn);
        return { customPluginArn: plugin.arn, customPluginState: "DELETING" };
      }
      case "CreateConnector": {
        invalid(check(body, CREATE_CONNECTOR));
        const capacity = body.capacity as Record<string, unknown>;
        if (Boolean(capacity.autoScaling) === Boolean(capacity.provisionedCapacity)) {
          throw new ServiceError(
            400,
            "BadRequestException",
            "Exactly one of capacity.autoScaling and capacity.provisionedCapacity must be given.",
          );
        }
        const name = String(body.connectorName);
        if ([...connectors.values()].some((connector) => connector.name === name)) {
          throw new ServiceError(409, "ConflictException", `Connector ${name} already exists.`);
        }
        for (
          const { customPlugin } of body.plugins as { customPlugin: { customPluginArn: string } }[]
        ) {
          const plugin = plugins.get(customPlugin.customPluginArn);
          if (plugin?.state !== "ACTIVE") {
            throw new ServiceError(
              400,
              "BadRequestException",
              `Custom plugin ${customPlugin.customPluginArn} is not ACTIVE.`,
            );
          }
        }
        const connector: ConnectorRecord = {
          arn: arn("connector", name),
          name,
          state: "CREATING",
          described: 0,
          created: now(),
          request: body,
        };
        connectors.set(connector.arn, connector);
        return { connectorArn: connector.arn, connectorName: name, connectorState: "CREATING" };
      }
      case "ListConnectors": {
        const prefix = query.get("connectorNamePrefix") ?? "";
        const { slice, nextToken } = page(
          [...connectors.values()].filter((connector) => connector.name.startsWith(prefix)),
          query,
        );
        return { connectors: slice.map(connectorSummary), nextToken };
      }
      case "DescribeConnector": {
        const connector = connectors.get(params.arn) ?? notFound("Connector", params.arn);
        if (connector.described++ > 0) connector.state = "RUNNING";
        return {
          ...connectorSummary(connector),
          connectorConfiguration: connector.request.connectorConfiguration,
        };
      }
      case "DeleteConnector": {
        const connector = connectors.get(params.arn) ?? notFound("Connector", params.arn);
        connectors.delete(connector.arn);
        return { connectorArn: connector.arn, connectorState: "DELETING" };
      }
    }
    throw new ServiceError(404, "NotFoundException", `No operation ${operation}.`);
  }

  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, async (request) => {
    const { pathname } = new URL(request.url);
    const route = routeOf(request.method, pathname);
    try {
      if (!route) throw new ServiceError(404, "NotFoundException", `No route ${pathname}.`);
      if (!request.headers.get("authorization")?.startsWith("AWS4-HMAC-SHA256 ")) {
        throw new ServiceError(401, "UnauthorizedException", "The request is not signed.");
      }
      const answer = await handle(route.operation, request, route.params);
      return Response.json(answer);
    } catch (error) {
      const e = error instanceof ServiceError
        ? error
        : new ServiceError(500, "InternalServerErrorException", String(error));
      return Response.json({ message: e.message }, {
        status: e.status,
        headers: { "x-amzn-ErrorType": e.type },
      });
    }
  });

  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    deny: (operation) => denied.add(operation),
    allow: (operation) => denied.delete(operation),
    state: () => ({
      plugins: [...plugins.values()].map((plugin) => plugin.name),
      connectors: [...connectors.values()].map((connector) => connector.name),
    }),
    calls,
    close: async () => {
      s3?.destroy();
      await server.shutdown();
    },
  };
}

/** The operation a method and path name, with its ARN path parameter. */
function routeOf(
  method: string,
  path: string,
): { operation: string; params: Record<string, string> } | undefined {
  const one = /^\/v1\/(custom-plugins|connectors)\/([^/]+)$/.exec(path);
  const kind = one?.[1] ?? /^\/v1\/(custom-plugins|connectors)$/.exec(path)?.[1];
  if (!kind) return undefined;
  const noun = kind === "connectors" ? "Connector" : "CustomPlugin";
  const params: Record<string, string> = one ? { arn: decodeURIComponent(one[2]) } : {};
  const verb = one
    ? { GET: "Describe", DELETE: "Delete" }[method]
    : { GET: "List", POST: "Create" }[method];
  if (!verb) return undefined;
  return { operation: verb === "List" ? `List${noun}s` : `${verb}${noun}`, params };
}

async function readJson(request: Request): Promise<Record<string, unknown>> {
  try {
    const parsed = JSON.parse(await request.text());
    if (typeof parsed === "object" && parsed !== null) return parsed;
  } catch {
    // Falls through to the error below.
  }
  throw new ServiceError(400, "BadRequestException", "The request body is not a JSON object.");
}

function invalid(problem: string | undefined): void {
  if (problem) throw new ServiceError(400, "BadRequestException", problem);
}

function notFound(what: string, arn: string): never {
  throw new ServiceError(404, "NotFoundException", `${what} ${arn} does not exist.`);
}
