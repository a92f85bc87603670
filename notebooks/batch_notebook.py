# Databricks notebook source
# MAGIC %md
# MAGIC # pinpipe batch: ingest what is new in the bucket, clean it, check it, answer the questions
# MAGIC
# MAGIC Reads the S3 sink connector's objects `topics/<id>.<kind>/partition=<p>/*.json` (one JSON record
# MAGIC per line) for pin, geo and user, **only the objects no earlier run has read** (Spark's file-source
# MAGIC streaming with `availableNow` and a checkpoint per kind), into Delta tables in the schema
# MAGIC `pinpipe_<id>` (widget `schema`):
# MAGIC
# MAGIC - `bronze_<kind>`: every record, each field as text, with its object, line, unknown fields and ingest time;
# MAGIC - `quarantine`: every line that is not a record (kind, object, line, raw text, reason: `invalid_utf8`,
# MAGIC   `empty_line`, `not_json`, `not_an_object`, `no_expected_fields`); a malformed line never fails the run;
# MAGIC - `silver_<kind>`: the cleaned rows, grown by a MERGE on a row hash, so exact duplicates are kept once;
# MAGIC - the answers, recomputed from silver, and displayed.
# MAGIC
# MAGIC The cleaning, the checks and the answers are the shared SQL files in `sql/` (the very files the
# MAGIC offline simulator runs in DuckDB, `deno task sim --from bucket --incremental`, and the parity test
# MAGIC runs on Spark). The checks judge the records and quarantined lines since the last run that passed
# MAGIC (this run's, unless an earlier run failed). An unknown field is ignored and named as schema drift.
# MAGIC When more than `max_bad_records` lines wait in quarantine, or a check fails (with `fail_on_checks`),
# MAGIC the notebook fails at its end, after writing everything; a retry fails again until the data is
# MAGIC fixed or `max_bad_records` lets the lines through. Running it again over the same objects adds nothing.
# MAGIC
# MAGIC **Access:** the cluster reads the bucket through its instance profile (or a Unity Catalog external
# MAGIC location). No keys, no mounts, no secrets in this notebook.
# MAGIC
# MAGIC **Files:** keep this notebook, `pinpipe_sql.py`, `pinpipe_incremental.py` and `sql/` together (a Git
# MAGIC folder / Repo), as in the project's `notebooks/` folder.

# COMMAND ----------

dbutils.widgets.text("pipeline_id", "0123456789ab", "Pipeline id (12 hex digits)")
dbutils.widgets.text("bucket", "", "Bucket URL (empty: s3://user-<id>-bucket)")
dbutils.widgets.text("partition", "0", "Topic partition to read (* for all)")
dbutils.widgets.dropdown("fail_on_checks", "true", ["true", "false"], "Fail when a check fails")
dbutils.widgets.text("max_bad_records", "0", "Quarantined lines a run may have before it fails")
dbutils.widgets.text("schema", "", "Schema of the Delta tables (empty: pinpipe_<id>)")
dbutils.widgets.text("checkpoint_root", "", "Checkpoints (empty: <bucket>/_pinpipe/checkpoints/batch)")

# COMMAND ----------

import os
import re
import sys

# The notebook's folder holds pinpipe_sql.py; Git folders put it on sys.path, older runtimes do not.
sys.path.insert(0, os.getcwd())
import pinpipe_incremental  # noqa: E402
import pinpipe_sql  # noqa: E402

pipeline_id = dbutils.widgets.get("pipeline_id").strip()
if not re.fullmatch(r"[0-9a-f]{12}", pipeline_id):
    raise ValueError(f"widget pipeline_id: {pipeline_id!r} must be 12 lower-case hex digits, like 12c0d092d679")
bucket = dbutils.widgets.get("bucket").strip().rstrip("/") or f"s3://user-{pipeline_id}-bucket"
partition = dbutils.widgets.get("partition").strip()
if not re.fullmatch(r"[0-9]+|\*", partition):
    raise ValueError(f"widget partition: {partition!r} must be a partition number or *")
max_bad_records = dbutils.widgets.get("max_bad_records").strip()
if not re.fullmatch(r"[0-9]+", max_bad_records):
    raise ValueError(f"widget max_bad_records: {max_bad_records!r} must be a whole number, like 0")
max_bad_records = int(max_bad_records)
schema = dbutils.widgets.get("schema").strip() or f"pinpipe_{pipeline_id}"
if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?", schema):
    raise ValueError(f"widget schema: {schema!r} must be a name such as pinpipe_{pipeline_id} or main.pinpipe")
checkpoint_root = dbutils.widgets.get("checkpoint_root").strip().rstrip("/") or f"{bucket}/_pinpipe/checkpoints/batch"

pinpipe_sql.configure(spark)  # record timestamps carry no zone: they mean UTC
tables = pinpipe_incremental.Tables(schema)

# COMMAND ----------

# Bronze and quarantine: only the objects no earlier run has read, every line kept one way or the other.
run = pinpipe_incremental.ingest(spark, tables, bucket, pipeline_id, partition, checkpoint_root)
for kind, added in run["added"].items():
    print(f"run {run['run_id']}: {kind} {added['bronze']} records to bronze, {added['quarantined']} lines to quarantine")

# COMMAND ----------

# Cleaning the records since the last run that passed (this run's, unless one failed): views
# <kind>_parsed (one typed row per record, with why each NULL is NULL) and <kind>.
cleaned = pinpipe_incremental.clean_pending(spark, tables, run)
for kind, df in cleaned.items():
    print(f"{kind}: {df.count()} cleaned rows to check and merge")
display(cleaned["pin"].limit(20))

# COMMAND ----------

# Data quality of those records: unparseable values, unexplained NULLs, row counts, ranges.
for file, df in pinpipe_sql.run_checks(spark):
    display(df)
failed = pinpipe_sql.failed_checks(spark)
count, by_reason, shown = pinpipe_incremental.quarantine_summary(spark, tables, run)
quarantine = pinpipe_incremental.quarantine_check(count, max_bad_records, by_reason, shown)
for name, failures, detail in [*pinpipe_incremental.drift_checks(spark), quarantine]:
    print(f"{'FAIL' if failures else 'PASS'}  {name}: {detail}")
if count:
    display(spark.table(tables.quarantine).where(f"run_id > {run['last_passed']}").orderBy("kind", "object", "line").limit(20))

# COMMAND ----------

# Silver grows by this run's new rows (exact duplicates of what it holds are left out).
for kind, added in pinpipe_incremental.merge_silver(spark, tables, run).items():
    print(f"silver_{kind}: {added} rows added")

# COMMAND ----------

# The answers, from all of silver; each file's header says what it answers and how.
for spec, answer in pinpipe_incremental.gold(spark, tables):
    print(f"{spec['name']}: {spec['title']}")
    display(answer)

# COMMAND ----------

# Everything is written; now a failed check or too many bad lines fails the run (and the DAG's task).
problems = [f"  {name}: {detail}" for name, _, detail in failed] if dbutils.widgets.get("fail_on_checks") == "true" else []
if quarantine[1]:
    problems.append(f"  {quarantine[0]}: {quarantine[2]}")
pinpipe_incremental.record_run(spark, tables, run, passed=not problems)
if problems:
    raise RuntimeError(f"{len(problems)} checks failed:\n" + "\n".join(problems))
