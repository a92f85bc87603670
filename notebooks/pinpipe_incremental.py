"""Incremental batch runs over a bucket that only grows, on Spark with Delta: the batch notebook's logic.

Each run reads only the objects it has not seen (Spark's file-source streaming, ``availableNow``,
one checkpoint per kind), and turns every line of them into a bronze row (each field as text, with
its object, line, unknown fields, ingest time and run) or a quarantine row (kind, object, line, raw
text, reason): a malformed line never fails the run and never vanishes. The reasons are those of
``sql/quarantine_reasons.json``, which the DuckDB runner (src/warehouse/quarantine.ts) uses too.
Then the run's bronze rows are cleaned by the shared SQL files (``pinpipe_sql``), checked, and merged
into silver on a row hash, so an exact duplicate, within the run or across runs, is kept once; gold,
the answers, is computed from all of silver. Running again over the same objects adds nothing.

The checks judge the records and quarantined lines since the last run that passed (``runs.passed``):
this run's, unless an earlier run failed, so a retry of a failed run fails again until the data is
fixed or ``max_bad_records`` lets the lines through.

A run that dies after its stream but before its merge leaves bronze rows tagged with its run id; the
next run takes the same id (one more than the last run recorded in ``runs``) and merges them.

Example::

    import pinpipe_incremental as inc
    tables = inc.Tables("pinpipe_0123456789ab")
    run = inc.ingest(spark, tables, "s3://bucket", "0123456789ab", "*", "s3://bucket/_pinpipe/checkpoints")
    cleaned = inc.clean_pending(spark, tables, run)
    failed = pinpipe_sql.failed_checks(spark)
    inc.merge_silver(spark, tables, run)
    answers = inc.gold(spark, tables)
    inc.record_run(spark, tables, run, passed=not failed)
"""

import json
import os
import time

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

import pinpipe_sql

KINDS = pinpipe_sql.KINDS


def quarantine_reasons(sql_dir=pinpipe_sql.SQL_DIR):
    """The batch path's reason names, in the order they are tested (the first that applies is the reason)."""
    with open(os.path.join(sql_dir, "quarantine_reasons.json"), encoding="utf-8") as handle:
        return [reason["name"] for reason in json.load(handle)["reasons"] if "batch" in reason["paths"]]


class Tables:
    """The Delta tables of one pipeline, in one schema: bronze_<kind>, silver_<kind>, quarantine, runs."""

    def __init__(self, schema):
        self.schema = schema

    def bronze(self, kind):
        return f"{self.schema}.bronze_{kind}"

    def silver(self, kind):
        return f"{self.schema}.silver_{kind}"

    @property
    def quarantine(self):
        return f"{self.schema}.quarantine"

    @property
    def runs(self):
        return f"{self.schema}.runs"


def object_lines(objects: DataFrame) -> DataFrame:
    """Whole objects (object, value) to their lines (object, line from 1, bytes): split as bytes, so a
    line that is not UTF-8 keeps its bytes. The newline that ends the last line makes no line."""
    hexed = objects.select("object", F.hex(F.col("value").cast("binary")).alias("h"))
    ended = F.when((F.col("h") == "") | F.col("h").endswith("0A"), F.col("h")).otherwise(F.concat("h", F.lit("0A")))
    # \G keeps every match on a byte boundary: 0A is a newline only at an even hex offset.
    lines = hexed.select("object", F.posexplode(F.regexp_extract_all(ended, F.lit(r"\G((?:[0-9A-F]{2})*?)0A"), F.lit(1))))
    return lines.select("object", (F.col("pos") + 1).alias("line"), F.unhex("col").alias("bytes"))


def classify(lines: DataFrame, kind, sql_dir=pinpipe_sql.SQL_DIR) -> DataFrame:
    """Each line with its reason (NULL for a record), its text (base64 when not UTF-8), its fields as
    text (the all-string schema, through the corrupt-record column) and its unknown fields."""
    columns = pinpipe_sql.load_manifest(sql_dir)["raw_columns"][kind]
    schema = pinpipe_sql.raw_schema(kind, sql_dir).add("_corrupt_record", "string")
    decoded = F.decode("bytes", "UTF-8")
    utf8 = F.encode(decoded, "UTF-8") == F.col("bytes")
    with_text = lines.select(
        "object",
        "line",
        utf8.alias("utf8"),
        F.when(utf8, decoded).otherwise(F.base64("bytes")).alias("text"),
    )
    parsed = with_text.select(
        "*",
        F.from_json("text", schema, {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": "_corrupt_record"}).alias("r"),
        F.expr("json_object_keys(text)").alias("keys"),
    )
    expected = F.array(*[F.lit(column) for column in columns])
    reason = (
        F.when(~F.col("utf8"), "invalid_utf8")
        .when(F.expr(r"trim(BOTH ' \t\r' FROM text)") == "", "empty_line")
        .when(F.col("r._corrupt_record").isNotNull() & F.get_json_object("text", "$").isNull(), "not_json")
        .when(F.col("r._corrupt_record").isNotNull() | F.col("keys").isNull(), "not_an_object")
        .when(F.size(F.array_intersect("keys", expected)) == 0, "no_expected_fields")
    )
    unknown = F.array_join(F.array_sort(F.array_except("keys", expected)), ",")
    return parsed.select(
        "object",
        "line",
        "text",
        reason.alias("reason"),
        *[F.col(f"r.{column}").alias(column) for column in columns],
        F.when(unknown != "", unknown).alias("_unknown_fields"),
    )


def _ensure_tables(spark: SparkSession, tables: Tables, sql_dir):
    spark.sql(f"CREATE SCHEMA IF NOT EXISTS {tables.schema}")
    manifest = pinpipe_sql.load_manifest(sql_dir)
    for kind in KINDS:
        fields = ", ".join(f"{column} STRING" for column in manifest["raw_columns"][kind])
        spark.sql(
            f"CREATE TABLE IF NOT EXISTS {tables.bronze(kind)} ({fields}, _object STRING, _line INT, "
            "_unknown_fields STRING, _ingested_at TIMESTAMP, _run_id INT) USING delta"
        )
    spark.sql(
        f"CREATE TABLE IF NOT EXISTS {tables.quarantine} (kind STRING, object STRING, line INT, raw_text STRING, "
        "reason STRING, ingested_at TIMESTAMP, run_id INT) USING delta"
    )
    spark.sql(f"CREATE TABLE IF NOT EXISTS {tables.runs} (run_id INT, started_at TIMESTAMP, passed BOOLEAN) USING delta")


def _write_batch(kind, tables: Tables, run_id, ingested_at, app_id, sql_dir):
    """The foreachBatch body: one micro-batch of whole objects into bronze and quarantine. The writes
    carry the batch id as Delta's txnVersion, so a micro-batch replayed after a failure adds nothing."""
    columns = pinpipe_sql.load_manifest(sql_dir)["raw_columns"][kind]

    def process(batch_df, batch_id):
        lines = classify(object_lines(batch_df), kind, sql_dir).cache()
        stamp = F.lit(ingested_at).cast("timestamp")
        records = lines.where(F.col("reason").isNull()).select(
            *columns,
            F.col("object").alias("_object"),
            F.col("line").cast("int").alias("_line"),
            "_unknown_fields",
            stamp.alias("_ingested_at"),
            F.lit(run_id).cast("int").alias("_run_id"),
        )
        bad = lines.where(F.col("reason").isNotNull()).select(
            F.lit(kind).alias("kind"),
            "object",
            F.col("line").cast("int").alias("line"),
            F.col("text").alias("raw_text"),
            "reason",
            stamp.alias("ingested_at"),
            F.lit(run_id).cast("int").alias("run_id"),
        )
        for df, target, suffix in ((records, tables.bronze(kind), "bronze"), (bad, tables.quarantine, "quarantine")):
            (
                df.write.format("delta")
                .mode("append")
                .option("txnAppId", f"{app_id}/{suffix}")
                .option("txnVersion", batch_id)
                .saveAsTable(target)
            )
        lines.unpersist()

    return process


def ingest(spark: SparkSession, tables: Tables, bucket, pipeline_id, partition, checkpoint_root, sql_dir=pinpipe_sql.SQL_DIR):
    """Reads the objects no earlier run has read into bronze and quarantine. Returns the run:
    {"run_id", "last_passed", "ingested_at", "added": {kind: {"bronze", "quarantined"}}}."""
    _ensure_tables(spark, tables, sql_dir)
    run_id, last_passed = spark.sql(
        f"SELECT coalesce(max(run_id), 0) + 1, coalesce(max(CASE WHEN passed THEN run_id END), 0) FROM {tables.runs}"
    ).first()
    ingested_at = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    for kind in KINDS:
        checkpoint = f"{checkpoint_root}/{kind}"
        source = (
            spark.readStream.format("text")
            .option("wholetext", True)
            .load(f"{bucket}/topics/{pipeline_id}.{kind}/partition={partition}/*.json")
            # The object's key from topics/ on, as the DuckDB runner names it.
            .select(F.regexp_extract(F.input_file_name(), r"(topics/[^/]+/partition=[^/]+/[^/]+)$", 1).alias("object"), "value")
        )
        query = (
            source.writeStream.queryName(f"{tables.schema}_bronze_{kind}")
            .foreachBatch(_write_batch(kind, tables, run_id, ingested_at, checkpoint, sql_dir))
            .option("checkpointLocation", checkpoint)
            .trigger(availableNow=True)
            .start()
        )
        query.awaitTermination()
    added = {}
    for kind in KINDS:
        added[kind] = {
            "bronze": spark.table(tables.bronze(kind)).where(F.col("_run_id") == run_id).count(),
            "quarantined": spark.table(tables.quarantine).where((F.col("run_id") == run_id) & (F.col("kind") == kind)).count(),
        }
    return {"run_id": run_id, "last_passed": last_passed, "ingested_at": ingested_at, "added": added}


def clean_pending(spark: SparkSession, tables: Tables, run, sql_dir=pinpipe_sql.SQL_DIR):
    """Cleans the bronze rows since the last run that passed with the shared SQL (views raw_<kind>,
    <kind>_parsed, <kind>), as the checks read them. Returns {kind: cleaned DataFrame}."""
    columns = pinpipe_sql.load_manifest(sql_dir)["raw_columns"]
    for kind in KINDS:
        bronze = spark.table(tables.bronze(kind)).where(F.col("_run_id") > run["last_passed"])
        pinpipe_sql.register_raw(kind, bronze.select(*columns[kind]), sql_dir)
        # The fields those records carry beyond the table's, as checks/schema_drift.sql reads them.
        fields = bronze.where(F.col("_unknown_fields").isNotNull()).select(
            F.explode(F.split("_unknown_fields", ",")).alias("field")
        )
        fields.groupBy("field").agg(F.count(F.lit(1)).alias("records")).createOrReplaceTempView(f"raw_{kind}_unknown_fields")
    return pinpipe_sql.run_cleaning(spark, sql_dir)


def merge_silver(spark: SparkSession, tables: Tables, run):
    """Merges the cleaned rows (views <kind>) into silver on a row hash. Returns {kind: rows added}."""
    added = {}
    for kind in KINDS:
        cleaned = spark.table(kind)
        hashed = cleaned.select("*", F.sha2(F.to_json(F.struct(*cleaned.columns)), 256).alias("_row_hash"))
        hashed = hashed.withColumn("_run_id", F.lit(run["run_id"]).cast("int"))
        if not spark.catalog.tableExists(tables.silver(kind)):
            hashed.limit(0).write.format("delta").saveAsTable(tables.silver(kind))
        before = spark.table(tables.silver(kind)).count()
        view = f"silver_batch_{kind}"
        hashed.createOrReplaceTempView(view)
        spark.sql(
            f"MERGE INTO {tables.silver(kind)} AS t USING {view} AS s ON t._row_hash = s._row_hash "
            "WHEN NOT MATCHED THEN INSERT *"
        )
        added[kind] = spark.table(tables.silver(kind)).count() - before
    return added


def record_run(spark: SparkSession, tables: Tables, run, passed):
    """Records the run, and whether it passed: the next run checks again what came after the last that did."""
    spark.sql(
        f"INSERT INTO {tables.runs} VALUES ({int(run['run_id'])}, TIMESTAMP '{run['ingested_at']}', {bool(passed)})"
    )


def gold(spark: SparkSession, tables: Tables, sql_dir=pinpipe_sql.SQL_DIR):
    """The answers over all of silver: views pin, geo, user over silver, then every mart."""
    for kind in KINDS:
        spark.table(tables.silver(kind)).drop("_row_hash", "_run_id").createOrReplaceTempView(kind)
    return pinpipe_sql.run_queries(spark, sql_dir)


def quarantine_summary(spark: SparkSession, tables: Tables, run, examples=5, sql_dir=pinpipe_sql.SQL_DIR):
    """The lines quarantined since the last run that passed: (count, {reason: count} for every reason,
    up to `examples` rows by kind, object and line)."""
    rows = spark.table(tables.quarantine).where(F.col("run_id") > run["last_passed"])
    counts = {row["reason"]: row["count"] for row in rows.groupBy("reason").count().collect()}
    by_reason = {reason: counts.get(reason, 0) for reason in quarantine_reasons(sql_dir)}
    shown = rows.orderBy("kind", "object", "line").limit(examples).collect()
    return sum(by_reason.values()), by_reason, shown


def quarantine_check(count, max_bad_records, by_reason, shown):
    """(check_name, failures, detail), as the DuckDB runner words it: fails above max_bad_records."""
    reasons = ", ".join(f"{reason} {n}" for reason, n in by_reason.items() if n)
    detail = f"{count} lines quarantined since the last run that passed (max {max_bad_records})" + (f": {reasons}" if reasons else "")
    if shown:
        detail += "; e.g. " + "; ".join(
            f"{row['object']} line {row['line']} ({row['reason']}): {json.dumps(row['raw_text'][:60])}" for row in shown
        )
    return ("quarantine within max_bad_records", count if count > max_bad_records else 0, detail)


SCHEMA_DRIFT_FILE = "checks/schema_drift.sql"


def drift_checks(spark: SparkSession, sql_dir=pinpipe_sql.SQL_DIR):
    """The schema drift check's rows (check_name, failures, detail) where the manifest does not list
    checks/schema_drift.sql yet (else run_checks runs it), in its names and words, from the views
    raw_<kind>_unknown_fields: unknown fields never fail a run."""
    if SCHEMA_DRIFT_FILE in pinpipe_sql.load_manifest(sql_dir)["checks"]:
        return []
    rows = []
    for kind in KINDS:
        for row in spark.table(f"raw_{kind}_unknown_fields").collect():
            rows.append((f"schema drift {kind}.{row['field']}", 0, f"{row['records']} records carry it, kept without it"))
    return sorted(rows) or [("schema drift", 0, "no record carries a field beyond its table's columns")]
