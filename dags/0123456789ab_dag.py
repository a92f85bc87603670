"""pinpipe's daily batch run on Databricks, for Amazon MWAA.

Each day's run is incremental: the batch notebook reads only the bucket's
objects no earlier run read, sends malformed lines to its quarantine table,
merges the new cleaned rows into silver and recomputes the answers. It fails
(and so does this task) when more than ``max_bad_records`` lines wait in
quarantine, after writing everything; a retry fails again until the data is
fixed or a run with a higher ``max_bad_records`` lets the lines through.

The file name carries the pipeline id (``<id>_dag.py``), as the original's
``<user_id>_dag.py`` did: the DAG id and the job it runs derive from it, so
a copy renamed for another id needs no edit.

It runs the Databricks job ``pinpipe-<id>-batch`` that ``./infra.sh aws
apply`` creates (the batch notebook on a small job cluster of its own, both
set in ``infra/aws/databricks_jobs.ts``), found by name, so the notebook
path and the cluster are the job's and are kept in one place. Nothing
account-specific is written here.

``max_bad_records`` (default 0) comes from the Airflow Variable
``pinpipe_max_bad_records``, else the ``max_bad_records`` param, and reaches
the notebook as a notebook parameter.

The owner comes from the Airflow configuration option ``pinpipe.owner``
(on MWAA: an "Airflow configuration option"; locally:
``AIRFLOW__PINPIPE__OWNER``), default ``pinpipe``.

Example (let up to 10 malformed lines through)::

    airflow dags trigger 0123456789ab_dag --conf '{"max_bad_records": 10}'
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pendulum
from airflow import DAG
from airflow.configuration import conf
from airflow.models.param import Param
from airflow.providers.databricks.operators.databricks import DatabricksRunNowOperator

PIPELINE_ID = Path(__file__).name.removesuffix("_dag.py")
if not re.fullmatch(r"[0-9a-f]{12}", PIPELINE_ID):
    # A clear import error in the DagBag beats a DAG with a wrong name.
    raise ValueError(
        f"DAG file {Path(__file__).name!r} must be named <pipeline id>_dag.py, "
        "the id being 12 lower-case hex digits like 12c0d092d679"
    )

DAG_ID = f"{PIPELINE_ID}_dag"
TASK_ID = "run_batch_notebook"

# The job `./infra.sh aws apply` creates (infra/aws/databricks_jobs.ts names it the same way).
JOB_NAME = f"pinpipe-{PIPELINE_ID}-batch"
MAX_BAD_RECORDS_VARIABLE = "pinpipe_max_bad_records"


with DAG(
    dag_id=DAG_ID,
    description="Ingest the bucket's new pin, geo and user objects, clean them and answer the queries on Databricks",
    schedule="@daily",
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={
        "owner": conf.get("pinpipe", "owner", fallback="pinpipe"),
        "retries": 2,
        "retry_delay": timedelta(minutes=2),
    },
    params={
        "max_bad_records": Param(0, type="integer", minimum=0),
    },
    tags=["pinpipe", PIPELINE_ID],
) as dag:
    DatabricksRunNowOperator(
        task_id=TASK_ID,
        databricks_conn_id="databricks_default",
        job_name=JOB_NAME,
        notebook_params={
            # Widgets take text.
            "max_bad_records": (
                f"{{{{ var.value.get('{MAX_BAD_RECORDS_VARIABLE}', params.max_bad_records) }}}}"
            ),
        },
        # The hook retries a run-now that timed out; the token keeps that from starting
        # a second run. A new Airflow try (try_number) is meant to start a new run.
        idempotency_token=f"pinpipe-{PIPELINE_ID}-{{{{ ds }}}}-{{{{ ti.try_number }}}}",
        polling_period_seconds=30,
    )
