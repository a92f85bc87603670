"""Test setup: a throwaway AIRFLOW_HOME with a sqlite metadata DB, and a local
HTTP server that stands in for the Databricks REST API and records requests.

Airflow reads its configuration when first imported, so the environment is
set here, at import time, before any test module imports airflow.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

DAGS_DIR = Path(__file__).resolve().parent.parent
_AIRFLOW_HOME = tempfile.mkdtemp(prefix="pinpipe-airflow-")
os.environ.update(
    {
        "AIRFLOW_HOME": _AIRFLOW_HOME,
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_AIRFLOW_HOME}/airflow.db",
        "AIRFLOW__CORE__EXECUTOR": "SequentialExecutor",
    }
)
# A developer's own settings must not leak into the tests.
for _name in list(os.environ):
    if _name.startswith(("AIRFLOW_VAR_", "AIRFLOW_CONN_", "AIRFLOW__PINPIPE__")):
        del os.environ[_name]


@pytest.fixture(scope="session", autouse=True)
def airflow_db():
    """A fresh sqlite metadata DB for the session; the home dir is removed after."""
    from airflow.utils import db

    db.resetdb()
    yield
    shutil.rmtree(_AIRFLOW_HOME, ignore_errors=True)


@dataclass
class Recorded:
    """One request the fake Databricks API received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeDatabricks:
    """What the server answers, and every request it got, in order."""

    port: int = 0
    run_id: int = 4242
    # The jobs the workspace holds, by name: what `aws apply` created.
    jobs: dict[str, int] = field(default_factory=lambda: {"pinpipe-0123456789ab-batch": 77})
    result_state: str = "SUCCESS"
    requests: list[Recorded] = field(default_factory=list)

    def connection_json(self) -> str:
        """The `databricks_default` connection pointing here, as AIRFLOW_CONN_ takes it."""
        return json.dumps(
            {
                "conn_type": "databricks",
                "host": "127.0.0.1",
                "port": self.port,
                "schema": "http",
                "password": "dapi-test-token",
            }
        )

    def paths(self) -> list[str]:
        return [f"{r.method} {r.path}" for r in self.requests]


def _handler(fake: FakeDatabricks):
    class Handler(BaseHTTPRequestHandler):
        def _record(self) -> Recorded:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            recorded = Recorded(
                method=self.command,
                path=url.path,
                query=parse_qs(url.query),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=json.loads(raw) if raw else None,
            )
            fake.requests.append(recorded)
            return recorded

        def _answer(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            recorded = self._record()
            if recorded.path == "/api/2.1/jobs/run-now":
                self._answer(200, {"run_id": fake.run_id, "number_in_job": fake.run_id})
            else:
                self._answer(404, {"error_code": "ENDPOINT_NOT_FOUND", "message": recorded.path})

        def do_GET(self) -> None:  # noqa: N802
            recorded = self._record()
            if recorded.path == "/api/2.1/jobs/list":
                # Filtered by exact name, as the Jobs API does with `name`.
                name = recorded.query.get("name", [None])[0]
                jobs = [
                    {"job_id": job_id, "settings": {"name": job_name}}
                    for job_name, job_id in fake.jobs.items()
                    if name is None or job_name == name
                ]
                self._answer(200, {"jobs": jobs, "has_more": False})
            elif recorded.path == "/api/2.1/jobs/runs/get":
                self._answer(
                    200,
                    {
                        "run_id": int(recorded.query["run_id"][0]),
                        "run_page_url": f"http://127.0.0.1:{fake.port}/#job/run/{fake.run_id}",
                        "state": {
                            "life_cycle_state": "TERMINATED",
                            "result_state": fake.result_state,
                            "state_message": "",
                        },
                    },
                )
            else:
                self._answer(404, {"error_code": "ENDPOINT_NOT_FOUND", "message": recorded.path})

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    return Handler


@pytest.fixture
def fake_databricks(monkeypatch):
    """A recording Databricks API on 127.0.0.1, wired in as `databricks_default`."""
    fake = FakeDatabricks()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("AIRFLOW_CONN_DATABRICKS_DEFAULT", fake.connection_json())
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
