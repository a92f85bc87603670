"""The DAG on real Airflow: it loads, its settings are as intended, and a run
sends Databricks the request we mean (checked on a recording local server)."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pendulum
import pytest
from airflow.exceptions import AirflowException
from airflow.models import DagBag, XCom
from airflow.utils.state import DagRunState, TaskInstanceState

from conftest import DAGS_DIR

PIPELINE_ID = "0123456789ab"
DAG_ID = f"{PIPELINE_ID}_dag"
TASK_ID = "run_batch_notebook"
JOB_NAME = f"pinpipe-{PIPELINE_ID}-batch"


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
    assert type(task).__name__ == "DatabricksRunNowOperator"


def test_owner_comes_from_the_airflow_config(monkeypatch):
    monkeypatch.setenv("AIRFLOW__PINPIPE__OWNER", "data-team")
    task = load_dagbag().get_dag(DAG_ID).get_task(TASK_ID)
    assert task.owner == "data-team"


def test_operator_json_before_rendering(dag):
    task = dag.get_task(TASK_ID)
    assert task.json == {
        "job_name": JOB_NAME,
        "notebook_params": {
            "max_bad_records": (
                "{{ var.value.get('pinpipe_max_bad_records', params.max_bad_records) }}"
            ),
        },
        "idempotency_token": f"pinpipe-{PIPELINE_ID}-{{{{ ds }}}}-{{{{ ti.try_number }}}}",
    }
    assert dict(dag.params) == {"max_bad_records": 0}


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
    assert dag.get_task(TASK_ID).json["job_name"] == "pinpipe-12c0d092d679-batch"


def _run(dag, logical_date: str, **kwargs):
    return dag.test(execution_date=pendulum.parse(logical_date), **kwargs)


def _run_nows(fake):
    return [r for r in fake.requests if r.path == "/api/2.1/jobs/run-now"]


def test_a_run_finds_the_job_by_name_runs_it_and_waits_for_it(dag, fake_databricks):
    dag_run = _run(dag, "2025-03-04")

    assert dag_run.state == DagRunState.SUCCESS
    lists = [r for r in fake_databricks.requests if r.path == "/api/2.1/jobs/list"]
    assert [r.query["name"] for r in lists] == [[JOB_NAME]]
    [run_now] = _run_nows(fake_databricks)
    assert run_now.method == "POST"
    assert run_now.headers["authorization"] == "Bearer dapi-test-token"
    assert run_now.body == {
        "job_id": 77,
        "notebook_params": {"max_bad_records": "0"},
        "idempotency_token": f"pinpipe-{PIPELINE_ID}-2025-03-04-1",
    }
    # The operator then polled the run it was given, and pushed its id.
    gets = [r for r in fake_databricks.requests if r.path == "/api/2.1/jobs/runs/get"]
    assert gets and all(r.query["run_id"] == ["4242"] for r in gets)
    [ti] = dag_run.get_task_instances()
    assert ti.state == TaskInstanceState.SUCCESS
    assert XCom.get_one(run_id=dag_run.run_id, dag_id=DAG_ID, task_id=TASK_ID, key="run_id") == 4242


def test_without_the_job_apply_makes_the_task_fails_naming_it(dag, fake_databricks):
    fake_databricks.jobs = {"pinpipe-someoneelse0-batch": 5}
    dag.get_task(TASK_ID).retries = 0
    dag_run = _run(dag, "2025-03-05")

    assert dag_run.state == DagRunState.FAILED
    # The reason the task gives, without a DAG run around it.
    with pytest.raises(AirflowException, match=f"Job ID for job name {JOB_NAME} can not be found"):
        dag.get_task(TASK_ID).execute(context={})
    assert _run_nows(fake_databricks) == []


def test_a_failed_databricks_run_is_retried_twice_then_fails(dag, fake_databricks):
    fake_databricks.result_state = "FAILED"
    # Same retry count; a shorter delay than the DAG's 2 minutes keeps the test fast.
    dag.get_task(TASK_ID).retry_delay = timedelta(seconds=1)
    dag_run = _run(dag, "2025-03-07")

    assert dag_run.state == DagRunState.FAILED
    [ti] = dag_run.get_task_instances()
    assert ti.state == TaskInstanceState.FAILED
    # One try and two retries, each a new Databricks run (a new idempotency token).
    assert [r.body["idempotency_token"] for r in _run_nows(fake_databricks)] == [
        f"pinpipe-{PIPELINE_ID}-2025-03-07-1",
        f"pinpipe-{PIPELINE_ID}-2025-03-07-2",
        f"pinpipe-{PIPELINE_ID}-2025-03-07-3",
    ]


def test_max_bad_records_reaches_the_incremental_notebook(dag, fake_databricks, monkeypatch):
    dag_run = _run(dag, "2025-03-08", run_conf={"max_bad_records": 25})
    assert dag_run.state == DagRunState.SUCCESS
    [run_now] = _run_nows(fake_databricks)
    assert run_now.body["notebook_params"] == {"max_bad_records": "25"}
    fake_databricks.requests.clear()
    monkeypatch.setenv("AIRFLOW_VAR_PINPIPE_MAX_BAD_RECORDS", "7")
    _run(dag, "2025-03-09")
    [run_now] = _run_nows(fake_databricks)
    assert run_now.body["notebook_params"] == {"max_bad_records": "7"}


def test_a_negative_max_bad_records_is_refused(dag, fake_databricks):
    with pytest.raises(Exception, match="max_bad_records"):
        _run(dag, "2025-03-10", run_conf={"max_bad_records": -1})
    assert _run_nows(fake_databricks) == []
