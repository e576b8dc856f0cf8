"""Small helpers shared by the tests that drive real workers and Postgres."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import psycopg
from psycopg.rows import dict_row


def wait_for(check: Callable[[], Any], timeout: float = 20.0, what: str = "condition", interval: float = 0.02):
    """Poll `check` until it returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def query(url: str, sql: str, params: Any = None) -> list[dict]:
    with psycopg.connect(url, row_factory=dict_row, autocommit=True) as conn:
        cur = conn.execute(sql, params)
        return cur.fetchall() if cur.description else []


def write_flows(root: Path, flows: dict[str, str]) -> Path:
    """Write `{name: source}` as `root/name.flow` files; returns `root`."""
    root.mkdir(parents=True, exist_ok=True)
    for name, text in flows.items():
        (root / f"{name}.flow").write_text(text, encoding="utf-8")
    return root


@contextlib.contextmanager
def worker_thread(app, db_url: str, **options) -> Iterator[tuple]:
    """A real Worker for `app` in a thread of this process, and a client: (worker, client); stopped on exit."""
    from rhythm_runtime.api.client import SyncRhythmClient
    from rhythm_runtime.worker.loop import Worker

    worker = Worker(app, **{"poll_interval": 0.05, "database_url": db_url, **options})
    thread = threading.Thread(target=worker.run, kwargs={"install_signals": False}, daemon=True)
    thread.start()
    client = SyncRhythmClient(db_url)
    try:
        wait_for(lambda: hasattr(worker, "observer") or not thread.is_alive(), what="the worker to start")
        assert thread.is_alive(), "the worker stopped while starting"
        yield worker, client
    finally:
        client.close()
        worker.stop()
        thread.join(20)
