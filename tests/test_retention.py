"""Retention: finished runs go after their workflow's retention, in small batches, never under a running parent."""

from __future__ import annotations

import psycopg
import pytest
from click.testing import CliRunner

from helpers import query, wait_for, worker_thread, write_flows
from rhythm_compiler import CompileError, compile_source
from rhythm_runtime.api.app import RhythmApp
from rhythm_runtime.cli.db import db as db_group
from rhythm_runtime.errors import RhythmError
from rhythm_runtime.storage import retention
from rhythm_runtime.storage.transactions import Database
from rhythm_runtime.worker import loop

FINISHED = ("completed", "failed", "cancelled")


def add_run(url: str, run_id: str, status: str = "completed", days_ago: float = 40, workflow: str = "wf",
            parent: str | None = None) -> None:
    """A run of `workflow` that finished `days_ago` days ago (or is `suspended`), with a task, a timer, a
    signal and a history step: what a prune must take with it."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO rhythm.workflow_versions (name, version, source, module_code, module_hash) "
                     "VALUES (%s, 'v1', '', '', '') ON CONFLICT DO NOTHING", (workflow,))
        finished = f"now() - interval '{days_ago} days'" if status in FINISHED else "NULL"
        conn.execute(f"INSERT INTO rhythm.runs (id, workflow_name, version, status, parent_run_id, parent_await_key, "
                     f"available_at, finished_at) VALUES (%s, %s, 'v1', %s, %s, %s, NULL, {finished})",
                     (run_id, workflow, status, parent, None if parent is None else run_id))
        conn.execute("INSERT INTO rhythm.tasks (run_id, await_key, name, status) VALUES (%s, '0.1', 't', 'completed')",
                     (run_id,))
        conn.execute("INSERT INTO rhythm.timers (run_id, await_key, due_at) VALUES (%s, '1.1', now())", (run_id,))
        conn.execute("INSERT INTO rhythm.signals (run_id, name) VALUES (%s, 's')", (run_id,))
        conn.execute("INSERT INTO rhythm.history (run_id, seq, details) VALUES (%s, 1, '{}')", (run_id,))


def run_ids(url: str) -> set[str]:
    return {r["id"] for r in query(url, "SELECT id FROM rhythm.runs")}


@pytest.fixture
def url(make_database, template_db, monkeypatch):
    monkeypatch.delenv("RHYTHM_RETENTION", raising=False)
    return make_database(template=template_db)


def test_prune_deletes_expired_runs_with_everything_they_own_and_keeps_the_rest(url):
    add_run(url, "old")                                   # 40 days: past the default 30
    add_run(url, "recent", days_ago=10)
    add_run(url, "old-failed", "failed")
    add_run(url, "short", days_ago=2, workflow="brief")   # the workflow keeps its runs for a day
    add_run(url, "waiting", "suspended")                  # a running parent ...
    add_run(url, "waiting/0.1", parent="waiting")         # ... keeps its finished child
    add_run(url, "done")                                  # a finished parent goes after its child
    add_run(url, "done/0.1", parent="done")
    query(url, "INSERT INTO rhythm.tasks (name, status, finished_at) VALUES "
               "('alone', 'completed', now() - interval '40 days'), ('alone', 'pending', NULL)")
    db = Database(url, max_size=1)
    try:
        retention.declare(db, "brief", 86400)
        assert retention.expired(db) == retention.Pruned(runs=5, tasks=1)
        assert retention.prune(db, batch=2) == retention.Pruned(runs=5, tasks=1)
        assert run_ids(url) == {"recent", "waiting", "waiting/0.1"}
        for table in ("tasks", "timers", "signals", "history"):
            left = query(url, f"SELECT DISTINCT run_id FROM rhythm.{table} WHERE run_id IS NOT NULL")
            assert {r["run_id"] for r in left} == {"recent", "waiting", "waiting/0.1"}, table
        assert [r["status"] for r in query(url, "SELECT status FROM rhythm.tasks WHERE run_id IS NULL")] == ["pending"]
        retention.declare(db, "brief", None)  # a version without `retention:` restores the default
        assert query(url, "SELECT count(*) AS n FROM rhythm.workflow_retention")[0]["n"] == 0
    finally:
        db.close()


def test_one_pruner_at_a_time(url):
    add_run(url, "old")
    db = Database(url, max_size=1)
    try:
        with psycopg.connect(url) as other:
            other.execute("SELECT pg_advisory_xact_lock(%s)", (retention.PRUNE_LOCK_KEY,))
            assert retention.prune(db) is None  # another worker is pruning: this one skips its turn
        assert retention.prune(db) == retention.Pruned(runs=1)
    finally:
        db.close()


def test_rhythm_retention_sets_the_default(url, monkeypatch):
    add_run(url, "ten", days_ago=10)
    db = Database(url, max_size=1)
    try:
        monkeypatch.setenv("RHYTHM_RETENTION", "never")
        assert retention.prune(db) == retention.Pruned()
        monkeypatch.setenv("RHYTHM_RETENTION", "7d")
        assert retention.prune(db) == retention.Pruned(runs=1)
        monkeypatch.setenv("RHYTHM_RETENTION", "a week")
        with pytest.raises(RhythmError, match="RHYTHM_RETENTION must be a duration such as"):
            retention.prune(db)
    finally:
        db.close()


def test_rhythm_db_prune(url):
    add_run(url, "old")
    add_run(url, "recent", days_ago=10)
    runner = CliRunner()
    result = runner.invoke(db_group, ["prune", "--dry-run", "--database-url", url])
    assert (result.exit_code, result.stderr) == (0, "would delete 1 finished run(s) and 0 standalone task(s)\n")
    assert run_ids(url) == {"old", "recent"}
    result = runner.invoke(db_group, ["prune", "--older-than", "7d", "--database-url", url])
    assert (result.exit_code, result.stderr) == (0, "deleted 2 finished run(s) and 0 standalone task(s)\n")
    assert run_ids(url) == set()
    result = runner.invoke(db_group, ["prune", "--older-than", "soon", "--database-url", url])
    assert result.exit_code == 2 and "must be a duration such as" in result.stderr


def test_front_matter_retention_is_checked_and_registered(url, tmp_path, monkeypatch):
    with pytest.raises(CompileError, match="'retention' must be a duration such as 7d or 12h"):
        compile_source("```\nretention: 7\n```\nreturn 1\n", "w.flow")
    flows = write_flows(tmp_path / "workflows", {"keep_a_day": "```\nretention: 1d\n```\nreturn 1\n"})
    add_run(url, "two-days", days_ago=2, workflow="keep_a_day")
    add_run(url, "two-days-other", days_ago=2)
    monkeypatch.setattr(loop, "PRUNE_INTERVAL", 0.2)  # the worker's housekeeping prunes
    with worker_thread(RhythmApp(str(flows)), url):
        wait_for(lambda: "two-days" not in run_ids(url), 10, "the worker to prune the expired run")
    assert query(url, "SELECT seconds FROM rhythm.workflow_retention") == [{"seconds": 86400.0}]
    assert run_ids(url) == {"two-days-other"}
