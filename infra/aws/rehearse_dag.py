"""Runs the DAG's one task once, on real Airflow, against a Databricks stand-in:
the rehearsal's last check that the DAG finds and runs the batch job `aws apply`
created (a run of it ends SUCCESS on the stand-in only when the job's notebook
was imported).

Usage: python rehearse_dag.py DAGS_DIR PIPELINE_ID DATABRICKS_URL TOKEN

DAGS_DIR holds ``<id>_dag.py``; the ``databricks_default`` connection points
at DATABRICKS_URL (http://127.0.0.1:PORT) with TOKEN. Airflow gets a
throwaway home with a sqlite metadata DB (as dags/tests/conftest.py sets up),
removed after. Exits 0 when the DAG run succeeds.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from urllib.parse import urlsplit

dags_dir, pipeline_id, databricks_url, token = sys.argv[1:5]
home = tempfile.mkdtemp(prefix="pinpipe-rehearse-airflow-")
url = urlsplit(databricks_url)
for name in list(os.environ):
    if name.startswith("AIRFLOW"):
        del os.environ[name]
os.environ.update(
    {
        "AIRFLOW_HOME": home,
        "AIRFLOW__CORE__DAGS_FOLDER": dags_dir,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__CORE__EXECUTOR": "SequentialExecutor",
        "AIRFLOW_CONN_DATABRICKS_DEFAULT": json.dumps(
            {
                "conn_type": "databricks",
                "host": url.hostname,
                "port": url.port,
                "schema": url.scheme,
                "password": token,
            }
        ),
    }
)

try:
    import pendulum
    from airflow.models import DagBag
    from airflow.utils import db

    db.resetdb()
    bag = DagBag(dag_folder=dags_dir, include_examples=False, read_dags_from_db=False)
    if bag.import_errors:
        print(f"DAG import errors: {bag.import_errors}", file=sys.stderr)
        sys.exit(1)
    dag = bag.get_dag(f"{pipeline_id}_dag")
    # One try: a failed Databricks run is the answer, not something to wait 2 minutes on.
    for task in dag.tasks:
        task.retries = 0
    run = dag.test(execution_date=pendulum.now("UTC").start_of("day"))
    print(f"DAG run {run.run_id}: {run.state}")
    sys.exit(0 if run.state == "success" else 1)
finally:
    shutil.rmtree(home, ignore_errors=True)
