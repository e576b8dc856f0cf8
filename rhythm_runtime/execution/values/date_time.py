"""Time values and their text: ECMAScript's day and time arithmetic (milliseconds since 1970, UTC; NaN
for an invalid date) and the formats Date objects print.  Below the conversions, which show a Date as
this text; the Date API itself (constructor, parse, methods) is in dates.

A workflow's local time zone is UTC on every worker (a run may resume on a machine in another zone), so
local fields are UTC fields and toString shows ``GMT+0000 (Coordinated Universal Time)``, as Node prints
with ``TZ=UTC``."""

from __future__ import annotations

import math

from .representation import NAN, JSDate, range_error

_MS_PER_DAY = 86_400_000
_MAX_TIME = 8.64e15
_DAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_ZONE = "GMT+0000 (Coordinated Universal Time)"


# -- the standard's arithmetic (ECMA-262 21.4.1) ------------------------------------------------------
def _days_from_civil(y: int, m: int, d: int) -> int:
    """Days from 1970-01-01 to a proleptic Gregorian date (m 1-12): Hinnant's algorithm, any year."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468


def _civil_from_days(z: int) -> tuple[int, int, int]:
    """(year, month 0-11, day 1-31) of a day number."""
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (month <= 2), month - 1, doy - (153 * mp + 2) // 5 + 1


def _integer(n: float) -> float:
    return float(math.trunc(n)) if n - n == 0 else n


def make_time(h: float, m: float, s: float, ms: float) -> float:
    if not all(x - x == 0 for x in (h, m, s, ms)):
        return NAN
    return _integer(h) * 3_600_000 + _integer(m) * 60_000 + _integer(s) * 1000 + _integer(ms)


def make_day(year: float, month: float, date: float) -> float:
    if not all(x - x == 0 for x in (year, month, date)):
        return NAN
    y, m = _integer(year), _integer(month)
    ym = y + math.floor(m / 12)
    if abs(ym) > 400_000:  # far past the time value's range
        return NAN
    return float(_days_from_civil(int(ym), int(m % 12) + 1, 1)) + _integer(date) - 1


def make_date(day: float, t: float) -> float:
    value = day * _MS_PER_DAY + t
    return value if value - value == 0 else NAN


def time_clip(t: float) -> float:
    if t - t != 0 or abs(t) > _MAX_TIME:
        return NAN
    return _integer(t) + 0.0  # -0 becomes +0


def fields(t: float) -> tuple[int, int, int, int, int, int, int, int]:
    """(year, month 0-11, date, hours, minutes, seconds, ms, weekday) of a valid time value."""
    day, ms = divmod(int(t), _MS_PER_DAY)
    year, month, date = _civil_from_days(day)
    return year, month, date, ms // 3_600_000, ms // 60_000 % 60, ms // 1000 % 60, ms % 1000, (day + 4) % 7


# -- text ---------------------------------------------------------------------------------------------
def _year_text(year: int) -> str:
    return f"{year:04d}" if year >= 0 else f"-{-year:04d}"


def to_iso_string(d: JSDate, args=()) -> str:
    t = d.time
    if t != t:
        raise range_error("Invalid time value")
    year, month, date, h, mi, s, ms, _ = fields(t)
    y = f"{year:04d}" if 0 <= year <= 9999 else f"{'+' if year > 0 else '-'}{abs(year):06d}"
    return f"{y}-{month + 1:02d}-{date:02d}T{h:02d}:{mi:02d}:{s:02d}.{ms:03d}Z"


def to_json_value(d: JSDate, args=()):
    """What toJSON gives: the ISO text, or null for an invalid date."""
    return None if d.time != d.time else to_iso_string(d)


def _date_text(f) -> str:
    year, month, date, *_, weekday = f
    return f"{_DAYS[weekday]} {_MONTHS[month]} {date:02d} {_year_text(year)}"


def _time_text(f) -> str:
    return f"{f[3]:02d}:{f[4]:02d}:{f[5]:02d} {_ZONE}"


def date_string(d: JSDate, args=()) -> str:
    """String(date), `${date}`, date + "": toString's text."""
    t = d.time
    if t != t:
        return "Invalid Date"
    f = fields(t)
    return f"{_date_text(f)} {_time_text(f)}"


def date_only_string(d: JSDate, args=()) -> str:
    return "Invalid Date" if d.time != d.time else _date_text(fields(d.time))


def time_only_string(d: JSDate, args=()) -> str:
    return "Invalid Date" if d.time != d.time else _time_text(fields(d.time))


def utc_string(d: JSDate, args=()) -> str:
    t = d.time
    if t != t:
        return "Invalid Date"
    year, month, date, h, mi, s, _, weekday = fields(t)
    return f"{_DAYS[weekday]}, {date:02d} {_MONTHS[month]} {_year_text(year)} {h:02d}:{mi:02d}:{s:02d} GMT"
