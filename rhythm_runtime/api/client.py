"""`RhythmClient` (async) and `SyncRhythmClient`: start, watch, signal and cancel runs.

A handle is cheap (an id and a client); `await handle.result()` polls the
run's row with a short backoff until it ends, riding out database outages
(the store logs one line when the database goes away and one when it is back).
Other calls raise `StorageError` while the database is unreachable and work
again as soon as it is back: connections the outage broke are replaced.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rhythm_runtime.storage.settings import Settings
from rhythm_runtime.storage.db import migrate
from rhythm_runtime.errors import RhythmError, StorageError
from rhythm_runtime.execution.durations import seconds
from rhythm_runtime.execution.machine import MAX_PAYLOAD_BYTES, json_problem, json_text
from rhythm_runtime.execution.task_options import MAX_PRIORITY
from rhythm_runtime.storage.store import RunNotFound, Store
from rhythm_runtime.storage.transactions import is_outage
from rhythm_runtime.api.schedules import ScheduleHandle, SyncSchedule, schedule_spec
from rhythm_runtime.api.tasks import REGISTRY
from rhythm_runtime.storage import schedules as stored_schedules

FINAL = ("completed", "failed", "cancelled")


class WorkflowFailed(RhythmError):
    """`result()` of a run that failed or was cancelled; `.error` holds the details."""

    def __init__(self, run_id: str, status: str, error: dict | None):
        self.run_id, self.status, self.error = run_id, status, error or {}
        where = f" at {self.error['file']}:{self.error['line']}" if self.error.get("file") else ""
        super().__init__(f"run {run_id} {status}: {self.error.get('type', 'Error')}: {self.error.get('message', '')}{where}")


class TaskError(WorkflowFailed):
    """`result()` of a run that failed because a task's failure (its retries spent) went uncaught."""


class PayloadError(RhythmError):
    """An input, payload or signal that is not JSON or is too large; nothing was stored."""


def check_payload(what: str, value: Any, root: str = "value") -> None:
    """Refuse non-JSON or oversized values at the API boundary, before anything is stored."""
    try:
        text = json_text(value)
    except (TypeError, ValueError, RecursionError) as e:
        problem = json_problem(value, root, loose_keys=True) or str(e)
        raise PayloadError(f"{what} must be JSON (dicts, lists, strings, finite numbers, booleans, None): "
                           f"{problem}; nothing was stored") from None
    if len(text) > MAX_PAYLOAD_BYTES:
        raise PayloadError(f"{what}: {len(text):,} bytes of JSON, over the limit of {MAX_PAYLOAD_BYTES:,}; "
                           f"nothing was stored")


class SyncRhythmClient:
    """Blocking client for scripts and CLIs."""

    def __init__(self, database_url: str | None = None):
        url = Settings.load(database_url).database_url()
        migrate(url)
        self.store = Store(url, max_size=4)

    def close(self) -> None:
        self.store.close()

    def start_workflow(self, name: str, inputs: Any = None, id: str | None = None, *, key: str | None = None,
                       on_conflict: str | None = None, delay=None, start_at: datetime | None = None,
                       queue: str | None = None, priority: int = 0) -> "SyncHandle":
        """Start a run (`id`: idempotent). `delay` (seconds or "10m") or `start_at` (an aware datetime) hold
        it until then. With a `key`, one run of this workflow per key is active at a time: `on_conflict`
        says what a start does meanwhile: "skip" (the default: the handle is the active run's), "replace"
        (the active run is cancelled, its cleanup runs, and this one starts) or "queue" (it starts when the
        key is free). `queue` (default: the workflow's front matter `queue:`) puts the run on a queue
        declared with app.queue: it starts once the queue's limits admit it, higher `priority` first; there
        `key` is the queue's key (key_concurrency, key_rate) and on_conflict applies only when given."""
        inputs = {} if inputs is None else inputs
        check_payload("workflow inputs", inputs, "inputs")
        if start_at is not None and start_at.tzinfo is None:
            raise ValueError("start_at must be an aware datetime (with a tzinfo), e.g. datetime.now(timezone.utc)")
        if queue is not None and (not isinstance(queue, str) or not queue):
            raise TypeError(f"queue must be a queue's name, not {queue!r}")
        if isinstance(priority, bool) or not isinstance(priority, int) or abs(priority) > MAX_PRIORITY:
            raise ValueError(f"priority must be a whole number between -{MAX_PRIORITY} and {MAX_PRIORITY} "
                             f"(higher starts first), not {priority!r}")
        run_id, _created = self.store.start_run(name, inputs, id, key=key, on_conflict=on_conflict, start_at=start_at,
                                                delay=seconds(delay, "delay") or 0.0, queue=queue, priority=priority)
        return SyncHandle(self, run_id)

    def run_workflow(self, name: str, inputs: Any = None, id: str | None = None, timeout: float | None = None,
                     **options):
        """Start (with `start_workflow`'s options) and wait for the result."""
        return self.start_workflow(name, inputs, id, **options).result(timeout)

    def get(self, run_id: str) -> "SyncHandle":
        if self.store.get_run(run_id) is None:
            raise RunNotFound(f"no run with id {run_id!r}")
        return SyncHandle(self, run_id)

    def list(self, status: str | None = None, name: str | None = None, limit: int = 50) -> list[dict]:
        return self.store.list_runs(status, name, limit)

    def queue_task(self, name: str, payload: Any = None, *, key: str | None = None, priority: int = 0,
                   delay=None, timeout=None) -> int:
        """Queue a task no workflow waits for; the options are Task.run's (durations as seconds or "5m")."""
        check_payload("task payload", payload, "payload")
        options = {"key": key, "priority": priority, "delay": seconds(delay, "delay"),
                   "timeout": seconds(timeout, "timeout")}
        return self.store.queue_task(name, payload, REGISTRY.get(name),
                                     {k: v for k, v in options.items() if v is not None})

    def create_schedule(self, id: str, workflow: str, cron: str | list[str], inputs: Any = None,
                        timezone: str = "UTC", overlap: str = "skip", catchup=None) -> SyncSchedule:
        """Create (or replace) schedule `id`, starting `workflow` at each tick of `cron`; see api/schedules.py."""
        check_payload("schedule inputs", {} if inputs is None else inputs, "inputs")
        stored_schedules.save(self.store, id, workflow, schedule_spec(cron, timezone, overlap, catchup), inputs)
        return SyncSchedule(self.store, id)

    def get_schedule(self, id: str) -> SyncSchedule:
        schedule = SyncSchedule(self.store, id)
        schedule.describe()  # ScheduleNotFound when there is none
        return schedule

    def list_schedules(self) -> list[dict]:
        return stored_schedules.listing(self.store)


@dataclass
class SyncHandle:
    client: SyncRhythmClient
    id: str

    def status(self) -> str:
        return self.describe()["status"]

    def describe(self) -> dict:
        row = self.client.store.get_run(self.id)
        if row is None:
            raise RunNotFound(f"no run with id {self.id!r}")
        return row

    def result(self, timeout: float | None = None):
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.005
        while True:
            row = self.poll(deadline, timeout)
            if row is not None and row["status"] in FINAL:
                return _outcome(row)
            time.sleep(delay)
            delay = min(delay * 1.5, 0.2 if row is not None else 2.0)

    def poll(self, deadline: float | None, timeout: float | None) -> dict | None:
        """The run's row; None while the database is unreachable (until the deadline)."""
        try:
            row = self.describe()
        except StorageError as e:
            if not is_outage(e) or (deadline is not None and time.monotonic() > deadline):
                raise
            return None
        if deadline is not None and row["status"] not in FINAL and time.monotonic() > deadline:
            raise TimeoutError(f"run {self.id} did not finish within {timeout}s (status {row['status']})")
        return row

    def signal(self, name: str, payload: Any = None) -> None:
        check_payload("signal payload", payload, "payload")
        self.client.store.send_signal(self.id, name, payload)

    def cancel(self, force: bool = False) -> bool:
        """Cancel the run: a CancelledError is thrown at its await, so its catch and finally blocks run
        first; `force` ends it at once, with no cleanup (a terminate). False if it had ended (or, without
        `force`, is being cancelled already)."""
        return self.client.store.cancel_run(self.id, force)

    def retry(self, version: str | None = None) -> dict:
        """Resume a failed run from the await it failed at (`rhythm retry`); version None, "latest" or a hash."""
        return self.client.store.retry_run(self.id, version)


def _outcome(row: dict):
    if row["status"] == "completed":
        return row["output"]
    failure = TaskError if row["status"] == "failed" and (row["error"] or {}).get("type") == "TaskError" else WorkflowFailed
    raise failure(row["id"], row["status"], row["error"])


class RhythmClient:
    """Async client: `result = await (await client.start_workflow(...)).result()`."""

    def __init__(self, database_url: str | None = None):
        self._database_url = database_url
        self._sync: SyncRhythmClient | None = None

    async def _client(self) -> SyncRhythmClient:
        if self._sync is None:
            self._sync = await asyncio.to_thread(SyncRhythmClient, self._database_url)
        return self._sync

    async def start_workflow(self, name: str, inputs: Any = None, id: str | None = None,
                             **options) -> "WorkflowHandle":
        """See `SyncRhythmClient.start_workflow` (key, on_conflict, delay, start_at, queue, priority)."""
        c = await self._client()
        handle = await asyncio.to_thread(c.start_workflow, name, inputs, id, **options)
        return WorkflowHandle(handle)

    async def run_workflow(self, name: str, inputs: Any = None, id: str | None = None, timeout: float | None = None,
                           **options):
        return await (await self.start_workflow(name, inputs, id, **options)).result(timeout)

    async def get(self, run_id: str) -> "WorkflowHandle":
        c = await self._client()
        return WorkflowHandle(await asyncio.to_thread(c.get, run_id))

    async def list(self, status: str | None = None, name: str | None = None, limit: int = 50) -> list[dict]:
        c = await self._client()
        return await asyncio.to_thread(c.list, status, name, limit)

    async def queue_task(self, name: str, payload: Any = None, **options) -> int:
        """See `SyncRhythmClient.queue_task`."""
        c = await self._client()
        return await asyncio.to_thread(c.queue_task, name, payload, **options)

    async def create_schedule(self, id: str, workflow: str, cron: str | list[str], inputs: Any = None,
                              timezone: str = "UTC", overlap: str = "skip", catchup=None) -> ScheduleHandle:
        c = await self._client()
        return ScheduleHandle(await asyncio.to_thread(c.create_schedule, id, workflow, cron, inputs, timezone,
                                                      overlap, catchup))

    async def get_schedule(self, id: str) -> ScheduleHandle:
        c = await self._client()
        return ScheduleHandle(await asyncio.to_thread(c.get_schedule, id))

    async def list_schedules(self) -> list[dict]:
        c = await self._client()
        return await asyncio.to_thread(c.list_schedules)

    async def close(self) -> None:
        if self._sync is not None:
            await asyncio.to_thread(self._sync.close)


class WorkflowHandle:
    def __init__(self, handle: SyncHandle):
        self._h = handle
        self.id = handle.id

    async def status(self) -> str:
        return await asyncio.to_thread(self._h.status)

    async def result(self, timeout: float | None = None):
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.005
        while True:
            row = await asyncio.to_thread(self._h.poll, deadline, timeout)
            if row is not None and row["status"] in FINAL:
                return _outcome(row)
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, 0.2 if row is not None else 2.0)

    async def signal(self, name: str, payload: Any = None) -> None:
        await asyncio.to_thread(self._h.signal, name, payload)

    async def cancel(self, force: bool = False) -> bool:
        """See `SyncHandle.cancel`."""
        return await asyncio.to_thread(self._h.cancel, force)

    async def retry(self, version: str | None = None) -> dict:
        return await asyncio.to_thread(self._h.retry, version)
