/**
 * A private moto S3 server (from `.cache/venv-moto`, which `./infra.sh local
 * install` makes) on 127.0.0.1:`port`, for a test that must not share the
 * stack's (`./infra.sh local up --aws`, port 14566): started, waited on until
 * ListBuckets answers, and stopped with its process.
 *
 * @example
 * ```ts
 * import { startMoto } from "./moto.ts";
 * const moto = await startMoto(21900);
 * moto.endpoint; // "http://127.0.0.1:21900"
 * await moto.close();
 * ```
 */
import { pollUntil } from "../../../src/util/retry.ts";
const ROOT = new URL("../../../", import.meta.url).pathname;

/** Where `./infra.sh local install` puts moto's server. */
export const MOTO_SERVER = `${ROOT}.cache/venv-moto/bin/moto_server`;

/** True when an S3 ListBuckets at `endpoint` answers 200. */
export async function motoAnswers(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(`${endpoint}/`, { signal: AbortSignal.timeout(2000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

/** Starts moto on `port`; rejects when it exits or does not answer within `waitMs`. */
export async function startMoto(
  port: number,
  waitMs = 30_000,
): Promise<{ endpoint: string; close(): Promise<void> }> {
  try {
    await Deno.stat(MOTO_SERVER);
  } catch {
    throw new Error(
      `no moto server at ${MOTO_SERVER}: make it with \`bash infra.sh local install\``,
    );
  }
  const child = new Deno.Command(MOTO_SERVER, {
    args: ["-H", "127.0.0.1", "-p", String(port)],
    stdout: "null",
    stderr: "null",
    stdin: "null",
  }).spawn();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const close = async () => {
    if (!exited) child.kill("SIGTERM");
    await status;
  };
  const answered = await pollUntil(async () => {
    if (await motoAnswers(endpoint)) return true;
    if (exited) throw new Error(`moto on port ${port} exited at start (is the port free?)`);
    return false;
  }, { everyMs: 200, timeoutMs: waitMs });
  if (!answered) {
    await close();
    throw new Error(`moto on port ${port} did not answer in ${waitMs} ms`);
  }
  return { endpoint, close };
}
