"""start_workflow's options: a delayed start, and one active run per key (skip, replace, queue)."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from helpers import query, wait_for, worker_thread, write_flows
from rhythm_runtime.api.app import RhythmApp
from rhythm_runtime.api.client import SyncRhythmClient
from rhythm_runtime.api.tasks import REGISTRY, TaskSpec
from rhythm_runtime.storage.queries import Q

FLOWS = {
    # Waits for a "go" signal; a cancel runs its cleanup task first.
    "keyed": """
try {
  await Signal.next("go")
} finally {
  await Task.run("starts-note", { run: Context.executionId })
}
return Inputs.n
""",
    "quick": "return Date.now()\n",
}


@pytest.fixture(scope="module")
def world(db_url, tmp_path_factory):
    flows = write_flows(tmp_path_factory.mktemp("starts") / "workflows", FLOWS)
    REGISTRY["starts-note"] = TaskSpec("starts-note", lambda p: p["run"])
    try:
        with worker_thread(RhythmApp(str(flows)), db_url) as (worker, client):
            yield client
    finally:
        REGISTRY.pop("starts-note")


def status(client: SyncRhythmClient, run_id: str) -> str:
    return client.get(run_id).status()


def test_a_delayed_start_waits_and_start_at_in_the_past_starts_now(world):
    began = time.time()
    late = world.start_workflow("quick", {}, delay="1.5s")
    assert world.start_workflow("quick", {}, start_at=datetime.now(timezone.utc) - timedelta(hours=1)).result(10) \
        >= began * 1000
    assert late.result(10) >= (began + 1.5) * 1000  # Date.now() when it ran
    with pytest.raises(ValueError, match="start_at must be an aware datetime"):
        world.start_workflow("quick", {}, start_at=datetime.now())


def test_skip_returns_the_active_run_of_the_key(world):
    first = world.start_workflow("keyed", {"n": 1}, key="k-skip")
    second = world.start_workflow("keyed", {"n": 2}, key="k-skip")
    assert second.id == first.id
    other = world.start_workflow("keyed", {"n": 3}, key="another")
    assert other.id != first.id
    first.signal("go")
    other.signal("go")
    assert first.result(10) == 1
    third = world.start_workflow("keyed", {"n": 4}, key="k-skip")  # the key is free again
    assert third.id != first.id
    third.signal("go")
    assert third.result(10) == 4


def test_concurrent_starts_of_one_key_make_one_run(world, db_url):
    ids, barrier = [], threading.Barrier(8)

    def start():
        client = SyncRhythmClient(db_url)
        try:
            barrier.wait()
            ids.append(client.start_workflow("keyed", {"n": 5}, key="k-race").id)
        finally:
            client.close()

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(ids) == 8 and len(set(ids)) == 1
    world.get(ids[0]).signal("go")
    assert world.get(ids[0]).result(10) == 5


def test_replace_cancels_the_active_run_after_its_cleanup(world):
    old = world.start_workflow("keyed", {"n": 6}, key="k-replace")
    wait_for(lambda: status(world, old.id) == "suspended", 10, "the old run to wait for its signal")
    new = world.start_workflow("keyed", {"n": 7}, key="k-replace", on_conflict="replace")
    assert new.id != old.id
    wait_for(lambda: status(world, old.id) == "cancelled", 10, "the old run to be cancelled")
    new.signal("go")
    assert new.result(10) == 7


def test_queue_starts_each_run_of_a_key_in_turn(world, db_url):
    runs = [world.start_workflow("keyed", {"n": n}, key="k-queue", on_conflict="queue") for n in range(3)]
    wait_for(lambda: status(world, runs[0].id) == "suspended", 10, "the first run to start")
    time.sleep(1.5)  # a housekeeping pass or so: the others keep waiting their turn
    assert [status(world, r.id) for r in runs[1:]] == ["pending", "pending"]
    assert query(db_url, "SELECT count(*) AS n FROM rhythm.runs WHERE key = 'k-queue' AND activations > 0")[0]["n"] == 1
    for n, run in enumerate(runs):
        wait_for(lambda: status(world, run.id) == "suspended", 10, f"run {n} to start")
        assert [status(world, r.id) for r in runs[n + 1:]] == ["pending"] * (2 - n)
        run.signal("go")
        assert run.result(10) == n


def test_a_bad_on_conflict_is_refused(world):
    with pytest.raises(ValueError, match="on_conflict must be one of skip, replace, queue, not 'later'"):
        world.start_workflow("quick", {}, key="k", on_conflict="later")


def test_a_start_without_a_key_is_one_statement(world, monkeypatch):
    """The newest version, the insert and the notices travel together (start_run), between BEGIN and COMMIT."""
    me, sent, inner = threading.get_ident(), [], psycopg.Connection.execute

    def execute(conn, query, *args, **kwargs):
        if threading.get_ident() == me:
            sent.append(" ".join(str(query).split()))
        return inner(conn, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Connection, "execute", execute)
    handle = world.start_workflow("quick", {})
    monkeypatch.undo()
    assert [s for s in sent if s not in ("BEGIN", "COMMIT")] == [" ".join(Q["start_run"].split())]
    assert handle.result(10) > 0
