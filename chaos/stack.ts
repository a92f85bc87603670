/**
 * The chaos run's own local stack, shaped like the one users run on AWS:
 * `infra.sh local` with a directory and ports of its own (as a second
 * stack beside the shared one), Kafka as a cluster of three KRaft nodes
 * (topics created with replication factor 3 and `min.insync.replicas=2`,
 * as on MSK, so a killed broker is a failover), kinesalite kept on disk
 * (`PINPIPE_KINESIS_PATH`) so that killing it loses no stream, and the
 * environment that points pinpipe's commands at it: at MariaDB and
 * kinesalite through the run's TCP proxies (see tcp_proxy.ts). Kafka
 * clients learn the brokers' addresses from the metadata, so the third
 * node advertises its proxy's port (`PINPIPE_KAFKA_ADVERTISED_PORT_3`):
 * the clients and the other brokers' replica fetches reach it through the
 * proxy, the first two nodes directly.
 *
 * When the run is root, the bucket and the checkpoint directory are small
 * tmpfs mounts of their own, which `fillDisk` shrinks to what they hold
 * (a full disk) and `freeDisk` grows back.
 *
 * @example
 * ```ts
 * import { ChaosStack } from "./stack.ts";
 * const stack = new ChaosStack("/tmp/chaos", 22300);
 * await stack.up();
 * await stack.down();
 * ```
 */
import { loadConfig, type PipelineConfig } from "../src/core/config.ts";
import { dirname, join } from "node:path";
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { type KafkaNode, LocalStack, type Service } from "../infra/local/local_stack.ts";
import { startMoto } from "../infra/local/stand_ins/moto.ts";
import { s3Client } from "../src/util/s3_client.ts";
import { TcpProxy } from "./tcp_proxy.ts";

/** A service of the chaos stack: MariaDB, kinesalite or one of the three Kafka nodes. */
export type ChaosService = Service | KafkaNode;
export const BROKERS: readonly KafkaNode[] = ["kafka", "kafka2", "kafka3"];
export const SERVICES: readonly ChaosService[] = ["mysql", ...BROKERS, "kinesis"];
/** The servers the commands reach through a proxy. */
export type Proxied = "mysql" | "kinesis" | "kafka3";
export const PROXIED: readonly Proxied[] = ["mysql", "kinesis", "kafka3"];
/** The directories that are tmpfs mounts of their own when the run is root. */
export type Volume = "bucket" | "state";
export const VOLUMES: readonly Volume[] = ["bucket", "state"];
/** The S3 bucket (on moto's server) the random pipeline's sink writes. */
export const S3_BUCKET = "pinpipe-chaos-random";
/** The size of each mount while the disk is not full. */
const VOLUME_SIZE = "512m";

/**
 * A stack in `dir` on ports from `base`: MariaDB base, Kafka nodes base+1,
 * +3, +5 (their controllers +2, +4, +6), kinesalite base+7, and the proxies
 * of MariaDB, kinesalite and the third Kafka node base+8, base+9, base+10;
 * moto's S3 server base+11.
 */
export class ChaosStack extends LocalStack {
  /** `infra.sh` runs one at a time: two `up`s at once could both start a service. */
  #infraQueue: Promise<unknown> = Promise.resolve();
  readonly proxies: Record<Proxied, TcpProxy>;
  /** Mounted tmpfs volumes (none unless root). */
  readonly mounted = new Set<Volume>();
  /** moto's S3 endpoint. */
  readonly s3Endpoint: string;
  #moto: { close(): Promise<void> } | undefined;

  constructor(dir: string, readonly base: number) {
    super(dir, { mysql: base, kafka: base + 1, controller: base + 2, kinesis: base + 7 }, {
      kinesisPath: `${dir}/kinesalite`,
      kafkaBrokers: 3,
    });
    this.proxies = {
      mysql: new TcpProxy("mysql", base + 8, base),
      kinesis: new TcpProxy("kinesis", base + 9, base + 7),
      kafka3: new TcpProxy("kafka3", base + 10, base + 5),
    };
    this.s3Endpoint = `http://127.0.0.1:${base + 11}`;
  }

  /** The environment of `infra.sh` (the servers' own ports). */
  override env(): Record<string, string> {
    return {
      ...super.env(),
      PINPIPE_KAFKA_ADVERTISED_PORT_3: String(this.proxies.kafka3.port),
      PINPIPE_BUCKET: `${this.dir}/bucket`,
      NO_COLOR: "1",
    };
  }

  /** The environment of every pipeline command: MariaDB and kinesalite through the proxies. */
  commandEnv(): Record<string, string> {
    return {
      ...this.env(),
      PINPIPE_MYSQL_PORT: String(this.proxies.mysql.port),
      PINPIPE_KINESIS_ENDPOINT: `http://127.0.0.1:${this.proxies.kinesis.port}`,
      // moto takes any credentials; the sink's AWS credential chain must find some.
      AWS_ACCESS_KEY_ID: "local",
      AWS_SECRET_ACCESS_KEY: "local",
    };
  }

  /** The configuration of pipeline `id` on this stack, reaching the servers directly. */
  config(id: string): PipelineConfig {
    return loadConfig({ _: [], id }, this.env(), {});
  }

  /** `infra.sh local ARGS`, after any still running; its output also goes to `infra.log`. */
  infra(...args: string[]): Promise<{ code: number; output: string }> {
    const run = this.#infraQueue.then(() => this.#infra(args));
    this.#infraQueue = run.catch(() => {});
    return run;
  }

  async #infra(args: string[]): Promise<{ code: number; output: string }> {
    const run = await this.runInfra(args);
    const output = run.stdout + run.stderr;
    await Deno.writeTextFile(
      `${this.dir}/infra.log`,
      `$ infra.sh local ${args.join(" ")}\n${output}`,
      {
        append: true,
      },
    );
    return { code: run.code, output };
  }

  /** Mounts the volumes (when root), starts every service and the proxies; throws if not. */
  async up(): Promise<void> {
    if (Deno.uid() === 0) {
      for (const volume of VOLUMES) {
        const path = `${this.dir}/${volume}`;
        await Deno.mkdir(path, { recursive: true });
        await mount(["-t", "tmpfs", "-o", `size=${VOLUME_SIZE}`, `chaos-${volume}`, path]);
        this.mounted.add(volume);
      }
    }
    // Listening first: the third Kafka node is reached through its proxy from its start.
    for (const proxy of Object.values(this.proxies)) await proxy.listen();
    const { code, output } = await this.infra("up");
    if (code !== 0) throw new Error(`infra.sh local up failed:\n${output}`);
    this.#moto = await startMoto(this.base + 11);
    const s3 = this.s3();
    try {
      await s3.send(new CreateBucketCommand({ Bucket: S3_BUCKET }));
    } finally {
      s3.destroy();
    }
  }

  /** Copies the S3 bucket's objects under `prefix` to `toDir`, with their keys as paths. */
  async copyS3(prefix: string, toDir: string): Promise<number> {
    const s3 = this.s3();
    let copied = 0;
    try {
      let token: string | undefined;
      do {
        const page = await s3.send(
          new ListObjectsV2Command({ Bucket: S3_BUCKET, Prefix: prefix, ContinuationToken: token }),
        );
        for (const { Key } of page.Contents ?? []) {
          const object = await s3.send(new GetObjectCommand({ Bucket: S3_BUCKET, Key }));
          const path = join(toDir, Key!);
          await Deno.mkdir(dirname(path), { recursive: true });
          await Deno.writeTextFile(path, await object.Body!.transformToString());
          copied++;
        }
        token = page.NextContinuationToken;
      } while (token);
    } finally {
      s3.destroy();
    }
    return copied;
  }

  /** A client of moto's S3 server. */
  s3() {
    return s3Client({
      region: "us-east-1",
      endpoint: this.s3Endpoint,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
  }

  /** Shrinks a volume to what it holds, so the next write finds no space. */
  async fillDisk(volume: Volume): Promise<void> {
    const path = `${this.dir}/${volume}`;
    const { bsize, blocks, bfree } = await statfs(path);
    const usedKiB = Math.max(4, Math.ceil(((blocks - bfree) * bsize) / 1024));
    await mount(["-o", `remount,size=${usedKiB}k`, path]);
  }

  /** Gives a volume its space back. */
  async freeDisk(volume: Volume): Promise<void> {
    await mount(["-o", `remount,size=${VOLUME_SIZE}`, `${this.dir}/${volume}`]);
  }

  /** Stops the proxies and this stack's services (by their pid files, nothing else). */
  async down(): Promise<void> {
    for (const proxy of Object.values(this.proxies)) await proxy.close();
    await this.#moto?.close();
    await this.infra("down");
  }

  /** Copies the volumes' contents beside them (`bucket.kept`) and unmounts them. */
  async unmount(keep: boolean): Promise<void> {
    for (const volume of this.mounted) {
      const path = `${this.dir}/${volume}`;
      if (keep) await run("cp", ["-a", path, `${path}.kept`]);
      await run("umount", [path]);
    }
    this.mounted.clear();
  }
}

async function run(command: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" }).output();
  if (out.code !== 0) {
    throw new Error(
      `${command} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr).trim()}`,
    );
  }
}

const mount = (args: string[]) => run("mount", args);

/** Block size, blocks and free blocks of the file system holding `path` (`stat -f`). */
async function statfs(path: string): Promise<{ bsize: number; blocks: number; bfree: number }> {
  const out = await new Deno.Command("stat", {
    args: ["-f", "-c", "%S %b %f", path],
    stdout: "piped",
  }).output();
  const [bsize, blocks, bfree] = new TextDecoder().decode(out.stdout).trim().split(" ").map(
    Number,
  );
  return { bsize, blocks, bfree };
}
