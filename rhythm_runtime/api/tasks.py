"""`@task`: register plain Python functions as Rhythm tasks, and what a task sees while it runs.

The worker and the in-process runner (testing.py) both call task functions
through `call_task`, inside `current_task()`'s context.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import threading
from dataclasses import dataclass, field
from typing import Callable

from rhythm_runtime.execution.durations import seconds


@dataclass(frozen=True)
class TaskSpec:
    name: str
    fn: Callable
    retries: int = 0
    backoff: float = 1.0
    timeout: float | None = None
    queue: str = "default"

    @functools.cached_property
    def is_async(self) -> bool:  # (asked on every call: inspect's answer costs a few µs)
        return inspect.iscoroutinefunction(self.fn)


REGISTRY: dict[str, TaskSpec] = {}


def task(name: str, *, retries: int = 0, backoff: float | str = 1.0, timeout: float | str | None = None,
         queue: str = "default"):
    """Register `fn` as the task `name`; the function itself is returned unchanged.

    `backoff` and `timeout` are seconds, or duration strings such as "500ms", "30s", "5m"."""
    if not isinstance(name, str) or not name:
        raise TypeError("@task needs a non-empty name, e.g. @task(\"send-email\")")
    backoff, timeout = seconds(backoff, f"@task({name!r}) backoff"), seconds(timeout, f"@task({name!r}) timeout")

    def register(fn: Callable) -> Callable:
        existing = REGISTRY.get(name)
        if existing is not None and existing.fn.__qualname__ != fn.__qualname__:
            raise ValueError(f"task {name!r} is already registered by {existing.fn.__module__}.{existing.fn.__qualname__}")
        REGISTRY[name] = TaskSpec(name, fn, retries, backoff, timeout, queue)
        return fn

    return register


@dataclass(frozen=True)
class TaskContext:
    """What a running task may want to know about itself (e.g. to build an idempotency key)."""

    task_id: int
    name: str
    attempt: int  # 1 on the first run; every run counts, also one whose worker was lost
    run_id: str | None  # None for a standalone queued task
    await_key: str | None
    lost_leases: int = 0  # earlier runs whose worker was lost: this run may repeat one that did its work
    # Asks whether the workflow stopped waiting for this task (the worker asks Postgres); in-process: never.
    cancel_check: Callable[[], bool] = field(default=lambda: False, repr=False, compare=False)

    @property
    def cancelled(self) -> bool:
        """Whether the await this task serves was cancelled (or its run terminated) while it runs: its
        result will be ignored, so a long task may stop early. Each read asks the database once."""
        return self.cancel_check()


_current_task: contextvars.ContextVar[TaskContext | None] = contextvars.ContextVar("rhythm_task", default=None)


def current_task() -> TaskContext | None:
    """The task the calling code runs in (inside a @task function), else None."""
    return _current_task.get()


def call_task(spec: TaskSpec, payload, context: TaskContext):
    """Run one attempt of a task function as `context`, within its timeout (TimeoutError past it)."""
    token = _current_task.set(context)
    try:
        if spec.is_async:
            return asyncio.run(asyncio.wait_for(spec.fn(payload), spec.timeout))
        if spec.timeout is not None:
            return _call_with_timeout(spec.fn, payload, spec.timeout)
        return spec.fn(payload)
    finally:
        _current_task.reset(token)


def _call_with_timeout(fn, payload, timeout: float):
    """Run a sync task with a time limit. Python cannot stop a thread: past the limit the
    attempt fails (and may be retried) while the function finishes in the background, its
    result ignored, like Celery's soft time limit."""
    outcome: dict = {}
    context = contextvars.copy_context()  # current_task() works inside the task

    def target():
        try:
            outcome["result"] = context.run(fn, payload)
        except BaseException as e:  # handed to the waiting thread
            outcome["error"] = e

    thread = threading.Thread(target=target, name="rhythm-task-timed", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]
