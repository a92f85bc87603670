/**
 * The fence around the patches that reach into kafkajs's internals
 * (pooled_encoder.ts, fast_encoder.ts, linear_grouping.ts,
 * idle_request_queue.ts). Each was written against one kafkajs release and
 * copies or replaces code of it: on any other release it could be slower
 * or, worse, different, so each refuses to install unless the kafkajs it
 * patches is exactly `KAFKAJS_PATCHED_FOR`. The module-cache swaps also
 * look up kafkajs's CommonJS modules here, by the paths this project
 * resolves them to.
 *
 * @example
 * ```ts
 * import { assertPatchedKafkajs } from "./kafkajs_internals.ts";
 * assertPatchedKafkajs("fast_encoder.ts"); // throws KafkajsVersionError on any other kafkajs
 * ```
 */
import Module, { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/** The kafkajs release the patches were written for and tested on. */
export const KAFKAJS_PATCHED_FOR = "2.2.4";

/** kafkajs is not the release the patches were written for. */
export class KafkajsVersionError extends Error {
  override name = "KafkajsVersionError";
}

/** Throws a KafkajsVersionError naming `patch` unless `installed` is `patchedFor`. */
export function checkKafkajsVersion(
  installed: string,
  patch: string,
  patchedFor = KAFKAJS_PATCHED_FOR,
): void {
  if (installed === patchedFor) return;
  throw new KafkajsVersionError(
    `kafkajs ${installed} is installed, but src/kafka/${patch} patches kafkajs ${patchedFor}'s ` +
      `internals: pin npm:kafkajs@${patchedFor} in deno.json, or check every patch against ` +
      `${installed} and update KAFKAJS_PATCHED_FOR in src/kafka/kafkajs_internals.ts`,
  );
}

/** The absolute path of kafkajs's `file` (e.g. `src/protocol/encoder.js`), as imports resolve it. */
export function kafkajsPath(file: string): string {
  return fileURLToPath(import.meta.resolve(`kafkajs/${file}`));
}

/** The directory of the kafkajs package the imports resolve to (ends with a slash). */
function kafkajsRoot(): string {
  return kafkajsPath("package.json").slice(0, -"package.json".length);
}

/** The version in the package.json of the kafkajs whose modules the imports (and the patches) get. */
export function installedKafkajsVersion(): string {
  const manifest = kafkajsPath("package.json");
  const { name, version } = createRequire(manifest)(manifest) as {
    name?: string;
    version?: string;
  };
  if (name !== "kafkajs" || typeof version !== "string") {
    throw new KafkajsVersionError(`${manifest} is not kafkajs's package.json (name ${name})`);
  }
  return version;
}

/** Throws unless the installed kafkajs is the release `patch` was written for. */
export function assertPatchedKafkajs(patch: string): void {
  checkKafkajsVersion(installedKafkajsVersion(), patch);
}

/** The CommonJS module cache, which kafkajs's own `require` reads. */
const moduleCache = (Module as unknown as { _cache: Record<string, { exports: unknown }> })._cache;

/** kafkajs's module `file` in the module cache (what kafkajs's `require` returns), once loaded. */
export function cachedKafkajsModule(file: string): { exports: unknown } | undefined {
  return moduleCache[kafkajsPath(file)];
}

/** The kafkajs modules loaded so far, as paths inside the package (`src/...`). */
export function loadedKafkajsModules(): string[] {
  const root = kafkajsRoot();
  return Object.keys(moduleCache).filter((path) => path.startsWith(root)).map((path) =>
    path.slice(root.length)
  );
}
