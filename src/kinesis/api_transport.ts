/**
 * The Kinesis target's transport through the original's API Gateway
 * (`--via api URL`), with the routes of AWS's "REST API as a Kinesis proxy":
 * `PUT /streams/<stream>/record` with `{StreamName, Data, PartitionKey}`
 * (one record, as the original sent), `PUT /streams/<stream>/records` with
 * `{records: [{data, "partition-key"}]}` (the batch route, the default),
 * `GET /streams/<stream>` (DescribeStream) and `POST /streams/<stream>`
 * (CreateStream). A 429 is throttling, a 5xx or a network error transient;
 * any other refusal stops. The API has no route to read a stream, so a
 * resume through it cannot look for records sent after the checkpoint.
 *
 * @example
 * ```ts
 * import { ApiTransport } from "./api_transport.ts";
 * const transport = new ApiTransport({ url: "https://abc.execute-api.us-east-1.amazonaws.com/prod" });
 * transport.where; // "API https://abc.execute-api.us-east-1.amazonaws.com/prod: "
 * ```
 */
import { TargetError } from "../core/errors.ts";
import { viaUrl } from "../transfer/via.ts";
import type { KinesisEntry } from "./batches.ts";
import { CallFailure, oneLine } from "./errors.ts";
import type { KinesisTransport, PutResult } from "./transport.ts";

/** Which route carries records: one per request (the original's) or a batch per request. */
export type ApiRoute = "record" | "records";

/** Settings of the API transport. */
export interface ApiTransportOptions {
  /** The API's invoke URL, e.g. `https://abc.execute-api.us-east-1.amazonaws.com/prod`. */
  url: string | URL;
  /** Default "records". */
  route?: ApiRoute;
  /** Requests in flight at once per table on the "record" route. Default 8. */
  concurrency?: number;
  /** Extra request headers, e.g. `x-api-key`. */
  headers?: Record<string, string>;
}

/** One HTTP answer, read in full. */
interface ApiAnswer {
  status: number;
  text: string;
}

/** Reaches the streams through an API Gateway Kinesis proxy with fetch. */
export class ApiTransport implements KinesisTransport {
  readonly name = "kinesis-api";
  readonly where: string;
  readonly recordsPerCall?: number;
  readonly callsInFlight?: number;
  readonly #base: string;
  readonly #route: ApiRoute;
  readonly #headers: Record<string, string>;

  constructor(options: ApiTransportOptions) {
    this.#base = viaUrl("api", options.url).href.replace(/\/+$/, "");
    this.where = `API ${this.#base}: `;
    this.#route = options.route ?? "records";
    this.#headers = { "content-type": "application/json", ...options.headers };
    if (this.#route === "record") {
      // One PUT per record, a few in flight at once.
      this.recordsPerCall = 1;
      this.callsInFlight = options.concurrency ?? 8;
    }
  }

  async status(stream: string): Promise<string | undefined> {
    const answer = await this.#request("GET", `/streams/${stream}`);
    if (answer.status === 404 || answer.text.includes("ResourceNotFoundException")) {
      return undefined;
    }
    if (answer.status >= 300) {
      throw new TargetError(
        `${this.where}GET /streams/${stream} answered HTTP ${answer.status} ${
          oneLine(answer.text, 200)
        }`,
      );
    }
    try {
      return JSON.parse(answer.text).StreamDescription?.StreamStatus ?? "UNKNOWN";
    } catch {
      throw new TargetError(
        `${this.where}GET /streams/${stream} answered something not JSON: ${
          oneLine(answer.text, 200)
        }`,
      );
    }
  }

  async create(stream: string, shards: number): Promise<boolean> {
    const answer = await this.#request("POST", `/streams/${stream}`, { ShardCount: shards });
    if (answer.status < 300) return true;
    if (answer.text.includes("ResourceInUseException")) return false;
    throw new TargetError(
      `${this.where}cannot create stream ${stream}: HTTP ${answer.status} ${
        oneLine(answer.text, 200)
      }`,
    );
  }

  putName(stream: string): string {
    return `API ${this.#base} PUT /streams/${stream}/${this.#route}`;
  }

  put(stream: string, entries: readonly KinesisEntry[]): Promise<PutResult[]> {
    return this.#route === "record"
      ? this.#putOne(stream, entries)
      : this.#putBatch(stream, entries);
  }

  close(): void {
    // Nothing to release: fetch keeps no state the process must close.
  }

  async #putOne(stream: string, entries: readonly KinesisEntry[]): Promise<PutResult[]> {
    const [entry] = entries;
    const answer = await this.#request("PUT", `/streams/${stream}/record`, {
      StreamName: stream,
      // The record itself, not its text: the API's mapping template encodes it.
      Data: JSON.parse(decoder.decode(entry.data)),
      PartitionKey: entry.partitionKey,
    });
    failOnStatus(answer, entry.label);
    const result = parsed(answer.text) as PutResult | undefined;
    return [{ ShardId: result?.ShardId, SequenceNumber: result?.SequenceNumber }];
  }

  async #putBatch(stream: string, entries: readonly KinesisEntry[]): Promise<PutResult[]> {
    const answer = await this.#request("PUT", `/streams/${stream}/records`, {
      records: entries.map((entry) => ({
        data: decoder.decode(entry.data),
        "partition-key": entry.partitionKey,
      })),
    });
    failOnStatus(answer, `a batch of ${entries.length} records`);
    const results = (parsed(answer.text) as { Records?: unknown } | undefined)?.Records;
    if (!Array.isArray(results) || results.length !== entries.length) {
      throw new CallFailure(
        "fatal",
        `answer is not a PutRecords result for ${entries.length} records: ${
          oneLine(answer.text, 200)
        }`,
      );
    }
    return results;
  }

  /** One request; network failures of a PUT become a transient `CallFailure`. */
  async #request(method: string, path: string, body?: unknown): Promise<ApiAnswer> {
    try {
      const response = await fetch(`${this.#base}${path}`, {
        method,
        headers: this.#headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
      return { status: response.status, text: await response.text() };
    } catch (error) {
      const message = `${method} ${path}: ${oneLine((error as Error).message)}`;
      if (method !== "PUT") throw new TargetError(`API ${this.#base} unreachable: ${message}`);
      throw new CallFailure("transient", message);
    }
  }
}

const decoder = new TextDecoder();

/** `text` as JSON, or undefined. */
function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** 429 is throttling, 5xx transient, any other non-2xx the caller's fault: stop. */
function failOnStatus(answer: ApiAnswer, what: string): void {
  if (answer.status < 300) return;
  const message = `HTTP ${answer.status} for ${what}: ${oneLine(answer.text, 200)}`;
  if (answer.status === 429) throw new CallFailure("throttle", message);
  if (answer.status >= 500) throw new CallFailure("transient", message);
  throw new CallFailure("fatal", message);
}
