/**
 * The producers' `--via NAME [URL]`: the direct way (`kafka`, `kinesis`, the
 * default) or a proxy the records go through (`rest URL`, `api URL`), the
 * URL given in the same value or as the next argument. Both producer
 * commands read it here, and the targets that take a proxy URL check it here.
 *
 * @example
 * ```ts
 * import { viaFlag } from "./via.ts";
 * const via = viaFlag({ _: ["http://127.0.0.1:8082"], via: "rest" }, {
 *   direct: "kafka",
 *   proxy: "rest",
 *   urlName: "the endpoint URL",
 *   example: "http://host:port",
 * });
 * via.url?.href; // "http://127.0.0.1:8082/"
 * ```
 */
import { type Flags, stringFlag } from "../core/cli.ts";
import { UsageError } from "../core/errors.ts";

/** The two ways a command offers, and how its help names the proxy's URL. */
export interface ViaChoices<D extends string, P extends string> {
  /** The default: straight to the service. */
  direct: D;
  /** Through a proxy at a URL. */
  proxy: P;
  /** e.g. "the API's URL", for the error when it is missing. */
  urlName: string;
  /** e.g. "https://...", shown in that error. */
  example: string;
}

/** The way chosen: the direct one, or the proxy and its URL. */
export type Via<D extends string, P extends string> = { name: D; url?: undefined } | {
  name: P;
  url: URL;
};

/** Reads `--via`; bad values and stray arguments are `UsageError`s naming the flag. */
export function viaFlag<D extends string, P extends string>(
  flags: Flags,
  choices: ViaChoices<D, P>,
): Via<D, P> {
  const { direct, proxy } = choices;
  const [name, ...rest] = stringFlag(flags, "via", direct).split(/\s+/);
  if (name === proxy) {
    const url = rest[0] ?? flags._[0];
    if (!url) {
      throw new UsageError(
        `--via ${proxy} needs ${choices.urlName}: --via ${proxy} ${choices.example}`,
      );
    }
    return { name: proxy, url: viaUrl(proxy, url) };
  }
  if (name !== direct) {
    throw new UsageError(`--via must be ${direct} or ${proxy} URL, got "${name}"`);
  }
  if (flags._.length) throw new UsageError(`unexpected argument "${flags._[0]}"`);
  return { name: direct };
}

/** `url` as a URL, or a `UsageError`: `--via <proxy>: "<url>" is not a URL`. */
export function viaUrl(proxy: string, url: string | URL): URL {
  if (url instanceof URL) return url;
  try {
    return new URL(url);
  } catch {
    throw new UsageError(`--via ${proxy}: "${url}" is not a URL`);
  }
}
