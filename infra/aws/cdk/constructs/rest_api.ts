/**
 * The REST API the producers post to, as the original system built it in
 * API Gateway: `/{proxy+}` (any method) an HTTP proxy to the Kafka REST
 * proxy on the client host, for `batch --via rest`; and `/streams/...`
 * with AWS integrations straight to Kinesis, for `stream --via api`:
 * `GET /streams` ListStreams, `GET /streams/{stream-name}` DescribeStream,
 * `PUT .../record` PutRecord, `PUT .../records` PutRecords. Its role may
 * describe and write the pipeline's three streams only (the stack makes
 * them, so the API's CreateStream of the original is not granted).
 *
 * @example
 * ```ts
 * // In a stack: new PipelineRestApi(this, "Api", { id, restProxyUrl, streamArns });
 * ```
 */
import * as apigateway from "aws-cdk-lib/aws-apigateway";
import * as iam from "aws-cdk-lib/aws-iam";
import { Construct } from "constructs";
import { resourceNames } from "../names.ts";

export interface PipelineRestApiProps {
  id: string;
  /** The REST proxy's base URL, `http://<client host>:8082`. */
  restProxyUrl: string;
  streamArns: string[];
}

/** Every resource and its methods, as `GET /streams` lines: what the rehearsal reads back. */
export const API_ROUTES = [
  "ANY /{proxy+}",
  "GET /streams",
  "GET /streams/{stream-name}",
  "PUT /streams/{stream-name}/record",
  "PUT /streams/{stream-name}/records",
] as const;

/** The Kinesis request each route sends, in the Velocity templates API Gateway fills in. */
const KINESIS_TEMPLATES = {
  ListStreams: "{}",
  DescribeStream: `{ "StreamName": "$input.params('stream-name')" }`,
  PutRecord: [
    "{",
    `  "StreamName": "$input.params('stream-name')",`,
    `  "Data": "$util.base64Encode($input.json('$.Data'))",`,
    `  "PartitionKey": "$input.path('$.PartitionKey')"`,
    "}",
  ].join("\n"),
  PutRecords: [
    "{",
    `  "StreamName": "$input.params('stream-name')",`,
    `  "Records": [`,
    `    #foreach($elem in $input.path('$.records'))`,
    `    { "Data": "$util.base64Encode($elem.data)", "PartitionKey": "$elem.partition-key" }#if($foreach.hasNext),#end`,
    "    #end",
    "  ]",
    "}",
  ].join("\n"),
};

export class PipelineRestApi extends Construct {
  readonly api: apigateway.RestApi;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: PipelineRestApiProps) {
    super(scope, id);
    this.role = new iam.Role(this, "Role", {
      assumedBy: new iam.ServicePrincipal("apigateway.amazonaws.com"),
      description: `pinpipe ${props.id}: API Gateway's Kinesis integrations`,
      inlinePolicies: {
        streams: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              actions: ["kinesis:DescribeStream", "kinesis:PutRecord", "kinesis:PutRecords"],
              resources: props.streamArns,
            }),
            // ListStreams takes no stream: it is granted on * or not at all.
            new iam.PolicyStatement({ actions: ["kinesis:ListStreams"], resources: ["*"] }),
          ],
        }),
      },
    });
    this.api = new apigateway.RestApi(this, "RestApi", {
      restApiName: resourceNames(props.id).api,
      description: `pinpipe ${props.id}: Kafka REST proxy and Kinesis`,
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      // The account-wide logging role is the account's business, not one pipeline's.
      cloudWatchRole: false,
      deployOptions: { stageName: "prod" },
    });

    const proxy = this.api.root.addResource("{proxy+}");
    proxy.addMethod(
      "ANY",
      new apigateway.HttpIntegration(`${props.restProxyUrl}/{proxy}`, {
        httpMethod: "ANY",
        proxy: true,
        options: {
          requestParameters: { "integration.request.path.proxy": "method.request.path.proxy" },
        },
      }),
      { requestParameters: { "method.request.path.proxy": true } },
    );

    const streams = this.api.root.addResource("streams");
    const stream = streams.addResource("{stream-name}");
    const kinesis = (action: keyof typeof KINESIS_TEMPLATES) =>
      new apigateway.AwsIntegration({
        service: "kinesis",
        action,
        integrationHttpMethod: "POST",
        options: {
          credentialsRole: this.role,
          passthroughBehavior: apigateway.PassthroughBehavior.NEVER,
          requestParameters: {
            "integration.request.header.Content-Type": "'application/x-amz-json-1.1'",
          },
          requestTemplates: { "application/json": KINESIS_TEMPLATES[action] },
          integrationResponses: [
            { statusCode: "200" },
            { statusCode: "400", selectionPattern: "4\\d{2}" },
            { statusCode: "500", selectionPattern: "5\\d{2}" },
          ],
        },
      });
    const responses = {
      methodResponses: ["200", "400", "500"].map((statusCode) => ({ statusCode })),
    };
    const withStreamName = {
      ...responses,
      requestParameters: { "method.request.path.stream-name": true },
    };
    streams.addMethod("GET", kinesis("ListStreams"), responses);
    stream.addMethod("GET", kinesis("DescribeStream"), withStreamName);
    stream.addResource("record").addMethod("PUT", kinesis("PutRecord"), withStreamName);
    stream.addResource("records").addMethod("PUT", kinesis("PutRecords"), withStreamName);
  }
}
