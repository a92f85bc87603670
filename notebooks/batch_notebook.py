# Databricks notebook source
# MAGIC %md
# MAGIC # pinpipe batch: clean the bucket's records, check them, answer the questions
# MAGIC
# MAGIC Reads the S3 sink connector's objects `topics/<id>.<kind>/partition=<p>/*.json` (one JSON record
# MAGIC per line) for pin, geo and user, runs the shared SQL files in `sql/` (the very files the offline
# MAGIC simulator runs in DuckDB and the parity test runs on Spark), fails if a data-quality check fails,
# MAGIC and displays every answer.
# MAGIC
# MAGIC **Access:** the cluster reads the bucket through its instance profile (or a Unity Catalog external
# MAGIC location). No keys, no mounts, no secrets in this notebook.
# MAGIC
# MAGIC **Files:** keep this notebook, `pinpipe_sql.py` and `sql/` together (a Git folder / Repo), as in
# MAGIC the project's `notebooks/` folder.

# COMMAND ----------

dbutils.widgets.text("pipeline_id", "0123456789ab", "Pipeline id (12 hex digits)")
dbutils.widgets.text("bucket", "", "Bucket URL (empty: s3://user-<id>-bucket)")
dbutils.widgets.text("partition", "0", "Topic partition to read (* for all)")
dbutils.widgets.dropdown("fail_on_checks", "true", ["true", "false"], "Fail when a check fails")

# COMMAND ----------

import os
import re
import sys

# The notebook's folder holds pinpipe_sql.py; Git folders put it on sys.path, older runtimes do not.
sys.path.insert(0, os.getcwd())
import pinpipe_sql  # noqa: E402

pipeline_id = dbutils.widgets.get("pipeline_id").strip()
if not re.fullmatch(r"[0-9a-f]{12}", pipeline_id):
    raise ValueError(f"widget pipeline_id: {pipeline_id!r} must be 12 lower-case hex digits, like 12c0d092d679")
bucket = dbutils.widgets.get("bucket").strip().rstrip("/") or f"s3://user-{pipeline_id}-bucket"
partition = dbutils.widgets.get("partition").strip()
if not re.fullmatch(r"[0-9]+|\*", partition):
    raise ValueError(f"widget partition: {partition!r} must be a partition number or *")

pinpipe_sql.configure(spark)  # record timestamps carry no zone: they mean UTC

# COMMAND ----------

# Raw views raw_pin, raw_geo, raw_user: every field as text (SQL casts them), malformed lines fail.
for kind in pinpipe_sql.KINDS:
    path = f"{bucket}/topics/{pipeline_id}.{kind}/partition={partition}/*.json"
    drift = pinpipe_sql.read_unknown_fields(spark, kind, path)  # fields beyond the table's: kept out, named
    pinpipe_sql.register_raw(kind, pinpipe_sql.read_raw_json(spark, kind, path), unknown_fields=drift)
    print(f"raw_{kind}: {spark.table(f'raw_{kind}').count()} records from {path}")

# COMMAND ----------

# Cleaning: views <kind>_parsed (one typed row per record, with why each NULL is NULL) and <kind>.
cleaned = pinpipe_sql.run_cleaning(spark)
for kind, df in cleaned.items():
    print(f"{kind}: {df.count()} cleaned rows")
display(cleaned["pin"].limit(20))

# COMMAND ----------

# Data quality: unparseable values, unexplained NULLs, row counts, ranges. Nothing is silently NULL.
for file, df in pinpipe_sql.run_checks(spark):
    display(df)
failed = pinpipe_sql.failed_checks(spark)
if failed and dbutils.widgets.get("fail_on_checks") == "true":
    lines = "\n".join(f"  {name}: {detail}" for name, _, detail in failed)
    raise RuntimeError(f"{len(failed)} data-quality checks failed:\n{lines}")

# COMMAND ----------

# The answers, each file's header says what it answers and how.
for spec, answer in pinpipe_sql.run_queries(spark):
    print(f"{spec['name']}: {spec['title']}")
    display(answer)
