/**
 * A TCP proxy the chaos run controls, between the pipeline's commands and
 * one server: bytes pass through unchanged until the run asks for a
 * network fault. `stall` holds every byte in both directions (the sockets
 * stay open, as behind a dead link) until `heal`; `delay` holds each chunk
 * for a while before passing it on; `reset` ends every open connection
 * with a TCP RST, whatever request is half-way through it.
 *
 * @example
 * ```ts
 * import { TcpProxy } from "./tcp_proxy.ts";
 * const proxy = new TcpProxy("mysql", 32010, 32000);
 * await proxy.listen();
 * proxy.reset();
 * await proxy.close();
 * ```
 */
import net from "node:net";

/** What the proxy does to the bytes at the moment. */
type Mode = { kind: "pass" } | { kind: "stall" } | { kind: "delay"; ms: number };

/** One client connection and its connection to the server. */
interface Pair {
  client: net.Socket;
  server: net.Socket;
}

export class TcpProxy {
  /** Connections accepted so far. */
  accepted = 0;
  /** Connections ended by `reset`. */
  resets = 0;
  #mode: Mode = { kind: "pass" };
  #pairs = new Set<Pair>();
  /** Chunks held while stalled, released in order by `heal`. */
  #held: (() => void)[] = [];
  #server: net.Server | undefined;

  constructor(readonly name: string, readonly port: number, readonly upstreamPort: number) {}

  listen(): Promise<void> {
    const server = net.createServer((client) => this.#accept(client));
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
  }

  #accept(client: net.Socket): void {
    this.accepted++;
    const server = net.connect(this.upstreamPort, "127.0.0.1");
    const pair = { client, server };
    this.#pairs.add(pair);
    const end = () => {
      this.#pairs.delete(pair);
      client.destroy();
      server.destroy();
    };
    client.on("error", end).on("close", end);
    server.on("error", end).on("close", end);
    this.#pipe(client, server);
    this.#pipe(server, client);
  }

  /** Copies `from` to `to` through the current mode, keeping the chunks in order. */
  #pipe(from: net.Socket, to: net.Socket): void {
    let queue = Promise.resolve();
    from.on("data", (chunk) => {
      from.pause();
      queue = queue.then(() => this.#pass()).then(() => {
        if (!to.destroyed) to.write(chunk);
        from.resume();
      });
    });
  }

  /** Resolves when a chunk may go on. */
  #pass(): Promise<void> {
    const mode = this.#mode;
    if (mode.kind === "stall") return new Promise((resolve) => this.#held.push(resolve));
    if (mode.kind === "delay") return new Promise((resolve) => setTimeout(resolve, mode.ms));
    return Promise.resolve();
  }

  /** Holds every byte until `heal`. */
  stall(): void {
    this.#mode = { kind: "stall" };
  }

  /** Holds each chunk `ms` before passing it on, until `heal`. */
  delay(ms: number): void {
    this.#mode = { kind: "delay", ms };
  }

  /** Ends every open connection with an RST; returns how many. */
  reset(): number {
    const pairs = [...this.#pairs];
    for (const { client, server } of pairs) {
      client.resetAndDestroy();
      server.resetAndDestroy();
    }
    this.resets += pairs.length;
    return pairs.length;
  }

  /** Back to passing bytes through; what a stall held goes on. */
  heal(): void {
    this.#mode = { kind: "pass" };
    for (const release of this.#held.splice(0)) release();
  }

  async close(): Promise<void> {
    this.heal();
    for (const { client, server } of this.#pairs) {
      client.destroy();
      server.destroy();
    }
    await new Promise<void>((resolve) =>
      this.#server ? this.#server.close(() => resolve()) : resolve()
    );
  }
}
