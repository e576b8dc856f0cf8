"""Warm steps of several task threads sent as one statement (storage/step_batches.py): threads that finish
while another thread's step is in flight send theirs together next (or at once, once a batch is full), and
each gets its own row and next task; a batch Postgres refuses as a whole, or whose connection is lost, loses
nothing. On a real Postgres."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor


from rhythm_runtime.errors import StorageError
from test_step_ahead import CHAIN, Statements, claim, sql, started, world  # noqa: F401 (a fixture)

N = 5
BATCH = "SELECT v.i, s.* FROM (VALUES (0, %s:"
SINGLE = "SELECT * FROM rhythm.finish_task_step("


def steps_sent(statements) -> list[str]:
    """The warm steps' statements sent since the last look, in order: 'alone' or 'batch'."""
    return [("alone" if s == SINGLE else "batch") for s in statements.take() if s == SINGLE or s.startswith(BATCH)]


def until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def chains(store, engine, register, n: int = N) -> list[tuple[str, dict]]:
    """n runs of CHAIN, each advanced to its first task, claimed by w1, in the order of their run ids."""
    register("chain", CHAIN)
    return sorted((started(store, engine, "chain") for _ in range(n)), key=lambda r: r[0])


def held(store, run_ids: list[str]):
    """A transaction holding these runs' rows locked (a step of theirs waits for it), for the test to end."""
    tx = store.tx()
    conn = tx.__enter__()
    conn.execute("SELECT 1 FROM rhythm.runs WHERE id = ANY(%s) FOR UPDATE", (run_ids,))
    return tx


def lock_waiters(store) -> int:
    """Statements waiting for a row lock (the test's `held`)."""
    return len(sql(store, "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock'"))


def one_slot(store) -> None:
    """One statement in flight, and batches that are never full here: the steps behind it all queue."""
    store.step_batches.in_flight, store.step_batches.most = 1, N


def queued(store, n: int) -> bool:
    with store.step_batches._lock:
        return len(store.step_batches._queued) == n


def finish_together(store, engine, runs) -> list:
    """Each run's task finished (result 1) on a thread of its own while their rows are locked: as many as
    batches may be in flight sent alone, one after the other, the others queued behind them; returns each
    thread's future."""
    pool = ThreadPoolExecutor(len(runs))
    futures, alone = [], store.step_batches.in_flight
    for _, [task] in runs[:alone]:
        futures.append(pool.submit(store.finish_task, engine, task, "w1", True, 1, claim()))
        until(lambda: lock_waiters(store) == len(futures))
    futures += [pool.submit(store.finish_task, engine, task, "w1", True, 1, claim()) for _, [task] in runs[alone:]]
    until(lambda: queued(store, len(runs) - alone))
    pool.shutdown(wait=False)
    return futures


def first_steps_together(world, monkeypatch):
    """N chains' first tasks finished together (finish_together); the runs, the statements sent and each
    thread's next task."""
    store, engine, register = world
    runs = chains(store, engine, register)
    statements = Statements(monkeypatch)
    lock = held(store, [run_id for run_id, _ in runs])
    futures = finish_together(store, engine, runs)
    lock.__exit__(None, None, None)
    return runs, statements, [f.result(timeout=10) for f in futures]


def test_steps_finished_together_are_one_statement_and_each_thread_gets_its_next_task(world, monkeypatch):
    store, engine, _ = world
    one_slot(store)  # (with more slots, which slot's thread leads the queued steps is a race)
    runs, statements, taken = first_steps_together(world, monkeypatch)
    assert steps_sent(statements) == ["alone", "batch"]  # N steps, two statements
    assert store.step_batches.sizes == {1: 1, N - 1: 1}
    assert [[t["run_id"], t["payload"]] for [t] in taken] == [[run_id, 2] for run_id, _ in runs]
    assert (engine.warm.hits, engine.warm.misses) == (N, 0)
    with ThreadPoolExecutor(N) as pool:  # each chain to its end, its steps batched when they meet
        outputs = list(pool.map(lambda t: drive(store, engine, t), [t for [t] in taken]))
    assert outputs == [12345] * N and (engine.warm.hits, engine.warm.misses) == (5 * N, 0)
    for run_id, _ in runs:
        steps = sql(store, "SELECT seq, details FROM rhythm.history WHERE run_id = %s ORDER BY seq", (run_id,))
        assert [s["seq"] for s in steps] == [1, 2, 3, 4, 5, 6] and steps[-1]["details"]["status"] == "completed"
        [run] = sql(store, "SELECT status, activations, inbox, waiting, available_at FROM rhythm.runs WHERE id = %s",
                    (run_id,))
        assert run == dict(status="completed", activations=6, inbox={}, waiting=[], available_at=None)


def test_a_full_batch_goes_at_once_while_the_slots_are_busy(world, monkeypatch):
    """With the one slot's statement waiting (its row is locked), the steps behind it queue only until a batch
    is full (`most`, 2 here), then go as a statement of their own: three statements in flight together, the
    queue empty, and every slot freed once they return."""
    store, engine, register = world
    store.step_batches.in_flight, store.step_batches.most = 1, 2
    runs = chains(store, engine, register)
    statements = Statements(monkeypatch)
    lock = held(store, [run_id for run_id, _ in runs])
    with ThreadPoolExecutor(N) as pool:
        futures = [pool.submit(store.finish_task, engine, task, "w1", True, 1, claim()) for _, [task] in runs]
        try:
            until(lambda: lock_waiters(store) == 3)  # one alone, two full batches of two
            assert queued(store, 0)
        finally:
            lock.__exit__(None, None, None)
        taken = [f.result(timeout=10) for f in futures]
    assert sorted(steps_sent(statements)) == ["alone", "batch", "batch"]
    assert store.step_batches.sizes == {1: 1, 2: 2} and store.step_batches._leaders == 0
    assert [[t["run_id"], t["payload"]] for [t] in taken] == [[run_id, 2] for run_id, _ in runs]


def drive(store, engine, task: dict):
    """Finish a run's tasks (each result its payload) until it ends; its output."""
    run_id = task["run_id"]
    while task is not None:
        [task] = store.finish_task(engine, task, "w1", True, task["payload"], claim()) or [None]
    return store.get_run(run_id)["output"]


def test_a_batch_postgres_refuses_saves_every_other_step_and_loses_nothing(world, monkeypatch):
    """One step's history row exists already (its insert fails, as in test_step_ahead): the batch fails as a
    whole, every step is sent alone, the others are saved as they would have been, and the refused one takes
    the ordinary path, which keeps the planted row and still leases its next task."""
    store, engine, register = world
    one_slot(store)
    runs = chains(store, engine, register)
    planted = runs[2][0]  # (in the batch)
    sql(store, """INSERT INTO rhythm.history (run_id, seq, details) VALUES (%s, 2, '{"kind": "planted"}')""",
        (planted,))
    statements = Statements(monkeypatch)
    lock = held(store, [run_id for run_id, _ in runs])
    futures = finish_together(store, engine, runs)
    lock.__exit__(None, None, None)
    taken = [f.result(timeout=10) for f in futures]
    assert steps_sent(statements) == ["alone", "batch"] + ["alone"] * (N - 1)  # then the batch's, each alone
    assert [[t["run_id"], t["payload"]] for [t] in taken] == [[run_id, 2] for run_id, _ in runs]
    for run_id, _ in runs:
        [run] = sql(store, "SELECT status, activations FROM rhythm.runs WHERE id = %s", (run_id,))
        assert run == dict(status="suspended", activations=2)
        [task] = sql(store, "SELECT status, result FROM rhythm.tasks WHERE run_id = %s ORDER BY id LIMIT 1", (run_id,))
        assert task == dict(status="completed", result=1)
    assert sql(store, "SELECT details FROM rhythm.history WHERE run_id = %s AND seq = 2", (planted,)) == \
        [dict(details={"kind": "planted"})]


def test_a_batch_whose_connection_is_lost_fails_its_leader_only(world):
    """The leader's session ends while its batch waits: it raises as a single statement would (its caller
    retries, as Worker._record does), and the others send their steps alone on their own connections."""
    store, engine, register = world
    one_slot(store)
    runs = chains(store, engine, register)
    lock = held(store, [run_id for run_id, _ in runs])
    futures = finish_together(store, engine, runs)
    end_waiting(store, "SELECT * FROM rhythm.finish_task_step(%")  # the first step, alone: the batch follows
    until(lambda: sql(store, "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE %s",
                      ("%VALUES%",)))
    end_waiting(store, "%VALUES%")  # the batch: its steps are sent alone
    until(lambda: len(sql(store, "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock'")) == N - 2)
    lock.__exit__(None, None, None)
    failed = [i for i, f in enumerate(futures) if isinstance(f.exception(timeout=10), StorageError)]
    assert len(failed) == 2 and failed[0] == 0
    for i in failed:  # the callers' retry
        assert store.finish_task(engine, runs[i][1][0], "w1", True, 1, claim())[0]["payload"] == 2
    taken = [f.result() for i, f in enumerate(futures) if i not in failed]
    assert sorted(t["payload"] for [t] in taken) == [2] * (N - 2)
    for run_id, _ in runs:
        [run] = sql(store, "SELECT status, activations FROM rhythm.runs WHERE id = %s", (run_id,))
        assert run == dict(status="suspended", activations=2)


def end_waiting(store, query: str) -> None:
    """End a session whose statement like `query` waits for a lock."""
    assert sql(store, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                      "AND query LIKE %s ORDER BY pid LIMIT 1", (query,)) == [{"pg_terminate_backend": True}]


def test_two_batches_are_in_flight_at_once(world, monkeypatch):
    """While one step waits, a second thread's is sent at once (the worker's Python and Postgres work side by
    side, see step_batches.py); the others wait for one of the two and go together."""
    store, engine, register = world
    assert store.step_batches.in_flight == 2
    store.step_batches.most = N  # (never full here: the three behind the two queue)
    runs = chains(store, engine, register)
    statements = Statements(monkeypatch)
    lock = held(store, [run_id for run_id, _ in runs])
    futures = finish_together(store, engine, runs)  # two sent alone, three queued
    lock.__exit__(None, None, None)
    taken = [f.result(timeout=10) for f in futures]
    sent = steps_sent(statements)
    assert sent[:2] == ["alone", "alone"] and "batch" in sent and len(sent) < N
    assert sum(size * n for size, n in store.step_batches.sizes.items()) == N
    assert [[t["run_id"], t["payload"]] for [t] in taken] == [[run_id, 2] for run_id, _ in runs]
