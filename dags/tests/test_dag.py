"""The DAG on real Airflow: it loads, its settings are as intended, and a run
sends Databricks the request we mean (checked on a recording local server)."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pendulum
import pytest
from airflow.models import DagBag, XCom
from airflow.utils.state import DagRunState, TaskInstanceState

from conftest import DAGS_DIR

PIPELINE_ID = "0123456789ab"
DAG_ID = f"{PIPELINE_ID}_dag"
TASK_ID = "run_batch_notebook"
DEFAULT_NOTEBOOK = f"/Shared/pinpipe/{PIPELINE_ID}/batch_notebook"


def load_dagbag(folder=DAGS_DIR) -> DagBag:
    return DagBag(dag_folder=str(folder), include_examples=False, read_dags_from_db=False)


@pytest.fixture
def dag():
    bag = load_dagbag()
    assert bag.import_errors == {}
    return bag.get_dag(DAG_ID)


def test_dagbag_loads_the_folder_with_no_import_errors():
    bag = load_dagbag()
    assert bag.import_errors == {}
    assert sorted(bag.dag_ids) == [DAG_ID]
    # dags/.airflowignore keeps the tests out of the DagBag (and out of MWAA's parser).
    assert [p.split("/dags/")[-1] for p in bag.file_last_changed] == [f"{PIPELINE_ID}_dag.py"]


def test_schedule_catchup_retries_and_owner(dag):
    assert dag.schedule_interval == "@daily"
    assert dag.catchup is False
    assert dag.start_date == pendulum.datetime(2024, 1, 1, tz="UTC")
    assert dag.max_active_runs == 1
    assert dag.task_ids == [TASK_ID]
    task = dag.get_task(TASK_ID)
    assert task.retries == 2
    assert task.retry_delay == timedelta(minutes=2)
    assert task.owner == "pinpipe"
    assert task.databricks_conn_id == "databricks_default"
    assert type(task).__name__ == "DatabricksSubmitRunOperator"


def test_owner_comes_from_the_airflow_config(monkeypatch):
    monkeypatch.setenv("AIRFLOW__PINPIPE__OWNER", "data-team")
    task = load_dagbag().get_dag(DAG_ID).get_task(TASK_ID)
    assert task.owner == "data-team"


def test_operator_json_before_rendering(dag):
    task = dag.get_task(TASK_ID)
    assert task.json == {
        "run_name": f"pinpipe-{PIPELINE_ID}-batch-{{{{ ds }}}}",
        "notebook_task": {
            "notebook_path": "{{ var.value.get('pinpipe_notebook_path', params.notebook_path) }}",
            "base_parameters": {
                "pipeline_id": PIPELINE_ID,
                "max_bad_records": (
                    "{{ var.value.get('pinpipe_max_bad_records', params.max_bad_records) }}"
                ),
            },
        },
        "existing_cluster_id": (
            "{{ var.value.get('pinpipe_databricks_cluster_id', params.cluster_id) }}"
        ),
        "idempotency_token": f"pinpipe-{PIPELINE_ID}-{{{{ ds }}}}-{{{{ ti.try_number }}}}",
    }
    assert dag.params["notebook_path"] == DEFAULT_NOTEBOOK
    assert dag.params["cluster_id"] == ""
    assert dag.params["new_cluster"]["num_workers"] == 1
    assert dag.params["max_bad_records"] == 0


def test_a_file_not_named_after_a_pipeline_id_is_an_import_error(tmp_path):
    shutil.copy(DAGS_DIR / f"{PIPELINE_ID}_dag.py", tmp_path / "batch_dag.py")
    bag = load_dagbag(tmp_path)
    assert bag.dag_ids == []
    [(path, error)] = bag.import_errors.items()
    assert path.endswith("batch_dag.py")
    assert "must be named <pipeline id>_dag.py" in error


def test_a_copy_named_for_another_id_names_everything_after_it(tmp_path):
    shutil.copy(DAGS_DIR / f"{PIPELINE_ID}_dag.py", tmp_path / "12c0d092d679_dag.py")
    dag = load_dagbag(tmp_path).get_dag("12c0d092d679_dag")
    assert dag.params["notebook_path"] == "/Shared/pinpipe/12c0d092d679/batch_notebook"
    assert dag.get_task(TASK_ID).json["notebook_task"]["base_parameters"]["pipeline_id"] == (
        "12c0d092d679"
    )


def _run(dag, logical_date: str, **kwargs):
    return dag.test(execution_date=pendulum.parse(logical_date), **kwargs)


def _submits(fake):
    return [r for r in fake.requests if r.path == "/api/2.1/jobs/runs/submit"]


def test_run_with_variables_submits_the_notebook_on_the_existing_cluster(
    dag, fake_databricks, monkeypatch
):
    monkeypatch.setenv("AIRFLOW_VAR_PINPIPE_NOTEBOOK_PATH", "/Users/me@example.com/batch")
    monkeypatch.setenv("AIRFLOW_VAR_PINPIPE_DATABRICKS_CLUSTER_ID", "0923-164208-meows279")
    dag_run = _run(dag, "2025-03-04")

    assert dag_run.state == DagRunState.SUCCESS
    [submit] = _submits(fake_databricks)
    assert submit.method == "POST"
    assert submit.headers["authorization"] == "Bearer dapi-test-token"
    assert submit.body == {
        "run_name": f"pinpipe-{PIPELINE_ID}-batch-2025-03-04",
        "notebook_task": {
            "notebook_path": "/Users/me@example.com/batch",
            "base_parameters": {"pipeline_id": PIPELINE_ID, "max_bad_records": "0"},
        },
        "existing_cluster_id": "0923-164208-meows279",
        "idempotency_token": f"pinpipe-{PIPELINE_ID}-2025-03-04-1",
    }
    # The operator then polled the run it was given, and pushed its id.
    gets = [r for r in fake_databricks.requests if r.path == "/api/2.1/jobs/runs/get"]
    assert gets and all(r.query["run_id"] == ["4242"] for r in gets)
    [ti] = dag_run.get_task_instances()
    assert ti.state == TaskInstanceState.SUCCESS
    assert XCom.get_one(run_id=dag_run.run_id, dag_id=DAG_ID, task_id=TASK_ID, key="run_id") == 4242


def test_run_without_a_cluster_id_asks_for_a_new_job_cluster(dag, fake_databricks):
    dag_run = _run(dag, "2025-03-05")

    assert dag_run.state == DagRunState.SUCCESS
    [submit] = _submits(fake_databricks)
    assert submit.body["notebook_task"]["notebook_path"] == DEFAULT_NOTEBOOK
    assert "existing_cluster_id" not in submit.body
    # The provider sends numbers as strings (normalise_json_content); the Jobs API takes both.
    assert submit.body["new_cluster"] == {
        "spark_version": "15.4.x-scala2.12",
        "node_type_id": "m5d.large",
        "num_workers": "1",
        "aws_attributes": {"availability": "SPOT_WITH_FALLBACK", "first_on_demand": "1"},
    }


def test_run_conf_params_choose_notebook_and_cluster(dag, fake_databricks, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_VAR_PINPIPE_DATABRICKS_NEW_CLUSTER",
        '{"spark_version": "14.3.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 2}',
    )
    dag_run = _run(dag, "2025-03-06", run_conf={"notebook_path": "/Shared/other/batch"})

    assert dag_run.state == DagRunState.SUCCESS
    [submit] = _submits(fake_databricks)
    assert submit.body["notebook_task"]["notebook_path"] == "/Shared/other/batch"
    assert submit.body["new_cluster"] == {
        "spark_version": "14.3.x-scala2.12",
        "node_type_id": "i3.xlarge",
        "num_workers": "2",
    }


def test_a_failed_databricks_run_is_retried_twice_then_fails(dag, fake_databricks):
    fake_databricks.result_state = "FAILED"
    # Same retry count; a shorter delay than the DAG's 2 minutes keeps the test fast.
    dag.get_task(TASK_ID).retry_delay = timedelta(seconds=1)
    dag_run = _run(dag, "2025-03-07")

    assert dag_run.state == DagRunState.FAILED
    [ti] = dag_run.get_task_instances()
    assert ti.state == TaskInstanceState.FAILED
    # One try and two retries, each a new Databricks run (a new idempotency token).
    assert [r.body["idempotency_token"] for r in _submits(fake_databricks)] == [
        f"pinpipe-{PIPELINE_ID}-2025-03-07-1",
        f"pinpipe-{PIPELINE_ID}-2025-03-07-2",
        f"pinpipe-{PIPELINE_ID}-2025-03-07-3",
    ]


def test_max_bad_records_reaches_the_incremental_notebook(dag, fake_databricks, monkeypatch):
    dag_run = _run(dag, "2025-03-08", run_conf={"max_bad_records": 25})
    assert dag_run.state == DagRunState.SUCCESS
    [submit] = _submits(fake_databricks)
    assert submit.body["notebook_task"]["base_parameters"] == {
        "pipeline_id": PIPELINE_ID,
        "max_bad_records": "25",
    }
    fake_databricks.requests.clear()
    monkeypatch.setenv("AIRFLOW_VAR_PINPIPE_MAX_BAD_RECORDS", "7")
    _run(dag, "2025-03-09")
    [submit] = _submits(fake_databricks)
    assert submit.body["notebook_task"]["base_parameters"]["max_bad_records"] == "7"


def test_a_negative_max_bad_records_is_refused(dag, fake_databricks):
    with pytest.raises(Exception, match="max_bad_records"):
        _run(dag, "2025-03-10", run_conf={"max_bad_records": -1})
    assert _submits(fake_databricks) == []
