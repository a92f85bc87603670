# Databricks notebook source
# MAGIC %md
# MAGIC # pinpipe streaming: Kinesis streams to cleaned Delta tables
# MAGIC
# MAGIC For each of pin, geo and user: read the Kinesis stream `streaming-<id>-<kind>` from the earliest
# MAGIC record and check each record's `data` by the local consumer's rules. A malformed record (not
# MAGIC UTF-8, empty, not JSON, not an object, none or only some of the table's fields, a value of the
# MAGIC wrong type, an index that is not a whole number) goes to the Delta table `<id>_rejects` with
# MAGIC its stream, shard, sequence number, raw data and a reason named in `sql/quarantine_reasons.json`;
# MAGIC it never becomes a row of NULLs. A field the table does not have is ignored and counted as
# MAGIC schema drift in `<id>_schema_drift`; the record is kept. Good records are parsed with an
# MAGIC all-string schema, exact repeats dropped within a bounded watermark, and every micro-batch runs
# MAGIC the same cleaning SQL files as the batch notebook and the offline simulator
# MAGIC (`sql/staging/parse_<kind>.sql`, `sql/staging/clean_<kind>.sql`). Each batch is merged into the
# MAGIC Delta table `<id>_<kind>_table`, inserting only rows the table does not hold yet, so a replayed
# MAGIC batch (foreachBatch is at-least-once) or a repeat older than the watermark adds nothing.
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
            rejects_table=f"{pipeline_id}_rejects",
            drift_table=f"{pipeline_id}_schema_drift",
            available_now=available_now,
            dedupe_window=dedupe_window,
        )
    )

# COMMAND ----------

# With the available_now trigger, wait for every stream to catch up, then show the tables, the
# rejects counted by stream and reason, and the schema drift counted by stream and field.
if available_now:
    for query in queries:
        query.awaitTermination()
    for kind in pinpipe_sql.KINDS:
        display(spark.table(f"{pipeline_id}_{kind}_table").limit(20))
    display(spark.table(f"{pipeline_id}_rejects").groupBy("stream", "reason").count().orderBy("stream", "reason"))
    display(
        spark.table(f"{pipeline_id}_schema_drift")
        .groupBy("stream", "field")
        .agg({"records": "sum"})
        .orderBy("stream", "field")
    )
