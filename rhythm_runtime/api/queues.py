"""Queues and their limits, declared in Python: `app.queue("payments", concurrency=5, rate="100/1m")`.

A declaration is recorded in Postgres when a worker starts (the newest one
wins, as for @task registrations); workers then enforce it at claim time, in
SQL (storage/limits.py). The in-process runner applies the rate limits on its
virtual clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rhythm_runtime.execution.durations import EXAMPLES, parse_duration

_RATE = re.compile(r"\s*(\d+)\s*/\s*(\S+)\s*")


@dataclass(frozen=True)
class QueueSpec:
    name: str
    concurrency: int | None = None  # running tasks on the queue, across all workers
    key_concurrency: int | None = None  # running tasks with one key
    rate: tuple[int, float] | None = None  # (starts, per seconds) on the queue: a sliding window
    key_rate: tuple[int, float] | None = None  # (starts, per seconds) per key

    @property
    def limited(self) -> bool:
        return any(x is not None for x in (self.concurrency, self.key_concurrency, self.rate, self.key_rate))


QUEUES: dict[str, QueueSpec] = {}


def parse_rate(text, what: str) -> tuple[int, float] | None:
    """"100/1m" -> (100, 60.0): at most 100 starts in any 60 seconds; ValueError if malformed."""
    if text is None:
        return None
    match = _RATE.fullmatch(text) if isinstance(text, str) else None
    period = match and (parse_duration(match[2]) or (parse_duration("1" + match[2]) if match[2].isalpha() else None))
    if not match or not period or int(match[1]) < 1:
        raise ValueError(f"{what} must be starts per duration, like \"100/1m\", \"5/s\" or \"1000/1h\" "
                         f"(durations like {EXAMPLES}), not {text!r}")
    return int(match[1]), period


def declare(name: str, *, concurrency: int | None = None, key_concurrency: int | None = None, rate=None,
            key_rate=None) -> QueueSpec:
    """Declare queue `name` with its limits (None: no limit); @task(queue=name) puts tasks on it."""
    if not isinstance(name, str) or not name:
        raise TypeError("a queue needs a non-empty name, e.g. app.queue(\"payments\", concurrency=5)")
    for what, n in (("concurrency", concurrency), ("key_concurrency", key_concurrency)):
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
            raise ValueError(f"queue {name!r}: {what} must be a whole number of at least 1, not {n!r}")
    spec = QueueSpec(name, concurrency, key_concurrency, parse_rate(rate, f"queue {name!r} rate"),
                     parse_rate(key_rate, f"queue {name!r} key_rate"))
    QUEUES[name] = spec
    return spec
