"""Wake-ups: which NOTIFY wakes which worker's loop (loop.py's `_notice`), and that the work is done all the same.

A start says `runs N`: the worker ranked N modulo the number of live workers
looks at once, the others only later, in case it missed it. New pending tasks
say `tasks Q`: a worker that does not serve Q, or has no free slot, sleeps on
(its freed slot wakes it). Timers come with no NOTIFY: the process that wrote
one sleeps no longer than until it is due.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

import psycopg
import pytest
from psycopg.types.json import Jsonb

from helpers import query, wait_for, worker_thread, write_flows
from rhythm_runtime.api.app import RhythmApp
from rhythm_runtime.api.client import SyncRhythmClient
from rhythm_runtime.api.tasks import REGISTRY, TaskSpec
from rhythm_runtime.storage import store as store_module
from rhythm_runtime.worker.loop import Worker
from rhythm_runtime.worker.presence import Presence

FLOWS = {
    "quick": "return Inputs.n\n",
    "nap": "await Timer.delay(Inputs.seconds)\nreturn 1\n",
}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    REGISTRY["wake-hold"] = TaskSpec("wake-hold", lambda p: HOLD.wait(30) and p)
    REGISTRY["wake-quick"] = TaskSpec("wake-quick", lambda p: p)
    try:
        yield RhythmApp(str(write_flows(tmp_path_factory.mktemp("wakeups") / "workflows", FLOWS)))
    finally:
        REGISTRY.pop("wake-hold")
        REGISTRY.pop("wake-quick")


HOLD = threading.Event()


@pytest.fixture
def fresh_db(make_database, template_db):
    """A database of this test's own: the workers ranked are the test's."""
    return make_database(template=template_db)


class SpyWorker(Worker):
    """A Worker that records the notices it hears and who set its wake event."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.heard: list[str] = []
        self.woken_by: list[str] = []
        self.handed: list[int] = []  # tasks the loop handed to task threads
        spy = self

        class Wake(threading.Event):
            def set(self):
                spy.woken_by.append(threading.current_thread().name)
                super().set()

        self.wake = Wake()

    def _notice(self, payload: str) -> None:
        super()._notice(payload)
        self.heard.append(payload)

    def _run_all(self, tasks: list[dict]) -> None:
        self.handed += [task["id"] for task in tasks]
        super()._run_all(tasks)


def test_a_notice_wakes_only_the_workers_it_concerns(app):
    worker = Worker(app, concurrency=1, queues=("default",), database_url="postgresql:///unused")
    worker.peers = (1, 3)  # the second of three live workers

    def woke(payload: str) -> bool:
        worker.wake.clear()
        worker._notice(payload)
        return worker.wake.is_set()

    assert woke("runs 4") and worker.deferred_since is None  # 4 % 3 == 1: its own
    assert not woke("runs 5") and worker.deferred_since is not None  # another's: looked at later
    assert woke("tasks default") and not woke("tasks reports")  # a queue it does not serve
    worker.running[1] = (1, time.monotonic() + 30)  # its one slot is taken
    assert not woke("tasks default")
    assert woke("") and woke("runs")  # a notice without a worker's number: every worker looks
    worker.admit_due.clear()
    assert woke("admit") and worker.admit_due.is_set()


def test_a_tick_woken_only_by_its_own_runs_notices_just_locks_runs(app):
    """`runs N` for this worker alone makes the next tick narrow (no read first); anything else that woke the
    loop as well (a freed slot, another notice, a late look) makes it a full tick."""
    worker = Worker(app, concurrency=1, database_url="postgresql:///unused")

    def narrow(*wakes: bool) -> bool:
        worker.wake.clear()
        worker.narrow = False
        for runs_only in wakes:
            worker._wake(runs_only=runs_only)
        return worker.narrow

    assert narrow(True) and narrow(True, True)
    assert not narrow(False) and not narrow(True, False) and not narrow(False, True)
    worker.peers = (0, 1)
    worker.wake.clear()
    worker.narrow = False
    worker._notice("runs 12")
    assert worker.narrow and worker.wake.is_set()
    worker._notice("")
    assert not worker.narrow


def test_heartbeats_rank_the_live_workers_by_id(fresh_db):
    def row(worker_id: str):
        return lambda: dict(id=worker_id, host="h", pid=1, queues=["default"], task_names=[], workflows=Jsonb({}),
                            concurrency=1, started_at=datetime.now(timezone.utc))

    conns = [psycopg.connect(fresh_db, autocommit=True) for _ in range(3)]
    try:
        presences = [Presence(row(worker_id)) for worker_id in ("w-b", "w-a", "w-c")]
        for presence, conn in zip(presences, conns):
            presence.attach(conn)
        assert [p.beat(c) for p, c in zip(presences, conns)] == [(1, 3), (0, 3), (2, 3)]
        query(fresh_db, "UPDATE rhythm.workers SET stopped_at = now() WHERE id = 'w-a'")
        assert [p.beat(c) for p, c in zip(presences[::2], conns[::2])] == [(0, 2), (1, 2)]
    finally:
        for conn in conns:
            conn.close()


def test_a_start_announced_to_a_missing_worker_is_advanced_a_moment_later(app, fresh_db, monkeypatch):
    """The worker believes it is the second of two, so `runs 0` is the other's; nobody else is there, and its
    poll interval is a minute: the run starts because it looks after FOREIGN_NOTICE_DELAY."""
    beat = Presence.beat
    monkeypatch.setattr(Presence, "beat", lambda self, conn: (beat(self, conn), (1, 2))[1])
    monkeypatch.setattr(store_module, "runs_notice", lambda: "runs 0")
    with worker_thread(app, fresh_db, worker_class=SpyWorker, poll_interval=60) as (worker, client):
        wait_for(lambda: worker.tick_started > 0, what="the first tick")
        handle = client.start_workflow("quick", {"n": 7})
        assert handle.result(timeout=20) == 7
        assert "runs 0" in worker.heard and worker.peers == (1, 2)
        assert "rhythm-listen" in worker.woken_by  # the late look, not a poll


def test_a_full_worker_leaves_another_workers_start_to_its_next_full_tick(app, fresh_db, monkeypatch):
    """As above, but the worker's one slot is taken: it does not look after FOREIGN_NOTICE_DELAY (a worker with
    a free slot would, and the first task of a run it advanced would wait for another worker); its slot
    freeing wakes its loop, whose full tick advances the run."""
    beat = Presence.beat
    monkeypatch.setattr(Presence, "beat", lambda self, conn: (beat(self, conn), (1, 2))[1])
    monkeypatch.setattr(store_module, "runs_notice", lambda: "runs 0")
    HOLD.clear()
    with worker_thread(app, fresh_db, worker_class=SpyWorker, concurrency=1, poll_interval=60) as (worker, client):
        wait_for(lambda: hasattr(worker, "listener") and worker.peers == (1, 2), what="the worker to listen")
        client.queue_task("wake-hold", 1)
        wait_for(lambda: worker.running, what="the holding task to run")
        woken = len(worker.woken_by)
        handle = client.start_workflow("quick", {"n": 7})
        wait_for(lambda: "runs 0" in worker.heard, what="the start's notice")
        time.sleep(0.3)  # several FOREIGN_NOTICE_DELAYs
        assert worker.woken_by[woken:].count("rhythm-listen") == 0
        assert query(fresh_db, "SELECT status FROM rhythm.runs WHERE id = %s", (handle.id,))[0]["status"] == "pending"
        HOLD.set()
        assert handle.result(timeout=20) == 7


def test_a_full_worker_sleeps_through_a_task_notice_and_claims_the_task_when_its_slot_frees(app, fresh_db):
    HOLD.clear()
    with worker_thread(app, fresh_db, worker_class=SpyWorker, concurrency=1, poll_interval=60) as (worker, client):
        wait_for(lambda: hasattr(worker, "listener"), what="the worker to listen")
        held = client.queue_task("wake-hold", 1)
        wait_for(lambda: worker.running and worker.heard, what="the holding task to run and its notice")
        woken, heard = len(worker.woken_by), len(worker.heard)
        quick = client.queue_task("wake-quick", 2)
        wait_for(lambda: "tasks default" in worker.heard[heard:], what="the second task's notice")
        assert worker.woken_by[woken:].count("rhythm-listen") == 0  # its slot is busy: the notice is left
        assert query(fresh_db, "SELECT status FROM rhythm.tasks WHERE id = %s", (quick,))[0]["status"] == "pending"
        HOLD.set()
        wait_for(lambda: query(fresh_db, "SELECT status FROM rhythm.tasks WHERE id = %s", (quick,))[0]["status"]
                 == "completed", what="the second task to run once the slot freed")
        assert query(fresh_db, "SELECT status FROM rhythm.tasks WHERE id = %s", (held,))[0]["status"] == "completed"


class SlowBeatWorker(SpyWorker):
    """A SpyWorker that heartbeats every 30 s (a heartbeat also reads the notices its session held back)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.housekeeping_interval = 30.0


def listening_state(db_url: str, worker: Worker) -> str:
    """pg_stat_activity's state of the worker's listening session."""
    return query(db_url, "SELECT a.state FROM pg_stat_activity a JOIN rhythm.workers w ON w.backend_pid = a.pid "
                         "WHERE w.id = %s", (worker.id,))[0]["state"]


def test_a_full_worker_reads_no_notices_until_a_slot_frees(app, fresh_db):
    """Its session waits inside a transaction block, where Postgres leaves the notices queued (no read, no
    commit, no wake-up of the listener per notice); they are all read once a slot frees, and nothing is lost."""
    HOLD.clear()
    with worker_thread(app, fresh_db, worker_class=SlowBeatWorker, concurrency=1, poll_interval=60) as (worker, client):
        wait_for(lambda: hasattr(worker, "listener"), what="the worker to listen")
        client.queue_task("wake-hold", 1)
        wait_for(lambda: worker.running, what="the holding task to run")
        first = client.queue_task("wake-quick", 2)  # the notice that finds the slot taken is the last one read
        wait_for(lambda: listening_state(fresh_db, worker) == "idle in transaction", what="the session to pause")
        heard = len(worker.heard)
        second = client.queue_task("wake-quick", 3)
        time.sleep(0.3)
        assert worker.heard[heard:] == [] and listening_state(fresh_db, worker) == "idle in transaction"
        HOLD.set()
        for task in (first, second):
            wait_for(lambda: query(fresh_db, "SELECT status FROM rhythm.tasks WHERE id = %s", (task,))[0]["status"]
                     == "completed", what="the pending tasks to run once the slot freed")
        wait_for(lambda: "tasks default" in worker.heard[heard:], what="the held-back notice, read after the pause")
        wait_for(lambda: listening_state(fresh_db, worker) == "idle", what="the session to read notices again")


def test_a_task_thread_whose_run_ends_claims_a_pending_task_itself(app, fresh_db):
    """A task whose run schedules nothing next leaves its thread's slot free: while tasks wait, the thread
    claims one and runs it (no loop tick, no hand-off), and wakes the loop only once none is left."""
    HOLD.clear()
    with worker_thread(app, fresh_db, worker_class=SpyWorker, concurrency=1, poll_interval=60) as (worker, client):
        wait_for(lambda: hasattr(worker, "listener"), what="the worker to listen")
        held = client.queue_task("wake-hold", 1)
        wait_for(lambda: worker.running, what="the holding task to run")
        quick = client.queue_task("wake-quick", 2)
        HOLD.set()
        wait_for(lambda: query(fresh_db, "SELECT status FROM rhythm.tasks WHERE id = %s", (quick,))[0]["status"]
                 == "completed", what="the second task to run")
        assert worker.handed == [held]  # the loop handed the first task only: the thread claimed the second
        # it finds none left and wakes the loop (the hint it clears may be set again by a loop read that began
        # while the task was still pending: a hint, at worst one empty claim)
        wait_for(lambda: "rhythm-task_0" in worker.woken_by and not worker.running,
                 what="the thread to find none left and wake the loop")


def test_a_timer_written_by_this_worker_fires_on_time_without_a_notice(app, fresh_db):
    """The worker's first tick advances a run started before it (its NOTIFY went to nobody), which writes a
    timer and sends no NOTIFY; the engine's hint bounds the loop's sleep, so the timer fires at its time, not
    at the next poll a minute later."""
    client = SyncRhythmClient(fresh_db)
    try:
        app.register(client.store)
        handle = client.start_workflow("nap", {"seconds": 0.3})
    finally:
        client.close()
    with worker_thread(app, fresh_db, worker_class=SpyWorker, poll_interval=60) as (worker, client):
        assert client.get(handle.id).result(timeout=20) == 1  # well before the next poll
        [timer] = query(fresh_db, "SELECT due_at, fired_at FROM rhythm.timers")
        assert timer["fired_at"] is not None and timer["fired_at"] >= timer["due_at"]


def test_a_heartbeat_under_way_when_the_worker_stops_never_undoes_its_goodbye(app, fresh_db, monkeypatch):
    """The listener's heartbeat (which clears stopped_at: a restarted worker may reuse its id) starts, the
    worker stops meanwhile and says goodbye: the goodbye waits for the beat, so the worker ends 'stopped'
    (not 'dead' or 'live' once its session is gone)."""
    beat, entered = Presence.beat, threading.Event()

    def late_beat(self, conn):
        if threading.current_thread().name == "rhythm-listen" and not entered.is_set():
            entered.set()
            worker.stopping.wait(10)  # under way when the worker stops…
            time.sleep(0.5)  # …and slower than the goodbye would be
        return beat(self, conn)

    monkeypatch.setattr(Presence, "beat", late_beat)
    with worker_thread(app, fresh_db, lease_seconds=0.6) as (worker, client):
        wait_for(entered.is_set, what="a heartbeat from the listener")
    worker.listener.join(10)
    assert query(fresh_db, "SELECT state FROM rhythm.worker_states WHERE id = %s", (worker.id,))[0]["state"] \
        == "stopped"
