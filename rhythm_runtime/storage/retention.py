"""Retention: finished runs (with their tasks, timers, signals and history) are deleted after a while.

How long: a workflow's front matter (`retention: 7d`, recorded when its
newest version registers), else `RHYTHM_RETENTION` (a duration such as
"30d", the default, or "never"). Workers prune in their housekeeping, about
once a minute, by whichever one gets the advisory lock, in batches of a
thousand runs, each its own short transaction, so no lock is held for long.
A run whose parent has not finished is kept (the parent may still read it),
and a parent goes only after its children. `rhythm db prune` does the same
by hand, with `--older-than` for every workflow at once.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from rhythm_runtime.errors import RhythmError
from rhythm_runtime.execution.durations import EXAMPLES, parse_duration
from rhythm_runtime.storage.db import SQL_DIR, parse_queries

RQ = parse_queries((SQL_DIR / "retention.sql").read_text(encoding="utf-8"))
DEFAULT_RETENTION = "30d"
BATCH = 1000
PRUNE_LOCK_KEY = 0x52485950  # the advisory lock one pruner holds per batch


@dataclass
class Pruned:
    runs: int = 0
    tasks: int = 0


def default_retention() -> float | None:
    """Seconds a finished run is kept (RHYTHM_RETENTION, default 30 days); None: forever ("never")."""
    text = os.environ.get("RHYTHM_RETENTION", "").strip() or DEFAULT_RETENTION
    if text.lower() == "never":
        return None
    seconds = parse_duration(text)
    if not seconds:
        raise RhythmError(f"RHYTHM_RETENTION must be a duration such as {EXAMPLES}, or never; not {text!r}")
    return seconds


def declare(db, workflow: str, seconds: float | None) -> None:
    """A version of `workflow` registered: its front matter's retention (None: the default) applies from now."""
    with db.tx() as conn:
        if seconds is None:
            conn.execute(RQ["clear_workflow_retention"], dict(name=workflow))
        else:
            conn.execute(RQ["set_workflow_retention"], dict(name=workflow, seconds=seconds))


def prune(db, older_than: float | None = None, budget: float = float("inf"), batch: int = BATCH) -> Pruned | None:
    """Delete expired runs and standalone tasks in batches until none are left or `budget` seconds passed;
    None when another pruner holds the lock. `older_than` replaces every workflow's retention."""
    default = default_retention()
    if default is None and older_than is None:
        return Pruned()
    params = dict(older_than=older_than, default_seconds=default, limit=batch)
    done = Pruned()
    deadline = time.monotonic() + budget
    for query, field in (("prune_runs", "runs"), ("prune_tasks", "tasks")):
        while True:
            with db.tx() as conn:
                if not conn.execute(RQ["try_prune_lock"], dict(lock_key=PRUNE_LOCK_KEY)).fetchone()["got"]:
                    return None
                n = len(conn.execute(RQ[query], params).fetchall())
            setattr(done, field, getattr(done, field) + n)
            if n == 0 or time.monotonic() > deadline:  # (a batch of children makes their parents prunable)
                break
    return done


def expired(db, older_than: float | None = None) -> Pruned:
    """What a prune would delete now (`rhythm db prune --dry-run`)."""
    default = default_retention()
    if default is None and older_than is None:
        return Pruned()
    with db.tx() as conn:
        row = conn.execute(RQ["count_expired"], dict(older_than=older_than, default_seconds=default)).fetchone()
        return Pruned(row["runs"], row["tasks"])
