"""Small helpers shared by the tests that drive real workers and Postgres."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
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
def worker_thread(app, db_url: str, worker_class=None, **options) -> Iterator[tuple]:
    """A real Worker (or `worker_class`) for `app` in a thread of this process, and a client: (worker, client);
    stopped on exit."""
    from rhythm_runtime.api.client import SyncRhythmClient
    from rhythm_runtime.worker.loop import Worker

    worker = (worker_class or Worker)(app, **{"poll_interval": 0.05, "database_url": db_url, **options})
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


class CliWorker:
    """`rhythm worker APP [ARGS]` as a real process in `root`, its output in a file; killed by `kill()`."""

    def __init__(self, root: Path, db_url: str, app: str, *args: str, env: dict | None = None):
        self.output = root / f"{app.split(':')[0]}-{len(list(root.glob('*.out')))}.out"
        env = {**os.environ, "RHYTHM_DATABASE_URL": db_url, "PYTHONUNBUFFERED": "1", **(env or {})}
        rhythm = Path(sys.executable).with_name("rhythm")
        with open(self.output, "wb") as out:
            self.proc = subprocess.Popen([str(rhythm), "worker", app, "--poll-interval", "0.1", *args], cwd=root,
                                         env=env, stdout=out, stderr=subprocess.STDOUT)
        wait_for(lambda: " started: " in self.text() or self.proc.poll() is not None, 60, f"{app} to start")
        assert self.proc.poll() is None, self.text()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def text(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(30)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
