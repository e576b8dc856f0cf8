"""`@task`: register plain Python functions as Rhythm tasks."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class TaskSpec:
    name: str
    fn: Callable
    retries: int = 0
    backoff: float = 1.0
    timeout: float | None = None
    queue: str = "default"

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.fn)


REGISTRY: dict[str, TaskSpec] = {}


def task(name: str, *, retries: int = 0, backoff: float = 1.0, timeout: float | None = None, queue: str = "default"):
    """Register `fn` as the task `name`; the function itself is returned unchanged."""
    if not isinstance(name, str) or not name:
        raise TypeError("@task needs a non-empty name, e.g. @task(\"send-email\")")

    def register(fn: Callable) -> Callable:
        existing = REGISTRY.get(name)
        if existing is not None and existing.fn.__qualname__ != fn.__qualname__:
            raise ValueError(f"task {name!r} is already registered by {existing.fn.__module__}.{existing.fn.__qualname__}")
        REGISTRY[name] = TaskSpec(name, fn, retries, backoff, timeout, queue)
        return fn

    return register
