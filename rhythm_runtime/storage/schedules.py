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
import time
from datetime import datetime, timedelta

from rhythm_runtime.errors import RhythmError
from rhythm_runtime.schedules import FrontMatter, Schedule, ScheduleError
from rhythm_runtime.storage.db import SQL_DIR, parse_queries
from rhythm_runtime.storage.queries import (Q, UnknownWorkflow, insert_run, insert_runs, json_param, newest_version,
                                            run_params)
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


def fire_due(db, at: datetime | None = None, limit: int = 100, budget: float = 2.0) -> list[str]:
    """Start the runs of every due tick; the ids of runs started. `at` overrides the database clock (tests).
    `limit` schedules are locked per transaction, pass after pass while a pass was full, for up to `budget`
    seconds (a burst of due schedules fires at once, not `limit` per housekeeping)."""
    started: list[str] = []
    deadline = time.monotonic() + budget
    while True:
        fired, full = _fire_pass(db, at, limit)
        started += fired
        if not full or time.monotonic() > deadline:
            return started


def _fire_pass(db, at: datetime | None, limit: int) -> tuple[list[str], bool]:
    """One transaction of fire_due: (runs started, whether `limit` schedules were due). The ticks' runs are
    inserted in one round trip at the end, and the schedules' new fire times in one statement."""
    runs: list[dict] = []  # insert_run parameters of the ticks' runs
    handled: list[tuple] = []  # (schedule id, handled until, next fire at, last run id or None)
    versions: dict[str, dict] = {}  # the newest version of each workflow, read once per pass
    tx = db.tx(pipeline=True)
    with tx as conn:
        now = conn.execute(SQ["clock"], dict(at=at)).fetchone()["now"]
        rows = conn.execute(SQ["lock_due_schedules"], dict(now=now, limit=limit)).fetchall()
        for row in rows:
            started, done = _fire(conn, row, now, versions)
            runs += started
            handled.append(done)
        if handled:
            ids, until, next_at, last = (list(column) for column in zip(*handled))
            conn.execute(SQ["schedules_handled"], dict(ids=ids, handled_until=until, next_fire_at=next_at,
                                                       last_run_id=last))
        started = insert_runs(conn, runs)
        if started:
            conn.execute(Q["notify_work"])
    return started, len(rows) == limit


def _fire(conn, row: dict, now: datetime, versions: dict) -> tuple[list[dict], tuple]:
    """The runs of a schedule's due ticks (run_params), by its overlap policy, and what it has handled."""
    spec = spec_of(row)
    ticks = spec.due(row["handled_until"], now)
    active = row["last_run_active"]
    held = (row["id"], row["handled_until"], now + timedelta(seconds=1), None)
    if active and spec.overlap == "skip":
        ticks = []
    elif active and spec.overlap == "buffer_one":  # hold the newest tick until the running one ends
        return [], held
    elif active and spec.overlap == "cancel_running" and _cancelled_at_once(conn, row["last_run_id"]) is False:
        return [], held  # held while it cleans up
    name = row["workflow_name"]
    if ticks and name not in versions:
        try:
            versions[name] = newest_version(conn, name)
        except UnknownWorkflow:
            log.warning("schedule %r: no worker has registered workflow %r yet; its tick %s waits",
                        row["id"], name, ticks[0].isoformat())
            return [], (row["id"], row["handled_until"], now + RETRY_UNKNOWN, None)
    runs = [run_params(versions[name], name, row["inputs"], tick_run_id(row["id"], tick)) for tick in ticks]
    return runs, (row["id"], now, spec.next_after(now), tick_run_id(row["id"], ticks[-1]) if ticks else None)


def _cancelled_at_once(conn, run_id: str) -> bool:
    """Ask the running run to cancel: its catch and finally blocks run first (as `rhythm cancel`, and as Temporal's
    CANCEL_OTHER); True when it has ended, False while it is still cleaning up."""
    conn.execute(Q["lock_run_tree"], dict(id=run_id)).fetchall()  # deepest first: engine.py's lock order
    _request_cancel(conn, run_id)
    return not conn.execute(SQ["run_is_active"], dict(id=run_id)).fetchone()["active"]


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
