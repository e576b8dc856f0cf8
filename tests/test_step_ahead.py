"""A task's result and the step it wakes in one statement (storage/worker_calls.py, WorkerCalls._finish_ahead):
the worker runs the activation from the state it kept of the run's previous step, and finish_task_step
(migrations/0011) saves it only if the run is still the row it was run for. Every way the row can have moved
on meanwhile (another result settled, a cancel asked, a signal, another worker's step, a step of this worker
that rolled back) must give the outcome the ordinary path gives, with nothing lost; so must a statement that
fails. On a real Postgres."""

from __future__ import annotations

import time

import psycopg
import pytest

from rhythm_compiler import compile_source
from rhythm_runtime.api.tasks import TaskSpec
from rhythm_runtime.execution import warm
from rhythm_runtime.execution.modules import load_module, module_hash
from rhythm_runtime.execution.warm import WarmStates
from rhythm_runtime.storage.engine import Engine, InlineClaim
from rhythm_runtime.storage.store import Store

CHAIN = """let total = 0
for (let i = 1; i <= 5; i++) {
  total = total * 10 + await Task.run("x", i)
}
return total
"""

SPECS = {"x": TaskSpec("x", print), "y": TaskSpec("y", print)}


class Statements:
    """The statements the store's connections execute (their first 38 characters)."""

    def __init__(self, monkeypatch):
        self.sent: list[str] = []
        inner = psycopg.Connection.execute

        def execute(conn, query, *args, **kwargs):
            self.sent.append(" ".join(str(query).split())[:38])
            return inner(conn, query, *args, **kwargs)

        monkeypatch.setattr(psycopg.Connection, "execute", execute)

    def take(self) -> list[str]:
        sent, self.sent = self.sent, []
        return sent


@pytest.fixture
def world(db_url, monkeypatch):
    """A store, a worker's engine with its own kept states, and a function registering a workflow."""
    monkeypatch.setattr(warm, "STATES", WarmStates())  # this worker's (and its connections' json loader)
    store = Store(db_url)
    modules = {}

    def register(name: str, source: str) -> None:
        code = compile_source(source, f"{name}.flow").code
        modules[name] = load_module(code, name)
        store.register_version(name, modules[name].VERSION, "", code, module_hash(code))

    engine = Engine(lambda conn, name, version: modules[name], SPECS, 1000)
    yield store, engine, register
    store.close()


def claim(names=("x",)) -> InlineClaim:
    return InlineClaim("w1", 30.0, frozenset(names))


def another_worker(engine: Engine) -> Engine:
    """An engine of another worker process: the same workflows, its own kept states."""
    other = Engine(engine.modules, SPECS, 1000)
    other.warm = WarmStates()
    return other


def sql(store: Store, text: str, params=()) -> list[dict]:
    with store.tx() as conn:
        cursor = conn.execute(text, params)
        return cursor.fetchall() if cursor.description else []


def started(store: Store, engine: Engine, name: str, inputs=None) -> tuple[str, list[dict]]:
    """A run of `name` advanced to its first awaits by the loop's path, and its tasks claimed."""
    run_id, _ = store.start_run(name, inputs or {})
    assert store.advance_one(engine) is True
    return run_id, store.claim_tasks("w1", ["default"], ["x", "y"], 10, 30.0)


def test_a_warm_step_is_one_statement_and_steps_as_the_ordinary_path(world, monkeypatch):
    store, engine, register = world
    register("chain", CHAIN)
    run_id, [task] = started(store, engine, "chain")
    statements = Statements(monkeypatch)
    for n in range(1, 6):
        assert task["payload"] == n
        taken = store.finish_task(engine, task, "w1", True, n, claim())
        assert statements.take() == ["SELECT * FROM rhythm.finish_task_step("], n  # no BEGIN, no COMMIT
        task = taken[0] if taken else None
    assert task is None and store.get_run(run_id)["output"] == 12345
    assert (engine.warm.hits, engine.warm.misses) == (5, 0)
    # what the ordinary path writes: the history of every step, no task twice, a run with nothing left over
    steps = sql(store, "SELECT seq, details FROM rhythm.history WHERE run_id = %s ORDER BY seq", (run_id,))
    assert [s["seq"] for s in steps] == [1, 2, 3, 4, 5, 6]
    assert [s["details"]["woke_by"] for s in steps[1:]] == [[t["await_key"]] for t in sql(
        store, "SELECT await_key FROM rhythm.tasks WHERE run_id = %s ORDER BY id", (run_id,))]
    assert steps[-1]["details"]["status"] == "completed" and steps[-1]["details"]["line"] is None
    [run] = sql(store, "SELECT * FROM rhythm.runs WHERE id = %s", (run_id,))
    assert (run["status"], run["activations"], run["inbox"], run["waiting"], run["available_at"]) == \
        ("completed", 6, {}, [], None)
    assert [t["status"] for t in sql(store, "SELECT status FROM rhythm.tasks WHERE run_id = %s", (run_id,))] == \
        ["completed"] * 5


WAITS_ON_TWO = """const a = Task.run("x", 1)
const b = Task.run("x", 2)
return (await a) + (await b)
"""


def test_a_step_that_leaves_the_slot_claims_a_pending_task_for_it_in_its_statement(world, monkeypatch):
    """A step whose run schedules no next task for the thread (it waits on another task, or it ends) claims a
    pending task of the refill queues and names for the thread's slot in the same statement (migrations/0014):
    no second statement, no second commit. Tasks of other names stay; with none pending it says so."""
    store, engine, register = world
    register("two", WAITS_ON_TWO)
    run_id, tasks = started(store, engine, "two")
    first, second = sorted(tasks, key=lambda t: t["payload"])
    other = store.queue_task("z", 7, SPECS["x"])  # (a name no test claims)
    queued = store.queue_task("y", 8, SPECS["y"])
    statements = Statements(monkeypatch)
    refill = claim()
    refill.refill = (["default"], ["y"])
    [taken] = store.finish_task(engine, first, "w1", True, 1, refill)  # the run waits on `second`: the slot is free
    assert statements.take() == ["SELECT * FROM rhythm.finish_task_step("] and refill.refilled is True
    assert (taken["id"], taken["payload"], taken["attempts"]) == (queued, 8, 1)
    ended = claim()
    ended.refill = (["default"], ["y"])
    assert store.finish_task(engine, second, "w1", True, 2, ended) == []  # the run ends; no task of `y` is left
    assert statements.take() == ["SELECT * FROM rhythm.finish_task_step("] and ended.refilled is False
    assert sql(store, "SELECT status, lease_owner FROM rhythm.tasks WHERE id IN (%s, %s) ORDER BY id",
               (other, queued)) == [dict(status="pending", lease_owner=None), dict(status="running", lease_owner="w1")]
    assert store.get_run(run_id)["output"] == 3 and (engine.warm.hits, engine.warm.misses) == (2, 0)


OTHER_RESULT = """const a = Task.run("y", 1)
const b = await Task.run("x", 2)
const c = await a
return [b, c]
"""


def test_a_result_settled_meanwhile_makes_the_step_ordinary(world, monkeypatch):
    """Task y's result reaches the inbox after the step this worker kept (y is not awaited yet, so the run
    stays asleep): the step run ahead from the kept inbox would await y again and drop its result."""
    store, engine, register = world
    register("other_result", OTHER_RESULT)
    run_id, tasks = started(store, engine, "other_result")
    y, x = sorted(tasks, key=lambda t: t["name"], reverse=True)
    assert store.finish_task(engine, y, "w1", True, 1, claim()) == []
    statements = Statements(monkeypatch)
    assert store.finish_task(engine, x, "w1", True, 2, claim()) == []
    sent = statements.take()
    assert sent[0] == "SELECT * FROM rhythm.finish_task_step(" and "BEGIN" in sent  # refused, then advanced
    assert (store.get_run(run_id)["status"], store.get_run(run_id)["output"]) == ("completed", [2, 1])


AWAIT_ONE = """const r = await Task.run("x", 1)
const s = await Task.run("x", 2)
return [r, s]
"""


def test_a_cancel_asked_meanwhile_is_thrown_at_the_await(world, monkeypatch):
    store, engine, register = world
    register("await_one", AWAIT_ONE)
    run_id, [task] = started(store, engine, "await_one")
    assert store.cancel_run(run_id) is True  # the task is running: its result comes, then the cancel is thrown
    statements = Statements(monkeypatch)
    assert store.finish_task(engine, task, "w1", True, 1, claim()) == []
    assert statements.take()[0] == "SELECT * FROM rhythm.finish_task_step("
    run = store.get_run(run_id)
    assert run["status"] == "cancelled" and run["activations"] == 2
    [row] = sql(store, "SELECT status, result FROM rhythm.tasks WHERE run_id = %s", (run_id,))
    assert (row["status"], row["result"]) == ("completed", 1)  # the result is kept


SIGNAL_AFTER = """const r = await Task.run("x", 1)
const s = await Signal.next("go")
return [r, s]
"""


def test_a_step_that_takes_a_signal_is_ordinary(world, monkeypatch):
    """A signal sent while the run waits on its task stays queued; the step the task wakes takes it, which
    needs its row: that step is never saved ahead."""
    store, engine, register = world
    register("signal_after", SIGNAL_AFTER)
    run_id, [task] = started(store, engine, "signal_after")
    store.send_signal(run_id, "go", {"ok": True})
    statements = Statements(monkeypatch)
    assert store.finish_task(engine, task, "w1", True, 1, claim()) == []
    assert "SELECT * FROM rhythm.finish_task_step(" not in statements.take()
    assert store.get_run(run_id)["output"] == [1, {"ok": True}]


PAIR = """const [a, b] = await Promise.all([Task.run("x", 1), Task.run("x", 2)])
const c = await Task.run("x", 3)
return [a, b, c]
"""


def test_a_step_another_worker_ran_meanwhile_is_not_saved_over(world, monkeypatch):
    """Tasks 1 and 2 run on two workers. This worker kept the state both await; the other worker's step took
    result 2 into the snapshot. The step run ahead from the kept state would wait for result 2 forever: the
    row (one activation further) refuses it and the run is advanced from what it stores."""
    store, engine, register = world
    register("pair", PAIR)
    other = another_worker(engine)
    run_id, tasks = started(store, engine, "pair")
    one, two = sorted(tasks, key=lambda t: t["payload"])
    assert store.finish_task(other, two, "w1", True, 2, claim()) == []
    statements = Statements(monkeypatch)
    [three] = store.finish_task(engine, one, "w1", True, 1, claim())
    sent = statements.take()
    assert sent[0] == "SELECT * FROM rhythm.finish_task_step(" and "BEGIN" in sent  # refused, then advanced
    assert three["payload"] == 3
    assert store.finish_task(engine, three, "w1", True, 3, claim()) == []
    assert statements.take() == ["SELECT * FROM rhythm.finish_task_step("]  # kept again by the ordinary step
    assert store.get_run(run_id)["output"] == [1, 2, 3]
    keys = sql(store, "SELECT count(*) AS n, count(DISTINCT await_key) AS k FROM rhythm.tasks WHERE run_id = %s",
               (run_id,))
    assert keys == [{"n": 3, "k": 3}]


READ_ROW = "SELECT workflow_name, version, activat"  # run_to_step_ahead, as Statements shows it


def test_a_step_of_a_run_this_worker_keeps_nothing_of_reads_the_row_then_saves_in_one_statement(world, monkeypatch):
    """Another worker started the run (its first task was claimed from the pending ones): the step is run ahead
    from the row, read unlocked, and saved by the warm step's statement; no BEGIN or COMMIT. Its next steps are
    warm: the state is kept from that statement on."""
    store, engine, register = world
    register("chain", CHAIN)
    other = another_worker(engine)
    run_id, [task] = started(store, engine, "chain")
    statements = Statements(monkeypatch)
    task = store.finish_task(other, task, "w1", True, 1, claim())[0]
    assert statements.take() == [READ_ROW, "SELECT * FROM rhythm.finish_task_step("]
    for n in range(2, 6):
        [task] = store.finish_task(other, task, "w1", True, n, claim()) or [None]
        assert statements.take() == ["SELECT * FROM rhythm.finish_task_step("]
    assert store.get_run(run_id)["output"] == 12345 and (other.warm.hits, other.warm.misses) == (4, 1)
    assert [s["seq"] for s in sql(store, "SELECT seq FROM rhythm.history WHERE run_id = %s ORDER BY seq",
                                  (run_id,))] == [1, 2, 3, 4, 5, 6]


def test_a_row_read_with_a_result_settled_meanwhile_steps_with_it(world, monkeypatch):
    """The row holds y's result (settled while the run waited on x): the step run ahead from the row takes it,
    as the ordinary step would."""
    store, engine, register = world
    register("other_result", OTHER_RESULT)
    other = another_worker(engine)
    run_id, tasks = started(store, engine, "other_result")
    y, x = sorted(tasks, key=lambda t: t["name"], reverse=True)
    assert store.finish_task(engine, y, "w1", True, 1, claim()) == []
    statements = Statements(monkeypatch)
    assert store.finish_task(other, x, "w1", True, 2, claim()) == []
    assert statements.take() == [READ_ROW, "SELECT * FROM rhythm.finish_task_step("]
    assert (store.get_run(run_id)["status"], store.get_run(run_id)["output"]) == ("completed", [2, 1])


def test_a_row_that_could_not_be_saved_in_one_statement_is_not_run_ahead(world, monkeypatch):
    """A cancel asked: the row read gives nothing to run ahead from, and the ordinary step throws the cancel."""
    store, engine, register = world
    register("await_one", AWAIT_ONE)
    other = another_worker(engine)
    run_id, [task] = started(store, engine, "await_one")
    assert store.cancel_run(run_id) is True
    statements = Statements(monkeypatch)
    assert store.finish_task(other, task, "w1", True, 1, claim()) == []
    sent = statements.take()
    assert sent[0] == READ_ROW and "BEGIN" in sent and "SELECT * FROM rhythm.finish_task_step(" not in sent
    assert store.get_run(run_id)["status"] == "cancelled"


def test_a_stale_state_is_left_for_a_task_it_does_not_wait_on(world, monkeypatch):
    """The other worker ran task 2's step: the state this worker kept waits on task 2, not on task 3."""
    store, engine, register = world
    register("chain", CHAIN)
    other = another_worker(engine)
    run_id, [task] = started(store, engine, "chain")
    task = store.finish_task(engine, task, "w1", True, 1, claim())[0]
    task = store.finish_task(other, task, "w1", True, 2, claim())[0]
    statements = Statements(monkeypatch)
    task = store.finish_task(engine, task, "w1", True, 3, claim())[0]
    assert "SELECT * FROM rhythm.finish_task_step(" not in statements.take()
    for n in (4, 5):
        [task] = store.finish_task(engine, task, "w1", True, n, claim()) or [None]
    assert store.get_run(run_id)["output"] == 12345 and (engine.warm.hits, engine.warm.misses) == (3, 1)


def test_a_state_kept_by_a_step_that_rolled_back_never_runs_ahead(world, monkeypatch):
    """A step keeps its state before its COMMIT; if that fails, the state is of a snapshot no row holds, and
    the activation count alone cannot tell it from the run's next committed step, which has the same count."""
    store, engine, register = world
    register("chain", CHAIN)

    class RefusedAtCommit(Engine):
        def step_ahead(self, *args):
            return None

        def advance(self, conn, row, *args, **kwargs):
            notify = super().advance(conn, row, *args, **kwargs)
            conn.execute("SELECT 1 / 0")  # pipelined: Postgres refuses it when the step's COMMIT is sent
            return notify

    run_id, [task] = started(store, engine, "chain")
    assert store.finish_task(RefusedAtCommit(engine.modules, SPECS, 1000), task, "w1", True, 1, claim()) == []
    assert engine.warm.runs[run_id].saved is None  # kept, for a snapshot the row does not hold: never ahead
    assert store.advance_one(engine) is True  # the loop's step, from the stored snapshot
    [task] = store.claim_tasks("w1", ["default"], ["x"], 1, 30.0)
    statements = Statements(monkeypatch)
    assert store.finish_task(engine, task, "w1", True, 2, claim())[0]["payload"] == 3
    assert statements.take() == ["SELECT * FROM rhythm.finish_task_step("]


def test_a_step_whose_history_row_exists_takes_the_ordinary_path(world, monkeypatch):
    """finish_task_step inserts its history step without ON CONFLICT (migrations/0015): the row check rules
    out that it exists. Were it there, the statement fails as a whole and the ordinary step, which skips what
    exists, saves the activation and leases the next task all the same."""
    store, engine, register = world
    register("chain", CHAIN)
    run_id, [task] = started(store, engine, "chain")
    sql(store, """INSERT INTO rhythm.history (run_id, seq, details) VALUES (%s, 2, '{"kind": "planted"}')""",
        (run_id,))
    statements = Statements(monkeypatch)
    [following] = store.finish_task(engine, task, "w1", True, 1, claim())
    sent = statements.take()
    assert sent[0] == "SELECT * FROM rhythm.finish_task_step(" and "BEGIN" in sent  # refused, then ordinary
    assert following["payload"] == 2
    [run] = sql(store, "SELECT activations, status FROM rhythm.runs WHERE id = %s", (run_id,))
    assert (run["activations"], run["status"]) == (2, "suspended")
    assert sql(store, "SELECT details FROM rhythm.history WHERE run_id = %s AND seq = 2", (run_id,)) == \
        [dict(details={"kind": "planted"})]


def test_a_refused_statement_keeps_the_result_and_the_run(world):
    """finish_task_step fails as a whole (here a history row Postgres refuses): the ordinary path records the
    result, and when its own step fails the same way the result is recorded alone, the run left runnable."""
    store, engine, register = world
    register("chain", CHAIN)
    run_id, [task] = started(store, engine, "chain")
    sql(store, """CREATE FUNCTION refuse_history() RETURNS trigger LANGUAGE plpgsql AS $$
                  BEGIN RAISE EXCEPTION 'no history today'; END $$;
                  CREATE TRIGGER refuse_history BEFORE INSERT ON rhythm.history
                  FOR EACH ROW EXECUTE FUNCTION refuse_history()""")
    try:
        assert store.finish_task(engine, task, "w1", True, 1, claim()) == []
    finally:
        sql(store, "DROP TRIGGER refuse_history ON rhythm.history; DROP FUNCTION refuse_history()")
    [row] = sql(store, "SELECT status, result FROM rhythm.tasks WHERE id = %s", (task["id"],))
    assert (row["status"], row["result"]) == ("completed", 1)
    [run] = sql(store, "SELECT status, activations, available_at FROM rhythm.runs WHERE id = %s", (run_id,))
    assert run["status"] == "suspended" and run["activations"] == 1 and run["available_at"] is not None
    assert store.advance_one(engine) is True
    [task] = store.claim_tasks("w1", ["default"], ["x"], 1, 30.0)
    assert task["payload"] == 2


def test_a_step_run_ahead_that_breaks_takes_the_ordinary_path(world, monkeypatch):
    store, engine, register = world
    register("chain", CHAIN)
    run_id, [task] = started(store, engine, "chain")

    def broken(*args):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(engine, "step_ahead", broken)
    assert store.finish_task(engine, task, "w1", True, 1, claim())[0]["payload"] == 2
    assert store.get_run(run_id)["activations"] == 2


LONG = """const a = await Task.run("x", 1)
let n = 0
for (let i = 0; i < Inputs.loops; i++) {
  n = n + 1
}
return [a, n]
"""


def test_a_long_step_runs_inside_its_transaction(world, monkeypatch):
    """A step run ahead holds no lock: past AHEAD_BUDGET steps it stops, and the ordinary path runs it again
    under the run's row lock (so a conflict wastes little, and a crash in it shows as an open transaction)."""
    from rhythm_runtime.storage import engine as engine_module

    store, engine, register = world
    register("long", LONG)
    engine = Engine(engine.modules, SPECS, 10 * engine_module.AHEAD_BUDGET)
    run_id, [task] = started(store, engine, "long", {"loops": engine_module.AHEAD_BUDGET + 10})
    statements = Statements(monkeypatch)
    assert store.finish_task(engine, task, "w1", True, 1, claim()) == []
    assert "SELECT * FROM rhythm.finish_task_step(" not in statements.take()
    assert store.get_run(run_id)["output"] == [1, engine_module.AHEAD_BUDGET + 10]


PARENT = """const r = await Workflow.run("chain", {})
return r + 1
"""


def test_a_child_run_ahead_tells_its_parent(world):
    """A child's steps run ahead like any run's; its last one ends it the ordinary way, which tells its parent."""
    store, engine, register = world
    register("chain", CHAIN)
    register("parent", PARENT)
    run_id, [task] = started(store, engine, "parent")
    for n in range(1, 6):
        [task] = store.finish_task(engine, task, "w1", True, n, claim()) or [None]
    assert task is None and engine.warm.hits == 5
    assert store.advance_one(engine) is True  # the parent, woken by its child's result
    assert store.get_run(run_id)["output"] == 12346


def test_a_task_leased_by_a_long_step_is_leased_from_its_save(world):
    """The ordinary step's save inserts the next task leased to the thread: its lease must run from the save,
    not from the transaction's start, or a step longer than the lease leaves the task expired while it runs
    (the housekeeping of any worker would then requeue it and it would run twice)."""
    store, engine, register = world
    register("chain", CHAIN)

    class Slow(Engine):
        def step_ahead(self, *args):
            return None  # the ordinary step, in its transaction

        def save_suspended(self, conn, rows):
            time.sleep(1.2)  # an activation longer than the lease
            return super().save_suspended(conn, rows)

    run_id, [task] = started(store, engine, "chain")
    [task] = store.finish_task(Slow(engine.modules, SPECS, 1000), task, "w1", True, 1, InlineClaim("w1", 1.0,
                                                                                                   frozenset({"x"})))
    [row] = sql(store, "SELECT lease_expires_at > clock_timestamp() AS held FROM rhythm.tasks WHERE id = %s",
                (task["id"],))
    assert row["held"], "the next task was leased from the transaction's start: born expired"
