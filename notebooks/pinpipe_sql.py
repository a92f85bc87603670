"""Runs pinpipe's shared SQL files (notebooks/sql/, listed in manifest.json) with Spark.

The Databricks notebooks and the parity test both use this module, so the same files run the same
way everywhere, layer by layer: raw views ``raw_<kind>`` with every field as text; staging
(``sql/staging/``), the views ``<kind>_parsed`` and the cleaned ``<kind>``; intermediate
(``sql/intermediate/``), the views the answers share; marts (``sql/marts/``), the answers; and the
data-quality checks (``sql/checks/``). File paths in the manifest are relative to ``sql/``.

Example::

    import pinpipe_sql
    pinpipe_sql.configure(spark)
    for kind in pinpipe_sql.KINDS:
        path = f"{bucket}/topics/{id}.{kind}/partition=0/*.json"
        drift = pinpipe_sql.read_unknown_fields(spark, kind, path)
        pinpipe_sql.register_raw(kind, pinpipe_sql.read_raw_json(spark, kind, path), unknown_fields=drift)
    pinpipe_sql.run_cleaning(spark)
    for spec, answer in pinpipe_sql.run_queries(spark):
        display(answer)
"""

import json
import os

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

SQL_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sql")
KINDS = ("pin", "geo", "user")


def load_manifest(sql_dir=SQL_DIR):
    """The manifest: raw columns per kind, then the files of each layer (staging, intermediate, marts, checks)."""
    with open(os.path.join(sql_dir, "manifest.json"), encoding="utf-8") as handle:
        return json.load(handle)


def read_sql(file, sql_dir=SQL_DIR):
    """The text of one SQL file, as Spark runs it (no translation: the files are Spark SQL)."""
    with open(os.path.join(sql_dir, file), encoding="utf-8") as handle:
        return handle.read()


def configure(spark: SparkSession):
    """Session settings the SQL relies on: record timestamps carry no zone and mean UTC."""
    spark.conf.set("spark.sql.session.timeZone", "UTC")


def raw_schema(kind, sql_dir=SQL_DIR) -> StructType:
    """All-string schema of one kind's records: numbers keep their JSON text, SQL casts them."""
    columns = load_manifest(sql_dir)["raw_columns"][kind]
    return StructType([StructField(column, StringType(), True) for column in columns])


def read_raw_json(spark: SparkSession, kind, path, sql_dir=SQL_DIR) -> DataFrame:
    """Reads newline-delimited JSON records; a malformed line fails the read instead of vanishing."""
    return spark.read.schema(raw_schema(kind, sql_dir)).option("mode", "FAILFAST").json(path)


def read_unknown_fields(spark: SparkSession, kind, path, sql_dir=SQL_DIR) -> DataFrame:
    """The fields the records at path carry beyond the table's columns, as (field, records):
    schema drift, which the raw view leaves out and checks/schema_drift.sql names."""
    columns = load_manifest(sql_dir)["raw_columns"][kind]
    keys = spark.read.text(path).select(F.explode(F.expr("json_object_keys(value)")).alias("field"))
    return keys.where(~F.col("field").isin(*columns)).groupBy("field").agg(F.count(F.lit(1)).alias("records"))


def register_raw(kind, df: DataFrame, sql_dir=SQL_DIR, unknown_fields: DataFrame = None):
    """Makes the temp view raw_<kind> with exactly the record's fields, in the manifest's order,
    and raw_<kind>_unknown_fields (field, records) from unknown_fields (None: no drift known)."""
    columns = load_manifest(sql_dir)["raw_columns"][kind]
    df.select(*columns).createOrReplaceTempView(f"raw_{kind}")
    if unknown_fields is None:
        unknown_fields = df.sparkSession.createDataFrame([], "field STRING, records BIGINT")
    unknown_fields.select("field", "records").createOrReplaceTempView(f"raw_{kind}_unknown_fields")


def clean(spark: SparkSession, kind, sql_dir=SQL_DIR, cache=False) -> DataFrame:
    """Runs one kind's cleaning over raw_<kind>: makes the view <kind>_parsed, returns the cleaned rows."""
    step = next(s for s in load_manifest(sql_dir)["staging"] if s["kind"] == kind)
    parsed = spark.sql(read_sql(step["parse"], sql_dir))
    if cache:
        parsed = parsed.cache()
    parsed.createOrReplaceTempView(f"{kind}_parsed")
    return spark.sql(read_sql(step["clean"], sql_dir))


def run_cleaning(spark: SparkSession, sql_dir=SQL_DIR, cache=True):
    """Cleans every kind: views <kind>_parsed and <kind>. Returns {kind: cleaned DataFrame}."""
    cleaned = {}
    for step in load_manifest(sql_dir)["staging"]:
        df = clean(spark, step["kind"], sql_dir, cache)
        if cache:
            df = df.cache()
        df.createOrReplaceTempView(step["kind"])
        cleaned[step["kind"]] = df
    return cleaned


def build_intermediate(spark: SparkSession, sql_dir=SQL_DIR):
    """Makes (or remakes) the intermediate views, in order, over the cleaned views. Returns their names."""
    names = []
    for view in load_manifest(sql_dir)["intermediate"]:
        spark.sql(read_sql(view["file"], sql_dir)).createOrReplaceTempView(view["name"])
        names.append(view["name"])
    return names


def run_queries(spark: SparkSession, sql_dir=SQL_DIR):
    """Makes the intermediate views, then every mart of the manifest, in order: a list of (spec, DataFrame)."""
    build_intermediate(spark, sql_dir)
    return [(spec, spark.sql(read_sql(spec["file"], sql_dir))) for spec in load_manifest(sql_dir)["marts"]]


def run_checks(spark: SparkSession, sql_dir=SQL_DIR):
    """Every check file: a list of (file, DataFrame of check_name, failures, detail)."""
    return [(file, spark.sql(read_sql(file, sql_dir))) for file in load_manifest(sql_dir)["checks"]]


def failed_checks(spark: SparkSession, sql_dir=SQL_DIR):
    """The rows of every check with failures > 0, as (check_name, failures, detail) tuples."""
    failed = []
    for _, df in run_checks(spark, sql_dir):
        failed.extend((r["check_name"], r["failures"], r["detail"]) for r in df.collect() if r["failures"])
    return failed
