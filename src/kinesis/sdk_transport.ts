/**
 * The Kinesis target's transport through the AWS SDK: DescribeStreamSummary,
 * CreateStream, PutRecords, and reading a stream's tail for the resume check.
 *
 * @example
 * ```ts
 * import { SdkTransport } from "./sdk_transport.ts";
 * const transport = new SdkTransport({ region: "us-east-1", endpoint: "http://127.0.0.1:14567" });
 * await transport.status("streaming-0123456789ab-pin"); // undefined: no such stream
 * transport.close();
 * ```
 */
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
  PutRecordsCommand,
} from "@aws-sdk/client-kinesis";
import { TargetError } from "../core/errors.ts";
import type { KinesisConfig } from "../core/config.ts";
import { kinesisClient } from "./client.ts";
import type { KinesisEntry } from "./batches.ts";
import { describeKinesisError, kinesisFailure } from "./errors.ts";
import { readTail, type ShardPositions, type TailRecord } from "./tail.ts";
import type { KinesisTransport, PutResult } from "./transport.ts";

/**
 * Reaches the streams of `config` with two SDK clients: PutRecords through
 * one that never retries by itself, nor lets the runtime resend it (the
 * target decides what an unanswered call needs), everything else through
 * one with the SDK's retries.
 */
export class SdkTransport implements KinesisTransport {
  readonly name = "kinesis";
  readonly where = "";
  readonly #client: KinesisClient;
  readonly #putClient: KinesisClient;

  constructor(config: KinesisConfig) {
    this.#client = kinesisClient(config);
    this.#putClient = kinesisClient(config, { maxAttempts: 1, freshConnections: true });
  }

  async status(stream: string): Promise<string | undefined> {
    try {
      const answer = await this.#client.send(
        new DescribeStreamSummaryCommand({ StreamName: stream }),
      );
      return answer.StreamDescriptionSummary?.StreamStatus;
    } catch (error) {
      if ((error as Error).name === "ResourceNotFoundException") return undefined;
      throw new TargetError(`cannot describe stream ${stream}: ${describeKinesisError(error)}`);
    }
  }

  async create(stream: string, shards: number): Promise<boolean> {
    try {
      await this.#client.send(new CreateStreamCommand({ StreamName: stream, ShardCount: shards }));
      return true;
    } catch (error) {
      if ((error as Error).name === "ResourceInUseException") return false;
      throw new TargetError(`cannot create stream ${stream}: ${describeKinesisError(error)}`);
    }
  }

  putName(stream: string): string {
    return `PutRecords to ${stream}`;
  }

  async put(stream: string, entries: readonly KinesisEntry[]): Promise<PutResult[]> {
    try {
      const answer = await this.#putClient.send(
        new PutRecordsCommand({
          StreamName: stream,
          Records: entries.map((entry) => ({ Data: entry.data, PartitionKey: entry.partitionKey })),
        }),
      );
      return answer.Records ?? [];
    } catch (error) {
      throw kinesisFailure(error);
    }
  }

  async readTail(stream: string, positions: ShardPositions, since?: Date): Promise<TailRecord[]> {
    try {
      return await readTail(this.#client, stream, positions, since);
    } catch (error) {
      throw new TargetError(
        `cannot read ${stream} after the checkpoint: ${describeKinesisError(error)}`,
      );
    }
  }

  close(): void {
    this.#client.destroy();
    this.#putClient.destroy();
  }
}
