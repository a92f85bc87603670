/**
 * Runs the Airflow DAG's pytest suite (dags/tests) on real Airflow from
 * `deno test`, so one command covers it. The venv `.cache/venv-airflow` (from
 * dags/requirements.txt) is made by `./infra.sh local install`, which `deno task test` runs first.
 */
import assert from "node:assert/strict";
import { ROOT } from "../support/processes.ts";

const PYTHON = `${ROOT}.cache/venv-airflow/bin/python`;

Deno.test("the DAG's pytest suite passes on real Airflow", async () => {
  try {
    await Deno.stat(PYTHON);
  } catch {
    assert.fail(
      `no Airflow venv at ${PYTHON}: make it with \`bash infra.sh local install\`` +
        " (deno task test runs it first)",
    );
  }
  const env = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([name]) =>
      !name.startsWith("AIRFLOW") && name !== "PYTHONPATH"
    ),
  );
  const { code, stdout, stderr } = await new Deno.Command(PYTHON, {
    args: ["-m", "pytest", "dags/tests", "-q"],
    cwd: ROOT,
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  assert.equal(code, 0, `pytest dags/tests exited ${code}:\n${out.slice(-4000)}`);
  const passed = /(\d+) passed/.exec(out);
  assert.ok(passed, `no "N passed" line in pytest's output:\n${out.slice(-2000)}`);
  assert.ok(Number(passed[1]) >= 10, `expected at least 10 DAG tests, ${passed[1]} passed`);
  assert.doesNotMatch(out, /\d+ (failed|error)/);
});
