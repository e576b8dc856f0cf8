"""Runs on queues: a queue's limits admit whole runs, across worker processes on one Postgres.

The multi-process tests run real `rhythm worker` processes; each run records
its start (its first task) and its end (its last task) in a table on the
database clock. A run is admitted before its first task runs and frees its
slot only when it ends, after its last task, so the overlap of those
intervals can never exceed what the queue admitted at once. The lock tests
interleave two transactions by hand: they fail if the queue's row lock (what
serializes admissions and claims) is removed.
"""

from __future__ import annotations

import signal
import textwrap
import threading
from collections import defaultdict

import pytest
from click.testing import CliRunner
from psycopg.rows import dict_row

from helpers import CliWorker, query, wait_for, worker_thread, write_flows
from rhythm_compiler import CompileError, compile_source
from rhythm_runtime.api.app import RhythmApp
from rhythm_runtime.api.queues import QUEUES, declare
from rhythm_runtime.api.tasks import REGISTRY, TaskSpec
from rhythm_runtime.api.testing import InProcessWorld, _module_for
from rhythm_runtime.cli.runs import status
from rhythm_runtime.storage import limits
from rhythm_runtime.storage.db import connect
from rhythm_runtime.storage.store import Store
from test_limits import max_overlap

APP = """
import os, threading, time
import psycopg
from rhythm import RhythmApp, task

app = RhythmApp("workflows")
app.queue("onboarding", concurrency=2)
app.queue("perkey", key_concurrency=1)
app.queue("steps", concurrency=2)
_local = threading.local()

@task("mark")
def mark(payload):
    if getattr(_local, "conn", None) is None:
        _local.conn = psycopg.connect(os.environ["RHYTHM_DATABASE_URL"], autocommit=True)
    _local.conn.execute("INSERT INTO run_log (run, key, event) VALUES (%s, %s, %s)",
                        (payload["run"], payload["key"], payload["event"]))

@task("nap")
def nap(seconds):
    time.sleep(seconds)

@task("step", queue="steps")
def step(payload):
    mark({**payload, "event": "start"})
    time.sleep(0.02)
    mark({**payload, "event": "end"})
"""

BODY = """
await Task.run("mark", { run: Context.executionId, key: Inputs.key ?? null, event: "start" })
await Task.run("nap", Inputs.sleep)
await Task.run("mark", { run: Context.executionId, key: Inputs.key ?? null, event: "end" })
return Inputs.n
"""
FLOWS = {"onboard": "```\nqueue: onboarding\n```\n" + BODY, "keyed": BODY, "chain": """
for (let i = 0; i < 6; i++) await Task.run("step", { run: `${Context.executionId}/${i}`, key: "step" })
return 1
"""}


class Project:
    def __init__(self, root, url):
        self.root, self.url = root, url
        write_flows(root / "workflows", FLOWS)
        (root / "queues_app.py").write_text(textwrap.dedent(APP))
        query(url, "CREATE TABLE run_log (run text, key text, event text, at timestamptz DEFAULT clock_timestamp())")
        self.workers: list[CliWorker] = []

    def worker(self) -> CliWorker:
        self.workers.append(w := CliWorker(self.root, self.url, "queues_app:app", "-c", "4", "-q", "default,steps"))
        return w

    def done(self, name: str) -> int:
        return query(self.url, "SELECT count(*) AS n FROM rhythm.runs WHERE workflow_name = %s AND "
                               "status = 'completed'", (name,))[0]["n"]

    def intervals(self) -> dict[str | None, list]:
        """Per key, (first start, last end) of every run (a task a killed worker ran is recorded again)."""
        rows = query(self.url, "SELECT run, key, min(at) FILTER (WHERE event = 'start') AS start, "
                               "max(at) FILTER (WHERE event = 'end') AS end FROM run_log GROUP BY run, key")
        by_key = defaultdict(list)
        for r in rows:
            assert r["start"] is not None and r["end"] is not None, r
            by_key[r["key"]].append((r["start"], r["end"]))
        return by_key


@pytest.fixture
def project(tmp_path, make_database, template_db):
    p = Project(tmp_path, make_database(template=template_db))
    yield p
    for w in p.workers:
        w.kill()


def start_runs(url: str, name: str, count: int, sleep: float, **options) -> None:
    from rhythm_runtime.api.client import SyncRhythmClient

    client = SyncRhythmClient(url)
    keys = options.pop("keys", None)
    try:
        for n in range(count):
            key = None if keys is None else f"k{n % keys}"
            client.start_workflow(name, {"n": n, "sleep": sleep, "key": key}, key=key, **options)
    finally:
        client.close()


def test_a_queue_admits_at_most_its_concurrency_of_runs_across_workers_with_a_sigkill(project):
    for _ in range(3):
        project.worker()
    total = 40
    start_runs(project.url, "onboard", total, 0.15)  # on the queue by its front matter
    assert query(project.url, "SELECT count(*) AS n FROM rhythm.runs WHERE queue = 'onboarding'")[0]["n"] == total
    wait_for(lambda: project.done("onboard") >= total // 3, 120, "progress")
    victim = project.workers[0]
    victim.proc.send_signal(signal.SIGKILL)
    victim.proc.wait(10)
    project.worker()
    wait_for(lambda: project.done("onboard") == total, 180, "every run to complete")
    runs = project.intervals()[None]
    peak = max_overlap(runs)
    print(f"\n{len(runs)} runs on a queue of concurrency 2, 3 workers x 4 slots, 1 SIGKILL: at most {peak} at once")
    assert len(runs) == total and peak == 2  # never more than the limit, and the limit was reached


def test_key_concurrency_admits_one_run_per_key_while_keys_run_side_by_side(project):
    for _ in range(3):
        project.worker()
    total = 24
    start_runs(project.url, "keyed", total, 0.1, keys=3, queue="perkey")
    wait_for(lambda: project.done("keyed") == total, 180, "every run to complete")
    by_key = project.intervals()
    assert sorted(by_key) == ["k0", "k1", "k2"]
    assert [max_overlap(by_key[k]) for k in sorted(by_key)] == [1, 1, 1]
    assert max_overlap([i for k in by_key for i in by_key[k]]) >= 2  # keys were not serialized with each other


def test_a_task_hands_its_slot_to_the_next_task_of_its_run_without_exceeding_the_limit(project):
    """On a queue limited by concurrency alone, a run's next task is inserted leased to the thread whose task
    just ended there (one commit per step, no claim): the running count does not change in that transaction."""
    for _ in range(3):
        project.worker()
    start_runs(project.url, "chain", 12, 0)
    wait_for(lambda: project.done("chain") == 12, 180, "every run to complete")
    steps = project.intervals()["step"]
    handed = query(project.url, "SELECT count(*) AS n FROM rhythm.tasks WHERE name = 'step' AND "
                                "started_at = created_at")[0]["n"]
    print(f"\n{len(steps)} steps on a queue of concurrency 2: at most {max_overlap(steps)} at once, {handed} "
          f"started by a handoff")
    assert len(steps) == 72 and max_overlap(steps) == 2 and handed > 0


# -- the queue's row lock, by hand -------------------------------------------------------------------------------


def _race(url: str, first, second, newcomer) -> tuple[list, list]:
    """`first(conn)` inside an open transaction, then `newcomer()` commits more work, then `second()` (the real
    code, in a thread) runs until it waits on a lock, and only then does the first transaction commit."""
    conn = connect(url, autocommit=False, row_factory=dict_row)
    try:
        taken = first(conn)
        newcomer()
        out: list = []
        thread = threading.Thread(target=lambda: out.append(second()))
        thread.start()
        wait_for(lambda: query(url, "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() "
                                    "AND wait_event_type = 'Lock'")[0]["n"], 10, "the second to wait on a lock")
        conn.commit()
        thread.join(10)
        return taken, out[0]
    finally:
        conn.close()


def test_concurrent_admissions_count_what_the_other_committed(db_url, tmp_path):
    """Two admissions at once on a queue of concurrency 2: the second waits for the first's lock and then
    counts its runs. Without the lock the second would count from a snapshot taken before the first committed
    and admit the higher-priority newcomer too: 3 runs admitted."""
    store, app = _store_with(db_url, tmp_path, {"q2": "return 1\n"})
    try:
        limits.register_queues(store, "w", [declare("two", concurrency=2)])
        for n in range(3):
            store.start_run("q2", {}, f"old-{n}", queue="two")

        def first(conn):
            conn.execute(limits.LQ["lock_queue"], dict(queue="two")).fetchone()
            return conn.execute(limits.LQ["admit_runs"], dict(queue="two", limit=100)).fetchall()

        taken, more = _race(db_url, first, lambda: limits._admit(store, "two"),
                            lambda: store.start_run("q2", {}, "urgent", queue="two", priority=10))
        assert len(taken) == 2 and more == []
        admitted = query(db_url, "SELECT id FROM rhythm.runs WHERE queue = 'two' AND admitted_at IS NOT NULL")
        assert len(admitted) == 2
    finally:
        store.close()
        QUEUES.pop("two", None)


def test_concurrent_claims_on_a_limited_queue_count_what_the_other_committed(db_url):
    """The same interleaving for tasks (concurrency 3): a claim that starts while another holds the queue's lock
    claims nothing once that one commits 3, even though a higher-priority task arrived meanwhile."""
    store = Store(db_url, max_size=4)
    spec = TaskSpec("t", print, queue="three")
    try:
        limits.register_queues(store, "w", [declare("three", concurrency=3)])
        for n in range(4):
            store.queue_task("t", {"n": n}, spec)

        def first(conn):
            conn.execute(limits.LQ["lock_queue"], dict(queue="three")).fetchone()
            return conn.execute(limits.LQ["claim_limited_tasks"], dict(
                queue="three", names=["t"], worker="a", limit=3, lease_seconds=30)).fetchall()

        taken, (more, _) = _race(db_url, first, lambda: limits.claim(store, "b", "three", ["t"], 4, 30),
                                 lambda: store.queue_task("t", {"n": 9}, spec, {"priority": 10}))
        assert len(taken) == 3 and more == []
        running = query(db_url, "SELECT count(*) AS n FROM rhythm.tasks WHERE queue = 'three' AND status = 'running'")
        assert running[0]["n"] == 3
    finally:
        store.close()
        QUEUES.pop("three", None)


def _store_with(url: str, tmp_path, flows: dict) -> tuple[Store, RhythmApp]:
    app = RhythmApp(str(write_flows(tmp_path / "workflows", flows)))
    store = Store(url, max_size=4)
    app.register(store)
    return store, app


# -- order, cancel, keys, options --------------------------------------------------------------------------------


def test_priority_orders_admission_then_first_in_first_out(db_url, tmp_path):
    store, _ = _store_with(db_url, tmp_path, {"prio": "return 1\n"})
    try:
        limits.register_queues(store, "w", [declare("prio", concurrency=1)])
        for n, p in enumerate([0, 5, 0, 10, 5, 0]):
            store.start_run("prio", {}, f"r{n}", queue="prio", priority=p)
        order = []
        while admitted := limits.admit_runs(store)[0]:
            order += admitted
            query(db_url, "UPDATE rhythm.runs SET status = 'completed' WHERE id = ANY(%s)", (admitted,))
        assert order == ["r3", "r1", "r4", "r0", "r2", "r5"]
    finally:
        store.close()
        QUEUES.pop("prio", None)


def test_runs_waiting_on_a_queue_are_admitted_by_it_not_by_their_key(db_url, tmp_path):
    """Keyed runs waiting on a queue look like runs held by on_conflict="queue"; the key's turn must not start
    them (a run started that way would hold no slot, and a second run of its key would be admitted)."""
    store, _ = _store_with(db_url, tmp_path, {"keyq": "return 1\n"})
    try:
        limits.register_queues(store, "w", [declare("keyq", key_concurrency=1)])
        for n in range(2):
            store.start_run("keyq", {}, f"k{n}", queue="keyq", key="customer")
        assert limits.admit_runs(store)[0] == ["k0"]
        query(db_url, "UPDATE rhythm.runs SET status = 'completed' WHERE id = 'k0'")
        assert store.release_queued_runs() == []
        assert limits.admit_runs(store)[0] == ["k1"]
    finally:
        store.close()
        QUEUES.pop("keyq", None)


def test_a_queued_run_cancelled_before_admission_ends_without_running_and_keys_do_not_skip(db_url, tmp_path):
    REGISTRY["wq-step"] = TaskSpec("wq-step", lambda p: p)
    declare("solo", concurrency=1)
    flows = {"hold": 'await Signal.next("go")\nreturn await Task.run("wq-step", Inputs.n)\n'}
    try:
        with worker_thread(RhythmApp(str(write_flows(tmp_path / "workflows", flows))), db_url) as (worker, client):
            first = client.start_workflow("hold", {"n": 1}, queue="solo", key="c1")
            wait_for(lambda: first.describe()["activations"] == 1, 10, "the first run to wait for its signal")
            second = client.start_workflow("hold", {"n": 2}, queue="solo", key="c1")  # same key: queued, not skipped
            third = client.start_workflow("hold", {"n": 3}, queue="solo", key="c1", priority=-1)
            assert second.id != first.id and second.describe()["queued"]
            shown = CliRunner().invoke(status, [second.id, "--database-url", db_url], catch_exceptions=False).output
            assert "queued on solo: it starts when the queue's limits admit it" in shown
            assert "on_conflict" in str(pytest.raises(ValueError, client.start_workflow, "hold", {}, queue="solo",
                                                      key="c1", on_conflict="queue").value)
            assert client.start_workflow("hold", {}, queue="solo", key="c1", on_conflict="skip").id == first.id
            assert second.cancel() and second.status() == "cancelled"
            assert second.describe()["activations"] == 0  # it never ran
            first.signal("go", None)
            assert first.result(10) == 1
            wait_for(lambda: third.describe()["activations"] == 1, 10, "the third run to be admitted")
            third.signal("go", None)
            assert third.result(10) == 3
    finally:
        REGISTRY.pop("wq-step")
        QUEUES.pop("solo")


def test_workflow_run_options_reach_the_child_run_on_postgres(db_url, tmp_path):
    declare("kids", concurrency=1)
    flows = {"parent": """
const a = Workflow.run("child", { n: 1 }, { queue: "kids", key: "k", priority: 3 })
const b = Workflow.run("child", { n: 2 }, { queue: "kids", delay: 1 })
return [await a, await b]
""", "child": "await Timer.delay(0.2)\nreturn Inputs.n\n"}
    try:
        with worker_thread(RhythmApp(str(write_flows(tmp_path / "workflows", flows))), db_url) as (worker, client):
            assert client.run_workflow("parent", {}, timeout=20) == [1, 2]
        rows = query(db_url, "SELECT queue, key, priority, admitted_at - created_at AS waited FROM rhythm.runs "
                             "WHERE parent_run_id IS NOT NULL ORDER BY id")
        assert [(r["queue"], r["key"], r["priority"]) for r in rows] == [("kids", "k", 3), ("kids", None, 0)]
        assert rows[1]["waited"].total_seconds() >= 1.0  # its delay, then (concurrency 1) the first child's end
    finally:
        QUEUES.pop("kids")


def test_workflow_run_options_are_checked_when_compiling() -> None:
    with pytest.raises(CompileError) as e:
        compile_source('await Workflow.run("child", {}, { key: "c", queu: "q" })\n', "w.flow")
    assert "w.flow:1:45: error: 'queu' is not an option of Workflow.run (did you mean 'queue'?)" in str(e.value)
    with pytest.raises(CompileError, match="'timeout' is not an option of Workflow.run"):
        compile_source('await Workflow.run("child", {}, { timeout: 10 })\n', "w.flow")
    with pytest.raises(CompileError, match="'queue' must be a queue's name"):
        compile_source("```\nqueue: 5\n```\nreturn 1\n", "w.flow")


def test_the_in_process_runner_admits_children_by_their_queue_on_its_virtual_clock() -> None:
    started = {}
    declare("virtual-kids", concurrency=2)
    child = 'await Task.run("seen", Inputs.n)\nawait Timer.delay(10)\nreturn Inputs.n\n'
    source = """
const ps = []
for (let n = 0; n < 5; n++) ps.push(Workflow.run("child", { n }, { queue: "virtual-kids", priority: n }))
ps.push(Workflow.run("child", { n: 5 }, { delay: "1m" }))
return await Promise.all(ps)
"""
    try:
        world = InProcessWorld({"seen": lambda n: started.setdefault(n, world.now)}, {"child": child}, [])
        run = world.start(_module_for(source, "w"), {})
        world.drain()
    finally:
        QUEUES.pop("virtual-kids")
    assert run.outcome.output == [0, 1, 2, 3, 4, 5]
    # two at a time, higher priority first; the delayed child (on no queue) at one minute
    assert started == {4: 0, 3: 0, 2: 10, 1: 10, 0: 20, 5: 60}
