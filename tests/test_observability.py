"""Worker observability on a real Postgres: JSON logs with run and task ids, /metrics, OpenTelemetry spans.

One `rhythm worker --log-format json --metrics-port 0` process runs a few
workflows of tests/e2e/app (copied to a temporary directory) on this
module's database; its log lines and a scrape of its /metrics are checked
against what those workflows did. Spans come from a worker in this process
(on a database of its own), exported to opentelemetry-sdk's in-memory
exporter.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from rhythm_runtime.api.client import SyncRhythmClient, WorkflowFailed
from rhythm_runtime.errors import RhythmError, StorageError
from rhythm_runtime.worker.metrics import Metrics
from rhythm_runtime.worker.observability import ContextFilter, TextFormatter, log_context

from helpers import query, wait_for, worker_thread

APP = Path(__file__).resolve().parent / "e2e" / "app"
RHYTHM = Path(sys.executable).with_name("rhythm")


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("observability") / "app"
    shutil.copytree(APP, root, ignore=shutil.ignore_patterns("compiled", "__pycache__"))
    proc = subprocess.run([str(RHYTHM), "compile", "-q", "workflows"], cwd=root, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    (root / "e2e.log").touch()
    return root


@pytest.fixture(scope="module")
def worker(project, db_url):
    """A `rhythm worker` with JSON logs at DEBUG and metrics on a free port; yields (log path, metrics URL)."""
    output = project / "worker.log"
    env = {**os.environ, "RHYTHM_DATABASE_URL": db_url, "E2E_LOG": str(project / "e2e.log"),
           "RHYTHM_LOG_FORMAT": "json", "PYTHONUNBUFFERED": "1"}
    cmd = [str(RHYTHM), "worker", "e2e_app:app", "--log-level", "debug", "--metrics-port", "0"]
    with open(output, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=project, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: "started" in output.read_text() or proc.poll() is not None, 60, "the worker to start")
        assert proc.poll() is None, output.read_text()
        url = re.search(r"serving metrics on (http://\S+/metrics)", output.read_text()).group(1)
        yield output, url
    finally:
        proc.terminate()
        proc.wait(20)


@pytest.fixture(scope="module")
def runs(worker, db_url) -> dict[str, str]:
    """Four runs, finished: 4 tasks in a row, a task that fails, one that fails once then succeeds, a failed run."""
    client = SyncRhythmClient(db_url)
    tag = uuid.uuid4().hex[:8]
    handles = {
        "steps": client.start_workflow("steps", {"tag": tag, "task": "record", "seconds": [0, 0, 0, 0]}),
        "fail": client.start_workflow("retry", {"task": "fail", "payload": {"message": "no luck"}}),
        "flaky": client.start_workflow("retry", {"task": "flaky", "payload": {"tag": tag, "failures": 1}}),
        "child_fail": client.start_workflow("child_fail", {"message": "kaboom"}),
    }
    assert handles["steps"].result(timeout=30) == [0, 10, 20, 30]
    assert handles["fail"].result(timeout=30) == {"name": "TaskError", "message": "no luck"}
    assert handles["flaky"].result(timeout=30) == {"value": "ok after 2 attempts"}
    with pytest.raises(WorkflowFailed):
        handles["child_fail"].result(timeout=30)
    client.close()
    return {name: h.id for name, h in handles.items()}


def log_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def scrape(url: str) -> dict[tuple, float]:
    """{(sample name, sorted labels...): value} of one scrape."""
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    return {(s.name, *sorted(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


# -- logs ------------------------------------------------------------------------------------------


def test_every_line_is_json_and_a_failed_task_names_its_run_and_task(worker, runs, db_url):
    lines = log_lines(worker[0])
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    [task] = query(db_url, "SELECT id FROM rhythm.tasks WHERE run_id = %s", (runs["fail"],))
    [failed] = [x for x in lines if x.get("task") == "fail" and x["level"] == "WARNING"]  # its last attempt
    assert failed["run_id"] == runs["fail"] and failed["task_id"] == task["id"]
    assert failed["message"] == "task fail failed on attempt 1/1: no luck"
    assert (failed["attempt"], failed["max_attempts"], failed["error"]) == (1, 1, "no luck")


def test_a_retried_attempt_is_logged_at_info_and_a_failed_run_at_error(worker, runs):
    lines = log_lines(worker[0])
    [retried] = [x for x in lines if x.get("task") == "flaky" and x["level"] == "INFO"]
    assert retried["run_id"] == runs["flaky"] and "(will retry)" in retried["message"]
    [run_failed] = [x for x in lines if x["message"].startswith("run failed")]
    assert run_failed["run_id"] == runs["child_fail"] and run_failed["workflow"] == "child_fail"
    assert run_failed["error"]["message"] == "kaboom" and run_failed["level"] == "ERROR"


def test_debug_lines_time_each_task_and_carry_its_ids(worker, runs):
    completed = [x for x in log_lines(worker[0]) if x["message"].startswith("task completed")
                 and x.get("run_id") == runs["steps"]]
    assert len(completed) == 4 and len({x["task_id"] for x in completed}) == 4
    assert all(x["task"] == "record" and x["level"] == "DEBUG" and x["duration_ms"] >= 0 for x in completed)


def test_text_lines_end_with_the_ids_they_are_about():
    record = logging.LogRecord("rhythm", logging.INFO, __file__, 1, "task failed", None, None)
    with log_context(run_id="r1", task_id=7, task="send-email", workflow=None):
        ContextFilter().filter(record)
    assert TextFormatter().format(record).endswith("rhythm: task failed [run_id=r1 task_id=7 task=send-email]")


# -- metrics ------------------------------------------------------------------------------------------


def test_metrics_count_tasks_by_outcome_activations_and_runs_by_status(worker, runs):
    metrics = scrape(worker[1])
    tasks = {key[1:]: value for key, value in metrics.items() if key[0] == "rhythm_tasks_total"}
    assert tasks == {
        (("outcome", "completed"), ("task", "record")): 4,
        (("outcome", "completed"), ("task", "add")): 1,
        (("outcome", "failed"), ("task", "fail")): 1,
        (("outcome", "failed_attempt"), ("task", "flaky")): 1,
        (("outcome", "completed"), ("task", "flaky")): 1,
    }
    assert metrics[("rhythm_task_duration_seconds_count", ("task", "record"))] == 4
    assert metrics[("rhythm_activations_total", ("workflow", "steps"))] == 5  # the start, then one per task
    runs_gauge = {key[1:]: value for key, value in metrics.items() if key[0] == "rhythm_runs"}
    assert runs_gauge == {
        (("status", "completed"), ("workflow", "steps")): 1,
        (("status", "completed"), ("workflow", "retry")): 2,
        (("status", "failed"), ("workflow", "child_fail")): 1,
    }


class _DownStore:
    def tx(self):
        raise StorageError("the database is away")


def test_a_scrape_without_the_database_still_has_the_counters():
    metrics = Metrics(_DownStore())
    metrics.task_done("add", "completed", 0.01)
    text = generate_latest(metrics.registry).decode()
    assert 'rhythm_tasks_total{outcome="completed",task="add"} 1.0' in text
    assert "rhythm_runs" not in text


def test_a_metrics_port_in_use_is_one_clear_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(RhythmError, match=f"cannot serve metrics on 127.0.0.1:{port}"):
            Metrics(_DownStore()).serve("127.0.0.1", port)


# -- traces ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spans():
    """The in-memory exporter of the process's tracer provider (set here unless a test set one before)."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


def test_spans_of_tasks_and_activations_carry_the_run_id(project, make_database, template_db, spans, monkeypatch):
    from opentelemetry.trace import StatusCode

    monkeypatch.setenv("E2E_LOG", str(project / "e2e.log"))
    monkeypatch.syspath_prepend(str(project))
    import e2e_app

    with worker_thread(e2e_app.app, make_database(template_db), concurrency=2) as (_worker, client):
        handle = client.start_workflow("retry", {"task": "flaky", "payload": {"tag": uuid.uuid4().hex, "failures": 1}})
        assert handle.result(timeout=30) == {"value": "ok after 2 attempts"}

    mine = [s for s in spans.get_finished_spans() if s.attributes.get("rhythm.run_id") == handle.id]
    tasks = sorted((s for s in mine if s.name == "rhythm.task flaky"), key=lambda s: s.attributes["rhythm.attempt"])
    activations = [s for s in mine if s.name == "rhythm.activation"]
    assert [(s.attributes["rhythm.attempt"], s.attributes["rhythm.outcome"], s.status.status_code) for s in tasks] == [
        (1, "failed_attempt", StatusCode.ERROR), (2, "completed", StatusCode.UNSET)]
    assert all(s.attributes["rhythm.task"] == "flaky" and isinstance(s.attributes["rhythm.task_id"], int)
               for s in tasks)
    assert [e.attributes["exception.type"] for e in tasks[0].events] == ["RuntimeError"]
    assert len(activations) == 2 and all(s.attributes["rhythm.workflow"] == "retry" for s in activations)
    # the activation that took the task's result ran inside the task's span (the same thread, at once)
    assert activations[-1].parent.span_id == tasks[1].context.span_id
