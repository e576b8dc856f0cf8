"""Schedules as data, from the client: one per customer, made, paused, triggered and backfilled at run time.

`client.create_schedule("digest-42", "send_digest", cron="0 8 * * *", inputs={...},
timezone="Europe/Berlin")` returns a handle; `client.get_schedule(id)` finds one again.
Schedules in a workflow's front matter are the same rows, owned by the
workflow's source (a new version replaces them).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rhythm_runtime.schedules import Schedule, parse_duration
from rhythm_runtime.storage import schedules as stored


def schedule_spec(cron: str | list[str], timezone: str = "UTC", overlap: str = "skip",
                  catchup: str | timedelta | None = None) -> Schedule:
    """A validated Schedule from the client's arguments (ScheduleError names what is wrong)."""
    crons = (cron,) if isinstance(cron, str) else tuple(cron)
    window = parse_duration(catchup) if isinstance(catchup, str) else (catchup or timedelta(0))
    return Schedule(crons, timezone, overlap, window)


@dataclass
class SyncSchedule:
    store: Any
    id: str

    def describe(self) -> dict:
        """The schedule's row: workflow, crons, time zone, next fire time, paused, last run and its status."""
        for row in stored.listing(self.store):
            if row["id"] == self.id:
                return row
        raise stored.ScheduleNotFound(f"no schedule with id {self.id!r}")

    def pause(self) -> None:
        stored.set_paused(self.store, self.id, True)

    def resume(self) -> None:
        """Resume; ticks that passed while paused do not fire."""
        stored.set_paused(self.store, self.id, False)

    def trigger(self) -> str:
        """Start a run now, outside the cron; its run id."""
        return stored.trigger(self.store, self.id)

    def backfill(self, start: datetime, end: datetime) -> list[str]:
        """Start the runs of every tick in (start, end] that has none; their run ids."""
        return stored.backfill(self.store, self.id, start, end)

    def delete(self) -> None:
        stored.delete(self.store, self.id)


class ScheduleHandle:
    """The async twin of SyncSchedule."""

    def __init__(self, schedule: SyncSchedule):
        self._s = schedule
        self.id = schedule.id

    async def describe(self) -> dict:
        return await asyncio.to_thread(self._s.describe)

    async def pause(self) -> None:
        await asyncio.to_thread(self._s.pause)

    async def resume(self) -> None:
        await asyncio.to_thread(self._s.resume)

    async def trigger(self) -> str:
        return await asyncio.to_thread(self._s.trigger)

    async def backfill(self, start: datetime, end: datetime) -> list[str]:
        return await asyncio.to_thread(self._s.backfill, start, end)

    async def delete(self) -> None:
        await asyncio.to_thread(self._s.delete)
