"""The streaming notebook's logic, kept in a module so a test can run it on local Spark with Delta.

Records arrive as Kinesis rows (``data`` bytes holding one JSON record, ``approximateArrivalTimestamp``).
Each is parsed with the all-string schema, exact repeats are dropped within a bounded watermark,
and every micro-batch is cleaned by the shared SQL files (pinpipe_sql.clean) and merged into the
Delta table, inserting only rows the table does not hold yet: a replayed batch (foreachBatch is
at-least-once) or a repeat older than the watermark adds nothing.

Example::

    import pinpipe_stream
    source = spark.readStream.format("kinesis").option("streamName", "streaming-<id>-pin")...load()
    query = pinpipe_stream.start(source, "pin", "<id>_pin_table", "/checkpoints/pin")
"""

from pyspark.sql import DataFrame, functions as F

import pinpipe_sql


def parse_records(source: DataFrame, kind, dedupe_window="10 minutes") -> DataFrame:
    """Kinesis rows to raw records (every field text) plus arrived_at, repeats dropped in the window."""
    columns = pinpipe_sql.load_manifest()["raw_columns"][kind]
    return (
        source.select(
            F.from_json(F.col("data").cast("string"), pinpipe_sql.raw_schema(kind)).alias("record"),
            F.col("approximateArrivalTimestamp").alias("arrived_at"),
        )
        .select("record.*", "arrived_at")
        .withWatermark("arrived_at", dedupe_window)
        .dropDuplicatesWithinWatermark(columns)
    )


def merge_batch(kind, target):
    """The foreachBatch body: clean the micro-batch with the shared SQL, insert only new rows."""

    def process(batch_df, batch_id):
        session = batch_df.sparkSession  # the query's own session: temp views do not clash
        pinpipe_sql.configure(session)
        pinpipe_sql.register_raw(kind, batch_df)
        cleaned = pinpipe_sql.clean(session, kind)
        if not session.catalog.tableExists(target):
            cleaned.limit(0).write.format("delta").saveAsTable(target)
        view = f"cleaned_{kind}_batch"
        cleaned.createOrReplaceTempView(view)
        matches = " AND ".join(f"t.{column} <=> s.{column}" for column in cleaned.columns)
        session.sql(f"MERGE INTO {target} AS t USING {view} AS s ON {matches} WHEN NOT MATCHED THEN INSERT *")

    return process


def start(source: DataFrame, kind, target, checkpoint, available_now=False, dedupe_window="10 minutes"):
    """Starts one stream: parse, dedupe, clean and merge each micro-batch into target."""
    writer = (
        parse_records(source, kind, dedupe_window)
        .writeStream.queryName(target)
        .foreachBatch(merge_batch(kind, target))
        .option("checkpointLocation", checkpoint)
    )
    writer = writer.trigger(availableNow=True) if available_now else writer.trigger(processingTime="10 seconds")
    return writer.start()
