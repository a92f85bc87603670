"""Runs every shared SQL file on local PySpark and writes the results as JSON, for tests/stack/parity_test.ts.

Usage: python run_spark.py SPEC.json OUT.json
SPEC: {"sql_dir": DIR, "cases": [{"name": N, "bucket": DIR, "id": ID, "ansi": BOOL}, ...],
       "notebook": {"path": FILE, "widgets": {...}},                      (optional)
       "stream": {"work": DIR, "id": ID, "rounds": [DIR, ...], "ivy": DIR},  (optional)
       "stream_rejects": {"work": DIR, "id": ID, "rounds": [DIR, ...], "ivy": DIR}}  (optional)
A stream's rounds hold, per kind, files of Kinesis-like rows (data_base64, stream, shardId,
sequenceNumber, approximateArrivalTimestamp), fed to pinpipe_stream as the Kinesis source would.
Each case's records are read from DIR/topics/<id>.<kind>/partition=*/*.json, as the batch notebook
reads the bucket. The notebook, when given, runs cell by cell with stand-ins for dbutils.widgets
and display(); every DataFrame it displays is written out, in order.
OUT: {"spark_version": V,
      "cases": {N: {"tables": {T: {"columns", "rows"}}, "intermediate": {V: ...}, "queries": {...}, "checks": {...}}}}
One Spark session runs every case (its start-up is the slow part). Values are normalized as the
DuckDB runner does: timestamps as ISO text without zone, integers beyond 2^53 as text.
"""

import datetime
import decimal
import json
import os
import shutil
import sys
import time

os.environ["TZ"] = "UTC"  # collect() turns timestamps into local datetimes; make local UTC
time.tzset()

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "notebooks"))

from pyspark.sql import SparkSession  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402
from pyspark.sql.types import TimestampType  # noqa: E402

import pinpipe_sql  # noqa: E402
import pinpipe_stream  # noqa: E402

MAX_SAFE = 2**53 - 1


def plain(value):
    if isinstance(value, bool) or value is None or isinstance(value, (str, float)):
        return value
    if isinstance(value, int):
        return value if -MAX_SAFE <= value <= MAX_SAFE else str(value)
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, datetime.datetime):
        return value.replace(tzinfo=None).isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return str(value)


def table(df):
    # Timestamps leave Spark as text: Python datetimes cannot hold every year Spark can.
    columns = [
        F.date_format(F.col(f.name), "yyyy-MM-dd'T'HH:mm:ss.SSSSSS").alias(f.name)
        if isinstance(f.dataType, TimestampType)
        else F.col(f.name)
        for f in df.schema.fields
    ]
    stamps = {f.name for f in df.schema.fields if isinstance(f.dataType, TimestampType)}
    rows = []
    for row in df.select(*columns).collect():
        rows.append([
            (v[:-7] if v.endswith(".000000") else v) if k in stamps and v is not None else plain(v)
            for k, v in zip(df.columns, row)
        ])
    return {"columns": df.columns, "rows": rows}


class _Widgets:
    """dbutils.widgets as the notebook uses it: defaults, overridden by the spec's values."""

    def __init__(self, values):
        self.values = dict(values)

    def text(self, name, default, label=None):
        self.values.setdefault(name, default)

    def dropdown(self, name, default, choices, label=None):
        self.values.setdefault(name, default)

    def get(self, name):
        return self.values[name]


class _DbUtils:
    def __init__(self, values):
        self.widgets = _Widgets(values)


def run_notebook(spark, notebook, shown=None):
    """Runs a Databricks source notebook's cells; returns the tables it displayed (also appended to
    `shown` as they come, so a caller keeps them when a cell raises)."""
    with open(notebook["path"], encoding="utf-8") as handle:
        cells = handle.read().split("# COMMAND ----------")
    shown = [] if shown is None else shown
    scope = {
        "spark": spark,
        "dbutils": _DbUtils(notebook["widgets"]),
        "display": lambda df: shown.append(table(df)),
        "__name__": "__notebook__",
    }
    here = os.getcwd()
    os.chdir(os.path.dirname(os.path.abspath(notebook["path"])))
    try:
        for cell in cells:
            exec(compile(cell, notebook["path"], "exec"), scope)  # noqa: S102 - our own notebook
    finally:
        os.chdir(here)
    return shown


def run_stream(spark, stream):
    """Feeds each round to file-source streams through pinpipe_stream into Delta tables. Returns
    the tables' row counts after each round, the tables, the rejects and the schema drift."""
    work, pipeline_id = stream["work"], stream["id"]
    rejects_table, drift_table = f"{pipeline_id}_rejects", f"{pipeline_id}_schema_drift"
    counts = []
    for round_dir in stream["rounds"]:
        for kind in pinpipe_sql.KINDS:
            source_dir = f"{work}/source/{kind}"
            os.makedirs(source_dir, exist_ok=True)
            for name in sorted(os.listdir(f"{round_dir}/{kind}")):
                # Copy under a hidden name, then rename: the file source never sees half a file.
                shutil.copy(f"{round_dir}/{kind}/{name}", f"{source_dir}/.{name}")
                os.replace(f"{source_dir}/.{name}", f"{source_dir}/{os.path.basename(round_dir)}-{name}")
            source = (
                spark.readStream.schema(
                    "data_base64 STRING, stream STRING, shardId STRING, sequenceNumber STRING, "
                    "approximateArrivalTimestamp TIMESTAMP"
                )
                .option("maxFilesPerTrigger", 1)  # several micro-batches per round
                .json(source_dir)
                .withColumn("data", F.unbase64("data_base64"))  # Kinesis data is bytes, any bytes
            )
            query = pinpipe_stream.start(
                source,
                kind,
                f"{pipeline_id}_{kind}_table",
                f"{work}/checkpoints/{kind}",
                rejects_table=rejects_table,
                drift_table=drift_table,
                available_now=True,
            )
            query.awaitTermination()
        counts.append({kind: spark.table(f"{pipeline_id}_{kind}_table").count() for kind in pinpipe_sql.KINDS})
    tables = {kind: table(spark.table(f"{pipeline_id}_{kind}_table")) for kind in pinpipe_sql.KINDS}
    rejects = table(
        spark.table(rejects_table)
        .select("stream", "shard_id", "sequence_number", "reason", "data")
        .orderBy("stream", "shard_id", "sequence_number")
    )
    drift = table(
        spark.table(drift_table)
        .groupBy("stream", "field")
        .agg(F.sum("records").alias("records"))
        .orderBy("stream", "field")
    )
    return {"counts": counts, "tables": tables, "rejects": rejects, "drift": drift}


def main(spec_path, out_path):
    with open(spec_path, encoding="utf-8") as handle:
        spec = json.load(handle)
    sql_dir = spec["sql_dir"]
    builder = (
        SparkSession.builder.master("local[1]")
        .appName("pinpipe-parity")
        .config("spark.driver.memory", "1g")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
    )
    delta = spec.get("stream") or spec.get("stream_rejects")
    if delta:
        # Delta, as Databricks writes the streaming tables; its jars come from Maven Central once.
        from delta import configure_spark_with_delta_pip

        builder = (
            builder.config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
            .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
            .config("spark.sql.warehouse.dir", f"{delta['work']}/warehouse")
            .config("spark.databricks.delta.snapshotPartitions", "2")
            .config("spark.jars.ivy", delta["ivy"])
        )
        builder = configure_spark_with_delta_pip(builder)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    pinpipe_sql.configure(spark)
    out = {"spark_version": spark.version, "cases": {}}
    try:
        for case in spec["cases"]:
            # ANSI mode is the default on recent Databricks runtimes; the SQL must not care.
            spark.conf.set("spark.sql.ansi.enabled", "true" if case.get("ansi") else "false")
            for kind in pinpipe_sql.KINDS:
                path = f"{case['bucket']}/topics/{case['id']}.{kind}/partition=*/*.json"
                raw = pinpipe_sql.read_raw_json(spark, kind, path, sql_dir)
                drift = pinpipe_sql.read_unknown_fields(spark, kind, path, sql_dir)
                pinpipe_sql.register_raw(kind, raw, sql_dir, unknown_fields=drift)
            cleaned = pinpipe_sql.run_cleaning(spark, sql_dir)
            result = {"tables": {}, "intermediate": {}, "queries": {}, "checks": {}}
            for kind, df in cleaned.items():
                result["tables"][f"{kind}_parsed"] = table(spark.table(f"{kind}_parsed"))
                result["tables"][kind] = table(df)
            for query, df in pinpipe_sql.run_queries(spark, sql_dir):
                result["queries"][query["name"]] = table(df)
            for view in pinpipe_sql.load_manifest(sql_dir)["intermediate"]:
                result["intermediate"][view["name"]] = table(spark.table(view["name"]))
            for file, df in pinpipe_sql.run_checks(spark, sql_dir):
                result["checks"][file] = table(df)
            out["cases"][case["name"]] = result
            spark.catalog.clearCache()
        if spec.get("notebook"):
            out["notebook"] = run_notebook(spark, spec["notebook"])
        for key in ("stream", "stream_rejects"):
            if spec.get(key):
                out[key] = run_stream(spark, spec[key])
    finally:
        spark.stop()
    with open(out_path, "w", encoding="utf-8") as handle:
        json.dump(out, handle)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print("usage: run_spark.py SPEC.json OUT.json", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
