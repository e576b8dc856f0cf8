"""`@task(timeout=…)` on sync functions: the attempt fails past the limit."""

import time

import pytest

from rhythm_runtime.api.tasks import _call_with_timeout


def test_a_fast_sync_task_returns_its_result():
    assert _call_with_timeout(lambda p: p["n"] + 1, {"n": 1}, timeout=5) == 2


def test_a_slow_sync_task_times_out_without_waiting_for_it():
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        _call_with_timeout(lambda p: time.sleep(5), {}, timeout=0.2)
    assert time.monotonic() - started < 2


def test_a_failing_sync_task_raises_its_own_error():
    def boom(payload):
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        _call_with_timeout(boom, {}, timeout=5)
