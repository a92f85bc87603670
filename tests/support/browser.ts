/**
 * Headless Chromium for tests: find the binary, run it one-shot (`--dump-dom`
 * or `--screenshot`) in a fresh profile that is deleted afterwards, and
 * decode the PNG it writes. Each run is one process that exits by itself;
 * a run that outlives its time limit is killed.
 *
 * @example
 * ```ts
 * import { decodePng, dumpDom, findChromium, screenshot } from "./browser.ts";
 * const chromium = findChromium();
 * if (chromium) {
 *   const dom = await dumpDom(chromium, "file:///tmp/report/index.html");
 *   const png = decodePng(await screenshot(chromium, "file:///tmp/report/index.html"));
 * }
 * ```
 */
import { inflateSync } from "node:zlib";
import { pollUntil } from "../../src/util/retry.ts";

/** Browser binaries tried in order, after `$PINPIPE_CHROMIUM`. */
const CANDIDATES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];

/**
 * The path of a Chromium binary: `$PINPIPE_CHROMIUM`, else the first of
 * `chromium`, `chromium-browser`, `google-chrome` on `$PATH`, else null.
 *
 * @example
 * ```ts
 * findChromium(); // "/usr/bin/chromium"
 * ```
 */
export function findChromium(): string | null {
  return Deno.env.get("PINPIPE_CHROMIUM") || findOnPath(CANDIDATES);
}

/**
 * How a headless run is shaped.
 *
 * @example
 * ```ts
 * const options: HeadlessOptions = { width: 1200, height: 3000, timeoutMs: 20_000 };
 * ```
 */
export interface HeadlessOptions {
  /** Viewport in CSS pixels (device scale 1, so also screenshot pixels). */
  width?: number;
  height?: number;
  /** Virtual time the page's scripts get before the snapshot. */
  virtualTimeMs?: number;
  /** Kill the browser if it runs longer than this. */
  timeoutMs?: number;
}

/**
 * Runs Chromium once, headless, with no network services, and returns its
 * stdout. Throws with stderr's tail when it fails or outlives `timeoutMs`.
 * Its profile, config and cache live in a new temporary directory, deleted
 * afterwards. Chromium runs in a session of its own (`setsid`); every process
 * of that session, and the crash handlers (which start their own sessions but
 * name the temporary directory), is stopped before this returns.
 *
 * @example
 * ```ts
 * const html = await runHeadless("/usr/bin/chromium", "file:///tmp/a.html", ["--dump-dom"]);
 * ```
 */
export async function runHeadless(
  chromium: string,
  url: string,
  extraArgs: string[],
  { width = 1200, height = 3000, virtualTimeMs = 5000, timeoutMs = 30_000 }: HeadlessOptions = {},
): Promise<string> {
  const home = await Deno.makeTempDir({ prefix: "pinpipe_chromium_" });
  const setsid = findOnPath(["setsid"]);
  let session: number | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const command = new Deno.Command(setsid ?? chromium, {
      args: [
        ...(setsid ? ["--wait", chromium] : []),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-breakpad",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        `--user-data-dir=${home}/profile`,
        `--virtual-time-budget=${virtualTimeMs}`,
        `--window-size=${width},${height}`,
        ...extraArgs,
        url,
      ],
      // Nothing is written under the real home (crash reports, NSS database).
      env: { HOME: home, XDG_CONFIG_HOME: `${home}/config`, XDG_CACHE_HOME: `${home}/cache` },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    });
    const child = command.spawn();
    // A child of Deno is no group leader, so setsid makes it one without forking.
    if (setsid) session = child.pid;
    let timedOut = false;
    timer = setTimeout(() => {
      timedOut = true;
      stopProcesses(session, home, "SIGKILL").catch(() => {});
      try {
        child.kill("SIGKILL");
      } catch {
        // Already exited.
      }
    }, timeoutMs);
    const { code, stdout, stderr } = await child.output();
    if (timedOut || code !== 0) {
      const tail = new TextDecoder().decode(stderr).split("\n").slice(-15).join("\n");
      const how = timedOut ? `did not finish within ${timeoutMs} ms` : `exited with ${code}`;
      throw new Error(`${chromium} ${extraArgs.join(" ")} ${url} ${how}:\n${tail}`);
    }
    return new TextDecoder().decode(stdout);
  } finally {
    clearTimeout(timer);
    await waitForStop(session, home);
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
}

/** The first of `names` found as an executable file on `$PATH`, or null. */
function findOnPath(names: string[]): string | null {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":").filter(Boolean)) {
    for (const name of names) {
      try {
        const info = Deno.statSync(`${dir}/${name}`);
        if (info.isFile && (info.mode ?? 0o111) & 0o111) return `${dir}/${name}`;
      } catch {
        // Not in this directory.
      }
    }
  }
  return null;
}

/**
 * Live (not zombie) processes of this run, from Linux's /proc: members of
 * `session`, and any whose command line names `marker` (the run's own
 * temporary directory). Empty where there is no /proc.
 */
async function runProcesses(session: number | null, marker: string): Promise<number[]> {
  const found: number[] = [];
  try {
    for await (const entry of Deno.readDir("/proc")) {
      if (!/^\d+$/.test(entry.name)) continue;
      try {
        const stat = await Deno.readTextFile(`/proc/${entry.name}/stat`);
        // After "pid (comm) ": state, ppid, pgrp, session, ...
        const [state, , , sid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        if (state === "Z") continue;
        const cmdline = await Deno.readTextFile(`/proc/${entry.name}/cmdline`);
        if (Number(sid) === session || cmdline.includes(`${marker}/`)) {
          found.push(Number(entry.name));
        }
      } catch {
        // Exited meanwhile, or not ours to read.
      }
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  return found;
}

/** Sends `signal` to every live process of this run, by process id. */
async function stopProcesses(
  session: number | null,
  marker: string,
  signal: Deno.Signal,
): Promise<number[]> {
  const pids = await runProcesses(session, marker);
  for (const pid of pids) {
    try {
      Deno.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
  return pids;
}

/**
 * Waits until this run's processes are gone: SIGTERM, then SIGKILL after two
 * seconds; throws if any still runs after five.
 */
async function waitForStop(session: number | null, marker: string): Promise<void> {
  const start = Date.now();
  let left: number[] = [];
  const stopped = await pollUntil(async () => {
    const signal = Date.now() - start > 2000 ? "SIGKILL" : "SIGTERM";
    left = await stopProcesses(session, marker, signal);
    return left.length === 0;
  }, { everyMs: 50, timeoutMs: 5000 });
  if (!stopped) throw new Error(`Chromium processes ${left.join(", ")} did not stop`);
}

/**
 * The page's DOM after its scripts ran (`--dump-dom`).
 *
 * @example
 * ```ts
 * const dom = await dumpDom("/usr/bin/chromium", "file:///tmp/report/index.html");
 * ```
 */
export function dumpDom(
  chromium: string,
  url: string,
  options: HeadlessOptions = {},
): Promise<string> {
  return runHeadless(chromium, url, ["--dump-dom"], options);
}

/**
 * A PNG screenshot of the page's viewport (`--screenshot`), as bytes.
 *
 * @example
 * ```ts
 * const png = await screenshot("/usr/bin/chromium", "file:///tmp/report/index.html");
 * ```
 */
export async function screenshot(
  chromium: string,
  url: string,
  options: HeadlessOptions = {},
): Promise<Uint8Array> {
  const dir = await Deno.makeTempDir({ prefix: "pinpipe_shot_" });
  const path = `${dir}/screenshot.png`;
  try {
    await runHeadless(chromium, url, [`--screenshot=${path}`], options);
    return await Deno.readFile(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * A decoded image: 8-bit RGB or RGBA pixels, row by row.
 *
 * @example
 * ```ts
 * import { decodePng } from "./browser.ts";
 * const png = await Deno.readFile("screenshot.png");
 * const { width, height, channels, data } = decodePng(png);
 * ```
 */
export interface RgbImage {
  width: number;
  height: number;
  /** 3 (RGB) or 4 (RGBA) bytes per pixel. */
  channels: 3 | 4;
  data: Uint8Array;
}

const PNG_SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

/**
 * Decodes an 8-bit, non-interlaced RGB or RGBA PNG (what Chromium writes).
 * Other kinds throw, naming what was found.
 *
 * @example
 * ```ts
 * const image = decodePng(await Deno.readFile("shot.png"));
 * image.width; // 1200
 * ```
 */
export function decodePng(bytes: Uint8Array): RgbImage {
  if (bytes.length < 8 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) {
    throw new Error("not a PNG: the signature is missing");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let width = 0, height = 0, channels: 3 | 4 = 3;
  const idat: Uint8Array[] = [];
  for (let pos = 8; pos + 8 <= bytes.length;) {
    const length = view.getUint32(pos);
    const type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8));
    const body = bytes.subarray(pos + 8, pos + 8 + length);
    if (body.length !== length) throw new Error(`PNG chunk ${type} at byte ${pos} is truncated`);
    if (type === "IHDR") {
      width = view.getUint32(pos + 8);
      height = view.getUint32(pos + 12);
      const [depth, colour, , , interlace] = body.subarray(8, 13);
      if (depth !== 8 || (colour !== 2 && colour !== 6) || interlace !== 0) {
        throw new Error(
          `PNG of bit depth ${depth}, colour type ${colour}, interlace ${interlace}: ` +
            "only 8-bit non-interlaced RGB (2) or RGBA (6) is supported",
        );
      }
      channels = colour === 6 ? 4 : 3;
    } else if (type === "IDAT") {
      idat.push(body);
    } else if (type === "IEND") {
      break;
    }
    pos += 12 + length;
  }
  if (width === 0 || height === 0) throw new Error("PNG has no IHDR chunk");
  const raw = inflateSync(concat(idat));
  const stride = width * channels;
  if (raw.length !== height * (stride + 1)) {
    throw new Error(`PNG image data is ${raw.length} bytes, expected ${height * (stride + 1)}`);
  }
  const data = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) unfilterRow(raw, data, y, stride, channels);
  return { width, height, channels, data };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Undoes one row's PNG filter (None, Sub, Up, Average, Paeth) into `out`. */
function unfilterRow(raw: Uint8Array, out: Uint8Array, y: number, stride: number, bpp: number) {
  const filter = raw[y * (stride + 1)];
  const input = y * (stride + 1) + 1;
  const row = y * stride;
  const previous = row - stride;
  for (let i = 0; i < stride; i++) {
    const a = i >= bpp ? out[row + i - bpp] : 0;
    const b = y > 0 ? out[previous + i] : 0;
    const c = y > 0 && i >= bpp ? out[previous + i - bpp] : 0;
    let predictor: number;
    switch (filter) {
      case 0:
        predictor = 0;
        break;
      case 1:
        predictor = a;
        break;
      case 2:
        predictor = b;
        break;
      case 3:
        predictor = (a + b) >> 1;
        break;
      case 4: {
        const p = a + b - c;
        const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
        break;
      }
      default:
        throw new Error(`PNG row ${y} has unknown filter type ${filter}`);
    }
    out[row + i] = (raw[input + i] + predictor) & 0xff;
  }
}

/**
 * A rectangle in image pixels.
 *
 * @example
 * ```ts
 * const rect: Rect = { x: 32, y: 480, width: 1136, height: 380 };
 * ```
 */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Counts the pixels in `rect` whose colour is saturated (the spread between
 * the largest and smallest of R, G, B is at least `minSpread`): chart fills,
 * not black or grey text, not white paper.
 *
 * @example
 * ```ts
 * import { colouredPixels, decodePng } from "./browser.ts";
 * const image = decodePng(await Deno.readFile("screenshot.png"));
 * colouredPixels(image, { x: 0, y: 0, width: 100, height: 100 }); // 0 on a white page
 * ```
 */
export function colouredPixels(image: RgbImage, rect: Rect, minSpread = 48): number {
  let count = 0;
  const x0 = Math.max(0, Math.floor(rect.x)), x1 = Math.min(image.width, rect.x + rect.width);
  const y0 = Math.max(0, Math.floor(rect.y)), y1 = Math.min(image.height, rect.y + rect.height);
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const at = (y * image.width + x) * image.channels;
      const r = image.data[at], g = image.data[at + 1], b = image.data[at + 2];
      if (Math.max(r, g, b) - Math.min(r, g, b) >= minSpread) count++;
    }
  }
  return count;
}
