"""Schedules: a workflow's front matter, and when a schedule fires: cron expressions (cronsim), `@hourly`-style aliases and `every 15m` intervals, in a time zone.

Shared by the compiler (a workflow's front matter is checked when it is
compiled), the store (ticks are fired on the database clock) and the client.
Pure: no I/O. A tick is an aware UTC datetime.

Daylight saving time behaves as Debian's cron, which cronsim follows: a tick
in the hour a spring change skips fires once, at the first minute that
exists after it (02:30 becomes 03:00); a tick in the hour an autumn change
repeats fires once, at its first occurrence. Intervals (`every 15m`) count
real elapsed time from the Unix epoch, so they ignore DST.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from cronsim import CronSim, CronSimError

from rhythm_runtime.errors import RhythmError
from rhythm_runtime.execution.durations import EXAMPLES as DURATION_EXAMPLES
from rhythm_runtime.execution.durations import parse_duration as seconds_in

ALIASES = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
           "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}
OVERLAP = ("skip", "buffer_one", "allow_all", "cancel_running")
_EVERY = re.compile(r"^every\s+(.+)$")
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class ScheduleError(RhythmError):
    """A schedule that cannot be used: a bad cron expression, time zone, interval or option."""


def parse_duration(text: str) -> timedelta:
    """'15m', '1h30m', '3d', '90s' -> timedelta (the durations Timer.delay takes); ScheduleError otherwise."""
    seconds = seconds_in(text) if isinstance(text, str) else None
    if seconds is None:
        raise ScheduleError(f"'{text}' is not a duration; write it like {DURATION_EXAMPLES}")
    return timedelta(seconds=seconds)


@dataclass(frozen=True)
class Schedule:
    """What fires a workflow and how: validated on construction."""

    crons: tuple[str, ...]
    timezone: str = "UTC"
    overlap: str = "skip"
    catchup: timedelta = field(default=timedelta(0))

    def __post_init__(self) -> None:
        if not self.crons:
            raise ScheduleError("a schedule needs at least one cron expression (e.g. \"0 3 * * *\", \"@hourly\", \"every 15m\")")
        zone(self.timezone)
        if self.overlap not in OVERLAP:
            raise ScheduleError(f"overlap must be one of {', '.join(OVERLAP)}, not '{self.overlap}'")
        for expr in self.crons:
            _next_of(expr, zone(self.timezone), EPOCH)  # raises ScheduleError for a bad expression

    def next_after(self, after: datetime) -> datetime:
        """The first tick strictly after `after`, in UTC."""
        tz = zone(self.timezone)
        return min(_next_of(expr, tz, after) for expr in self.crons)

    def ticks(self, after: datetime, until: datetime) -> list[datetime]:
        """Every tick in (after, until], oldest first."""
        out, t = [], after
        while True:
            t = self.next_after(t)
            if t > until:
                return out
            out.append(t)

    def due(self, after: datetime, now: datetime) -> list[datetime]:
        """The ticks to fire now: those in (after, now] within the catch-up window, the newest only for `skip`.

        The newest due tick always fires (it is the one of this moment); older ones, missed while no
        worker ran, fire only when they lie within `catchup` of now, so a worker back after a long
        stop (or a SIGSTOP) does not fire a burst of stale ticks.
        """
        ticks = self.ticks(after, now)
        if not ticks:
            return []
        recent = [t for t in ticks[:-1] if now - t <= self.catchup] + [ticks[-1]]
        return recent[-1:] if self.overlap == "skip" else recent


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"unknown time zone '{name}' (use an IANA name such as UTC or Europe/Berlin)") from None


def _next_of(expr: str, tz: ZoneInfo, after: datetime) -> datetime:
    every = _EVERY.match(expr.strip())
    if every:
        step = parse_duration(every.group(1))
        if step < timedelta(seconds=1):
            raise ScheduleError(f"'{expr}': the interval must be at least one second")
        n = (after - EPOCH) // step + 1
        return EPOCH + n * step
    cron = ALIASES.get(expr.strip(), expr)
    try:
        local = next(CronSim(cron, after.astimezone(tz)))
    except CronSimError as e:
        raise ScheduleError(f"'{expr}' is not a cron expression ({e}); e.g. \"0 3 * * *\", \"@hourly\", \"every 15m\"") from None
    return local.astimezone(timezone.utc)


FRONT_MATTER_KEYS = ("description", "schedule", "timezone", "inputs", "overlap", "catchup", "retention", "queue")


@dataclass(frozen=True)
class FrontMatter:
    """What a workflow's front matter declares to Rhythm (other keys are the user's own metadata)."""

    description: str | None = None
    schedule: Schedule | None = None
    inputs: dict = field(default_factory=dict)
    retention: float | None = None  # seconds a finished run is kept (None: RHYTHM_RETENTION's)
    queue: str | None = None  # the queue its runs go on unless a start names another (api/queues.py)


class FrontMatterError(ScheduleError):
    """A front matter problem; `key` names the key it is about (None: the whole block is not YAML)."""

    def __init__(self, message: str, key: str | None = None):
        super().__init__(message)
        self.key = key


def front_matter_or_none(text: str | None) -> FrontMatter:
    """The front matter for registering a workflow: one that is not YAML declares nothing (it compiled, so it has no
    bad schedule key: front matter that is not YAML is the user's own text)."""
    try:
        return read_front_matter(text)
    except FrontMatterError:
        return FrontMatter()


def read_front_matter(text: str | None) -> FrontMatter:
    """The front matter's YAML, checked: known keys only, a valid schedule; FrontMatterError otherwise."""
    if not text or not text.strip():
        return FrontMatter()
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise FrontMatterError(f"the front matter is not valid YAML: {mark}") from None
    if data is None:
        return FrontMatter()
    if not isinstance(data, dict):
        raise FrontMatterError("the front matter must be YAML keys and values, e.g. description: ...")
    return FrontMatter(_text(data, "description"), _schedule(data), _inputs(data), _retention(data), _queue(data))


def misspelled_keys(text: str | None) -> list[tuple[str, str]]:
    """(key, the key it is probably meant to be): other keys are the user's own metadata and are kept as they are."""
    try:
        data = yaml.safe_load(text) if text else None
    except yaml.YAMLError:
        return []
    if not isinstance(data, dict):
        return []
    out = []
    for key in map(str, data):
        close = difflib.get_close_matches(key, FRONT_MATTER_KEYS, n=1, cutoff=0.75)
        if key not in FRONT_MATTER_KEYS and close:
            out.append((key, close[0]))
    return out


def _text(data: dict, key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise FrontMatterError(f"'{key}' must be text", key)
    return value


def _schedule(data: dict) -> Schedule | None:
    crons = data.get("schedule")
    if crons is None:
        extra = [k for k in ("timezone", "overlap", "catchup", "inputs") if k in data]
        if extra:
            raise FrontMatterError(f"'{extra[0]}' applies to a schedule, and there is no 'schedule'", extra[0])
        return None
    crons = [crons] if isinstance(crons, str) else crons
    if not isinstance(crons, list) or not crons or not all(isinstance(c, str) for c in crons):
        raise FrontMatterError("'schedule' must be a cron expression in quotes, or a list of them", "schedule")
    catchup = data.get("catchup", "0s")
    try:
        return Schedule(tuple(crons), _text(data, "timezone") or "UTC", _text(data, "overlap") or "skip",
                        parse_duration(catchup) if isinstance(catchup, str) else _bad_catchup())
    except FrontMatterError:
        raise
    except ScheduleError as e:
        raise FrontMatterError(str(e), _key_of(str(e))) from None


def _bad_catchup():
    raise FrontMatterError("'catchup' must be a duration such as 1h or 30m", "catchup")


def _key_of(message: str) -> str:
    return "timezone" if "time zone" in message else "overlap" if "overlap" in message else \
        "catchup" if "duration" in message else "schedule"


def _retention(data: dict) -> float | None:
    value = data.get("retention")
    seconds = seconds_in(value) if isinstance(value, str) else None
    if value is not None and not seconds:
        raise FrontMatterError("'retention' must be a duration such as 7d or 12h (how long finished runs are kept)",
                               "retention")
    return seconds


def _queue(data: dict) -> str | None:
    value = data.get("queue")
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise FrontMatterError("'queue' must be a queue's name, such as onboarding (declared with app.queue)", "queue")
    return value


def _inputs(data: dict) -> dict:
    inputs = data.get("inputs", {})
    if not isinstance(inputs, dict):
        raise FrontMatterError("'inputs' must be keys and values (the Inputs of each scheduled run)", "inputs")
    return inputs
