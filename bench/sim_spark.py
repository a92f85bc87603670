"""The read, the cleaning, the queries and the checks on local PySpark, timed, for `deno task bench sim`.

Usage: python bench/sim_spark.py BUCKET_DIR PIPELINE_ID [--as-before]
Prints one JSON line: {"engine": "spark", "startup_ms", "read_ms", "clean_ms", "queries_ms", "checks_ms",
"rows_out", ...}.
Runs the same notebooks/sql files the Databricks notebooks and the DuckDB simulator run, and does the
same work the DuckDB runner does: the raw records are read once into memory (DuckDB makes tables of
them), the schema-drift scan runs, the cleaned tables are cached, and the intermediate results the
answers share are cached once (DuckDB makes temporary tables of them). Spark is tuned as for one
machine: every core, shuffle partitions sized to the input, adaptive execution.

--as-before runs it as the benchmark did before it did the same work (local[2], 4 shuffle partitions,
raw records and intermediates not cached, no drift scan): only to show the old ratio once.
"""

import glob
import json
import math
import os
import sys
import time

began = time.perf_counter()
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "notebooks"))

from pyspark import StorageLevel  # noqa: E402
from pyspark.sql import SparkSession  # noqa: E402

import pinpipe_sql  # noqa: E402

# A shuffle partition per this many input bytes (Spark's own advisory partition size is 64 MiB).
BYTES_PER_PARTITION = 64 * 1024 * 1024


def input_bytes(bucket, pipeline_id):
    return sum(os.path.getsize(f) for f in glob.glob(f"{bucket}/topics/{pipeline_id}.*/partition=*/*.json"))


def session(bucket, pipeline_id, as_before):
    memory = os.environ.get("PINPIPE_BENCH_SPARK_MEMORY", "6g")
    builder = SparkSession.builder.appName("pinpipe-bench").config("spark.driver.memory", memory)
    if as_before:
        builder = builder.master("local[2]").config("spark.sql.shuffle.partitions", "4")
    else:
        cores = os.cpu_count() or 2
        partitions = max(cores, math.ceil(input_bytes(bucket, pipeline_id) / BYTES_PER_PARTITION))
        builder = (
            builder.master("local[*]")
            .config("spark.sql.shuffle.partitions", str(partitions))
            .config("spark.sql.adaptive.enabled", "true")
            .config("spark.sql.adaptive.coalescePartitions.enabled", "true")
            .config("spark.sql.files.maxPartitionBytes", str(BYTES_PER_PARTITION * 2))
            .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
        )
    spark = (
        builder.config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false").getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def main(bucket, pipeline_id, as_before):
    spark = session(bucket, pipeline_id, as_before)
    pinpipe_sql.configure(spark)
    started = time.perf_counter()
    rows_in = {}
    for kind in pinpipe_sql.KINDS:
        path = f"{bucket}/topics/{pipeline_id}.{kind}/partition=*/*.json"
        raw = pinpipe_sql.read_raw_json(spark, kind, path)
        drift = None
        if not as_before:
            raw = raw.persist(StorageLevel.MEMORY_AND_DISK)
            rows_in[kind] = raw.count()  # the read, as DuckDB's CREATE TABLE does it
            drift = pinpipe_sql.read_unknown_fields(spark, kind, path).cache()
            drift.count()
        pinpipe_sql.register_raw(kind, raw, unknown_fields=drift)
    read_at = time.perf_counter()
    cleaned = pinpipe_sql.run_cleaning(spark)
    rows_out = {kind: df.count() for kind, df in cleaned.items()}  # materializes the cleaning
    cleaned_at = time.perf_counter()
    answers = 0
    if as_before:
        marts = [df for _spec, df in pinpipe_sql.run_queries(spark)]
    else:
        # Cached once, as the DuckDB runner makes them temporary tables once for every answer.
        for name in pinpipe_sql.build_intermediate(spark):
            spark.catalog.cacheTable(name)
        marts = [spark.sql(pinpipe_sql.read_sql(spec["file"])) for spec in pinpipe_sql.load_manifest()["marts"]]
    for df in marts:
        answers += len(df.collect())
    queried_at = time.perf_counter()
    checks_failed = 0
    for _file, df in pinpipe_sql.run_checks(spark):
        checks_failed += sum(1 for row in df.collect() if row["failures"])
    done = time.perf_counter()
    spark.stop()
    print(json.dumps({
        "engine": "spark-as-before" if as_before else "spark",
        "spark_version": spark.version,
        "startup_ms": round((started - began) * 1000),
        "read_ms": round((read_at - started) * 1000),
        "clean_ms": round((cleaned_at - read_at) * 1000),
        "queries_ms": round((queried_at - cleaned_at) * 1000),
        "checks_ms": round((done - queried_at) * 1000),
        "checks_failed": checks_failed,
        "rows_in": rows_in,
        "rows_out": rows_out,
        "answer_rows": answers,
    }))


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--as-before"]
    if len(args) != 2:
        print("usage: sim_spark.py BUCKET_DIR PIPELINE_ID [--as-before]", file=sys.stderr)
        sys.exit(2)
    main(args[0], args[1], "--as-before" in sys.argv[1:])
