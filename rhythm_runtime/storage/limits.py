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

Runs go on queues too (start_workflow(queue=), front matter `queue:`,
Workflow.run's { queue }). A run on a queue with a limit waits (pending, not
runnable) until it is admitted; admission works as a claim does: the queue's
row locked, then a second statement counts the admitted runs that have not
ended (per key too) and the admissions inside the rate windows, and makes
what fits runnable. Workers admit when told (a run was queued, or an
admitted run ended: NOTIFY 'admit') and at every housekeeping; an admitted
run keeps its slot until it completes, fails or is cancelled.
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


def limited_queues(db, queues: list[str]) -> dict[str, bool]:
    """Which of these queues have a limit: {name: whether concurrency is its only one}."""
    with db.tx() as conn:
        return {r["name"]: r["slots_only"] for r in conn.execute(LQ["limited_queues"], dict(queues=queues)).fetchall()}


def claim(db, worker: str, queue: str, names: list[str], limit: int, lease: float) -> tuple[list[dict], float | None]:
    """Lease up to `limit` tasks of a limited queue that fit its limits; with none, also the seconds until
    one may (a delayed task, a start leaving a rate window), None if only a finishing task can free a slot.

    BEGIN, the lock, the count-and-claim and COMMIT travel in one round trip (pipeline mode): the second
    statement still takes its snapshot after the lock is granted, and the lock is held only while Postgres
    works, never across a round trip to this worker."""
    tx = db.tx(pipeline=True)
    with tx as conn:
        locked = conn.execute(LQ["lock_queue"], dict(queue=queue))
        claimed = conn.execute(LQ["claim_limited_tasks"], dict(queue=queue, names=names, worker=worker, limit=limit,
                                                               lease_seconds=lease))
    rows = claimed.fetchall()
    if rows or locked.fetchone() is None:
        return rows, None  # (a queue no longer declared: the caller learns it at its next refresh)
    with db.tx() as conn:
        row = conn.execute(LQ["queue_next_chance"], dict(queue=queue, names=names)).fetchone()
    return [], None if row is None or row["seconds"] is None else max(0.0, float(row["seconds"]))


# Runs admitted per queue per transaction (the rest wait for the next pass).
ADMIT_BATCH = 100


def admit_runs(db) -> tuple[list[str], float | None]:
    """Admit the waiting runs that fit their queues' limits, one queue per transaction (under its lock);
    (ids admitted, seconds until a waiting run may fit without a run ending first, or None)."""
    with db.tx() as conn:
        waiting = conn.execute(LQ["queues_with_waiting_runs"]).fetchall()
    admitted: list[str] = []
    for queue in [r["name"] for r in waiting if r["due"]]:
        rows = [None] * ADMIT_BATCH
        while len(rows) == ADMIT_BATCH:
            rows = _admit(db, queue)
            admitted += rows
    if not waiting:
        return admitted, None
    with db.tx() as conn:
        row = conn.execute(LQ["admission_next_chance"]).fetchone()
    return admitted, None if row is None or row["seconds"] is None else max(0.0, float(row["seconds"]))


def _admit(db, queue: str) -> list[str]:
    """One transaction of admissions on one queue: its row locked, then the count (its snapshot holds every
    admission and end that committed before the lock was granted)."""
    with db.tx() as conn:
        if conn.execute(LQ["lock_queue"], dict(queue=queue)).fetchone() is None:
            return []
        rows = conn.execute(LQ["admit_runs"], dict(queue=queue, limit=ADMIT_BATCH)).fetchall()
        if rows:
            conn.execute(Q["notify_work"])
        return [r["id"] for r in rows]
