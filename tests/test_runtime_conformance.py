"""Conformance through Postgres: every program of tests/conformance runs on the
real runtime (registered versions, a Worker, runs, tasks, timers and signals
as rows) and must give Node's result, as tests/test_conformance.py checks for
the in-process runner.

How the run is set up so that it is comparable with the in-process model
(tests/conformance/README.md, "Model"):

* All programs run at once, each as a top-level run with its own id; the
  standard tasks get a fresh key-value store per top-level run (children share
  their root's, found through the task context).
* The header signals are sent right after each run is started and before the
  worker starts, so they are queued exactly as in the model.
* One worker thread with concurrency 1: tasks run one at a time, in the order
  they were created, as the model's event queue runs them.
* Virtual time: every timer is scheduled FAR seconds late (an Engine subclass),
  so none fires on the wall clock. When nothing is runnable (no runnable run,
  no pending or running task, no due timer), the driver moves every pending
  timer earlier by the same amount so the earliest one is due now: the clock
  jumps, as the model's does, and `Timer.delay(86400)` takes milliseconds.
  From the first jump on, the pending timers sit at their virtual distance
  from now, so a timer made after it is scheduled as is: timers made at
  different virtual times (by async functions in flight) keep their order.

The programs in DIFFERENT depend on how the model orders a zero-delay timer
against a task; on a real system that order is a race (and the virtual clock
settles it in favour of the task). Their Postgres result is pinned below,
with the reason.

The programs in ANY_ORDER return a list whose order comes from separate runs
whose timers fall due at the same instant: on Postgres the runs are advanced
by concurrent batches (SKIP LOCKED), so their tasks may commit, and run, in
either order. Their result must hold the same items as Node's.
"""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from conformance import support  # tests/conformance, next to this file
from conformance import tasks as standard_tasks
from rhythm_compiler import CompileError, compile_source
from rhythm_runtime.api.app import RhythmApp
from rhythm_runtime.api.client import SyncRhythmClient
from rhythm_runtime.storage.engine import Engine
from rhythm_runtime.api.tasks import REGISTRY, TaskSpec
from rhythm_runtime.api.tasks import current_task
from rhythm_runtime.worker.loop import Worker

FAR = 10 * 365 * 86400.0  # added to every timer: timers fire only when the driver jumps the clock
DEADLINE = 120.0

PROGRAMS = support.program_paths()
PROGRAM_IDS = [support.program_key(p) for p in PROGRAMS]
EXPECTED = support.load_expected()

# Programs whose result on Postgres legitimately differs from Node's: key -> (reason, result on Postgres).
DIFFERENT: dict[str, tuple[str, dict]] = {
    "promises/010_race_task_beats_timer.flow": (
        "Timer.delay(0) created before a task: the model fires the timer first (creation order); "
        "on a real system a zero-delay timer races the task, and under the virtual clock the task wins",
        {"status": "completed", "output": {"r": "task wins", "r2": "created second"}},
    ),
}

# Programs whose result is a list of events from separate runs due at one instant: key -> reason.
ANY_ORDER: dict[str, str] = {
    "timers/004_equal_delays_fire_in_creation_order.flow": (
        "three child runs whose timers fall due together append to one log; concurrent batches of activations "
        "commit their tasks in either order"
    ),
}


def workflow_name(key: str) -> str:
    return "p_" + re.sub(r"[^A-Za-z0-9_]", "_", key.removesuffix(".flow"))


JUMPED = [False]  # whether the driver has moved the virtual clock on yet


class VirtualClockEngine(Engine):
    """Schedules every timer FAR seconds late until the first jump; the driver below brings them back."""

    def schedule(self, conn, run_id, settled, out, kind, key, spec, depth=0):
        if kind == "timer" and not JUMPED[0]:
            spec = {**spec, "seconds": spec["seconds"] + FAR}
        super().schedule(conn, run_id, settled, out, kind, key, spec, depth)


class VirtualClockWorker(Worker):
    inline_chain = 0  # take tasks in creation order, as the event model the expectations come from does
    engine_class = VirtualClockEngine


def _dispatch(name: str, stores: dict[str, dict]):
    """The standard task `name`, with one key-value store per top-level run (children share it)."""

    def run(payload: Any) -> Any:
        root = current_task().run_id.split("/")[0]
        tasks = stores.get(root)
        if tasks is None:
            tasks = stores[root] = standard_tasks.make_tasks()
        return tasks[name](payload)

    run.__qualname__ = f"conformance.{name}"
    return run


STATE_SQL = """
SELECT EXISTS (SELECT 1 FROM rhythm.runs
               WHERE status IN ('pending', 'suspended') AND available_at IS NOT NULL) AS runnable,
       EXISTS (SELECT 1 FROM rhythm.tasks WHERE status IN ('pending', 'running')) AS tasks,
       EXISTS (SELECT 1 FROM rhythm.timers WHERE fired_at IS NULL AND due_at <= clock_timestamp()) AS due,
       EXISTS (SELECT 1 FROM rhythm.timers WHERE fired_at IS NULL AND due_at < 'infinity') AS timers,
       (SELECT count(*) FROM rhythm.runs
        WHERE id = ANY(%(ids)s) AND status NOT IN ('completed', 'failed', 'cancelled')) AS unfinished
"""

JUMP_SQL = """
UPDATE rhythm.timers
SET due_at = due_at - (SELECT min(due_at) FROM rhythm.timers WHERE fired_at IS NULL AND due_at < 'infinity')
             + clock_timestamp()
WHERE fired_at IS NULL AND due_at < 'infinity'
"""


def drive(db_url: str, ids: list[str]) -> dict[str, int]:
    """Jump the clock whenever everything is idle, until every run ended or nothing can happen."""
    jumps = polls = 0
    deadline = time.monotonic() + DEADLINE
    with psycopg.connect(db_url, autocommit=True, row_factory=dict_row) as conn:
        while time.monotonic() < deadline:
            polls += 1
            s = conn.execute(STATE_SQL, dict(ids=ids)).fetchone()
            if s["unfinished"] == 0:
                break
            if not (s["runnable"] or s["tasks"] or s["due"]):
                if not s["timers"]:
                    break  # idle for good: what is unfinished stays suspended
                conn.execute(JUMP_SQL)
                JUMPED[0] = True
                conn.execute("SELECT pg_notify('rhythm_work', '')")
                jumps += 1
            time.sleep(0.002)
        else:
            raise AssertionError(f"the conformance runs did not settle within {DEADLINE}s")
    return {"jumps": jumps, "polls": polls}


@pytest.fixture(scope="module")
def results(db_url, tmp_path_factory) -> dict[str, Any]:
    """Run every program on Postgres; {key: {"status", "output"/"error"} or {"compile_error": text}}."""
    started = time.monotonic()
    JUMPED[0] = False
    flows = tmp_path_factory.mktemp("conformance") / "workflows"
    (flows / "compiled").mkdir(parents=True)
    out: dict[str, Any] = {}
    names: dict[str, str] = {}
    sources = [(support.program_key(p), workflow_name(support.program_key(p)), p) for p in PROGRAMS]
    sources += [(None, name, path) for name, path in support.child_workflows().items()]
    for key, name, path in sources:
        assert name not in names.values(), f"two workflows named {name}"
        text = path.read_text(encoding="utf-8")
        try:  # unformatted: black is most of the compile time, and the code is the same
            code = compile_source(text, path.name, name=name, fmt=False).code
        except CompileError as e:
            out[key] = {"compile_error": str(e)}
            continue
        (flows / f"{name}.flow").write_text(text, encoding="utf-8")
        (flows / "compiled" / f"{name}.py").write_text(code, encoding="utf-8")
        if key is not None:
            names[key] = name
    compiled = time.monotonic()

    stores: dict[str, dict] = {}
    saved = {name: REGISTRY.get(name) for name in standard_tasks.make_tasks()}
    for name in saved:
        REGISTRY[name] = TaskSpec(name, _dispatch(name, stores))
    app = RhythmApp(flows)
    assert len(app.workflows) == len(sources) - sum(1 for k in out if k is not None)
    worker = VirtualClockWorker(app, concurrency=1, poll_interval=0.05, database_url=db_url)
    client = SyncRhythmClient(db_url)
    thread = threading.Thread(target=worker.run, kwargs=dict(install_signals=False), daemon=True)
    try:
        app.register(client.store)
        ids: dict[str, str] = {}
        for i, (key, name) in enumerate(names.items()):
            inputs, signals = support.parse_header(PROGRAMS[PROGRAM_IDS.index(key)].read_text(encoding="utf-8"))
            handle = client.start_workflow(name, inputs, id=f"c{i}")
            for signal_name, payload in signals:
                handle.signal(signal_name, payload)
            ids[key] = handle.id
        thread.start()
        stats = drive(db_url, list(ids.values()))
        for key, run_id in ids.items():
            row = client.store.get_run(run_id)
            result: dict[str, Any] = {"status": row["status"]}
            if row["status"] == "completed":
                result["output"] = row["output"]
            elif row["status"] == "failed":
                result["error"] = {"message": row["error"].get("message"), "type": row["error"].get("type")}
            out[key] = result
    finally:
        worker.stop()
        if thread.is_alive():
            thread.join(30)
        client.close()
        for name, spec in saved.items():
            if spec is None:
                REGISTRY.pop(name, None)
            else:
                REGISTRY[name] = spec
    out["__stats__"] = {**stats, "compile_seconds": round(compiled - started, 2),
                        "run_seconds": round(time.monotonic() - compiled, 2)}
    print(f"\nconformance on Postgres: {out['__stats__']}")
    return out


def _js_value(value: Any) -> Any:
    """Numbers compare as doubles (JSON has one number type)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, list):
        return [_js_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _js_value(v) for k, v in value.items()}
    return value


def _same(actual: dict, expected: dict) -> bool:
    if actual.get("status") != expected["status"]:
        return False
    if expected["status"] == "completed":
        return _js_value(actual.get("output")) == _js_value(expected["output"])
    if expected["status"] == "failed":
        return actual.get("error") == expected["error"]
    return True


@pytest.mark.parametrize("key", PROGRAM_IDS)
def test_program_on_postgres(results, key: str) -> None:
    actual = results[key]
    assert "compile_error" not in actual, actual["compile_error"]
    source = (support.PROGRAMS / key).read_text(encoding="utf-8")
    if key in DIFFERENT:
        reason, pinned = DIFFERENT[key]
        context = f"\n--- {key} (differs from Node: {reason})\n{source}\n--- actual\n{json.dumps(actual, indent=2)}"
        assert not _same(actual, EXPECTED[key]), f"{key} now matches Node: remove it from DIFFERENT{context}"
        assert _same(actual, pinned), f"expected on Postgres: {json.dumps(pinned)}{context}"
        return
    expected = EXPECTED[key]
    if key in ANY_ORDER:
        assert actual["status"] == "completed" and isinstance(actual["output"], list), actual
        expected = {**expected, "output": sorted(expected["output"])}
        actual = {**actual, "output": sorted(actual["output"])}
    context = (f"\n--- {key}\n{source}\n--- expected (Node)\n{json.dumps(EXPECTED[key], indent=2, sort_keys=True)}"
               f"\n--- actual (Rhythm on Postgres)\n{json.dumps(actual, indent=2, sort_keys=True)}")
    assert _same(actual, expected), context


def test_virtual_clock_jumped(results) -> None:
    """The timers programs needed the clock to jump (how long the runs took is printed, not asserted: the
    project keeps speed in bench/)."""
    stats = results["__stats__"]
    assert stats["jumps"] >= 10, stats
    assert set(DIFFERENT) | set(ANY_ORDER) <= set(PROGRAM_IDS)
