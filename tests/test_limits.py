"""Queue limits hold across worker processes on one Postgres, and Task.run's options do what they say.

The multi-process tests run 4 real `rhythm worker` processes whose tasks
record their start and end (on the database clock) in a table; the observed
overlap of those intervals must never exceed the queue's limit. A task is
recorded after its claim committed and before its completion does, so its
interval lies inside the time Postgres counted it as running. A SIGKILLed
worker's task has no end: its interval ends when the kill was done.
"""

from __future__ import annotations

import signal
import textwrap
import time
from collections import defaultdict

import pytest

from helpers import CliWorker, query, wait_for, worker_thread, write_flows
from rhythm_compiler import CompileError, compile_source
from rhythm_runtime.api.app import RhythmApp
from rhythm_runtime.api.client import SyncRhythmClient
from rhythm_runtime.api.queues import QUEUES, declare, parse_rate
from rhythm_runtime.api.tasks import REGISTRY, TaskSpec
from rhythm_runtime.api.testing import InProcessWorld, _module_for, run_workflow
from rhythm_runtime.storage import limits

APP = """
import os, threading, time
import psycopg
from rhythm import RhythmApp, task

app = RhythmApp("workflows")
app.queue("pay", concurrency=3)
app.queue("onboard", key_concurrency=1)
app.queue("mail", rate="25/1s")
_local = threading.local()

def note(event, payload):
    if getattr(_local, "conn", None) is None:
        _local.conn = psycopg.connect(os.environ["RHYTHM_DATABASE_URL"], autocommit=True)
    _local.conn.execute("INSERT INTO limit_log (n, key, pid, event) VALUES (%s, %s, %s, %s)",
                        (payload["n"], payload.get("key"), os.getpid(), event))

def limited(payload):
    note("start", payload)
    time.sleep(payload["sleep"])
    note("end", payload)

for name in ("pay", "onboard", "mail"):
    task(name, queue=name)(limited)
"""


class Project:
    def __init__(self, root, url):
        self.root, self.url = root, url
        write_flows(root / "workflows", {})
        (root / "limits_app.py").write_text(textwrap.dedent(APP))
        query(url, "CREATE TABLE limit_log (n int, key text, pid int, event text, at timestamptz DEFAULT clock_timestamp())")
        self.workers: list[CliWorker] = []

    def worker(self, queue: str) -> CliWorker:
        self.workers.append(w := CliWorker(self.root, self.url, "limits_app:app", "-q", queue, "-c", "4"))
        return w

    def done(self, queue: str) -> int:
        return query(self.url, "SELECT count(*) AS n FROM rhythm.tasks WHERE queue = %s AND status = 'completed'",
                     (queue,))[0]["n"]


@pytest.fixture
def project(tmp_path, make_database, template_db):
    p = Project(tmp_path, make_database(template=template_db))
    yield p
    for w in p.workers:
        w.kill()


def queue_tasks(url: str, queue: str, count: int, sleep: float, keys: int | None = None) -> None:
    client = SyncRhythmClient(url)
    try:
        for n in range(count):
            key = None if keys is None else f"k{n % keys}"
            client.queue_task(queue, {"n": n, "sleep": sleep, "key": key}, key=key)
    finally:
        client.close()


def max_overlap(intervals) -> int:
    """The most intervals open at one moment (an end at the same instant as a start comes first)."""
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    open_now = peak = 0
    for _, step in events:
        open_now += step
        peak = max(peak, open_now)
    return peak


def intervals(url: str, killed_at: dict) -> dict[str | None, list]:
    """(start, end) per key of every recorded task run; a run of a killed worker ends at its kill."""
    rows = query(url, "SELECT n, key, pid, event, at FROM limit_log ORDER BY at")
    runs: dict = {}
    for r in rows:
        if r["event"] == "start":
            runs[(r["n"], r["pid"])] = [r["key"], r["at"], killed_at.get(r["pid"])]
        else:
            runs[(r["n"], r["pid"])][2] = r["at"]
    by_key = defaultdict(list)
    for key, start, end in runs.values():
        assert end is not None, "a task run that neither ended nor was killed"
        by_key[key].append((start, end))
    return by_key


def test_concurrency_never_exceeds_the_limit_across_four_workers_with_sigkills(project):
    for _ in range(4):
        project.worker("pay")
    total = 1200
    queue_tasks(project.url, "pay", total, 0.01)
    killed_at = {}
    for round_ in range(3):  # kill a worker mid-stream, start a fresh one
        wait_for(lambda: project.done("pay") >= total * (round_ + 1) // 4, 120, "progress")
        victim = project.workers[round_]
        victim.proc.send_signal(signal.SIGKILL)
        victim.proc.wait(10)
        killed_at[victim.pid] = query(project.url, "SELECT clock_timestamp() AS t")[0]["t"]
        project.worker("pay")
    wait_for(lambda: project.done("pay") == total, 180, "every task to complete")
    runs = intervals(project.url, killed_at)[None]
    peak = max_overlap(runs)
    print(f"\n{len(runs)} task runs of queue concurrency 3 on 4 workers x 4 slots, 3 SIGKILLs: at most {peak} at once")
    assert peak == 3  # never more than the limit, and the limit was reached


def test_key_concurrency_holds_per_key_while_keys_run_side_by_side(project):
    for _ in range(4):
        project.worker("onboard")
    total = 600
    queue_tasks(project.url, "onboard", total, 0.01, keys=8)
    wait_for(lambda: project.done("onboard") == total, 180, "every task to complete")
    by_key = intervals(project.url, {})
    assert sorted(by_key) == [f"k{i}" for i in range(8)]
    assert max(max_overlap(runs) for runs in by_key.values()) == 1
    overall = max_overlap([iv for runs in by_key.values() for iv in runs])
    print(f"\n{total} tasks over 8 keys, key_concurrency 1, 4 workers: {overall} keys ran at once at most")
    assert overall > 1


def test_rate_never_exceeds_its_window_across_four_workers(project):
    for _ in range(4):
        project.worker("mail")
    total = 200
    queue_tasks(project.url, "mail", total, 0.0)
    wait_for(lambda: project.done("mail") == total, 120, "every task to complete")
    starts = [r["started_at"] for r in query(project.url, "SELECT started_at FROM rhythm.tasks WHERE queue = 'mail' "
                                                          "ORDER BY started_at")]
    gaps = [(starts[i + 25] - starts[i]).total_seconds() for i in range(len(starts) - 25)]
    took = (starts[-1] - starts[0]).total_seconds()
    print(f"\n{total} tasks at 25/1s on 4 workers started over {took:.1f}s; the tightest 26 starts spanned "
          f"{min(gaps):.3f}s")
    assert min(gaps) >= 1.0  # no 26 starts within one second: never more than 25 in any window
    assert min(gaps) < 1.5  # and the workers kept up with the rate


# -- one worker, on the database -------------------------------------------------------------------


def _claim_order(url: str, queue: str, tasks: list[dict], **limits_) -> list[int]:
    """Queue `tasks` ({n, key, priority}), then claim them one at a time as a worker would: the order of n."""
    from rhythm_runtime.storage.store import Store

    store = Store(url, max_size=2)
    try:
        limits.register_queues(store, "w", [declare(queue, **limits_)])
        for t in tasks:
            store.queue_task("t", {"n": t["n"]}, TaskSpec("t", print, queue=queue),
                             {k: t[k] for k in ("key", "priority") if k in t})
        order = []
        while True:
            rows, _ = limits.claim(store, "w", queue, ["t"], 1, 30)
            if not rows:
                return order
            order.append(rows[0]["payload"]["n"])
            query(url, "UPDATE rhythm.tasks SET status = 'completed' WHERE id = %s", (rows[0]["id"],))
    finally:
        store.close()
        QUEUES.pop(queue, None)


def test_higher_priority_first_then_first_in_first_out(db_url):
    tasks = [{"n": n, "priority": p} for n, p in enumerate([0, 5, 0, 10, 5, 0])]
    assert _claim_order(db_url, "prio", tasks, concurrency=1) == [3, 1, 4, 0, 2, 5]


def test_one_busy_key_does_not_starve_the_others(db_url):
    busy = [{"n": n, "key": "busy"} for n in range(50)]
    quiet = [{"n": 100 + n, "key": k} for n in range(5) for k in ("a", "b")]
    order = _claim_order(db_url, "fair", busy + quiet, concurrency=1)
    assert sorted(order) == sorted(t["n"] for t in busy + quiet)
    first = order[:15]  # round-robin: busy, a, b, busy, a, b, ...
    assert sum(n >= 100 for n in first) == 10, first
    assert [n for n in order if n < 100] == list(range(50))  # FIFO within a key


def test_a_key_rate_limits_each_key_in_its_own_window(db_url):
    tasks = [{"n": 2 * i + j, "key": k} for i in range(3) for j, k in enumerate("ab")]
    assert _claim_order(db_url, "perkey", tasks, key_rate="1/1h") == [0, 1]  # one start per key in the hour


def test_a_slot_held_by_a_dead_worker_is_freed_when_its_lease_is_reclaimed(db_url):
    from rhythm_runtime.storage.store import Store

    store = Store(db_url, max_size=2)
    try:
        limits.register_queues(store, "w", [declare("lease", concurrency=1)])
        for n in range(2):
            store.queue_task("t", {"n": n}, TaskSpec("t", print, queue="lease"))
        [held], _ = limits.claim(store, "dead", "lease", ["t"], 4, 30)
        assert limits.claim(store, "live", "lease", ["t"], 4, 30) == ([], None)  # the slot is taken
        query(db_url, "UPDATE rhythm.tasks SET lease_expires_at = now() - interval '1 second' WHERE id = %s",
              (held["id"],))
        assert [r["id"] for r in store.reclaim_lost()] == [held["id"]]
        rows, _ = limits.claim(store, "live", "lease", ["t"], 4, 30)
        assert len(rows) == 1  # one task again (of two pending), in the freed slot
    finally:
        store.close()
        QUEUES.pop("lease", None)


def test_a_throttled_worker_sleeps_until_the_next_token(db_url, tmp_path):
    """Rate 2 per 3 s: after two starts the worker sleeps until the window has room, instead of polling."""
    calls = []
    real_claim = limits.claim

    def counting_claim(*args, **kwargs):
        calls.append(time.monotonic())
        return real_claim(*args, **kwargs)

    REGISTRY["throttled"] = TaskSpec("throttled", lambda p: p, queue="throttled")
    declare("throttled", rate="2/3s")
    app = RhythmApp(str(write_flows(tmp_path / "workflows", {})))
    limits.claim = counting_claim
    try:
        with worker_thread(app, db_url, queues=["throttled"], poll_interval=5.0) as (worker, client):
            for n in range(3):
                client.queue_task("throttled", {"n": n})
            wait_for(lambda: query(db_url, "SELECT count(*) AS n FROM rhythm.tasks WHERE name = 'throttled' AND "
                                           "status = 'completed'")[0]["n"] == 2, 10, "two tasks")
            first = time.monotonic()
            wait_for(lambda: query(db_url, "SELECT count(*) AS n FROM rhythm.tasks WHERE name = 'throttled' AND "
                                           "status = 'completed'")[0]["n"] == 3, 10, "the third task")
            waited = time.monotonic() - first
        in_between = [t for t in calls if first <= t <= first + waited]
        print(f"\nthe third start waited {waited:.2f}s with {len(in_between)} claims in between")
        assert 1.5 < waited < 4.5 and len(in_between) <= 8  # a hot poll would claim every 20 ms: 100+ times
    finally:
        limits.claim = real_claim
        REGISTRY.pop("throttled")
        QUEUES.pop("throttled")


# -- declaring, compiling, running in-process ------------------------------------------------------


def test_rates_and_bad_declarations() -> None:
    assert parse_rate("100/1m", "rate") == (100, 60.0)
    assert parse_rate("5/s", "rate") == (5, 1.0)
    with pytest.raises(ValueError, match=r'like "100/1m"'):
        parse_rate("100 per minute", "rate")
    with pytest.raises(ValueError, match="concurrency must be a whole number of at least 1"):
        declare("bad", concurrency=0)
    assert "bad" not in QUEUES


def test_an_unknown_option_is_a_compile_error_with_a_suggestion() -> None:
    with pytest.raises(CompileError) as e:
        compile_source('await Task.run("charge", {}, { key: "c", prioriy: 10 })\n', "w.flow")
    assert "w.flow:1:42: error: 'prioriy' is not an option of Task.run (did you mean 'priority'?)" in str(e.value)
    assert str(e.value).endswith("\n   |                                          ^^^^^^^")
    with pytest.raises(CompileError, match="'when' is not an option of Task.run \\(the options are key, priority"):
        compile_source('await Task.run("charge", {}, { when: 10 })\n', "w.flow")


@pytest.mark.parametrize("options, message", [
    ("{ prio: 1 }", "TypeError: Task.run('t') options: 'prio' is not an option (did you mean 'priority'?)"),
    ("{ priority: 1.5 }", "TypeError: Task.run('t') options: priority must be a whole number"),
    ("{ delay: -1 }", "RangeError: Task.run('t') options: delay must be a number of seconds"),
    ("{ key: true }", "TypeError: Task.run('t') options: key must be a string or a number, not boolean"),
    ("5", "TypeError: Task.run('t') options must be an object"),
])
def test_computed_options_are_checked_when_the_call_runs(options: str, message: str) -> None:
    source = f'const o = {options}\ntry {{ await Task.run("t", {{}}, o) }} catch (e) {{ return `${{e.name}}: ${{e.message}}` }}\n'
    result = run_workflow(source, tasks={"t": lambda p: 1})
    assert result.output.startswith(message), result.output


def test_the_in_process_runner_applies_delay_priority_timeout_and_rates_on_its_virtual_clock() -> None:
    started = []

    def work(payload):
        started.append((payload["n"], world.now))
        if payload.get("sleep"):
            time.sleep(payload["sleep"])
        return payload["n"]

    declare("virtual-mail", rate="2/1m")
    source = """
const ps = [Task.run("work", { n: 0 }, { delay: "10s" })]
for (let n = 1; n <= 3; n++) ps.push(Task.run("work", { n }, { priority: n, delay: 5 }))
for (let n = 4; n <= 8; n++) ps.push(Task.run("mail", { n }))
let timedOut = null
try { await Task.run("work", { n: 9, sleep: 0.5 }, { timeout: 0.05 }) } catch (e) { timedOut = e.message }
return [await Promise.all(ps), timedOut]
"""
    try:
        module = _module_for(source, "w")
        world = InProcessWorld({"work": work, "mail": TaskSpec("mail", work, queue="virtual-mail")}, {}, [])
        run = world.start(module, {})
        world.drain()
    finally:
        QUEUES.pop("virtual-mail")
    assert run.outcome.output == [[0, 1, 2, 3, 4, 5, 6, 7, 8], "task 'work' timed out after 0.05s"]
    assert [n for n, _ in started if 1 <= n <= 3] == [3, 2, 1]  # higher priority first at the same moment
    at = dict(started)
    assert at[0] == 10 and at[1] == at[2] == at[3] == 5
    assert [at[n] for n in range(4, 9)] == [0, 0, 60, 60, 120]  # two starts per minute


def test_a_worker_runs_task_options_on_postgres(db_url, tmp_path):
    """delay, priority and timeout from a workflow reach the task rows and the worker honours them."""
    flows = write_flows(tmp_path / "workflows", {"opts": """
const slow = Task.run("opt-sleep", { s: 1 }, { timeout: 0.2, key: "k1", priority: 7 })
const late = await Task.run("opt-sleep", { s: 0 }, { delay: 1.5 })
try { await slow } catch (e) { return [late, e.message] }
"""})
    REGISTRY["opt-sleep"] = TaskSpec("opt-sleep", lambda p: time.sleep(p["s"]) or p["s"], timeout=30)
    try:
        with worker_thread(RhythmApp(str(flows)), db_url) as (worker, client):
            began = time.monotonic()
            assert client.run_workflow("opts", {}, timeout=20) == [0, "task 'opt-sleep' timed out after 0.2s"]
            assert time.monotonic() - began >= 1.5
        rows = query(db_url, "SELECT key, priority, timeout_seconds, available_at - created_at AS delay "
                             "FROM rhythm.tasks WHERE name = 'opt-sleep' ORDER BY id")
        assert [(r["key"], r["priority"], r["timeout_seconds"]) for r in rows] == [("k1", 7, 0.2), (None, 0, 30)]
        assert rows[1]["delay"].total_seconds() >= 1.5
    finally:
        REGISTRY.pop("opt-sleep")
