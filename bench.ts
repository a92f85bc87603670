/**
 * `deno task bench <name>`: the benchmarks. Each one prints its figures and
 * the comparison the issue asks for, as a ratio measured in the same run,
 * since these machines are shared and noisy. Never run from the tests.
 */
const BENCHES: Record<string, () => Promise<{ main: (args: string[]) => Promise<number> }>> = {
  generate: () => import("./bench/generate.ts"),
  sim: () => import("./bench/sim.ts"),
  batch: () => import("./bench/batch.ts"),
  stream: () => import("./bench/stream.ts"),
  stack: () => import("./bench/stack.ts"),
};

if (import.meta.main) {
  const [name, ...rest] = Deno.args;
  const load = name ? BENCHES[name] : undefined;
  if (!load) {
    console.error(`usage: deno task bench <${Object.keys(BENCHES).join("|")}> [flags]`);
    Deno.exit(2);
  }
  Deno.exit(await (await load()).main(rest));
}
