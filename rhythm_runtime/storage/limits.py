"""Queue limits, enforced by Postgres at claim time: no coordinator, any number of workers.

A queue with a limit (`rhythm.queues`, declared by `app.queue`) is claimed
one transaction at a time: the claim locks the queue's row first, then, in a
second statement (so its snapshot holds everything the previous claim
committed), counts the queue's running tasks, its running tasks per key and
its starts inside the rate windows (`rhythm.queue_starts`, a sliding window:
never more than N starts in any period P), and leases what fits. A task is
only ever counted as running once it is leased, so a throttled task never
holds a slot; a dead worker's task stops counting when its lease is reclaimed.
Queues without limits keep the one-statement claim of queries.sql.
"""

from __future__ import annotations

from rhythm_runtime.storage.db import SQL_DIR, parse_queries
from rhythm_runtime.storage.queries import Q

LQ = parse_queries((SQL_DIR / "limits.sql").read_text(encoding="utf-8"))


def register_queues(db, worker: str, specs: list) -> None:
    """Record these queue declarations (api/queues.py's QueueSpec) as the newest of their names."""
    if not specs:
        return
    rates = [s.rate or (None, None) for s in specs]
    key_rates = [s.key_rate or (None, None) for s in specs]
    with db.tx() as conn:
        conn.execute(LQ["register_queues"], dict(
            names=[s.name for s in specs], concurrency=[s.concurrency for s in specs],
            key_concurrency=[s.key_concurrency for s in specs], rate_limit=[r[0] for r in rates],
            rate_seconds=[r[1] for r in rates], key_rate_limit=[r[0] for r in key_rates],
            key_rate_seconds=[r[1] for r in key_rates], worker=worker))
        conn.execute(Q["notify_work"])  # a lifted limit may make waiting tasks claimable


def limited_queues(db, queues: list[str]) -> set[str]:
    """Which of these queues have a limit."""
    with db.tx() as conn:
        return {r["name"] for r in conn.execute(LQ["limited_queues"], dict(queues=queues)).fetchall()}


def claim(db, worker: str, queue: str, names: list[str], limit: int, lease: float) -> tuple[list[dict], float | None]:
    """Lease up to `limit` tasks of a limited queue that fit its limits; with none, also the seconds until
    one may (a delayed task, a start leaving a rate window), None if only a finishing task can free a slot."""
    with db.tx() as conn:
        if conn.execute(LQ["lock_queue"], dict(queue=queue)).fetchone() is None:
            return [], None  # no longer declared: the caller learns it at its next refresh
        rows = conn.execute(LQ["claim_limited_tasks"], dict(queue=queue, names=names, worker=worker, limit=limit,
                                                             lease_seconds=lease)).fetchall()
        if rows:
            return rows, None
        row = conn.execute(LQ["queue_next_chance"], dict(queue=queue, names=names)).fetchone()
        return [], None if row is None or row["seconds"] is None else max(0.0, float(row["seconds"]))
