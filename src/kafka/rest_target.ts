/**
 * Delivers records through a Kafka REST Proxy v2 endpoint, the original's
 * API Gateway path: `POST <url>/topics/<topic>` with
 * `Content-Type: application/vnd.kafka.json.v2+json` and
 * `{"records":[{"key": "...", "value": {...}}, ...]}`, but many records per
 * request instead of one, retrying 429 and 5xx answers (and a network
 * failure) with jittered exponential backoff, and failing clearly on
 * anything else.
 *
 * A REST proxy offers no idempotence: a retried request the proxy had in
 * fact written is written twice. Prefer the direct Kafka target.
 *
 * @example
 * ```ts
 * import { KafkaRestTarget } from "./rest_target.ts";
 * const target = new KafkaRestTarget({ id: "0123456789ab", url: "http://127.0.0.1:8082" });
 * ```
 */
import { type DeliveryTarget, type TargetOptions } from "../transfer/target.ts";
import { type OutgoingRecord } from "../core/records.ts";
import { RecordRejectedError, RetriableTargetError, TargetError } from "../core/errors.ts";
import { topicName } from "../core/names.ts";
import type { TableKind } from "../core/tables.ts";
import { type BackoffOptions, isRetriable, retry } from "../util/retry.ts";

/** The content type of Kafka REST Proxy v2 JSON records. */
export const KAFKA_JSON_V2 = "application/vnd.kafka.json.v2+json";

/** Settings of the REST target. */
export interface KafkaRestOptions extends TargetOptions {
  /** The REST proxy's base URL, e.g. `http://127.0.0.1:8082`. */
  url: string;
  /** Records per HTTP request (500). */
  recordsPerRequest?: number;
  /** Stop retrying a request after this long (120 s). */
  giveUpAfterMs?: number;
  /** Waits between retries: up to 400 ms first, doubling up to 5 s (base 200 ms, cap 5 s). */
  backoff?: BackoffOptions;
}

/** One produce answer of the REST proxy v2. */
interface ProduceAnswer {
  offsets?: Array<
    { partition?: number; offset?: number; error_code?: number | null; error?: string | null }
  >;
}

/** Sends through a Kafka REST Proxy v2: many records per POST, retries 429/5xx. */
export class KafkaRestTarget implements DeliveryTarget {
  readonly name: string = "kafka-rest";
  readonly endpoint: string;

  constructor(private options: KafkaRestOptions) {
    this.endpoint = options.url.replace(/\/+$/, "");
  }

  /** The topic of `kind`. */
  destination(kind: TableKind): string {
    return topicName(this.options.id, kind);
  }

  /** Checks that the endpoint answers and that each topic exists behind it. */
  async prepare(kinds: readonly TableKind[]): Promise<void> {
    for (const kind of kinds) {
      const topic = this.destination(kind);
      const url = `${this.endpoint}/topics/${encodeURIComponent(topic)}`;
      let response: Response;
      try {
        response = await fetch(url, { headers: { accept: "application/vnd.kafka.v2+json" } });
        await response.body?.cancel();
      } catch (error) {
        throw new TargetError(
          `Kafka REST endpoint unreachable at ${this.endpoint}: ${(error as Error).message}`,
        );
      }
      if (response.status === 404) {
        throw new TargetError(
          `topic ${topic} does not exist behind ${this.endpoint} (a REST proxy does not create ` +
            `topics: create it first, e.g. with deno task batch --limit 1 without --via rest)`,
        );
      }
      if (response.status === 401 || response.status === 403) {
        throw new TargetError(`Kafka REST endpoint ${url}: not authorized (${response.status})`);
      }
      if (!response.ok) {
        throw new TargetError(`Kafka REST endpoint ${url} answered ${response.status}`);
      }
    }
  }

  /** Sends the records in requests of `recordsPerRequest`, in order. */
  async send(kind: TableKind, records: OutgoingRecord[]): Promise<void> {
    const size = this.options.recordsPerRequest ?? 500;
    for (let start = 0; start < records.length; start += size) {
      await this.#post(kind, records.slice(start, start + size)).catch((error) => {
        // The requests before the refused one were acknowledged: say how many records they held.
        if (!(error instanceof RecordRejectedError) || error.delivered !== undefined) throw error;
        throw new RecordRejectedError(error.message, start);
      });
    }
  }

  async #post(kind: TableKind, records: OutgoingRecord[]): Promise<void> {
    const topic = this.destination(kind);
    const url = `${this.endpoint}/topics/${encodeURIComponent(topic)}`;
    const body = JSON.stringify({
      records: records.map((record) => ({ key: record.key, value: record.record })),
    });
    let attempts = 0;
    await retry(async () => {
      attempts++;
      let response: Response;
      let text: string;
      try {
        response = await fetch(url, {
          method: "POST",
          headers: { "content-type": KAFKA_JSON_V2, accept: "application/vnd.kafka.v2+json" },
          body,
        });
        text = await response.text();
      } catch (error) {
        throw new RetriableTargetError((error as Error).message);
      }
      if (response.ok) return this.#checkOffsets(topic, kind, records, text);
      const problem = `${response.status} ${text.slice(0, 200)}`;
      if (response.status === 413) {
        throw new RecordRejectedError(
          `record too large for ${topic} behind ${this.endpoint}: a request of ${records.length} ` +
            `record(s) from ${kind} index ${records[0].index} was refused (413)`,
        );
      }
      if (response.status === 429 || response.status >= 500) {
        const retryAfterMs = Number(response.headers.get("retry-after") ?? 0) * 1000;
        throw new RetriableTargetError(problem, retryAfterMs);
      }
      throw new TargetError(`Kafka REST endpoint ${url} refused the records: ${problem}`);
    }, {
      ...(this.options.backoff ?? { baseMs: 200, capMs: 5_000 }),
      deadlineMs: this.options.giveUpAfterMs ?? 120_000,
      retryIf: isRetriable,
    }).catch((error) => {
      if (!isRetriable(error)) throw error;
      throw new TargetError(
        `Kafka REST endpoint ${url} still failing after ${attempts} attempt(s): ${error.message}`,
      );
    });
  }

  /** A 200 can still carry per-record errors: each one fails the send. */
  #checkOffsets(topic: string, kind: TableKind, records: OutgoingRecord[], text: string): void {
    let answer: ProduceAnswer;
    try {
      answer = JSON.parse(text) as ProduceAnswer;
    } catch {
      throw new TargetError(
        `Kafka REST endpoint answered non-JSON for ${topic}: ${text.slice(0, 200)}`,
      );
    }
    const offsets = answer.offsets ?? [];
    if (offsets.length !== records.length) {
      throw new TargetError(
        `Kafka REST endpoint acknowledged ${offsets.length} of ${records.length} records for ${topic}`,
      );
    }
    const failed = offsets.findIndex((offset) => offset.error_code || offset.error);
    if (failed >= 0) {
      throw new TargetError(
        `Kafka REST endpoint: ${kind} index ${records[failed].index} not written to ${topic}: ${
          offsets[failed].error ?? offsets[failed].error_code
        }`,
      );
    }
  }

  /** Nothing to close: each request stands alone. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
