"""Runs the batch notebook day by day over a growing bucket on local Spark with Delta, for tests/stack/incremental_parity_test.ts.

Usage: python run_spark_incremental.py SPEC.json OUT.json
SPEC: {"notebook": FILE, "work": DIR, "ivy": DIR, "id": ID, "bucket": DIR, "days": [DIR, ...],
       "max_bad_records": N}
Before day d's run, the objects under days[d] (bucket-shaped) are copied into the bucket, under a
hidden name first and then renamed, so the file source never sees half an object. Each run is the
notebook itself, cell by cell (run_spark.run_notebook). One Spark session runs every day.
OUT: {"days": [{"shown": [tables displayed], "error": message or null}],
      "bronze": {kind: rows}, "quarantine": table, "silver": {kind: table}}
"""

import json
import os
import shutil
import sys

from run_spark import run_notebook, table  # noqa: E402 (sets TZ and sys.path for the notebooks)

from delta import configure_spark_with_delta_pip  # noqa: E402
from pyspark.sql import SparkSession  # noqa: E402


def deliver(day_dir, bucket):
    for root, _, files in os.walk(day_dir):
        target = os.path.join(bucket, os.path.relpath(root, day_dir))
        os.makedirs(target, exist_ok=True)
        for name in sorted(files):
            shutil.copy(os.path.join(root, name), os.path.join(target, f".{name}"))
            os.replace(os.path.join(target, f".{name}"), os.path.join(target, name))


def main(spec_path, out_path):
    with open(spec_path, encoding="utf-8") as handle:
        spec = json.load(handle)
    builder = (
        SparkSession.builder.master("local[1]")
        .appName("pinpipe-incremental-parity")
        .config("spark.driver.memory", "1g")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        .config("spark.sql.warehouse.dir", f"{spec['work']}/warehouse")
        .config("spark.databricks.delta.snapshotPartitions", "2")
        .config("spark.jars.ivy", spec["ivy"])
    )
    spark = configure_spark_with_delta_pip(builder).getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    schema = f"pinpipe_{spec['id']}"
    widgets = {
        "pipeline_id": spec["id"],
        "bucket": spec["bucket"],
        "partition": "*",
        "schema": schema,
        "checkpoint_root": f"{spec['work']}/checkpoints",
        "max_bad_records": str(spec["max_bad_records"]),
    }
    out = {"days": []}
    try:
        for day_dir in spec["days"]:
            deliver(day_dir, spec["bucket"])
            shown = []
            try:
                run_notebook(spark, {"path": spec["notebook"], "widgets": widgets}, shown)
                error = None
            except RuntimeError as failure:
                error = str(failure)
            out["days"].append({"shown": shown, "error": error})
        kinds = ("pin", "geo", "user")
        out["bronze"] = {kind: spark.table(f"{schema}.bronze_{kind}").count() for kind in kinds}
        out["quarantine"] = table(
            spark.table(f"{schema}.quarantine").select("kind", "object", "line", "raw_text", "reason")
        )
        out["silver"] = {kind: table(spark.table(f"{schema}.silver_{kind}").drop("_row_hash", "_run_id")) for kind in kinds}
    finally:
        spark.stop()
    with open(out_path, "w", encoding="utf-8") as handle:
        json.dump(out, handle)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print("usage: run_spark_incremental.py SPEC.json OUT.json", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
