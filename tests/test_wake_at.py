"""Runs are claimed by wake_at, runnable by available_at (migrations/0016): a warm step's writes of the run row
are HOT updates, and runs an older Rhythm made runnable or not by writing available_at alone are neither lost
nor advanced when not runnable (storage/adoption.py). On a real Postgres."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from click.testing import CliRunner

from helpers import wait_for

from rhythm_compiler import compile_source
from rhythm_runtime.api.tasks import TaskSpec
from rhythm_runtime.cli.db import db as db_group
from rhythm_runtime.execution import warm
from rhythm_runtime.execution.modules import load_module, module_hash
from rhythm_runtime.execution.warm import WarmStates
from rhythm_runtime.storage import adoption, db
from rhythm_runtime.storage.engine import Engine, InlineClaim
from rhythm_runtime.storage.queries import Q
from rhythm_runtime.storage.store import Store

CHAIN = """let total = 0
for (let i = 1; i <= 5; i++) {
  total = total * 10 + await Task.run("x", i)
}
return total
"""


def chain_store(url: str, monkeypatch) -> tuple[Store, Engine]:
    """A store with the chain workflow registered, and a worker's engine with its own kept states."""
    monkeypatch.setattr(warm, "STATES", WarmStates())
    code = compile_source(CHAIN, "chain.flow").code
    module = load_module(code, "chain")
    store = Store(url)
    store.register_version("chain", module.VERSION, "", code, module_hash(code))
    return store, Engine(lambda conn, name, version: module, {"x": TaskSpec("x", print)}, 1000)


@pytest.fixture
def world(db_url, monkeypatch):
    """chain_store() on this module's database, the upgrade window open."""
    store, engine = chain_store(db_url, monkeypatch)
    sql(store, "UPDATE rhythm.migrations SET applied_at = now() WHERE name = %s", (adoption.MIGRATION,))
    yield store, engine
    store.close()


def sql(store: Store, text: str, params=()) -> list[dict]:
    with store.tx() as conn:
        cursor = conn.execute(text, params)
        return cursor.fetchall() if cursor.description else []


def waiting_on_its_first_task(store: Store, engine: Engine) -> tuple[str, dict]:
    run_id, _ = store.start_run("chain", {})
    assert store.advance_one(engine) is True
    [task] = [t for t in store.claim_tasks("w1", ["default"], ["x"], 10, 30.0) if t["run_id"] == run_id]
    return run_id, task


def run_row(store: Store, run_id: str) -> dict:
    [row] = sql(store, "SELECT status, activations, available_at, wake_at, output FROM rhythm.runs WHERE id = %s",
                (run_id,))
    return row


def finish_chain(store: Store, engine: Engine, task: dict) -> None:
    while task is not None:
        taken = store.finish_task(engine, task, "w1", True, task["payload"], InlineClaim("w1", 30.0, frozenset("x")))
        task = taken[0] if taken else None


def test_a_warm_steps_writes_of_the_run_row_are_hot_updates(make_database, template_db, monkeypatch):
    url = make_database(template=template_db)  # no HOT update of a run before these steps
    store, engine = chain_store(url, monkeypatch)
    try:
        runs = [waiting_on_its_first_task(store, engine) for _ in range(3)]
        for _, task in runs:
            finish_chain(store, engine, task)
        assert [run_row(store, run_id)["output"] for run_id, _ in runs] == [12345] * 3
    finally:
        store.close()  # its backends flush their statistics as they exit
    # 5 warm steps a run, each writing the row twice; of those writes only the last save (completed) changes an
    # indexed column
    expected = 3 * (2 * 5 - 1)
    stats = "SELECT n_tup_hot_upd FROM pg_stat_user_tables WHERE relid = 'rhythm.runs'::regclass"
    with psycopg.connect(url, autocommit=True) as conn:
        hot = wait_for(lambda: conn.execute("SELECT pg_stat_clear_snapshot()") and
                       conn.execute(stats).fetchone()[0] >= expected and conn.execute(stats).fetchone()[0],
                       10, f"{expected} HOT updates of runs")
    assert hot == expected


def test_a_run_an_older_rhythm_made_runnable_is_adopted_and_advanced(world):
    store, engine = world
    run_id, task = waiting_on_its_first_task(store, engine)
    # an older worker's settle: available_at alone
    sql(store, "UPDATE rhythm.runs SET available_at = clock_timestamp() WHERE id = %s", (run_id,))
    assert store.advance_one(engine) is False  # not claimable yet
    assert store.release_queued_runs() == [run_id]
    row = run_row(store, run_id)
    assert row["wake_at"] == row["available_at"]
    assert store.advance_one(engine) is True and run_row(store, run_id)["activations"] == 2
    assert store.release_queued_runs() == []  # one look per interval


def test_an_older_clients_start_is_claimable_and_waits_for_its_delay(world):
    store, engine = world
    [version] = sql(store, "SELECT version FROM rhythm.workflow_versions WHERE name = 'chain'")
    now_id, later_id = f"old-{uuid.uuid4().hex[:8]}", f"old-{uuid.uuid4().hex[:8]}"
    insert = ("INSERT INTO rhythm.runs (id, workflow_name, version, inputs, available_at) "
              "VALUES (%s, 'chain', %s, '{}', now() + %s * interval '1 second')")
    sql(store, insert, (later_id, version["version"], 3600))
    sql(store, insert, (now_id, version["version"], 0))
    assert store.advance_one(engine) is True
    assert run_row(store, now_id)["activations"] == 1
    assert store.advance_one(engine) is False  # claimable by its default wake_at, but not runnable before its delay
    assert run_row(store, later_id)["activations"] == 0
    with store.tx() as conn:
        work = conn.execute(Q["pending_work"], dict(with_tasks=False, queues=[], names=[])).fetchone()
    assert work["runs"] is False


def test_a_wake_at_an_older_rhythm_left_on_a_waiting_run_advances_nothing(world):
    store, engine = world
    run_id, task = waiting_on_its_first_task(store, engine)
    # an older worker's save after a newer settle: available_at cleared alone
    sql(store, "UPDATE rhythm.runs SET wake_at = now() WHERE id = %s", (run_id,))
    assert store.advance_one(engine) is False  # claims check available_at again
    assert run_row(store, run_id)["activations"] == 1
    # its warm step takes the ordinary path, which clears it
    finish_chain(store, engine, task)
    row = run_row(store, run_id)
    assert (row["output"], row["activations"], row["available_at"], row["wake_at"]) == (12345, 6, None, None)


def test_adoption_stops_after_the_window_and_rhythm_db_migrate_adopts_what_is_left(world):
    store, engine = world
    run_id, _ = waiting_on_its_first_task(store, engine)
    sql(store, "UPDATE rhythm.migrations SET applied_at = now() - interval '2 hours' WHERE name = %s",
        (adoption.MIGRATION,))
    late = Store(store.conninfo, max_size=1)
    try:
        sql(store, "UPDATE rhythm.runs SET available_at = clock_timestamp() WHERE id = %s", (run_id,))
        assert late.release_queued_runs() == []
        assert late.advance_one(engine) is False
        result = CliRunner().invoke(db_group, ["migrate", "--database-url", store.conninfo])
        assert result.exit_code == 0, result.output
        assert "made 1 run(s) claimable that an older Rhythm made runnable" in result.output
        assert late.advance_one(engine) is True
    finally:
        late.close()


def test_the_migration_makes_the_runs_already_runnable_claimable(make_database):
    url = make_database()
    migrations = db.list_migrations()
    upgrade = next(i for i, m in enumerate(migrations) if m.name == adoption.MIGRATION)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(Q["bootstrap_migrations"])
        for m in migrations[:upgrade]:
            conn.execute(m.sql)
            conn.execute(Q["record_migration"], {"name": m.name, "checksum": m.checksum})
        conn.execute("INSERT INTO rhythm.workflow_versions (name, version, source, module_code, module_hash) "
                     "VALUES ('w', 'v1', '', '', '')")
        conn.execute("INSERT INTO rhythm.runs (id, workflow_name, version, status, available_at) VALUES "
                     "('runnable', 'w', 'v1', 'suspended', now() - interval '1 minute'), "
                     "('waiting', 'w', 'v1', 'suspended', NULL), ('done', 'w', 'v1', 'completed', NULL)")
    assert db.migrate(url) == [m.name for m in migrations[upgrade:]]
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("SELECT id, wake_at = available_at AS mirrored, wake_at IS NULL AS unset "
                            "FROM rhythm.runs ORDER BY id").fetchall()
        assert rows == [("done", None, True), ("runnable", True, False), ("waiting", None, True)]
        claimed = conn.execute(Q["lock_runnable_runs"], {"limit": 10}).fetchall()
        assert [r[0] for r in claimed] == ["runnable"]
