"""The storage foundation on a real Postgres: migrations, claiming, leases, the embedded server."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from helpers import wait_for

from rhythm_runtime.storage import settings as config
from rhythm_runtime.storage import db
from rhythm_runtime.storage import embedded
from rhythm_runtime.cli.db import db as db_group
from rhythm_runtime.errors import RhythmError, StorageError

Q = db.load_queries()
UNREACHABLE = "postgresql://rhythm@127.0.0.1:1/rhythm"


# --- migrations ----------------------------------------------------------


def _applied(url: str) -> list[tuple[str, str]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT name, checksum FROM rhythm.migrations ORDER BY name"
        ).fetchall()


def _all_migrations() -> list[tuple[str, str]]:
    return [(m.name, m.checksum) for m in db.list_migrations()]


def test_migrate_is_idempotent(make_database):
    url = make_database()
    assert db.migrate(url) == [name for name, _ in _all_migrations()]
    assert db.migrate(url) == []
    assert _applied(url) == _all_migrations()


def test_migrate_from_many_threads_at_once(make_database):
    url = make_database()
    start = threading.Barrier(6)

    def run() -> list[str]:
        start.wait()
        return db.migrate(url)

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda _: run(), range(6)))
    assert sorted(name for names in results for name in names) == [
        n for n, _ in _all_migrations()
    ]
    assert _applied(url) == _all_migrations()


def test_migrate_from_many_processes_at_once(make_database):
    url = make_database()
    code = "import sys; from rhythm_runtime.storage.db import migrate; print(','.join(migrate(sys.argv[1])))"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [proc.communicate(timeout=60) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0], outputs
    # Each migration is applied exactly once, by whichever process got the lock first for it.
    applied = sorted(name for out, _ in outputs for name in out.strip().split(",") if name)
    assert applied == sorted(n for n, _ in _all_migrations())
    assert _applied(url) == _all_migrations()


CATALOG = {
    "relations": """
        SELECT c.relname, c.relkind::text FROM pg_class c
        WHERE c.relnamespace = 'rhythm'::regnamespace ORDER BY 1""",
    "columns": """
        SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE c.relnamespace = 'rhythm'::regnamespace AND c.relkind IN ('r', 'p')
          AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY c.relname, a.attnum""",
    "constraints": """
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
        FROM pg_constraint WHERE connamespace = 'rhythm'::regnamespace ORDER BY 1, 2""",
    "indexes": "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'rhythm' ORDER BY 1",
    "sequences": """
        SELECT sequencename, data_type::text, start_value, increment_by
        FROM pg_sequences WHERE schemaname = 'rhythm' ORDER BY 1""",
    "functions": """
        SELECT proname, pg_get_function_identity_arguments(oid)
        FROM pg_proc WHERE pronamespace = 'rhythm'::regnamespace ORDER BY 1, 2""",
    "triggers": """
        SELECT tgrelid::regclass::text, tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        WHERE c.relnamespace = 'rhythm'::regnamespace AND NOT t.tgisinternal ORDER BY 1, 2""",
}


def _catalog(url: str) -> dict[str, list[tuple]]:
    with psycopg.connect(url) as conn:
        return {
            section: conn.execute(sql).fetchall() for section, sql in CATALOG.items()
        }


def test_migrations_yield_exactly_schema_sql(make_database):
    migrated, from_schema = make_database(), make_database()
    db.migrate(migrated)
    with psycopg.connect(from_schema, autocommit=True) as conn:
        conn.execute((db.SQL_DIR / "schema.sql").read_text())
    expected, actual = _catalog(from_schema), _catalog(migrated)
    for section in CATALOG:
        assert (
            actual[section] == expected[section]
        ), f"{section} differ; update schema.sql"
    tables = {name for name, kind in actual["relations"] if kind == "r"}
    assert tables == {
        "migrations",
        "workflow_versions",
        "runs",
        "tasks",
        "timers",
        "signals",
        "history",
        "schedules",
        "workers",
        "task_registrations",
        "queues",
        "queue_starts",
        "queue_turns",
        "workflow_retention",
    }
    assert actual["triggers"] == []  # notifications are explicit, never trigger-based


# --- named queries -------------------------------------------------------


def test_queries_file_parses_and_rejects_mistakes():
    assert {
        "claim_tasks",
        "renew_task_leases",
        "reclaim_lost_tasks",
        "lock_runnable_runs",
    } <= Q.keys()
    assert all(sql and not sql.startswith("--") for sql in Q.values())
    with pytest.raises(ValueError, match="description"):
        db.parse_queries("-- name: a\nSELECT 1;\n")
    with pytest.raises(ValueError, match="twice"):
        db.parse_queries(
            "-- name: a\n-- one\nSELECT 1;\n-- name: a\n-- two\nSELECT 2;\n"
        )


# --- claiming and leases -------------------------------------------------


def _new_queue(
    conn: psycopg.Connection, count: int, max_attempts: int = 1
) -> tuple[str, list[int]]:
    queue = f"q_{uuid.uuid4().hex[:8]}"
    rows = conn.execute(
        "INSERT INTO rhythm.tasks (name, queue, max_attempts, backoff_seconds)"
        " SELECT 'noop', %s, %s, 10 FROM generate_series(1, %s) RETURNING id",
        (queue, max_attempts, count),
    ).fetchall()
    return queue, [row[0] for row in rows]


def _claim(conn: psycopg.Connection, queue: str, worker: str, limit: int, names=("noop",)) -> list[int]:
    params = {"worker": worker, "queues": [queue], "names": list(names), "limit": limit, "lease_seconds": 30}
    return [row[0] for row in conn.execute(Q["claim_tasks"], params).fetchall()]


def test_a_claim_takes_only_the_task_names_the_worker_runs(db_url):
    """Two services share a queue: each claims its own tasks, in one statement, and leaves the rest pending."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        queue, noops = _new_queue(conn, 3)
        [other] = conn.execute("INSERT INTO rhythm.tasks (name, queue) VALUES ('render', %s) RETURNING id",
                               (queue,)).fetchone()
        assert _claim(conn, queue, "w1", 10, names=["render", "resize"]) == [other]
        assert _claim(conn, queue, "w2", 10, names=["nothing-here"]) == []
        assert sorted(_claim(conn, queue, "w3", 10)) == sorted(noops)


def test_two_claimers_get_disjoint_rows(db_url):
    with psycopg.connect(db_url, autocommit=True) as setup:
        queue, ids = _new_queue(setup, 10)
    # lock_timeout: a claim that waits on locked rows (no SKIP LOCKED) fails instead of hanging.
    with (
        psycopg.connect(db_url) as first,
        psycopg.connect(db_url, options="-c lock_timeout=2s") as second,
    ):
        mine = _claim(first, queue, "w1", 4)  # still uncommitted: rows stay locked
        theirs = _claim(second, queue, "w2", 4)
        second.commit()
        first.commit()
    assert len(mine) == len(theirs) == 4
    assert not set(mine) & set(theirs)
    with psycopg.connect(db_url) as conn:
        statuses = dict(
            conn.execute(
                "SELECT status, count(*) FROM rhythm.tasks WHERE queue = %s GROUP BY status",
                (queue,),
            ).fetchall()
        )
    assert statuses == {"running": 8, "pending": 2}


def test_concurrent_claim_loops_take_each_task_exactly_once(db_url):
    with psycopg.connect(db_url, autocommit=True) as setup:
        queue, ids = _new_queue(setup, 60)

    def drain(worker: str) -> list[int]:
        taken: list[int] = []
        with psycopg.connect(db_url, autocommit=True) as conn:
            while batch := _claim(conn, queue, worker, 3):
                taken += batch
        return taken

    with ThreadPoolExecutor(4) as pool:
        batches = list(pool.map(drain, ["a", "b", "c", "d"]))
    taken = [task_id for batch in batches for task_id in batch]
    assert sorted(taken) == sorted(ids)


def test_expired_lease_is_reclaimed_without_using_retries_until_too_many_losses(db_url):
    with psycopg.connect(db_url, autocommit=True) as conn:
        queue, [task_id] = _new_queue(conn, 1, max_attempts=1)
        expire = "UPDATE rhythm.tasks SET lease_expires_at = now() - interval '1 second' WHERE id = %s"
        lease = {"worker": "w1", "ids": [task_id], "lease_seconds": 30}
        reclaim = {"limit": 10, "max_lost": 2, "grace": 1.0, "releasing": None}

        assert _claim(conn, queue, "w1", 1) == [task_id]
        assert conn.execute(Q["renew_task_leases"], lease).fetchall() != []
        conn.execute(expire, (task_id,))  # w1 stops renewing, time passes
        assert [r[:4] for r in conn.execute(Q["reclaim_lost_tasks"], reclaim).fetchall()] == [
            (task_id, None, None, "pending")
        ]
        # w1 lost its lease: it can neither renew nor complete.
        assert conn.execute(Q["renew_task_leases"], lease).fetchall() == []
        done = {"id": task_id, "worker": "w1", "result": psycopg.types.json.Jsonb(1)}
        assert conn.execute(Q["complete_task"], done).fetchall() == []
        # a lost worker does not use up the task's own retries (max_attempts=1)
        assert conn.execute("SELECT attempts FROM rhythm.tasks WHERE id = %s", (task_id,)).fetchone()[0] == 0

        for worker in ("w2", "w3"):
            assert _claim(conn, queue, worker, 1) == [task_id]
            conn.execute(expire, (task_id,))
            rows = conn.execute(Q["reclaim_lost_tasks"], reclaim).fetchall()
        assert [r[:4] for r in rows] == [(task_id, None, None, "failed")]
        status, lost, error = conn.execute(
            "SELECT status, lost_leases, error FROM rhythm.tasks WHERE id = %s", (task_id,)
        ).fetchone()
    assert (status, lost, error["type"]) == ("failed", 3, "TaskError")
    assert "lost 3 times" in error["message"]


SESSION = "SELECT pid, backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()"


def test_the_tasks_of_a_worker_whose_session_ended_are_reclaimed_at_once(db_url):
    """Fast takeover: a worker whose recorded session is gone from pg_stat_activity is dead, whatever its
    lease says, once its last heartbeat is older than the grace. Not so: a live session; none recorded (behind
    a transaction pooler); a session gone with a heartbeat from before the judging connection began (the
    server restarted: every session is new). A stopping worker releases its own tasks."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        queue, _ = _new_queue(conn, 5)
        time.sleep(0.6)  # the judging connection began before the heartbeats below
        ended = [psycopg.connect(db_url, autocommit=True) for _ in range(2)]
        sessions = {"dead": ended[0].execute(SESSION).fetchone(), "restarted": ended[1].execute(SESSION).fetchone(),
                    "live": conn.execute(SESSION).fetchone(), "pooled": (None, None), "stopping": (None, None)}
        held = {}
        for worker, (pid, start) in sessions.items():
            beat = "(SELECT backend_start - interval '1 second' FROM pg_stat_activity WHERE pid = pg_backend_pid())" \
                if worker == "restarted" else "now() - interval '0.5 seconds'"
            conn.execute("INSERT INTO rhythm.workers (id, host, pid, queues, task_names, concurrency, heartbeat_at, "
                         f"backend_pid, backend_start) VALUES (%s, 'h', 1, '{{}}', '{{}}', 1, {beat}, %s, %s)",
                         (worker, pid, start))
            [held[worker]] = _claim(conn, queue, worker, 1)
        for c in ended:
            c.close()
        wait_for(lambda: conn.execute("SELECT count(*) FROM rhythm.worker_states WHERE state = 'dead'").fetchone()[0]
                 == 2, 10, "the ended sessions to leave pg_stat_activity")

        def reclaim(grace: float, releasing: str | None) -> list[tuple]:
            params = {"limit": 10, "max_lost": 10, "grace": grace, "releasing": releasing}
            return [(r[0], r[3], r[6], r[7], r[8] >= 0) for r in conn.execute(Q["reclaim_lost_tasks"], params)]

        # Within the grace (a live worker's session may be reconnecting), only the released task goes.
        assert reclaim(3600, "stopping") == [(held["stopping"], "pending", "stopping", "released", True)]
        assert reclaim(0.2, None) == [(held["dead"], "pending", "dead", "session ended", True)]
        running = conn.execute("SELECT lease_owner FROM rhythm.tasks WHERE status = 'running' AND queue = %s",
                               (queue,)).fetchall()
        assert sorted(r[0] for r in running) == ["live", "pooled", "restarted"]
        lost = conn.execute("SELECT attempts, lost_leases FROM rhythm.tasks WHERE id = %s", (held["dead"],)).fetchone()
        assert lost == (0, 1)  # not a failed attempt (retries are kept); current_task().attempt will say 2


def test_failed_attempt_is_retried_after_backoff(db_url):
    with psycopg.connect(db_url, autocommit=True) as conn:
        queue, [task_id] = _new_queue(conn, 1, max_attempts=2)
        _claim(conn, queue, "w1", 1)
        failure = {
            "id": task_id,
            "worker": "w1",
            "error": psycopg.types.json.Jsonb({"type": "Boom"}),
        }
        [(_, _, _, status, available_at)] = conn.execute(
            Q["fail_task"], failure
        ).fetchall()
        delay = conn.execute(
            "SELECT %s::timestamptz - now()", (available_at,)
        ).fetchone()[0]
        assert (
            status == "pending" and 9 < delay.total_seconds() <= 10
        )  # backoff_seconds = 10
        assert _claim(conn, queue, "w1", 1) == []  # not before the backoff elapses


# --- errors --------------------------------------------------------------


def test_unreachable_database_raises_one_clear_storage_error():
    with pytest.raises(StorageError) as caught:
        db.migrate(UNREACHABLE)
    message = str(caught.value)
    assert isinstance(caught.value, RhythmError)
    assert message.startswith(
        "cannot connect to Postgres at 127.0.0.1:1, database rhythm: "
    )
    assert "\n" not in message and "refused" in message.lower()
    with pytest.raises(StorageError, match="cannot connect"):
        db.open_pool(UNREACHABLE)
    with pytest.raises(StorageError, match="invalid database URL"):
        db.connect("host=x port")


def test_unmigrated_database_says_to_migrate(make_database):
    with (
        db.connect(make_database()) as conn,
        pytest.raises(StorageError, match="rhythm db migrate"),
    ):
        with db.storage_errors():
            conn.execute("SELECT * FROM rhythm.runs")


def test_pools_give_working_connections(db_url):
    query = "SELECT current_setting('application_name')"
    with db.open_pool(db_url, max_size=2) as pool, pool.connection() as conn:
        assert conn.execute(query).fetchone() == ("rhythm",)

    async def use_async_pool() -> tuple:
        async with await db.open_async_pool(db_url, max_size=2) as pool:
            async with pool.connection() as conn:
                return await (await conn.execute(query)).fetchone()

    assert asyncio.run(use_async_pool()) == ("rhythm",)
    with pytest.raises(StorageError, match="cannot connect"):
        asyncio.run(db.open_async_pool(UNREACHABLE))


# --- configuration and CLI -----------------------------------------------


def test_url_precedence_explicit_then_env_then_embedded(monkeypatch, tmp_path):
    monkeypatch.setenv(config.ENV_DATABASE_URL, "postgresql:///from-env")
    assert (
        config.Settings.load("postgresql:///explicit").database_url()
        == "postgresql:///explicit"
    )
    assert config.Settings.load().database_url() == "postgresql:///from-env"
    monkeypatch.setenv(config.ENV_DATABASE_URL, "")
    settings = config.Settings.load(project_dir=tmp_path)
    assert settings.embedded and settings.project_dir == tmp_path.resolve()


def test_cli(db_url, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(config.ENV_DATABASE_URL, raising=False)
    runner = CliRunner()
    result = runner.invoke(db_group, ["migrate", "--database-url", db_url])
    assert (result.exit_code, result.stdout) == (0, "")
    assert "up to date" in result.stderr
    result = runner.invoke(db_group, ["url", "--database-url", db_url])
    assert (result.exit_code, result.stdout) == (0, db_url + "\n")
    result = runner.invoke(db_group, ["migrate", "--database-url", UNREACHABLE])
    assert result.exit_code == 1 and result.stderr.startswith("error: cannot connect")
    result = runner.invoke(db_group, ["stop"])  # outside any project: says where it looked, starts nothing
    assert result.exit_code == 1 and f"no Rhythm project in {tmp_path.resolve()} or any directory above" in result.stderr
    (tmp_path / "workflows").mkdir()
    result = runner.invoke(db_group, ["stop"])
    assert result.exit_code == 0 and "no embedded Postgres running" in result.stderr
    assert not (tmp_path / ".rhythm").exists()


# --- the embedded server -------------------------------------------------

CLIENT = """
import logging, os, sys
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
from rhythm_runtime.storage import embedded
url = embedded.ensure_server(sys.argv[1])
pid = (embedded.data_dir(sys.argv[1]) / "postmaster.pid").read_text().split()[0]
print(pid, url, flush=True)
if sys.argv[2] == "crash":
    os.kill(os.getpid(), 9)
"""


def _client(project: str, how: str = "exit") -> tuple[str, str, list[str]]:
    proc = subprocess.run(
        [sys.executable, "-c", CLIENT, project, how],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == (-9 if how == "crash" else 0), proc.stderr
    pid, url = proc.stdout.split()
    return (
        pid,
        url,
        [line for line in proc.stderr.splitlines() if line.startswith("INFO")],
    )


def _wait_for_no_other_backends(conn: psycopg.Connection, timeout: float = 30.0) -> None:
    """Until the server has no client backend but `conn`'s: a backend whose client closed or was killed exits
    when it notices, which on a loaded machine can be after the client's process is gone."""
    deadline = time.monotonic() + timeout
    query = "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
    while conn.execute(query).fetchone()[0] and time.monotonic() < deadline:
        time.sleep(0.05)


def test_embedded_server_is_shared_and_outlives_its_clients():
    project = tempfile.mkdtemp(prefix="rhythm-embedded-")
    pgdata = Path(project).resolve() / ".rhythm" / "pgdata"
    (Path(project) / "sub").mkdir()
    try:
        pid, url, logs = _client(project)
        assert logs == [f"INFO rhythm started embedded Postgres in {pgdata}"]
        assert embedded.is_running(
            project
        )  # the first process exited; the server did not
        for how in ("exit", "crash"):
            again_pid, again_url, logs = _client(project, how)
            assert (again_pid, again_url) == (pid, url)
            assert logs == [f"INFO rhythm attached to embedded Postgres in {pgdata}"]
        stop = [str(Path(sys.executable).with_name("rhythm")), "db", "stop"]
        env = {k: v for k, v in os.environ.items() if k != config.ENV_DATABASE_URL}
        conn = psycopg.connect(url, autocommit=True)  # another client: `db stop` refuses to cut it off
        try:
            assert conn.execute("SELECT current_database()").fetchone() == ("rhythm",)
            _wait_for_no_other_backends(conn)  # the clients' closed connections end on the server's own time
            refused = subprocess.run(stop, cwd=pgdata.parent.parent / "sub", env=env, capture_output=True,
                                     text=True, timeout=60)  # from a subdirectory: the project is found above it
            assert refused.returncode == 1 and "1 other connection(s)" in refused.stderr, refused.stderr
            assert embedded.is_running(project)
            forced = subprocess.run(stop + ["--force"], cwd=pgdata.parent.parent / "sub", env=env,
                                    capture_output=True, text=True, timeout=60)
            assert forced.returncode == 0 and f"stopped embedded Postgres in {pgdata}" in forced.stderr
        finally:
            conn.close()
        assert not embedded.is_running(project)
        assert embedded.stop(project) is False
    finally:
        embedded.stop(project)
        shutil.rmtree(project, ignore_errors=True)


def test_text_params_give_postgres_what_psycopg_s_adaptation_gives(db_url):
    """A step's parameters sent as text (queries.text_params) read back as psycopg's own adaptation of them:
    numbers, json with its key order kept, jsonb, arrays of strings with quotes and backslashes, NULLs."""
    from psycopg.types.json import Json, Jsonb

    from rhythm_runtime.storage.queries import text_params

    sql = ("SELECT %(i)s::bigint AS i, %(f)s::float8 AS f, %(g)s::float8 AS g, %(j)s::json::text AS j, "
           "%(p)s::json::text AS p, %(b)s::jsonb AS b, %(a)s::text[] AS a, %(e)s::text[] AS e, %(n)s::int AS n, "
           "%(s)s::text AS s, %(t)s::bool AS t")
    params = dict(i=2 ** 40, f=0.1, g=600.0, j=Json({"z": 1, "a": [1.5, None]}),
                  p=Json({"k": 1}, dumps=lambda _: '{"k" : 1}'), b=Jsonb({"x": "\"q\\", "y": [True]}),
                  a=['0.2', 'a"b', 'c\\d', '', 'NULL', 'x,y{}'], e=[], n=None, s='it\'s "quoted"', t=True)
    with psycopg.connect(db_url) as conn:
        adapted = conn.execute(sql, params).fetchone()
        as_text = conn.execute(sql, text_params(params)).fetchone()
    assert as_text == adapted
    assert as_text[3] == '{"z": 1, "a": [1.5, null]}' and as_text[4] == '{"k" : 1}'
    assert as_text[6][1:3] == ['a"b', 'c\\d']


def test_a_thread_keeps_its_connection_and_gets_another_when_it_breaks(db_url):
    """keep_connection: that thread's transactions (a worker's loop: its polls, housekeeping, lease renewal)
    run on one pooled connection it keeps, even while other threads hold every other one; a transaction
    nested in another gets another connection; a connection that broke fails its statement as an outage
    once, and the thread's next transaction keeps another."""
    from rhythm_runtime.storage.transactions import Database, is_outage

    def backend(single: bool = True) -> int:
        with database.tx(single=single) as conn:
            return conn.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"]

    database = Database(db_url, max_size=3)
    try:
        database.keep_connection()
        kept = backend()
        assert backend(single=False) == kept
        with ThreadPoolExecutor(2) as others:
            pooled = set(others.map(lambda _: backend(), range(8)))
        assert kept not in pooled
        held = [database.pool.getconn() for _ in range(2)]  # the task threads hold every other connection
        assert backend() == kept
        for conn in held:
            database.pool.putconn(conn)
        with database.tx() as conn:
            outer = conn.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"]
            assert outer == kept and backend() != kept
        assert backend() == kept
        with psycopg.connect(db_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (kept,))
        with pytest.raises(StorageError) as lost:
            backend()
        assert is_outage(lost.value)
        again = backend()
        assert again != kept and backend() == again
    finally:
        database.close()


def test_a_lost_pipelines_warnings_are_left_to_the_outage_report():
    """psycopg's warnings about a pipeline it could not close or roll back on a lost connection are dropped
    (the error propagates and the outage is reported once); its other warnings are not."""
    from rhythm_runtime.storage.transactions import _LOST_PIPELINE

    def kept(message: str) -> bool:
        return _LOST_PIPELINE.filter(logging.LogRecord("psycopg", logging.WARNING, __file__, 1, message, None, None))

    assert not kept("error ignored terminating <psycopg.Pipeline [BAD] at 0x7f>: server closed the connection")
    assert not kept("error ignored in rollback on <psycopg.Connection [ACTIVE, pipeline=ABORTED] (user=postgres) at "
                    "0x7f>: sending query failed: cannot exit pipeline mode while busy")
    assert kept("error ignored in rollback on <psycopg.Connection [INTRANS] (user=postgres) at 0x7f>: boom")
    assert kept("some other warning")


def test_a_database_migrated_by_a_newer_rhythm_is_reported_and_still_used(make_database, caplog):
    url = make_database()
    db.migrate(url)
    with psycopg.connect(url) as conn:
        conn.execute(Q["record_migration"], {"name": "9999_from_the_future", "checksum": "x"})
    with caplog.at_level(logging.WARNING, logger=db.logger.name):
        assert db.migrate(url) == []
    assert "1 migration(s) this Rhythm does not know (9999_from_the_future)" in caplog.text
    assert db.newer_migrations(dict(_applied(url))) == ["9999_from_the_future"]
    assert _applied(url)[:-1] == _all_migrations()  # nothing of ours reapplied or lost
