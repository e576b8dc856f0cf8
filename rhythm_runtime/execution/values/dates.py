"""Date objects in workflows: ``new Date(…)``, ``Date.UTC``, ``Date.parse`` and the methods.

The time value's arithmetic and text are in date_time (local time is UTC).  Date.parse reads the ISO
formats the standard defines and the common forms V8's fallback parser accepts (see ``_legacy``)."""

from __future__ import annotations

import re
import time

from .representation import NAN, UNDEFINED, JSDate
from .conversions import to_number, to_primitive, to_string
from .date_time import (_DAYS, _MONTHS, _integer, date_only_string, date_string, fields, make_date, make_day, make_time,
                        time_clip, time_only_string, to_iso_string, to_json_value, utc_string)


# -- construction --------------------------------------------------------------------------------------
def new_date(*args) -> JSDate:
    """``new Date()``, ``new Date(value)``, ``new Date(year, month, day?, h?, min?, s?, ms?)``."""
    if not args:
        return JSDate(float(time.time_ns() // 1_000_000))
    if len(args) == 1:
        v = args[0]
        if type(v) is JSDate:
            return JSDate(v.time)
        v = to_primitive(v)
        return JSDate(date_parse(v) if type(v) is str else time_clip(to_number(v)))
    return JSDate(time_clip(_from_components(args)))


def date_utc(*args) -> float:
    """``Date.UTC(year, month?, …)``: the time value of those UTC fields."""
    return time_clip(_from_components(args)) if args else NAN


def _from_components(args) -> float:
    nums = [to_number(a) for a in args[:7]]
    nums += [0.0, 1.0, 0.0, 0.0, 0.0, 0.0][len(nums) - 1 :]
    year = nums[0]
    if year - year == 0 and 0 <= _integer(year) <= 99:
        year = 1900 + _integer(year)
    return make_date(make_day(year, nums[1], nums[2]), make_time(*nums[3:7]))


# -- parsing -------------------------------------------------------------------------------------------
_ISO = re.compile(
    r"([+-]\d{6}|\d{4})(?:-(\d\d)(?:-(\d\d))?)?"
    r"(?:[Tt](\d\d):(\d\d)(?::(\d\d)(?:\.(\d+))?)?([Zz]|[+-]\d\d:?\d\d)?)?"
)


def date_parse(text=UNDEFINED) -> float:
    """``Date.parse(text)``: the ISO format (date-only forms are UTC), else the common other forms."""
    s = to_string(text).strip()
    m = _ISO.fullmatch(s)
    if m is not None:
        return _iso(m)
    return _legacy(s)


def _iso(m: re.Match) -> float:
    year_text, month, day, hh, mm, ss, frac, zone = m.groups()
    if year_text == "-000000":
        return NAN
    h, mi, sec = int(hh or 0), int(mm or 0), int(ss or 0)
    ms = int((frac or "0")[:3].ljust(3, "0"))
    mo, d = int(month or 1), int(day or 1)
    if not (1 <= mo <= 12 and 1 <= d <= 31 and mi < 60 and sec < 60) or h > 24:
        return NAN
    if h == 24 and (mi or sec or ms):
        return NAN
    t = make_date(make_day(float(int(year_text)), mo - 1.0, float(d)), make_time(h, mi, sec, ms))
    if zone and zone not in "Zz":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        t -= sign * (int(digits[:2]) * 60 + int(digits[2:])) * 60_000
    return time_clip(t)


_TOKEN = re.compile(r"\s+|\([^)]*\)|(\d+)|([A-Za-z]+)|([:/,.+-])")
_MONTH_INDEX = {name.lower(): i for i, name in enumerate(_MONTHS)}
_DAY_WORDS = {name.lower() for name in _DAYS}


def _legacy(s: str) -> float:
    """The forms V8's fallback parser is most often given: "2024-03-15 10:20:30", "2024/3/5", "3/15/2024",
    "March 15, 2024", "15 Mar 2024 10:20 PM", "Fri, 15 Mar 2024 10:20:30 GMT", toString's own output, with
    an optional zone (GMT, UTC, Z, +0530, +05:30, GMT+0200). Local time is UTC. Anything else: NaN."""
    tokens = _tokens(s)
    parts = None if tokens is None else _scan(tokens)
    if parts is None:
        return NAN
    numbers, month, clock, pm, offset = parts
    date = _date_fields(numbers, month)
    clock = _clock_fields(clock or [0, 0, 0, 0], pm)
    if date is None or clock is None:
        return NAN
    t = make_date(make_day(*map(float, date)), make_time(*clock))
    return time_clip(t - offset * 60_000)


# Zone names V8 knows, in minutes east of UTC.
_ZONE_WORDS = {"gmt": 0, "utc": 0, "ut": 0, "z": 0, "est": -300, "edt": -240, "cst": -360, "cdt": -300,
               "mst": -420, "mdt": -360, "pst": -480, "pdt": -420}


def _scan(tokens: list[tuple[str, str]]):
    """(date numbers as (value, digits), month 0-11 or None, clock or None, pm or None, offset minutes) of a
    date's tokens; None for a word that is no month, weekday, AM/PM or zone."""
    numbers: list[tuple[int, int]] = []
    clock = month = pm = None
    offset = 0
    zone_next = False  # a sign right after the clock, AM/PM or "GMT" starts an offset
    i = 0
    while i < len(tokens):
        kind, text = tokens[i]
        if kind == "num" and clock is None and i + 2 < len(tokens) and tokens[i + 1] == ("sep", ":"):
            clock, i = _clock(tokens, i)
            if clock is None:
                return None
            zone_next = True
            continue
        if zone_next and text in ("+", "-") and i + 1 < len(tokens) and tokens[i + 1][0] == "num":
            offset, i = _offset(tokens, i)
            if offset is None:
                return None
            zone_next = False
            continue
        if kind == "sign":
            return None
        word = text.lower() if kind == "word" else ""
        zone_next = word in ("am", "pm", *_ZONE_WORDS)
        if word in _ZONE_WORDS:
            offset = _ZONE_WORDS[word]
        elif kind == "num":
            numbers.append((int(text), len(text)))
        elif word in ("am", "pm"):
            pm = word == "pm"
        elif word[:3] in _MONTH_INDEX and len(word) >= 3 and month is None:
            month = _MONTH_INDEX[word[:3]]
        elif word and word[:3] not in _DAY_WORDS:
            return None
        i += 1
    return numbers, month, clock, pm, offset


def _clock_fields(clock: list[int], pm: bool | None) -> list[int] | None:
    """[h, min, s, ms] with AM/PM applied; None if out of range."""
    h, mi, sec, ms = clock
    if pm is not None:
        if not 1 <= h <= 12:
            return None
        h = h % 12 + (12 if pm else 0)
    return None if h > 24 or mi > 59 or sec > 59 else [h, mi, sec, ms]


def _tokens(s: str) -> list[tuple[str, str]] | None:
    out, pos = [], 0
    while pos < len(s):
        m = _TOKEN.match(s, pos)
        if m is None:
            return None
        pos = m.end()
        if m.group(1):
            out.append(("num", m.group(1)))
        elif m.group(2):
            out.append(("word", m.group(2)))
        elif m.group(3):  # a "-" right after a digit separates a date's numbers; elsewhere it is a sign
            sep = m.group(3)
            signed = sep == "+" or (sep == "-" and not s[m.start() - 1 : m.start()].isdigit())
            out.append(("sign" if signed else "sep", sep))
    return out


def _clock(tokens, i) -> tuple[list[int] | None, int]:
    """hh:mm[:ss[.mmm]] from tokens[i]; the index after it."""
    parts = [int(tokens[i][1])]
    i += 1
    while len(parts) < 3 and i + 1 < len(tokens) and tokens[i] == ("sep", ":") and tokens[i + 1][0] == "num":
        parts.append(int(tokens[i + 1][1]))
        i += 2
    if len(parts) < 2:
        return None, i
    ms = 0
    if len(parts) == 3 and i + 1 < len(tokens) and tokens[i] == ("sep", ".") and tokens[i + 1][0] == "num":
        ms = int(tokens[i + 1][1][:3].ljust(3, "0"))
        i += 2
    return [*parts, 0][:3] + [ms], i


def _offset(tokens, i) -> tuple[int | None, int]:
    """Minutes east of UTC from "+hhmm", "+hh", "+hh:mm" at tokens[i]; the index after it."""
    sign = -1 if tokens[i][1] == "-" else 1
    digits = tokens[i + 1][1]
    i += 2
    if len(digits) <= 2:
        hours, minutes = int(digits), 0
        if i + 1 < len(tokens) and tokens[i] == ("sep", ":") and tokens[i + 1][0] == "num":
            minutes = int(tokens[i + 1][1])
            i += 2
    elif len(digits) == 4:
        hours, minutes = int(digits[:2]), int(digits[2:])
    else:
        return None, i
    return sign * (hours * 60 + minutes), i


def _date_fields(numbers: list[tuple[int, int]], month: int | None) -> tuple[int, int, int] | None:
    """(year, month 0-11, day) from the date's numbers: year first when it has 3+ digits or exceeds 31,
    else month/day/year as in the US (V8's reading); a missing year is 2001, as V8 has it."""
    if month is not None:
        if not numbers or len(numbers) > 2:
            return None
        if len(numbers) == 1:
            value, digits = numbers[0]
            return (_year(value), month, 1) if value > 31 or digits >= 3 else (2001, month, value)
        (a, da), (b, db) = numbers
        if a > 31 or da >= 3:
            return _year(a), month, b
        return _year(b), month, a
    if len(numbers) != 3:
        return None
    (a, da), (b, db), (c, dc) = numbers
    if a > 31 or da >= 3:
        year, mo, day = _year(a), b, c
    else:
        year, mo, day = _year(c), a, b
    if not (1 <= mo <= 12 and 1 <= day <= 31):
        return None
    return year, mo - 1, day


def _year(value: int) -> int:
    """V8 reads a year below 100 (even "0099") as 19xx or 20xx."""
    if value < 100:
        return value + (2000 if value < 50 else 1900)
    return value


# -- reading and writing fields ---------------------------------------------------------------------
def _getter(index: int):
    def get(d: JSDate, args) -> float:
        t = d.time
        return NAN if t != t else float(fields(t)[index])

    return get


def _set_fields(d: JSDate, args, first: int, count: int) -> float:
    """setHours/setMinutes/setSeconds/setMilliseconds and setFullYear/setMonth/setDate: fields from
    `first` (0 year … 6 ms), up to `count` of them from the arguments; the rest kept."""
    t = d.time
    given = [to_number(a) for a in args[:count]] or [NAN]
    if t != t:
        if first != 0:
            return NAN
        t = 0.0
    values = [float(x) for x in fields(t)[:7]]
    values[first : first + len(given)] = given
    year, month, date, h, mi, s, ms = values
    d.time = time_clip(make_date(make_day(year, month, date), make_time(h, mi, s, ms)))
    return d.time


def _setter(first: int, count: int):
    return lambda d, args: _set_fields(d, args, first, count)


def _set_time(d: JSDate, args) -> float:
    d.time = time_clip(to_number(args[0] if args else UNDEFINED))
    return d.time


def _time_value(d: JSDate, args) -> float:
    return d.time


def _timezone_offset(d: JSDate, args) -> float:
    return NAN if d.time != d.time else 0.0


_GETTERS = ("FullYear", "Month", "Date", "Hours", "Minutes", "Seconds", "Milliseconds", "Day")
_SETTERS = (("FullYear", 0, 3), ("Month", 1, 2), ("Date", 2, 1), ("Hours", 3, 4), ("Minutes", 4, 3),
            ("Seconds", 5, 2), ("Milliseconds", 6, 1))

DATE_METHODS = {
    "getTime": _time_value, "valueOf": _time_value, "setTime": _set_time, "getTimezoneOffset": _timezone_offset,
    "toISOString": to_iso_string, "toJSON": to_json_value, "toString": date_string, "toDateString": date_only_string,
    "toTimeString": time_only_string, "toUTCString": utc_string,
    **{f"get{zone}{name}": _getter(i) for i, name in enumerate(_GETTERS) for zone in ("", "UTC")},
    **{f"set{zone}{name}": _setter(first, count) for name, first, count in _SETTERS for zone in ("", "UTC")},
}
