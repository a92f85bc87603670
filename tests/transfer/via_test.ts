/** `--via NAME [URL]`: the direct way, a proxy with its URL in the value or after it, and the refusals. */
import assert from "node:assert/strict";
import { UsageError } from "../../src/core/errors.ts";
import { viaFlag, viaUrl } from "../../src/transfer/via.ts";

const choices = {
  direct: "kinesis",
  proxy: "api",
  urlName: "the API's URL",
  example: "https://...",
} as const;

Deno.test("--via: the direct way by default, a proxy's URL in the value or as the next argument", () => {
  assert.deepEqual(viaFlag({ _: [] }, choices), { name: "kinesis" });
  assert.deepEqual(viaFlag({ _: [], via: "kinesis" }, choices), { name: "kinesis" });
  const inValue = viaFlag({ _: [], via: "api http://127.0.0.1:28001/prod" }, choices);
  assert.equal(inValue.url?.href, "http://127.0.0.1:28001/prod");
  const after = viaFlag({ _: ["http://127.0.0.1:28001"], via: "api" }, choices);
  assert.equal(after.name, "api");
  assert.equal(after.url?.href, "http://127.0.0.1:28001/");
});

Deno.test("--via: what is refused, each a usage error naming the flag", () => {
  const refused = (flags: { _: string[]; via?: string }, message: string) =>
    assert.throws(
      () => viaFlag(flags, choices),
      (error) => error instanceof UsageError && error.message === message,
    );
  refused({ _: [], via: "api" }, "--via api needs the API's URL: --via api https://...");
  refused({ _: [], via: "api not-a-url" }, '--via api: "not-a-url" is not a URL');
  refused({ _: [], via: "firehose" }, '--via must be kinesis or api URL, got "firehose"');
  refused({ _: ["stray"], via: "kinesis" }, 'unexpected argument "stray"');
});

Deno.test("viaUrl: a URL passes as it is; text is parsed or refused", () => {
  const url = new URL("http://127.0.0.1:28001/");
  assert.equal(viaUrl("rest", url), url);
  assert.equal(viaUrl("rest", "http://h:1/x").href, "http://h:1/x");
  assert.throws(() => viaUrl("rest", "//no-scheme"), /--via rest: "\/\/no-scheme" is not a URL/);
});
