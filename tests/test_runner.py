"""The in-process runner's public contract (rhythm_runtime.api.testing.run_workflow)."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from rhythm_compiler import CompileError
from rhythm_runtime.api.tasks import REGISTRY, current_task, task
from rhythm_runtime.api.testing import run_workflow


def test_source_may_be_a_path(tmp_path):
    flow = tmp_path / "double_it.flow"
    flow.write_text("return (await Task.run('double', Inputs.n)) + 1\n")
    result = run_workflow(flow, inputs={"n": 20}, tasks={"double": lambda n: n * 2})
    assert (result.status, result.output, result.error) == ("completed", 41, None)
    assert run_workflow(str(flow), inputs={"n": 1}, tasks={"double": lambda n: n * 2}).output == 3


def test_compile_errors_carry_diagnostics():
    with pytest.raises(CompileError) as info:
        run_workflow("let x = 1\nreturn y\n")
    [diag] = info.value.diagnostics
    assert (diag.line, diag.col) == (2, 8)
    assert "'y' is not declared" in diag.message


def test_failed_task_is_catchable_and_uncaught_error_fails_the_run():
    def boom(payload):
        raise RuntimeError(f"no {payload['what']}")

    caught = run_workflow("try { await Task.run('boom', {what: 'luck'}) } catch (e) { return [e.name, e.message] }",
                          tasks={"boom": boom})
    assert caught.output == ["TaskError", "no luck"]
    failed = run_workflow("const r = await Task.run('boom', {what: 'way'})\nreturn r", tasks={"boom": boom})
    assert failed.status == "failed"
    assert (failed.error["type"], failed.error["message"], failed.error["line"]) == ("TaskError", "no way", 1)


def test_async_task_functions_are_awaited():
    async def later(payload):
        await asyncio.sleep(0.001)
        return {"got": payload}

    assert run_workflow("return await Task.run('later', [1, 2])", tasks={"later": later}).output == {"got": [1, 2]}


def test_unknown_task_names_the_known_ones():
    result = run_workflow("return await Task.run('nope', 1)", tasks={"echo": lambda p: p})
    assert result.status == "failed"
    assert "unknown task 'nope'" in result.error["message"] and "echo" in result.error["message"]


def test_timers_use_a_virtual_clock_and_signals_are_delivered_in_order():
    source = """
await Timer.delay(86400 * 365)
const a = await Signal.next("s")
const b = await Signal.next("s")
return [a, b]
"""
    started = time.monotonic()
    result = run_workflow(source, signals=[("s", 1), ("other", 0), ("s", {"k": 2})])
    assert result.output == [1, {"k": 2}]
    assert time.monotonic() - started < 5


def test_a_run_waiting_forever_is_suspended_and_every_snapshot_is_json():
    result = run_workflow("const x = {a: [1, 2]}\nawait Signal.next('never')\nreturn x")
    assert result.status == "suspended" and result.output is None
    assert result.snapshots and all(json.loads(json.dumps(s)) == s for s in result.snapshots)


def test_child_workflows_and_undefined_output():
    children = {"child": "return Inputs.v * 3"}
    assert run_workflow("return await Workflow.run('child', {v: 5})", workflows=children).output == 15
    assert run_workflow("const x = 1").output is None


def test_a_snapshot_keeps_only_the_variables_in_scope():
    source = """\
let total = 0
for (let i = 0; i < 2; i++) {
  const doubled = await Task.run("double", i)
  total += doubled
}
for (const item of [5]) {
  total += item
}
{
  let scratch = "gone"
  total += scratch.length
}
const stop = await Signal.next("never")
return total
"""
    result = run_workflow(source, tasks={"double": lambda n: n * 2})
    assert result.status == "suspended"
    from rhythm_runtime.execution import values as _js

    last = _js.decode_snapshot(result.snapshots[-1]["data"])["L"]
    assert sorted(k for k in last if not k.startswith("@")) == ["Inputs", "total"]
    assert last["total"] == 11.0


CANCEL_CLEANUP = """
let seen = "nothing"
try {
  await Promise.race([Signal.next("never"), Timer.delay(3600), Workflow.run("child", {})])
} catch (err) {
  seen = err.name + ": " + err.message
  throw err
} finally {
  await Timer.delay(60)
  await Task.run("release-stock", { seen: seen })
}
return "unreachable"
"""
CANCEL_CHILD = "try { await Signal.next('never') } finally { await Task.run('release-stock', { seen: 'child' }) }"


def test_cancel_at_throws_at_the_await_and_runs_the_cleanup():
    released = []
    tasks = {"release-stock": lambda p: released.append(p["seen"]) or "ok"}
    result = run_workflow(CANCEL_CLEANUP, tasks=tasks, workflows={"child": CANCEL_CHILD}, cancel_at=5)
    assert (result.status, result.error["type"], result.error["line"]) == ("cancelled", "CancelledError", 7)
    # the child awaited by the cancelled await ran its own cleanup first; the 3600 s timer never fired
    assert released == ["child", "CancelledError: the run was cancelled"]


def test_cleanup_that_returns_ends_cancelled_and_one_that_throws_fails():
    swallowed = run_workflow("try { await Timer.delay(100) } catch (e) { return e.name }", cancel_at=1)
    assert (swallowed.status, swallowed.output) == ("cancelled", "CancelledError")
    broken = run_workflow("try { await Timer.delay(100) } finally { throw new Error('boom') }", cancel_at=1)
    assert (broken.status, broken.error["message"]) == ("failed", "boom")
    finished = run_workflow("await Timer.delay(1)\nreturn 'done'", cancel_at=2)
    assert (finished.status, finished.output) == ("completed", "done")


# -- tasks run as workers run them (issue 10, section 5) ----------------------------------------------

SEEN: list = []


@task("runner-flaky", retries=2, backoff=10)
def runner_flaky(p: dict) -> str:
    ctx = current_task()
    SEEN.append((ctx.name, ctx.attempt, ctx.run_id, ctx.await_key))
    if ctx.attempt < 3:
        raise RuntimeError(f"flaky {ctx.attempt}")
    return f"ok on attempt {ctx.attempt}"


@task("runner-slow", timeout=0.2)
def runner_slow(p: dict) -> str:
    time.sleep(2)
    return "too late"


def test_registered_tasks_run_with_their_retries_and_backoff_on_the_virtual_clock():
    SEEN.clear()
    started = time.monotonic()
    result = run_workflow("return await Task.run('runner-flaky', {})")
    assert (result.status, result.output) == ("completed", "ok on attempt 3")
    assert SEEN == [("runner-flaky", n, result.run_id, "0.1") for n in (1, 2, 3)]
    # retries wait 10 s, then 20 s, of virtual time: a 25 s timer beats the third attempt, a 35 s one does not
    beaten = run_workflow("const t = Timer.delay(25)\nreturn await Promise.race([Task.run('runner-flaky', {}), t])")
    assert (beaten.status, beaten.output) == ("completed", None)
    won = run_workflow("const t = Timer.delay(35)\nreturn await Promise.race([Task.run('runner-flaky', {}), t])")
    assert won.output == "ok on attempt 3"
    assert time.monotonic() - started < 2


def test_tasks_given_by_name_replace_registered_ones_and_get_the_defaults():
    mocked = run_workflow("return await Task.run('runner-flaky', 5)", tasks={"runner-flaky": lambda p: p * 2})
    assert mocked.output == 10
    calls = []

    def failing(p):
        calls.append(current_task().attempt)
        raise ValueError("no retries for a plain function")

    failed = run_workflow("return await Task.run('runner-flaky', {})", tasks={"runner-flaky": failing})
    assert (failed.status, failed.error["message"], calls) == ("failed", "no retries for a plain function", [1])


def test_a_task_past_its_timeout_fails_like_on_a_worker():
    result = run_workflow("try { await Task.run('runner-slow', {}) } catch (e) { return e.message }")
    assert result.output == "task 'runner-slow' timed out after 0.2s"


def test_child_workflows_next_to_the_parent_file_are_found(tmp_path):
    (tmp_path / "parent.flow").write_text("return await Workflow.run('child', { n: 2 })\n")
    (tmp_path / "child.flow").write_text("return Inputs.n * 21\n")
    assert run_workflow(tmp_path / "parent.flow").output == 42
    replaced = run_workflow(tmp_path / "parent.flow", workflows={"child": "return 'replaced'"})
    assert replaced.output == "replaced"


def test_timer_delay_takes_duration_strings_on_the_virtual_clock():
    def first(duration: str, seconds: float) -> int:
        """1 if Timer.delay(duration) fires before Timer.delay(seconds), else 2 (the lengths of the arrays)."""
        return run_workflow(f'const r = await Promise.race([Promise.all([Timer.delay("{duration}")]), '
                            f'Promise.all([Timer.delay({seconds}), 0])])\nreturn r.length').output

    assert (first("1h30m", 5399), first("1h30m", 5401)) == (2, 1)
    assert (first("3d", 259199), first("3d", 259201)) == (2, 1)
    assert (first("250ms", 0.2), first("250ms", 0.3)) == (2, 1)
    bad = run_workflow('try { await Timer.delay("soon") } catch (e) { return [e.name, e.message] }')
    assert bad.output == ["RangeError", 'Timer.delay("soon"): not a duration; give seconds or a string like '
                                        '"30s", "5m", "1h30m", "3d"']


def test_task_timeouts_and_backoffs_take_duration_strings():
    task("runner-durations", backoff="1m", timeout="1.5s")(lambda p: p)
    assert (REGISTRY["runner-durations"].backoff, REGISTRY["runner-durations"].timeout) == (60.0, 1.5)
    with pytest.raises(ValueError, match="@task\\('runner-bad'\\) timeout must be a number of seconds or a "
                                         "duration string like"):
        task("runner-bad", timeout="a while")
