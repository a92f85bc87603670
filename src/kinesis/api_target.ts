/**
 * The original's API Gateway path to Kinesis (`--via api URL`), with the
 * routes of AWS's "REST API as a Kinesis proxy":
 * `PUT /streams/<stream>/record` with `{StreamName, Data, PartitionKey}`
 * (one record, as the original sent), `PUT /streams/<stream>/records` with
 * `{records: [{data, "partition-key"}]}` (the batch route, the default),
 * `GET /streams/<stream>` (DescribeStream) and `POST /streams/<stream>`
 * (CreateStream). 429 slows down and retries; 5xx and network errors retry
 * with backoff; records the batch route reports failed are retried alone.
 *
 * @example
 * ```ts
 * import { KinesisApiTarget } from "./api_target.ts";
 * const target = new KinesisApiTarget({ id: "0123456789ab", url: "https://abc.execute-api.us-east-1.amazonaws.com/prod", shards: 1 });
 * await target.prepare(["pin"]);
 * ```
 */
import { inLanes } from "../util/lanes.ts";
import { type DeliveryTarget, logToStderr } from "../transfer/target.ts";
import { type OutgoingRecord } from "../core/records.ts";
import { ThrottlePacer } from "../transfer/pacing.ts";
import { RecordRejectedError, TargetError } from "../core/errors.ts";
import { streamName } from "../core/names.ts";
import type { TableKind } from "../core/tables.ts";
import { fittingPrefix, type KinesisEntry, planBatches } from "./batches.ts";
import {
  collectFailures,
  KINESIS_DELIVERY_DEFAULTS,
  type KinesisDeliveryOptions,
  retryUntilAccepted,
  toKinesisEntry,
  waitUntilActive,
} from "./delivery.ts";
import { CallFailure, oneLine } from "./errors.ts";

/** Which route carries records: one per request (the original's) or a batch per request. */
export type ApiRoute = "record" | "records";

/** Settings of the API Gateway target. */
export interface KinesisApiTargetOptions extends KinesisDeliveryOptions {
  /** The API's invoke URL, e.g. `https://abc.execute-api.us-east-1.amazonaws.com/prod`. */
  url: string;
  /** Default "records". */
  route?: ApiRoute;
  /** Requests in flight at once on the "record" route. Default 8. */
  concurrency?: number;
  /** Extra request headers, e.g. `x-api-key`. */
  headers?: Record<string, string>;
}

/** One HTTP answer, read in full. */
interface ApiAnswer {
  status: number;
  text: string;
}

/** Sends records through an API Gateway Kinesis proxy. */
export class KinesisApiTarget implements DeliveryTarget {
  readonly name = "kinesis-api";
  readonly #options: Required<KinesisApiTargetOptions>;
  readonly #base: string;
  readonly #pacer = new ThrottlePacer();

  constructor(options: KinesisApiTargetOptions) {
    this.#options = {
      ...KINESIS_DELIVERY_DEFAULTS,
      route: "records",
      concurrency: 8,
      headers: {},
      log: logToStderr,
      ...options,
    };
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new TargetError(`--via api: "${options.url}" is not a URL`);
    }
    this.#base = url.href.replace(/\/+$/, "");
  }

  /** Checks each stream through the API, creating it if missing, and waits until ACTIVE. */
  async prepare(kinds: readonly TableKind[]): Promise<void> {
    for (const kind of kinds) {
      const stream = streamName(this.#options.id, kind);
      if ((await this.#status(stream)) === undefined) {
        const answer = await this.#request("POST", `/streams/${stream}`, {
          ShardCount: this.#options.shards,
        });
        if (answer.status >= 300 && !answer.text.includes("ResourceInUseException")) {
          throw new TargetError(
            `API ${this.#base}: cannot create stream ${stream}: HTTP ${answer.status} ${
              oneLine(answer.text, 200)
            }`,
          );
        }
        this.#options.log(`created stream ${stream} with ${this.#options.shards} shard(s) via API`);
      }
    }
    for (const kind of kinds) {
      const stream = streamName(this.#options.id, kind);
      await waitUntilActive(
        stream,
        () => this.#status(stream),
        this.#options.activeTimeoutMs,
        `API ${this.#base}: `,
      );
    }
  }

  /** The stream a table's records go to, for messages and the summary. */
  destination(kind: TableKind): string {
    return streamName(this.#options.id, kind);
  }

  /** Sends one table's records; resolves when the API accepted every one. */
  async send(kind: TableKind, records: OutgoingRecord[]): Promise<void> {
    const stream = streamName(this.#options.id, kind);
    const entries = records.map((record) =>
      toKinesisEntry(kind, record, this.#options.partitionKey)
    );
    const { fitting, refused } = fittingPrefix(entries);
    if (this.#options.route === "records") {
      const batches = planBatches(fitting, this.#options.batchRecords);
      await inLanes(batches, this.#options.inFlight, (batch) => this.#putBatch(stream, batch));
    } else {
      // The record route: one request per record, a few in flight at once.
      await inLanes(fitting, this.#options.concurrency, (entry) => this.#putOne(stream, entry));
    }
    // Those before the refused record are in the stream: the driver checkpoints them.
    if (refused) throw new RecordRejectedError(`${stream}: ${refused}`, fitting.length);
  }

  /** Nothing to release: fetch keeps no state the process must close. */
  close(): Promise<void> {
    return Promise.resolve();
  }

  #context(stream: string, route: string) {
    return {
      what: `API ${this.#base} PUT /streams/${stream}/${route}`,
      pacer: this.#pacer,
      maxAttempts: this.#options.maxAttempts,
      backoff: this.#options.backoff,
      throttleTimeoutMs: this.#options.throttleTimeoutMs,
    };
  }

  #putOne(stream: string, entry: KinesisEntry & { source: OutgoingRecord }): Promise<void> {
    return retryUntilAccepted([entry], async () => {
      const answer = await this.#request("PUT", `/streams/${stream}/record`, {
        StreamName: stream,
        Data: entry.source.record,
        PartitionKey: entry.partitionKey,
      });
      failOnStatus(answer, entry.label);
      return { failed: [], throttled: 0 };
    }, this.#context(stream, "record"));
  }

  #putBatch(stream: string, entries: KinesisEntry[]): Promise<void> {
    const decoder = new TextDecoder();
    return retryUntilAccepted(entries, async (pending) => {
      const answer = await this.#request("PUT", `/streams/${stream}/records`, {
        records: pending.map((entry) => ({
          data: decoder.decode(entry.data),
          "partition-key": entry.partitionKey,
        })),
      });
      failOnStatus(answer, `a batch of ${pending.length} records`);
      let results: { ErrorCode?: string; ErrorMessage?: string }[] | undefined;
      try {
        results = JSON.parse(answer.text).Records;
      } catch {
        results = undefined;
      }
      if (!Array.isArray(results) || results.length !== pending.length) {
        throw new CallFailure(
          "fatal",
          `answer is not a PutRecords result for ${pending.length} records: ${
            oneLine(answer.text, 200)
          }`,
        );
      }
      return collectFailures(stream, pending, results);
    }, this.#context(stream, "records"));
  }

  async #status(stream: string): Promise<string | undefined> {
    const answer = await this.#request("GET", `/streams/${stream}`);
    if (answer.status === 404 || answer.text.includes("ResourceNotFoundException")) {
      return undefined;
    }
    if (answer.status >= 300) {
      throw new TargetError(
        `API ${this.#base}: GET /streams/${stream} answered HTTP ${answer.status} ${
          oneLine(answer.text, 200)
        }`,
      );
    }
    try {
      return JSON.parse(answer.text).StreamDescription?.StreamStatus ?? "UNKNOWN";
    } catch {
      throw new TargetError(
        `API ${this.#base}: GET /streams/${stream} answered something not JSON: ${
          oneLine(answer.text, 200)
        }`,
      );
    }
  }

  /** One request; network failures become a transient `CallFailure`. */
  async #request(method: string, path: string, body?: unknown): Promise<ApiAnswer> {
    try {
      const response = await fetch(`${this.#base}${path}`, {
        method,
        headers: { "content-type": "application/json", ...this.#options.headers },
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

/** 429 is throttling, 5xx transient, any other non-2xx the caller's fault: stop. */
function failOnStatus(answer: ApiAnswer, what: string): void {
  if (answer.status < 300) return;
  const message = `HTTP ${answer.status} for ${what}: ${oneLine(answer.text, 200)}`;
  if (answer.status === 429) throw new CallFailure("throttle", message);
  if (answer.status >= 500) throw new CallFailure("transient", message);
  throw new CallFailure("fatal", message);
}
