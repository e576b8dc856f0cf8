"""The worker: advances runs and executes tasks, on as many machines as you like.

One loop thread claims work (runs with a row lock per activation, tasks with
a renewable lease) and wakes on LISTEN/NOTIFY, polling as a fallback; task
functions run in a thread pool. When a task finishes and its run waits on
it, the run is advanced in the same transaction as the task's result.
SIGTERM/SIGINT stop claiming, let running tasks finish, and exit 0.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg

from . import values as _js
from .app import RhythmApp
from .config import Settings
from .db import connect, migrate
from .errors import StorageError
from .machine import DEFAULT_STEP_BUDGET
from .modules import load_module
from .store import Engine, Store, error_payload

log = logging.getLogger("rhythm")


class Worker:
    def __init__(self, app: RhythmApp, *, concurrency: int = 4, queues=("default",), poll_interval: float = 0.5,
                 lease_seconds: float = 30.0, database_url: str | None = None):
        self.app = app
        self.concurrency = concurrency
        self.queues = list(queues)
        self.poll_interval = poll_interval
        self.lease = lease_seconds
        self.id = f"{socket.gethostname()}:{os.getpid()}:{id(self) % 10000}"
        self.url = Settings.load(database_url or app.database_url).database_url()
        self.stopping = threading.Event()
        self.running: dict[int, float] = {}  # task id -> started
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self._modules: dict[tuple[str, str], object] = {}

    # -- set-up ---------------------------------------------------------------------
    def start(self) -> None:
        migrate(self.url)
        self.store = Store(self.url, max_size=self.concurrency + 4)
        self.app.register(self.store)
        for wf in self.app.workflows.values():
            self._modules[(wf.name, wf.version)] = wf.module
        self.engine = Engine(self.module_for, self.app.tasks, self.app.step_budget or DEFAULT_STEP_BUDGET)
        self.pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="rhythm-task")
        self.listener = threading.Thread(target=self._listen, name="rhythm-listen", daemon=True)
        self.listener.start()
        log.info("worker %s started: %d workflows, %d tasks, concurrency %d", self.id,
                 len(self.app.workflows), len(self.app.tasks), self.concurrency)

    def module_for(self, conn, name: str, version: str):
        """This build's module, or the stored one for a run of an older version."""
        module = self._modules.get((name, version))
        if module is None:
            from .store import Q

            row = conn.execute(Q["load_version"], dict(name=name, version=version)).fetchone()
            module = load_module(row["module_code"], name, expected_hash=row["module_hash"])
            self._modules[(name, version)] = module
        return module

    # -- the loop -------------------------------------------------------------------------
    def run(self, install_signals: bool = True) -> None:
        if install_signals:
            signal.signal(signal.SIGTERM, lambda *_: self.stop())
            signal.signal(signal.SIGINT, lambda *_: self.stop())
        self.start()
        last_housekeeping = 0.0
        try:
            while not self.stopping.is_set():
                busy = self._tick()
                if time.monotonic() - last_housekeeping > 1.0:
                    busy = self._housekeeping() or busy
                    last_housekeeping = time.monotonic()
                if not busy:
                    self.wake.wait(self.poll_interval)
                    self.wake.clear()
        finally:
            self._shutdown()

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()

    def _tick(self) -> bool:
        """Advance runnable runs, then fill free task slots. True if anything happened."""
        busy = False
        try:
            for _ in range(50):
                if self.stopping.is_set() or not self.store.advance_one(self.engine):
                    break
                busy = True
            free = self.concurrency - len(self.running)
            if free > 0:
                for task in self.store.claim_tasks(self.id, self.queues, free, self.lease):
                    with self.lock:
                        self.running[task["id"]] = time.monotonic()
                    self.pool.submit(self._execute, task)
                    busy = True
        except StorageError as e:
            log.warning("database unavailable, retrying: %s", e)
            self.stopping.wait(1.0)
        return busy

    def _housekeeping(self) -> bool:
        try:
            with self.lock:
                ids = list(self.running)
            if ids:
                self.store.renew_leases(self.id, ids, self.lease)
            fired = self.store.fire_timers()
            reclaimed = self.store.reclaim_expired()
            return bool(fired or reclaimed)
        except StorageError as e:
            log.warning("database unavailable, retrying: %s", e)
            return False

    # -- tasks ---------------------------------------------------------------------------------
    def _execute(self, task: dict) -> None:
        spec = self.app.tasks.get(task["name"])
        try:
            ok, value = self._call(spec, task)
            for attempt in range(5):
                try:
                    self.store.finish_task(self.engine, task, self.id, ok, value)
                    break
                except StorageError as e:
                    log.warning("could not record task %s (%s); retrying", task["id"], e)
                    time.sleep(0.5 * (attempt + 1))
        finally:
            with self.lock:
                self.running.pop(task["id"], None)
            self.wake.set()

    def _call(self, spec, task: dict) -> tuple[bool, object]:
        name = task["name"]
        if spec is None:
            known = ", ".join(sorted(self.app.tasks)) or "none"
            return False, error_payload("TaskError", f"unknown task {name!r}; known tasks: {known}")
        try:
            if spec.is_async:
                result = asyncio.run(asyncio.wait_for(spec.fn(task["payload"]), spec.timeout))
            else:
                result = spec.fn(task["payload"])
        except Exception as e:  # the task failed: a retry or a catchable TaskError
            message = str(e) or type(e).__name__
            return False, error_payload("TaskError", message, task=name, attempt=task["attempts"])
        try:
            _js.to_json(_js.from_json(result))
        except TypeError as e:
            return False, error_payload("TaskError", f"task {name!r} returned a value that is not JSON: {e}", task=name)
        return True, result

    # -- notifications -------------------------------------------------------------------------
    def _listen(self) -> None:
        """Wake the loop on NOTIFY; reconnect with backoff when the database goes away."""
        delay = 0.5
        while not self.stopping.is_set():
            try:
                with connect(self.url, autocommit=True) as conn:
                    conn.execute("LISTEN rhythm_work")
                    delay = 0.5
                    while not self.stopping.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            self.wake.set()
            except (StorageError, psycopg.Error):
                self.stopping.wait(delay)
                delay = min(delay * 2, 10.0)

    def _shutdown(self) -> None:
        self.pool.shutdown(wait=True)  # running tasks finish and record their results
        self.store.close()
        log.info("worker %s stopped", self.id)
