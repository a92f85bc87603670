"""The streaming notebook's logic, kept in a module so a test can run it on local Spark with Delta.

Records arrive as Kinesis rows (``data`` bytes holding one JSON record, ``stream``, ``shardId``,
``sequenceNumber``, ``approximateArrivalTimestamp``). Each record is first checked by the rules of
the local consumer (src/consumer/records.ts): a malformed one goes, with a reason named in
``sql/quarantine_reasons.json`` and a detail, to the rejects Delta table ``<id>_rejects`` (stream,
shard_id, sequence_number, arrival, reason, data, rejected_at, detail; data as text, base64 when
not UTF-8), never on into cleaning as a row of NULLs. A field the table does not have keeps the
record: the field is ignored and counted per micro-batch and shard in ``<id>_schema_drift``
(stream, shard_id, field, records, first_sequence_number, last_sequence_number, seen_at).

Good records are parsed with the all-string schema, exact repeats are dropped within a bounded
watermark, and every micro-batch is cleaned by the shared SQL files (pinpipe_sql.clean) and merged
into the Delta table, inserting only rows the table does not hold yet: a replayed batch
(foreachBatch is at-least-once) or a repeat older than the watermark adds nothing. Rejects and
drift rows are merged on their own keys, so a replay adds nothing to them either.

Example::

    import pinpipe_stream
    source = spark.readStream.format("kinesis").option("streamName", "streaming-<id>-pin")...load()
    query = pinpipe_stream.start(source, "pin", "<id>_pin_table", "/checkpoints/pin",
                                 rejects_table="<id>_rejects", drift_table="<id>_schema_drift")
"""

import json
import os

from pyspark.sql import DataFrame, functions as F
from pyspark.sql.types import ArrayType, StringType, StructField, StructType

import pinpipe_sql

# The column that aligns rows across the tables, as src/core/tables.ts names it.
INDEX_COLUMNS = {"pin": "index", "geo": "ind", "user": "ind"}

CHECK_SCHEMA = StructType(
    [
        StructField("reason", StringType(), True),
        StructField("detail", StringType(), True),
        StructField("raw_data", StringType(), True),
        StructField("unknown_fields", ArrayType(StringType()), True),
    ]
)

# Columns the parsed stream carries beside the record's own fields.
SOURCE_COLUMNS = ("stream", "shard_id", "sequence_number", "arrived_at")


def stream_reasons(sql_dir=pinpipe_sql.SQL_DIR):
    """The names of sql/quarantine_reasons.json that can occur on the stream, in checking order."""
    with open(os.path.join(sql_dir, "quarantine_reasons.json"), encoding="utf-8") as handle:
        reasons = json.load(handle)["reasons"]
    return [reason["name"] for reason in reasons if "stream" in reason["paths"]]


def record_checker(kind, sql_dir=pinpipe_sql.SQL_DIR):
    """A plain function bytes -> (reason, detail, raw_data, unknown_fields): the consumer's rules.

    Self-contained (nothing but its arguments and the standard library), so Spark ships it to the
    executors by value: they need not import this module.
    """
    columns = list(pinpipe_sql.load_manifest(sql_dir)["raw_columns"][kind])
    index_column = INDEX_COLUMNS[kind]
    known = frozenset(stream_reasons(sql_dir))
    max_safe = 2**53 - 1

    def check(data):
        import base64
        import json as json_module

        def problem(reason, detail, text):
            if reason not in known:
                raise ValueError(f"{reason} is not a stream reason of quarantine_reasons.json")
            return (reason, detail, text, [])

        def kind_of(value):
            if value is None:
                return "null"
            if isinstance(value, list):
                return "an array"
            if isinstance(value, bool):
                return "boolean"
            if isinstance(value, (int, float)):
                return "number"
            return {str: "string", dict: "object"}.get(type(value), type(value).__name__)

        def refuse_constant(name):
            raise ValueError(f"{name} is not JSON")

        raw = bytes(data) if data is not None else b""
        try:
            text = raw.decode("utf-8")  # strict; a byte order mark stays and makes it not JSON
        except UnicodeDecodeError:
            return problem("invalid_utf8", "data is not UTF-8 text", base64.b64encode(raw).decode("ascii"))
        if text.strip(" \t\n\r") == "":
            return problem("empty", "data is empty", text)
        try:
            value = json_module.loads(text, parse_constant=refuse_constant)
        except ValueError as error:
            return problem("not_json", f"not valid JSON: {error}", text)
        if not isinstance(value, dict):
            return problem("not_an_object", f"expected a JSON object, got {kind_of(value)}", text)
        if not any(column in value for column in columns):
            got = ", ".join(json_module.dumps(name) for name in value) or "no field"
            return problem("no_expected_fields", f"none of the {kind} fields, got {got}", text)
        for column in columns:
            if column not in value:
                return problem("missing_field", f'missing field "{column}"', text)
        for column in columns:
            field = value[column]
            if field is not None and (isinstance(field, bool) or not isinstance(field, (str, int, float))):
                what = kind_of(field)
                return problem("bad_field_type", f'field "{column}" must be text, a number or null, got {what}', text)
        index = value[index_column]
        whole = not isinstance(index, bool) and (
            isinstance(index, int) or (isinstance(index, float) and index.is_integer())
        )
        if not whole or abs(index) > max_safe:
            shown = json_module.dumps(index)
            return problem("bad_index", f'field "{index_column}" must be a whole number, got {shown}', text)
        return (None, None, None, [name for name in value if name not in columns])

    return check


def parse_records(source: DataFrame, kind, dedupe_window="10 minutes", sql_dir=pinpipe_sql.SQL_DIR) -> DataFrame:
    """Kinesis rows to checked records: reason, detail and raw_data set on a malformed one (its
    fields NULL), else every field as text; plus where it came from and its unknown fields.

    Exact repeats of good records are dropped within the window. A reject or a record with
    unknown fields keeps its own key (stream/shard/sequence number), so it is never dropped
    before being counted: the MERGE into the table still keeps its content out if already there.
    """
    columns = pinpipe_sql.load_manifest(sql_dir)["raw_columns"][kind]
    check = F.udf(record_checker(kind, sql_dir), CHECK_SCHEMA)
    checked = source.select(
        F.col("data").cast("binary").alias("data"),
        F.col("stream"),
        F.col("shardId").alias("shard_id"),
        F.col("sequenceNumber").alias("sequence_number"),
        F.col("approximateArrivalTimestamp").alias("arrived_at"),
    ).withColumn("check", check(F.col("data")))
    good = F.col("check.reason").isNull()
    own_key = F.col("check.reason").isNotNull() | (F.size(F.col("check.unknown_fields")) > 0)
    return (
        checked.select(
            F.when(good, F.from_json(F.col("data").cast("string"), pinpipe_sql.raw_schema(kind, sql_dir))).alias(
                "record"
            ),
            *SOURCE_COLUMNS,
            "check.*",
            F.when(own_key, F.concat_ws("/", "stream", "shard_id", "sequence_number")).alias("record_key"),
        )
        .select("record.*", *SOURCE_COLUMNS, *CHECK_SCHEMA.fieldNames(), "record_key")
        .withWatermark("arrived_at", dedupe_window)
        .dropDuplicatesWithinWatermark([*columns, "record_key"])
    )


def create_side_tables(spark, rejects_table, drift_table):
    """Creates the rejects and schema drift tables (once, before any stream starts: no race)."""
    spark.sql(
        f"CREATE TABLE IF NOT EXISTS {rejects_table} (stream STRING, shard_id STRING, "
        "sequence_number STRING, arrival TIMESTAMP, reason STRING, data STRING, "
        "rejected_at TIMESTAMP, detail STRING) USING delta PARTITIONED BY (stream)"
    )
    spark.sql(
        f"CREATE TABLE IF NOT EXISTS {drift_table} (stream STRING, shard_id STRING, field STRING, "
        "records BIGINT, first_sequence_number STRING, last_sequence_number STRING, "
        "seen_at TIMESTAMP) USING delta PARTITIONED BY (stream)"
    )


def _merge_new(session, table, rows: DataFrame, view, keys, streams):
    """Inserts the rows of `rows` whose keys `table` does not hold. The condition names the
    batch's streams as literals, so streams merging into the one table touch separate partitions
    and never conflict."""
    rows.createOrReplaceTempView(view)
    listed = ", ".join("'" + stream.replace("'", "''") + "'" for stream in streams)
    matches = " AND ".join(f"t.{key} = s.{key}" for key in keys)
    session.sql(
        f"MERGE INTO {table} AS t USING {view} AS s ON t.stream IN ({listed}) AND {matches} "
        "WHEN NOT MATCHED THEN INSERT *"
    )


def merge_batch(kind, target, rejects_table, drift_table):
    """The foreachBatch body: rejects and drift to their tables; clean the good rows with the
    shared SQL and insert only new ones into target."""

    def process(batch_df, batch_id):
        session = batch_df.sparkSession  # the query's own session: temp views do not clash
        pinpipe_sql.configure(session)
        batch_df = batch_df.persist()
        try:
            # One pass tells which streams hold rejects or unknown fields: most batches hold none.
            tally = (
                batch_df.groupBy("stream")
                .agg(
                    F.count(F.col("reason")).alias("rejects"),
                    F.count(F.when(F.col("reason").isNull() & (F.size("unknown_fields") > 0), 1)).alias("drifting"),
                )
                .collect()
            )
            reject_streams = [row["stream"] for row in tally if row["rejects"]]
            drift_streams = [row["stream"] for row in tally if row["drifting"]]
            good = batch_df.where(F.col("reason").isNull())
            if reject_streams:
                rejects = batch_df.where(F.col("reason").isNotNull()).select(
                    "stream",
                    "shard_id",
                    "sequence_number",
                    F.col("arrived_at").alias("arrival"),
                    "reason",
                    F.col("raw_data").alias("data"),
                    F.current_timestamp().alias("rejected_at"),
                    "detail",
                )
                keys = ("stream", "shard_id", "sequence_number")
                _merge_new(session, rejects_table, rejects, f"rejects_{kind}_batch", keys, reject_streams)
            if drift_streams:
                drift = (
                    good.where(F.size("unknown_fields") > 0)
                    .select("stream", "shard_id", "sequence_number", F.explode("unknown_fields").alias("field"))
                    .groupBy("stream", "shard_id", "field")
                    .agg(
                        F.count(F.lit(1)).alias("records"),
                        F.min("sequence_number").alias("first_sequence_number"),
                        F.max("sequence_number").alias("last_sequence_number"),
                    )
                    .withColumn("seen_at", F.current_timestamp())
                )
                # A replayed batch holds the same records, so the same first sequence number.
                keys = ("stream", "shard_id", "field", "first_sequence_number")
                _merge_new(session, drift_table, drift, f"drift_{kind}_batch", keys, drift_streams)
            pinpipe_sql.register_raw(kind, good)
            cleaned = pinpipe_sql.clean(session, kind)
            if not session.catalog.tableExists(target):
                cleaned.limit(0).write.format("delta").saveAsTable(target)
            view = f"cleaned_{kind}_batch"
            cleaned.createOrReplaceTempView(view)
            matches = " AND ".join(f"t.{column} <=> s.{column}" for column in cleaned.columns)
            session.sql(f"MERGE INTO {target} AS t USING {view} AS s ON {matches} WHEN NOT MATCHED THEN INSERT *")
        finally:
            batch_df.unpersist()

    return process


def start(
    source: DataFrame,
    kind,
    target,
    checkpoint,
    rejects_table,
    drift_table,
    available_now=False,
    dedupe_window="10 minutes",
):
    """Starts one stream: check, parse, dedupe, clean and merge each micro-batch into target, the
    malformed records into rejects_table and the unknown fields into drift_table."""
    create_side_tables(source.sparkSession, rejects_table, drift_table)
    writer = (
        parse_records(source, kind, dedupe_window)
        .writeStream.queryName(target)
        .foreachBatch(merge_batch(kind, target, rejects_table, drift_table))
        .option("checkpointLocation", checkpoint)
    )
    writer = writer.trigger(availableNow=True) if available_now else writer.trigger(processingTime="10 seconds")
    return writer.start()
