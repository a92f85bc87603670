# Databricks notebook source
# MAGIC %md
# MAGIC # pinpipe streaming: Kinesis streams to cleaned Delta tables
# MAGIC
# MAGIC For each of pin, geo and user: read the Kinesis stream `streaming-<id>-<kind>` from the earliest
# MAGIC record, parse each record's `data` with an all-string schema, drop exact repeats within a bounded
# MAGIC watermark, and in every micro-batch run the same cleaning SQL files as the batch notebook and the
# MAGIC offline simulator (`sql/parse_<kind>.sql`, `sql/clean_<kind>.sql`). Each batch is merged into the
# MAGIC Delta table `<id>_<kind>_table`, inserting only rows the table does not hold yet, so a replayed
# MAGIC batch (foreachBatch is at-least-once) or a repeat older than the watermark adds nothing.
# MAGIC
# MAGIC **Access:** the cluster's instance profile (or the `role_arn` widget, a role ARN, not a secret)
# MAGIC reads Kinesis. No keys in this notebook.

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

from pyspark.sql import functions as F

sys.path.insert(0, os.getcwd())  # pinpipe_sql.py sits next to this notebook
import pinpipe_sql  # noqa: E402

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


def read_stream(kind):
    """The stream's records as raw rows: every field text, plus Kinesis' arrival time for the watermark."""
    reader = (
        spark.readStream.format("kinesis")
        .option("streamName", f"streaming-{pipeline_id}-{kind}")
        .option("initialPosition", "earliest")
        .option("region", region)
    )
    if role_arn:
        reader = reader.option("roleArn", role_arn)
    columns = pinpipe_sql.load_manifest()["raw_columns"][kind]
    return (
        reader.load()
        .select(
            F.from_json(F.col("data").cast("string"), pinpipe_sql.raw_schema(kind)).alias("record"),
            F.col("approximateArrivalTimestamp").alias("arrived_at"),
        )
        .select("record.*", "arrived_at")
        # Bounded state: a repeat is dropped while the window remembers it; MERGE catches the rest.
        .withWatermark("arrived_at", dedupe_window)
        .dropDuplicatesWithinWatermark(columns)
    )


def merge_batch(kind):
    """foreachBatch body: clean the micro-batch with the shared SQL and insert only new rows."""
    target = f"{pipeline_id}_{kind}_table"

    def process(batch_df, batch_id):
        session = batch_df.sparkSession  # this query's own session: its temp views do not clash
        pinpipe_sql.configure(session)
        pinpipe_sql.register_raw(kind, batch_df)
        cleaned = pinpipe_sql.clean(session, kind)
        if not session.catalog.tableExists(target):
            cleaned.limit(0).write.format("delta").saveAsTable(target)
        cleaned.createOrReplaceTempView(f"cleaned_{kind}_batch")
        matches = " AND ".join(f"t.{c} <=> s.{c}" for c in cleaned.columns)
        session.sql(
            f"MERGE INTO {target} AS t USING cleaned_{kind}_batch AS s ON {matches} "
            "WHEN NOT MATCHED THEN INSERT *"
        )

    return process


queries = []
for kind in pinpipe_sql.KINDS:
    writer = (
        read_stream(kind)
        .writeStream.queryName(f"{pipeline_id}_{kind}")
        .foreachBatch(merge_batch(kind))
        .option("checkpointLocation", f"{checkpoint_root}/{kind}")
    )
    writer = writer.trigger(availableNow=True) if available_now else writer.trigger(processingTime="10 seconds")
    queries.append(writer.start())

# COMMAND ----------

# With the available_now trigger, wait for every stream to catch up, then show the tables.
if available_now:
    for query in queries:
        query.awaitTermination()
    for kind in pinpipe_sql.KINDS:
        display(spark.table(f"{pipeline_id}_{kind}_table").limit(20))
