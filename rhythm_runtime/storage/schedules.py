"""Schedules in Postgres: declared, listed, paused, triggered, backfilled, and fired by workers.

Exactly one run per tick, however many workers fire at once and however
their clocks drift: a worker locks the due schedule rows (`FOR UPDATE SKIP
LOCKED`), judges due ticks by the database clock, and names each tick's run
`<schedule>@<tick>`, inserted with ON CONFLICT DO NOTHING, so even a second
pass over the same tick starts nothing. The tick arithmetic (cron, time
zones, DST, catch-up) is rhythm_runtime/schedules.py's.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from rhythm_runtime.errors import RhythmError
from rhythm_runtime.schedules import FrontMatter, Schedule, ScheduleError
from rhythm_runtime.storage.db import SQL_DIR, parse_queries
from rhythm_runtime.storage.queries import Q, UnknownWorkflow, insert_run, json_param
from rhythm_runtime.storage.store import _request_cancel

log = logging.getLogger("rhythm")
SQ = parse_queries((SQL_DIR / "schedules.sql").read_text(encoding="utf-8"))
RETRY_UNKNOWN = timedelta(seconds=30)  # a schedule whose workflow no worker has registered yet waits this long


class ScheduleNotFound(RhythmError):
    pass


def tick_run_id(schedule_id: str, tick: datetime) -> str:
    return f"{schedule_id}@{tick:%Y-%m-%dT%H:%M:%SZ}"


def spec_of(row: dict) -> Schedule:
    return Schedule(tuple(row["crons"]), row["timezone"], row["overlap"], row["catchup"])


def save(db, schedule_id: str, workflow: str, spec: Schedule, inputs=None, origin: str = "client") -> bool:
    """Create or replace a schedule; True when it is new."""
    with db.tx() as conn:
        return _save(conn, schedule_id, workflow, spec, inputs, origin)


def _save(conn, schedule_id, workflow, spec: Schedule, inputs, origin) -> bool:
    if not schedule_id or "/" in schedule_id:
        raise ScheduleError(f"invalid schedule id {schedule_id!r}: use a non-empty name without '/'")
    now = conn.execute(SQ["clock"], dict(at=None)).fetchone()["now"]
    row = conn.execute(SQ["upsert_schedule"], dict(
        id=schedule_id, workflow=workflow, crons=list(spec.crons), timezone=spec.timezone,
        inputs=json_param({} if inputs is None else inputs), overlap=spec.overlap, catchup=spec.catchup,
        origin=origin, now=now, next_fire_at=spec.next_after(now))).fetchone()
    return row["created"]


def declare_front_matter(db, workflow: str, front: FrontMatter) -> None:
    """A workflow version registered: its front matter's schedule replaces the one it declared before (or none)."""
    with db.tx() as conn:
        if front.schedule is None:
            conn.execute(SQ["delete_front_matter_schedule"], dict(id=workflow))
        else:
            _save(conn, workflow, workflow, front.schedule, front.inputs, "front matter")


def fire_due(db, at: datetime | None = None, limit: int = 100) -> list[str]:
    """Start the runs of every due tick; the ids of runs started. `at` overrides the database clock (tests)."""
    started: list[str] = []
    with db.tx() as conn:
        now = conn.execute(SQ["clock"], dict(at=at)).fetchone()["now"]
        for row in conn.execute(SQ["lock_due_schedules"], dict(now=now, limit=limit)).fetchall():
            started += _fire(conn, row, now)
        if started:
            conn.execute(Q["notify_work"])
    return started


def _fire(conn, row: dict, now: datetime) -> list[str]:
    spec = spec_of(row)
    ticks = spec.due(row["handled_until"], now)
    active = row["last_run_id"] is not None and conn.execute(
        SQ["run_is_active"], dict(id=row["last_run_id"])).fetchone()["active"]
    if active and spec.overlap == "skip":
        ticks = []
    elif active and spec.overlap == "buffer_one":  # hold the newest tick until the running one ends
        _handled(conn, row, row["handled_until"], now + timedelta(seconds=1), None)
        return []
    elif active and spec.overlap == "cancel_running" and _cancelled_at_once(conn, row["last_run_id"]) is False:
        _handled(conn, row, row["handled_until"], now + timedelta(seconds=1), None)  # held while it cleans up
        return []
    started = []
    for tick in ticks:
        try:
            run_id, created = insert_run(conn, row["workflow_name"], row["inputs"], tick_run_id(row["id"], tick), None, None)
        except UnknownWorkflow:
            log.warning("schedule %r: no worker has registered workflow %r yet; its tick %s waits",
                        row["id"], row["workflow_name"], tick.isoformat())
            _handled(conn, row, row["handled_until"], now + RETRY_UNKNOWN, None)
            return started
        if created:
            started.append(run_id)
    _handled(conn, row, now, spec.next_after(now), tick_run_id(row["id"], ticks[-1]) if ticks else None)
    return started


def _cancelled_at_once(conn, run_id: str) -> bool:
    """Ask the running run to cancel: its catch and finally blocks run first (as `rhythm cancel`, and as Temporal's
    CANCEL_OTHER); True when it has ended, False while it is still cleaning up."""
    conn.execute(Q["lock_run_tree"], dict(id=run_id)).fetchall()  # deepest first: engine.py's lock order
    _request_cancel(conn, run_id)
    return not conn.execute(SQ["run_is_active"], dict(id=run_id)).fetchone()["active"]


def _handled(conn, row: dict, handled_until: datetime, next_fire_at: datetime, last_run_id: str | None) -> None:
    conn.execute(SQ["schedule_handled"], dict(id=row["id"], handled_until=handled_until, next_fire_at=next_fire_at,
                                              last_run_id=last_run_id))


def listing(db) -> list[dict]:
    """Every schedule with its next fire time and last run."""
    with db.tx() as conn:
        return [dict(r) for r in conn.execute(SQ["list_schedules"]).fetchall()]


def set_paused(db, schedule_id: str, paused: bool) -> None:
    """Pause, or resume (ticks that passed while paused do not fire)."""
    with db.tx() as conn:
        row = _locked(conn, schedule_id)
        now = conn.execute(SQ["clock"], dict(at=None)).fetchone()["now"]
        conn.execute(SQ["set_schedule_paused"], dict(id=schedule_id, paused=paused, now=now,
                                                     next_fire_at=spec_of(row).next_after(now)))


def delete(db, schedule_id: str) -> None:
    with db.tx() as conn:
        if conn.execute(SQ["delete_schedule"], dict(id=schedule_id)).fetchone() is None:
            raise ScheduleNotFound(f"no schedule with id {schedule_id!r}")


def trigger(db, schedule_id: str) -> str:
    """Start a run now, outside the cron (its id names the moment); the schedule itself is unchanged."""
    with db.tx() as conn:
        row = _locked(conn, schedule_id)
        now = conn.execute(SQ["clock"], dict(at=None)).fetchone()["now"]
        run_id, _ = insert_run(conn, row["workflow_name"], row["inputs"],
                               f"{schedule_id}@manual-{now:%Y-%m-%dT%H:%M:%S.%fZ}", None, None)
        conn.execute(Q["notify_work"])
        return run_id


def backfill(db, schedule_id: str, start: datetime, end: datetime) -> list[str]:
    """Start a run for every tick in (start, end] that has none yet (the tick's own id: idempotent)."""
    with db.tx() as conn:
        row = _locked(conn, schedule_id)
        started = []
        for tick in spec_of(row).ticks(start, end):
            run_id, created = insert_run(conn, row["workflow_name"], row["inputs"], tick_run_id(schedule_id, tick),
                                         None, None)
            if created:
                started.append(run_id)
        if started:
            conn.execute(Q["notify_work"])
        return started


def _locked(conn, schedule_id: str) -> dict:
    row = conn.execute(SQ["get_schedule"], dict(id=schedule_id)).fetchone()
    if row is None:
        raise ScheduleNotFound(f"no schedule with id {schedule_id!r}")
    return row
