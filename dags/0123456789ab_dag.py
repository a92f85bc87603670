"""pinpipe's daily batch run on Databricks, for Amazon MWAA.

Each day's run is incremental: the batch notebook reads only the bucket's
objects no earlier run read, sends malformed lines to its quarantine table,
merges the new cleaned rows into silver and recomputes the answers. It fails
(and so does this task) when more than ``max_bad_records`` lines wait in
quarantine, after writing everything; a retry fails again until the data is
fixed or a run with a higher ``max_bad_records`` lets the lines through.

The file name carries the pipeline id (``<id>_dag.py``), as the original's
``<user_id>_dag.py`` did: the DAG id, the run name and the default notebook
path all derive from it, so a copy renamed for another id needs no edit.

Nothing account-specific is written here. At run time the task reads:

- the notebook path from the Airflow Variable ``pinpipe_notebook_path``,
  else the ``notebook_path`` param (default: where ``./infra.sh aws apply``
  imports the batch notebook);
- the cluster from the Variable ``pinpipe_databricks_cluster_id`` (an
  existing all-purpose cluster), else the ``cluster_id`` param; when both
  are empty, a new job cluster from the Variable
  ``pinpipe_databricks_new_cluster`` (JSON), else the ``new_cluster`` param.

``max_bad_records`` (default 0) comes from the Airflow Variable
``pinpipe_max_bad_records``, else the ``max_bad_records`` param.

The owner comes from the Airflow configuration option ``pinpipe.owner``
(on MWAA: an "Airflow configuration option"; locally:
``AIRFLOW__PINPIPE__OWNER``), default ``pinpipe``.

Example (trigger with another notebook and an existing cluster)::

    airflow dags trigger 0123456789ab_dag \\
        --conf '{"notebook_path": "/Shared/x/batch", "cluster_id": "0923-164208-abcd1234"}'

Example (let up to 10 malformed lines through)::

    airflow dags trigger 0123456789ab_dag --conf '{"max_bad_records": 10}'
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pendulum
from airflow import DAG
from airflow.configuration import conf
from airflow.models import Variable
from airflow.models.param import Param
from airflow.providers.databricks.operators.databricks import DatabricksSubmitRunOperator

PIPELINE_ID = Path(__file__).name.removesuffix("_dag.py")
if not re.fullmatch(r"[0-9a-f]{12}", PIPELINE_ID):
    # A clear import error in the DagBag beats a DAG with a wrong name.
    raise ValueError(
        f"DAG file {Path(__file__).name!r} must be named <pipeline id>_dag.py, "
        "the id being 12 lower-case hex digits like 12c0d092d679"
    )

DAG_ID = f"{PIPELINE_ID}_dag"
TASK_ID = "run_batch_notebook"

# Where `./infra.sh aws apply` imports the notebooks (infra/aws/plan.ts uses the same).
WORKSPACE_DIR = f"/Shared/pinpipe/{PIPELINE_ID}"
DEFAULT_NOTEBOOK_PATH = f"{WORKSPACE_DIR}/batch_notebook"

NOTEBOOK_PATH_VARIABLE = "pinpipe_notebook_path"
CLUSTER_ID_VARIABLE = "pinpipe_databricks_cluster_id"
NEW_CLUSTER_VARIABLE = "pinpipe_databricks_new_cluster"
MAX_BAD_RECORDS_VARIABLE = "pinpipe_max_bad_records"

# A small job cluster: one worker is enough for ~33,000 rows a day.
DEFAULT_NEW_CLUSTER: dict[str, Any] = {
    "spark_version": "15.4.x-scala2.12",
    "node_type_id": "m5d.large",
    "num_workers": 1,
    "aws_attributes": {"availability": "SPOT_WITH_FALLBACK", "first_on_demand": 1},
}


def choose_cluster(context: dict[str, Any]) -> None:
    """Keeps the existing cluster id if one was given, else swaps in a new job cluster.

    Runs as the task's ``pre_execute`` hook, after templates are rendered, so
    the request names exactly one of ``existing_cluster_id`` / ``new_cluster``
    as the Jobs API requires.

    Example: ``choose_cluster({"task": task, "params": {...}})``.
    """
    run = context["task"].json
    cluster_id = str(run.get("existing_cluster_id") or "").strip()
    if cluster_id:
        run["existing_cluster_id"] = cluster_id
        return
    run.pop("existing_cluster_id", None)
    new_cluster = Variable.get(NEW_CLUSTER_VARIABLE, default_var=None, deserialize_json=True)
    if new_cluster is None:
        new_cluster = context["params"]["new_cluster"]
    if not isinstance(new_cluster, dict) or not new_cluster:
        raise ValueError(
            f"no Databricks cluster: set the Variable {CLUSTER_ID_VARIABLE} to a cluster id, "
            f"or {NEW_CLUSTER_VARIABLE} to a JSON new_cluster spec (got {new_cluster!r})"
        )
    run["new_cluster"] = new_cluster


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
        "notebook_path": Param(DEFAULT_NOTEBOOK_PATH, type="string", minLength=1),
        "cluster_id": Param("", type="string"),
        "new_cluster": Param(DEFAULT_NEW_CLUSTER, type="object"),
        "max_bad_records": Param(0, type="integer", minimum=0),
    },
    tags=["pinpipe", PIPELINE_ID],
) as dag:
    DatabricksSubmitRunOperator(
        task_id=TASK_ID,
        databricks_conn_id="databricks_default",
        run_name=f"pinpipe-{PIPELINE_ID}-batch-{{{{ ds }}}}",
        notebook_task={
            "notebook_path": (
                f"{{{{ var.value.get('{NOTEBOOK_PATH_VARIABLE}', params.notebook_path) }}}}"
            ),
            "base_parameters": {
                "pipeline_id": PIPELINE_ID,
                # Widgets take text.
                "max_bad_records": (
                    f"{{{{ var.value.get('{MAX_BAD_RECORDS_VARIABLE}', params.max_bad_records) }}}}"
                ),
            },
        },
        existing_cluster_id=f"{{{{ var.value.get('{CLUSTER_ID_VARIABLE}', params.cluster_id) }}}}",
        # The hook retries a submit that timed out; the token keeps that from starting
        # a second run. A new Airflow try (try_number) is meant to start a new run.
        idempotency_token=f"pinpipe-{PIPELINE_ID}-{{{{ ds }}}}-{{{{ ti.try_number }}}}",
        polling_period_seconds=30,
        pre_execute=choose_cluster,
    )
