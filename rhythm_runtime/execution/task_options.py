"""Task.run's third argument `{ key, priority, delay, timeout }` and Workflow.run's `{ key, priority, delay,
queue }`, checked when the call runs.

The compiler refuses unknown names in an object literal; a computed object
reaches this check instead, which throws the TypeError or RangeError a
workflow can catch. What comes out is plain JSON for the task row (and the
in-process runner): the key as a string, a whole priority, delay and timeout
in seconds, the queue's name.
"""

from __future__ import annotations

import difflib

from rhythm_runtime.execution import values as _js
from rhythm_runtime.execution.durations import EXAMPLES, parse_duration

NAMES = ("key", "priority", "delay", "timeout")
WORKFLOW_NAMES = ("key", "priority", "delay", "queue")
# Priorities are whole numbers within Postgres's integer.
MAX_PRIORITY = 2**31 - 1


def task_options(name: str, options) -> dict:
    """The options of `Task.run(name, payload, options)` as stored; {} when none were given."""
    return _options(f"Task.run({name!r}) options", NAMES, options)


def workflow_options(name: str, options) -> dict:
    """The options of `Workflow.run(name, inputs, options)` as stored; {} when none were given."""
    return _options(f"Workflow.run({name!r}) options", WORKFLOW_NAMES, options)


def _options(what: str, names: tuple, options) -> dict:
    if options is _js.UNDEFINED or options is None:
        return {}
    if not isinstance(options, dict):
        raise _js.type_error(f"{what} must be an object such as {{ key: order.customerId, priority: 10 }}")
    out = {}
    for option, value in options.items():
        if option not in names:
            match = difflib.get_close_matches(option, names, n=1)
            hint = f" (did you mean '{match[0]}'?)" if match else f" (the options are {', '.join(names)})"
            raise _js.type_error(f"{what}: '{option}' is not an option" + hint)
        if value is _js.UNDEFINED or value is None:
            continue
        out[option] = _CHECKS[option](what, option, value)
    return out


def _key(what: str, option: str, value) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, float)):
        raise _js.type_error(f"{what}: key must be a string or a number, not {_js.typeof(value)}")
    return _js.to_string(value)


def _priority(what: str, option: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, float) or value != value or value % 1:
        raise _js.type_error(f"{what}: priority must be a whole number (higher runs first)")
    if abs(value) > MAX_PRIORITY:
        raise _js.range_error(f"{what}: priority must be between -{MAX_PRIORITY} and {MAX_PRIORITY}")
    return int(value)


def _seconds(what: str, option: str, value) -> float:
    secs = parse_duration(value) if isinstance(value, str) else value
    if isinstance(secs, bool) or not isinstance(secs, float) or secs != secs or secs < 0 or secs == float("inf"):
        raise _js.range_error(f"{what}: {option} must be a number of seconds (0 or more) or a duration like "
                              f"{EXAMPLES}")
    if option == "timeout" and secs == 0:
        raise _js.range_error(f"{what}: timeout must be more than 0 seconds")
    return secs


def _queue(what: str, option: str, value) -> str:
    if not isinstance(value, str) or not value:
        raise _js.type_error(f"{what}: queue must be a queue's name (a non-empty string)")
    return value


_CHECKS = {"key": _key, "priority": _priority, "delay": _seconds, "timeout": _seconds, "queue": _queue}
