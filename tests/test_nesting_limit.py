"""A value nested 100,000 deep fails its run with the same RangeError in-process and on Postgres, wherever
the nesting is met: in an operation, in the run's result, or in the snapshot at an await (docs/GUARANTEES.md,
limits). Nothing escapes the runner as a Python RecursionError, and no run fails as a Rhythm bug."""

from __future__ import annotations

import pytest

from helpers import worker_thread, write_flows
from rhythm_runtime.api.app import RhythmApp
from rhythm_runtime.api.client import WorkflowFailed
from rhythm_runtime.api.testing import run_workflow
from rhythm_runtime.execution.machine import TOO_DEEP_MESSAGE

BUILD = "let v = []\nfor (let i = 0; i < 100000; i++) v = [v]\n"
FLOWS = {
    "deep_result": BUILD + "return v\n",
    "deep_snapshot": BUILD + "await Timer.delay(0)\nreturn 1\n",
    "deep_task_payload": BUILD + "return await Task.run('nothing', v)\n",
}
CAUGHT = BUILD + """\
try {
  JSON.stringify(v)
} catch (e) {
  return e.name + ": " + e.message
}
"""


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_in_process_the_run_fails_with_the_range_error(name):
    result = run_workflow(FLOWS[name], tasks={"nothing": lambda p: None})
    assert result.status == "failed"
    assert (result.error["type"], result.error["message"]) == ("RangeError", TOO_DEEP_MESSAGE)


def test_an_operation_that_meets_the_nesting_throws_a_catchable_range_error():
    assert run_workflow(CAUGHT).output == "RangeError: Maximum call stack size exceeded"


def test_on_postgres_the_runs_fail_with_the_same_error(db_url, tmp_path):
    root = write_flows(tmp_path / "workflows", FLOWS)
    with worker_thread(RhythmApp(root), db_url) as (_worker, client):
        handles = {name: client.start_workflow(name, {}) for name in FLOWS}
        for name, handle in handles.items():
            with pytest.raises(WorkflowFailed) as info:
                handle.result(timeout=30)
            assert (info.value.error["type"], info.value.error["message"]) == ("RangeError", TOO_DEEP_MESSAGE), name
