# Databricks notebook source
# MAGIC %md
# MAGIC # pinpipe streaming: Kinesis streams to cleaned Delta tables
# MAGIC
# MAGIC For each of pin, geo and user: read the Kinesis stream `streaming-<id>-<kind>` from the earliest
# MAGIC record, parse each record's `data` with an all-string schema, drop exact repeats within a bounded
# MAGIC watermark, and in every micro-batch run the same cleaning SQL files as the batch notebook and the
# MAGIC offline simulator (`sql/staging/parse_<kind>.sql`, `sql/staging/clean_<kind>.sql`). Each batch
# MAGIC is merged into the Delta table `<id>_<kind>_table`, inserting only rows the table does not hold
# MAGIC yet, so a replayed batch (foreachBatch is at-least-once) or a repeat older than the watermark
# MAGIC adds nothing.
# MAGIC
# MAGIC **Access:** the cluster's instance profile (or the `role_arn` widget, a role ARN, not a secret)
# MAGIC reads Kinesis. No keys in this notebook. The logic lives in `pinpipe_stream.py` (tested on
# MAGIC local Spark with Delta by the project's parity test); this notebook wires it to Kinesis.

# COMMAND ----------

dbutils.widgets.text("pipeline_id", "0123456789ab", "Pipeline id (12 hex digits)")
dbutils.widgets.text("region", "us-east-1", "AWS region")
dbutils.widgets.text("role_arn", "", "IAM role to assume for Kinesis (empty: instance profile)")
dbutils.widgets.text("checkpoint_root", "", "Checkpoint root (empty: /pinpipe/<id>/checkpoints)")
dbutils.widgets.text("dedupe_window", "10 minutes", "How long a repeat is remembered in state")
dbutils.widgets.dropdown("trigger", "continuous", ["continuous", "available_now"], "Trigger")

# COMMAND ----------

import os
import re
import sys

sys.path.insert(0, os.getcwd())  # pinpipe_sql.py and pinpipe_stream.py sit next to this notebook
import pinpipe_sql  # noqa: E402
import pinpipe_stream  # noqa: E402

pipeline_id = dbutils.widgets.get("pipeline_id").strip()
if not re.fullmatch(r"[0-9a-f]{12}", pipeline_id):
    raise ValueError(f"widget pipeline_id: {pipeline_id!r} must be 12 lower-case hex digits, like 12c0d092d679")
region = dbutils.widgets.get("region").strip()
role_arn = dbutils.widgets.get("role_arn").strip()
checkpoint_root = dbutils.widgets.get("checkpoint_root").strip().rstrip("/") or f"/pinpipe/{pipeline_id}/checkpoints"
dedupe_window = dbutils.widgets.get("dedupe_window").strip()
available_now = dbutils.widgets.get("trigger") == "available_now"

pinpipe_sql.configure(spark)  # record timestamps carry no zone: they mean UTC

# COMMAND ----------

queries = []
for kind in pinpipe_sql.KINDS:
    reader = (
        spark.readStream.format("kinesis")
        .option("streamName", f"streaming-{pipeline_id}-{kind}")
        .option("initialPosition", "earliest")
        .option("region", region)
    )
    if role_arn:
        reader = reader.option("roleArn", role_arn)
    queries.append(
        pinpipe_stream.start(
            reader.load(),
            kind,
            target=f"{pipeline_id}_{kind}_table",
            checkpoint=f"{checkpoint_root}/{kind}",
            available_now=available_now,
            dedupe_window=dedupe_window,
        )
    )

# COMMAND ----------

# With the available_now trigger, wait for every stream to catch up, then show the tables.
if available_now:
    for query in queries:
        query.awaitTermination()
    for kind in pinpipe_sql.KINDS:
        display(spark.table(f"{pipeline_id}_{kind}_table").limit(20))
