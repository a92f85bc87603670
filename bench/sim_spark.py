"""The read, the cleaning, the queries and the checks on local PySpark, timed, for `deno task bench sim`.

Usage: python bench/sim_spark.py BUCKET_DIR PIPELINE_ID
Prints one JSON line: {"engine": "spark", "startup_ms", "clean_ms", "queries_ms", "checks_ms", "rows_out"}.
clean_ms includes the read: Spark reads lazily, when the cleaning first needs the rows.
Runs the same notebooks/sql files the Databricks notebooks and the DuckDB simulator run.
"""

import json
import os
import sys
import time

began = time.perf_counter()
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "notebooks"))

from pyspark.sql import SparkSession  # noqa: E402

import pinpipe_sql  # noqa: E402


def main(bucket, pipeline_id):
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("pinpipe-bench")
        .config("spark.driver.memory", os.environ.get("PINPIPE_BENCH_SPARK_MEMORY", "6g"))
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    pinpipe_sql.configure(spark)
    started = time.perf_counter()
    for kind in pinpipe_sql.KINDS:
        path = f"{bucket}/topics/{pipeline_id}.{kind}/partition=*/*.json"
        pinpipe_sql.register_raw(kind, pinpipe_sql.read_raw_json(spark, kind, path))
    cleaned = pinpipe_sql.run_cleaning(spark)
    rows_out = {kind: df.count() for kind, df in cleaned.items()}  # materializes the cleaning
    cleaned_at = time.perf_counter()
    answers = 0
    for _query, df in pinpipe_sql.run_queries(spark):
        answers += len(df.collect())
    queried_at = time.perf_counter()
    checks_failed = 0
    for _file, df in pinpipe_sql.run_checks(spark):
        checks_failed += sum(1 for row in df.collect() if row["failures"])
    done = time.perf_counter()
    spark.stop()
    print(json.dumps({
        "engine": "spark",
        "spark_version": spark.version,
        "startup_ms": round((started - began) * 1000),
        "clean_ms": round((cleaned_at - started) * 1000),
        "queries_ms": round((queried_at - cleaned_at) * 1000),
        "checks_ms": round((done - queried_at) * 1000),
        "checks_failed": checks_failed,
        "rows_out": rows_out,
        "answer_rows": answers,
    }))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print("usage: sim_spark.py BUCKET_DIR PIPELINE_ID", file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1], sys.argv[2])
