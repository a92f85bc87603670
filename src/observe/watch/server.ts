/**
 * The watch server: reads the ledger about once a second, keeps the last
 * 15 minutes in memory (`history.ts`), and serves, on 127.0.0.1 only:
 *
 * - `/`             the page (self-contained, see `page.ts`);
 * - `/ledger.json`  the newest ledger with each stage's state and rate;
 * - `/history.json` the points of the last 15 minutes;
 * - `/events`       server-sent events: `history` once, then `view` after every read.
 *
 * Once the stream path has started, the eight answers over its cleaned
 * tables are made again every 10 s, beside the reads, and sent with them.
 *
 * A read that fails as a whole (it should not: the ledger reports stages it
 * cannot read) is sent as an error beside the last good ledger, and the
 * reads go on: the page never just stops updating.
 *
 * @example
 * ```ts
 * import { startWatch } from "./server.ts";
 * // const server = await startWatch(reader, { port: 8750 }); console.log(server.url);
 * ```
 */
import type { Ledger, LedgerReader } from "../ledger.ts";
import { reason } from "../stage.ts";
import { readStreamAnswers } from "../stream_answers.ts";
import type { QueryAnswer } from "../../warehouse/duckdb_runner.ts";
import { History, type HistoryView, type Point } from "./history.ts";
import { CONTENT_SECURITY_POLICY, renderPage } from "./page.ts";

/** What `/ledger.json` and each `view` event carry. */
export interface WatchView {
  ledger: Ledger | null;
  view: HistoryView;
  point: Point | null;
  /** Why the last read failed as a whole, if it did. */
  error: string | null;
  /** How long the last read took, in ms. */
  readMs: number;
  /** The eight answers over the streaming tables, remade every `ANSWERS_EVERY_MS`. */
  answers: StreamAnswers | null;
}

/** The answers over the streaming tables at one moment, or why they could not be made. */
export interface StreamAnswers {
  /** When they were begun: the consumer's file as it was then. */
  at: string;
  answers: QueryAnswer[];
  error?: string;
}

/** How often the answers are made again (they run every mart over the tables). */
export const ANSWERS_EVERY_MS = 10_000;

/** How the server runs. */
export interface WatchOptions {
  port: number;
  /** Between the starts of two reads. */
  intervalMs?: number;
}

/** A running watch server. */
export interface WatchServer {
  url: string;
  /** Stops reading, ends the event streams, closes the listener. */
  close(): Promise<void>;
}

const encoder = new TextEncoder();
const event = (name: string, data: unknown) =>
  encoder.encode(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);

/** Starts reading `reader` and serving on 127.0.0.1:`port` (0: any free port). */
export async function startWatch(
  reader: LedgerReader,
  { port, intervalMs = 1000 }: WatchOptions,
): Promise<WatchServer> {
  const history = new History();
  const clients = new Set<ReadableStreamDefaultController<Uint8Array>>();
  let current: WatchView = {
    ledger: null,
    view: history.view(),
    point: null,
    error: null,
    readMs: 0,
    answers: null,
  };
  const page = await renderPage();
  const aborted = new AbortController();

  const server = Deno.serve({
    hostname: "127.0.0.1",
    port,
    signal: aborted.signal,
    onListen: () => {},
  }, (request) => {
    const { pathname } = new URL(request.url);
    const json = (body: unknown) =>
      new Response(JSON.stringify(body), {
        headers: { "content-type": "application/json", "cache-control": "no-store" },
      });
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("GET only\n", { status: 405 });
    }
    switch (pathname) {
      case "/":
        return new Response(page, {
          headers: {
            "content-type": "text/html; charset=utf-8",
            "content-security-policy": CONTENT_SECURITY_POLICY,
            "cache-control": "no-store",
          },
        });
      case "/ledger.json":
        return json(current);
      case "/history.json":
        return json(history.points());
      case "/events": {
        let self: ReadableStreamDefaultController<Uint8Array>;
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            self = controller;
            controller.enqueue(event("history", history.points()));
            if (current.ledger) controller.enqueue(event("view", current));
            clients.add(controller);
          },
          cancel() {
            clients.delete(self);
          },
        });
        return new Response(body, {
          headers: {
            "content-type": "text/event-stream",
            "cache-control": "no-store",
            connection: "keep-alive",
          },
        });
      }
      default:
        return new Response("not found\n", { status: 404 });
    }
  });

  const broadcast = () => {
    const bytes = event("view", current);
    for (const client of clients) {
      try {
        client.enqueue(bytes);
      } catch {
        clients.delete(client);
      }
    }
  };

  // Made beside the reads, never holding them up; one at a time.
  let answering: Promise<void> | undefined;
  let answeredAt = 0;
  const refreshAnswers = () => {
    if (answering || Date.now() - answeredAt < ANSWERS_EVERY_MS) return;
    answeredAt = Date.now();
    // The answers are of the consumer's file as copied now, at their start.
    const begun = new Date(answeredAt).toISOString();
    answering = readStreamAnswers(reader.consumerDb, reader.config.id).then(
      (answers) => {
        current.answers = { at: begun, answers: answers ?? [] };
      },
      (error) => {
        current.answers = {
          at: begun,
          answers: current.answers?.answers ?? [],
          error: reason(error),
        };
      },
    ).finally(() => answering = undefined);
  };

  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const started = Date.now();
      try {
        const ledger = await reader.read();
        const point = history.add(ledger);
        current = {
          ledger,
          view: history.view(),
          point,
          error: null,
          readMs: Date.now() - started,
          answers: current.answers,
        };
        if (ledger.stream.started) refreshAnswers();
      } catch (error) {
        current = { ...current, error: reason(error), readMs: Date.now() - started };
      }
      broadcast();
      const wait = Math.max(50, intervalMs - (Date.now() - started));
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  })();

  const { port: bound } = server.addr as Deno.NetAddr;
  return {
    url: `http://127.0.0.1:${bound}/`,
    async close() {
      stopped = true;
      await loop;
      await answering;
      for (const client of clients) {
        try {
          client.close();
        } catch { /* already gone */ }
      }
      clients.clear();
      aborted.abort();
      await server.finished;
    },
  };
}
