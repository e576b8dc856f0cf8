"""Durations as people write them: a number of seconds, or a string such as "90s", "5m", "1h30m", "3d".

`Timer.delay` (in workflows) and `@task(timeout=…, backoff=…)` (in Python)
take both; a JavaScript developer's `Timer.delay(5000)` means 5000 seconds,
which the compiler warns about.
"""

from __future__ import annotations

import re

UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION = re.compile(r"(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ms|s|m|h|d|w))+")
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|s|m|h|d|w)")
EXAMPLES = '"30s", "5m", "1h30m", "3d"'


def parse_duration(text: str) -> float | None:
    """Seconds in a duration string ("1h30m" -> 5400.0); None if it is not one."""
    text = text.strip()
    if not _DURATION.fullmatch(text):
        return None
    return sum(float(n) * UNIT_SECONDS[unit] for n, unit in _PART.findall(text))


def seconds(value, what: str) -> float | None:
    """A Python-side duration (None, a number of seconds, or a duration string) in seconds; ValueError if bad."""
    if value is None or isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    parsed = parse_duration(value) if isinstance(value, str) else None
    if parsed is None:
        raise ValueError(f"{what} must be a number of seconds or a duration string like {EXAMPLES}, not {value!r}")
    return parsed
