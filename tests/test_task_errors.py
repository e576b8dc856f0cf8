"""A failed task keeps its Python exception: the workflow sees a TaskError, the task row the rest.

The workflow-facing error is `{type: "TaskError", message}` (what `catch (e)`
sees as `e.name` and `e.message`); the task row's error adds the Python
exception's class and its traceback, cut to about 4000 characters, for
people reading it; a worker logs the traceback at DEBUG.
"""

from __future__ import annotations

import logging

import pytest

from helpers import query, worker_thread, write_flows
from rhythm_runtime.api.app import RhythmApp
from rhythm_runtime.api.tasks import task
from rhythm_runtime.worker.loop import MAX_TRACEBACK_CHARS, _exception_name, _task_traceback

FLOWS = {
    "task_errors_catch": """\
try {
  return { value: await Task.run(Inputs.task, {}) }
} catch (e) {
  return { name: e.name, message: e.message }
}
""",
}


class UpstreamDown(Exception):
    pass


@task("task-errors-lookup")
def look_up_the_missing_key(payload):
    return {}["x"]


@task("task-errors-upstream")
async def call_the_upstream(payload):
    raise UpstreamDown("upstream said no")


@pytest.fixture(scope="module")
def client(db_url, tmp_path_factory):
    root = write_flows(tmp_path_factory.mktemp("task_errors") / "workflows", FLOWS)
    with worker_thread(RhythmApp(root), db_url) as (_worker, client):
        yield client


def task_error(db_url: str, run_id: str) -> dict:
    [row] = query(db_url, "SELECT error FROM rhythm.tasks WHERE run_id = %s", (run_id,))
    return row["error"]


def test_the_workflow_sees_a_task_error_and_the_row_keeps_the_python_exception(client, db_url, caplog):
    with caplog.at_level(logging.DEBUG, logger="rhythm"):
        handle = client.start_workflow("task_errors_catch", {"task": "task-errors-lookup"})
        assert handle.result(timeout=20) == {"name": "TaskError", "message": "'x'"}
    error = task_error(db_url, handle.id)
    assert (error["type"], error["message"], error["exception"]) == ("TaskError", "'x'", "KeyError")
    assert error["traceback"].startswith("Traceback (most recent call last):\n")
    assert "in look_up_the_missing_key\n" in error["traceback"]
    assert error["traceback"].endswith("KeyError: 'x'\n")
    assert "worker.py" not in error["traceback"]  # the worker's own frames are left out
    [info] = [r for r in caplog.records if r.levelno == logging.WARNING and getattr(r, "task", None)
              == "task-errors-lookup"]  # its last attempt: a WARNING
    assert info.getMessage() == "task task-errors-lookup failed on attempt 1/1: 'x'"
    assert info.exception == "KeyError"
    [debug] = [r for r in caplog.records if r.levelno == logging.DEBUG and "raised on attempt" in r.getMessage()]
    assert "in look_up_the_missing_key" in debug.getMessage() and debug.run_id == handle.id


def test_an_async_tasks_exception_is_module_qualified_and_asyncio_frames_are_left_out(client, db_url):
    handle = client.start_workflow("task_errors_catch", {"task": "task-errors-upstream"})
    assert handle.result(timeout=20) == {"name": "TaskError", "message": "upstream said no"}
    error = task_error(db_url, handle.id)
    assert error["exception"] == f"{__name__}.UpstreamDown"
    assert "in call_the_upstream\n" in error["traceback"] and "asyncio" not in error["traceback"]


def test_a_long_traceback_keeps_its_start_and_its_end():
    def recurse(n):
        if n == 0:
            raise ValueError("bottom")
        try:
            recurse(n - 1)
        except ValueError as e:
            raise ValueError(f"level {n} " + "x" * 200) from e

    with pytest.raises(ValueError) as info:
        recurse(60)
    text = _task_traceback(info.value)
    assert len(text) <= MAX_TRACEBACK_CHARS + 100
    assert text.startswith("Traceback (most recent call last):\n") and "characters left out)\n" in text
    assert text.endswith(f"ValueError: level 60 {'x' * 200}\n")
    assert _exception_name(info.value) == "ValueError"
