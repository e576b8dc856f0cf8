"""The worker: advances runs and executes tasks, on as many machines as you like.

One loop thread fires due timers, advances runnable runs (a row lock per
activation) and claims tasks (a lease renewed while they run); it wakes on
LISTEN/NOTIFY or when the next timer or retry is due, polling as a fallback.
Task functions run in a thread pool. When a task finishes, its result
commits, and if its run waits on it the same thread advances the run at once
(no second claim, no notification).
SIGTERM/SIGINT stop claiming, let running tasks finish (still renewing their
leases) and record their results, and exit 0.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import psycopg

from . import values as _js
from .app import RhythmApp
from .config import Settings
from .db import connect, migrate
from .errors import StorageError
from .machine import DEFAULT_STEP_BUDGET
from .modules import load_module, module_hash
from .store import InlineClaim, Q, Engine, Store, VersionUnavailable, error_payload

log = logging.getLogger("rhythm")

# The shortest wait between polls, so a due timer another worker holds cannot make this one spin.
MIN_WAIT = 0.02


@dataclass(frozen=True)
class TaskContext:
    """What a running task may want to know about itself (e.g. to build an idempotency key)."""

    task_id: int
    name: str
    attempt: int
    run_id: str | None  # None for a standalone queued task
    await_key: str | None


_current_task: contextvars.ContextVar[TaskContext | None] = contextvars.ContextVar("rhythm_task", default=None)


def current_task() -> TaskContext | None:
    """The task the calling code runs in (inside a @task function), else None."""
    return _current_task.get()


class Worker:
    engine_class = Engine  # the machine driver; a subclass may adjust scheduling (tests do)
    # A task thread runs the next task of the run it just advanced without a claim round trip, at
    # most this many times in a row, so one long workflow cannot starve the others (0: never).
    inline_chain = 8

    def __init__(self, app: RhythmApp, *, concurrency: int = 4, queues=("default",), poll_interval: float = 0.5,
                 lease_seconds: float = 30.0, database_url: str | None = None):
        if lease_seconds <= 0:
            raise ValueError("lease_seconds must be positive")
        self.app = app
        self.concurrency = concurrency
        self.queues = list(queues)
        self.poll_interval = poll_interval
        self.lease = lease_seconds
        # Renew well before a lease can expire; reclaim others' expired leases as often.
        self.housekeeping_interval = min(1.0, lease_seconds / 3)
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
        self.engine = self.engine_class(self.module_for, self.app.tasks,
                                        self.app.step_budget or DEFAULT_STEP_BUDGET)
        self.pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="rhythm-task")
        self.listener = threading.Thread(target=self._listen, name="rhythm-listen", daemon=True)
        self.listener.start()
        log.info("worker %s started: %d workflows, %d tasks, concurrency %d", self.id,
                 len(self.app.workflows), len(self.app.tasks), self.concurrency)

    def reload(self) -> None:
        """Recompile changed workflows and register their new versions (for `rhythm dev`)."""
        self.app.reload()
        self.app.register(self.store)
        for wf in self.app.workflows.values():
            self._modules[(wf.name, wf.version)] = wf.module

    def module_for(self, conn, name: str, version: str):
        """This build's module, or the stored one for a run of an older version (checked against its hash)."""
        module = self._modules.get((name, version))
        if module is not None:
            return module
        row = conn.execute(Q["load_version"], dict(name=name, version=version)).fetchone()
        if row is None:
            raise VersionUnavailable(f"workflow {name!r} version {version} is not registered")
        actual = module_hash(row["module_code"])
        if actual != row["module_hash"]:
            raise VersionUnavailable(
                f"refusing to run workflow {name!r} version {version}: its stored module code has sha256 "
                f"{actual[:12]}… but was registered as {row['module_hash'][:12]}… "
                f"(it was modified in the database)")
        try:
            module = load_module(row["module_code"], name)
        except Exception as e:  # broken code in the database: the run cannot go on with it
            raise VersionUnavailable(f"the stored module of workflow {name!r} version {version} "
                                     f"does not load: {type(e).__name__}: {e}") from e
        log.info("loaded workflow %s version %s from Postgres (not in this build)", name, version)
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
                if time.monotonic() - last_housekeeping >= self.housekeeping_interval:
                    busy = self._housekeeping() or busy
                    last_housekeeping = time.monotonic()
                if not busy:
                    self.wake.wait(self._idle_wait())
                    self.wake.clear()
        finally:
            self._shutdown()

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()

    def _tick(self) -> bool:
        """Fire due timers, advance runnable runs, then fill free task slots. True if anything happened."""
        busy = False
        try:
            busy = self.store.fire_timers() > 0
            for _ in range(50):
                if self.stopping.is_set() or not self.store.advance_one(self.engine):
                    break
                busy = True
            free = self.concurrency - len(self.running)
            if free > 0 and not self.stopping.is_set():
                for task in self.store.claim_tasks(self.id, self.queues, free, self.lease):
                    with self.lock:
                        self.running[task["id"]] = time.monotonic()
                    self.pool.submit(self._execute, task)
                    busy = True
        except StorageError as e:
            log.warning("database unavailable, retrying: %s", e)
            self.stopping.wait(1.0)
        except Exception:  # never let one bad row stop the worker
            log.exception("worker loop error; continuing")
            self.stopping.wait(1.0)
        return busy

    def _idle_wait(self) -> float:
        """Seconds to sleep when idle: until the next timer or retry is due, at most poll_interval."""
        try:
            due = self.store.seconds_until_due(self.queues, with_tasks=len(self.running) < self.concurrency)
        except StorageError:
            return self.poll_interval
        wait = self.poll_interval if not self.running else min(self.poll_interval, self.housekeeping_interval)
        return wait if due is None else min(wait, max(due, MIN_WAIT))

    def _housekeeping(self) -> bool:
        try:
            self._renew()
            return self.store.reclaim_expired() > 0
        except StorageError as e:
            log.warning("database unavailable, retrying: %s", e)
            return False

    def _renew(self) -> None:
        with self.lock:
            ids = list(self.running)
        if ids:
            kept = set(self.store.renew_leases(self.id, ids, self.lease))
            with self.lock:  # a task that finished meanwhile was not lost
                lost = [i for i in ids if i not in kept and i in self.running]
            if lost:
                log.warning("lost the lease of tasks %s (another worker may run them again)", lost)

    # -- tasks ---------------------------------------------------------------------------------
    def _execute(self, task: dict) -> None:
        """Run a task; when its run schedules the next task at once, run that one here too."""
        chain = 0
        while task is not None:
            following = None
            chain += 1
            try:
                ok, value = self._call(self.app.tasks.get(task["name"]), task)
                taken = self._record(task, ok, value, inline=chain <= self.inline_chain)
                following = taken[0] if taken else None
            except Exception:  # a bug in Rhythm; the lease expires and another worker retries
                log.exception("task %s (%s) could not be recorded", task["id"], task["name"])
            finally:
                with self.lock:
                    self.running.pop(task["id"], None)
                    if following is not None:
                        self.running[following["id"]] = time.monotonic()
                self.wake.set()
            task = following

    def _record(self, task: dict, ok: bool, value, inline: bool) -> list[dict]:
        """Store the outcome; returns a next task leased to this thread, if its run scheduled one."""
        for attempt in range(5):
            try:
                claim = InlineClaim(self.id, self.lease, self.queues) if inline and not self.stopping.is_set() else None
                return self.store.finish_task(self.engine, task, self.id, ok, value, claim)
            except StorageError as e:
                log.warning("could not record task %s (%s); retrying", task["id"], e)
                time.sleep(0.5 * (attempt + 1))
            except psycopg.DataError as e:  # e.g. a string with \u0000, which jsonb cannot hold
                if not ok:
                    raise
                ok, value = False, error_payload(
                    "TaskError", f"task {task['name']!r} returned a value Postgres cannot store: {str(e).strip()}",
                    task=task["name"])

    def _call(self, spec, task: dict) -> tuple[bool, object]:
        name = task["name"]
        if spec is None:
            known = ", ".join(sorted(self.app.tasks)) or "none"
            return False, error_payload("TaskError", f"unknown task {name!r}; known tasks: {known}")
        token = _current_task.set(TaskContext(task["id"], name, task["attempts"], task["run_id"], task["await_key"]))
        try:
            if spec.is_async:
                result = asyncio.run(asyncio.wait_for(spec.fn(task["payload"]), spec.timeout))
            else:
                result = spec.fn(task["payload"])
        except Exception as e:  # the task failed: a retry or a catchable TaskError
            message = str(e) or type(e).__name__
            if isinstance(e, TimeoutError) and spec.is_async and spec.timeout is not None:
                message = f"task {name!r} timed out after {spec.timeout:g}s"
            return False, error_payload("TaskError", message, task=name, attempt=task["attempts"])
        finally:
            _current_task.reset(token)
        try:
            return True, _js.to_json(_js.from_json(result))  # what is stored is what JSON can carry
        except (TypeError, ValueError) as e:
            return False, error_payload(
                "TaskError", f"task {name!r} returned a value that is not JSON ({type(result).__name__}: {e})",
                task=name)

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
        """Let running tasks finish and record their results, renewing their leases meanwhile."""
        if self.running:
            log.info("worker %s stopping: waiting for %d running task(s)", self.id, len(self.running))
        last = time.monotonic()
        while True:
            with self.lock:
                if not self.running:
                    break
            if time.monotonic() - last >= self.housekeeping_interval:
                try:
                    self._renew()
                except StorageError as e:
                    log.warning("database unavailable, retrying: %s", e)
                last = time.monotonic()
            self.wake.wait(self.housekeeping_interval)
            self.wake.clear()
        self.pool.shutdown(wait=True)
        self.store.close()
        log.info("worker %s stopped", self.id)
