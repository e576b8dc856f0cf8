"""The abstract operations: typeof, ToBoolean, ToNumber, ToPrimitive, ToString,
the integer conversions of arguments, and Array#join (the ToString of an array,
so the two recurse into each other)."""

from __future__ import annotations

import math

from .representation import (
    INF, NAN, UNDEFINED, JSClosure, JSDate, JSError, JSFunction, JSMap, JSRegExp, JSSet, MatchArray, Promise, Undefined,
    native_function_name, range_error, type_error,
)
from .utf16 import _canonical
from .regexp_syntax import escaped_source
from .number_text import _string_to_number, number_to_string
from .date_time import date_string


_TYPEOF = {
    float: "number",
    str: "string",
    bool: "boolean",
    type(None): "object",
    Undefined: "undefined",
    JSFunction: "function",
    JSClosure: "function",
}


def typeof(v) -> str:
    return _TYPEOF.get(type(v), "object")


def truthy(v) -> bool:
    t = type(v)
    if t is bool:
        return v
    if t is float:
        return v == v and v != 0.0
    if t is str:
        return v != ""
    return v is not None and v is not UNDEFINED


def to_number(v) -> float:
    """ToNumber."""
    t = type(v)
    if t is float:
        return v
    if t is bool:
        return 1.0 if v else 0.0
    if t is str:
        return _string_to_number(v)
    if v is None:
        return 0.0
    if v is UNDEFINED:
        return NAN
    if t is JSDate:  # its valueOf
        return v.time
    return _string_to_number(to_primitive(v))


_FUNCTIONS = (JSClosure, JSFunction)
# JavaScript would call such a method; a conversion runs no workflow code (execution/effects.py relies on it).
_OWN_CONVERSION = ("an object with its own toString or valueOf method cannot be converted in a workflow; "
                   "call the method instead, as in `${o.toString()}`")


def _own_conversion(v: dict) -> None:
    """Refuse an object whose own toString or valueOf JavaScript would call (or whose own toString is no
    function: JavaScript's TypeError)."""
    if type(v.get("toString")) in _FUNCTIONS or type(v.get("valueOf")) in _FUNCTIONS:
        raise type_error(_OWN_CONVERSION)
    if "toString" in v:
        raise type_error("Cannot convert object to primitive value")


def to_primitive(v):
    """ToPrimitive without a hint: objects become their string form (a Date too; where a number is
    wanted, to_number and the comparisons read a Date's time value); primitives stay."""
    t = type(v)
    if t is list or t is MatchArray:
        return _join(v, ",")
    if t is dict:
        if "toString" in v or "valueOf" in v:
            _own_conversion(v)
        return "[object Object]"
    if t is JSRegExp:
        return f"/{escaped_source(v.source)}/{v.flags}"
    if t is JSError:
        return _error_string(v)
    if t is Promise:
        return "[object Promise]"
    if t is JSMap:
        return "[object Map]"
    if t is JSSet:
        return "[object Set]"
    if t is JSDate:
        return date_string(v)
    if t is JSFunction:
        shown = "" if v.name in ("bound", "unbound") else native_function_name(v)  # V8 shows a bound one unnamed
        return f"function {shown}() {{ [native code] }}"
    if t is JSClosure:
        return JSClosure.describe(v)[2]
    return v


def to_string(v) -> str:
    """String(v)."""
    t = type(v)
    if t is str:
        return v
    if t is float:
        return number_to_string(v)
    if t is bool:
        return "true" if v else "false"
    if v is None:
        return "null"
    if v is UNDEFINED:
        return "undefined"
    return to_primitive(v)


def to_property_key(v) -> str:
    return v if type(v) is str else to_string(v)


def _to_integer(v) -> float:
    """ToIntegerOrInfinity, as a float (so it may be +-inf)."""
    n = v if type(v) is float else to_number(v)
    if n != n:
        return 0.0
    if n == INF or n == -INF:
        return n
    return float(math.trunc(n))


def _to_uint32(v) -> int:
    n = v if type(v) is float else to_number(v)
    if n != n or n == INF or n == -INF:
        return 0
    return math.trunc(n) % 2**32


def _to_int32(v) -> int:
    n = _to_uint32(v)
    return n - 2**32 if n >= 2**31 else n


def _relative(v, length: int, default: int) -> int:
    """A relative index argument (negative counts from the end) clamped to
    ``[0, length]``; ``default`` when the argument is undefined."""
    if v is UNDEFINED:
        return default
    k = _to_integer(v)
    if k < 0:
        return int(max(length + k, 0))
    return int(min(k, length))


def _clamp(v, length: int) -> int:
    """An absolute index argument clamped to ``[0, length]``."""
    return int(min(max(_to_integer(v), 0.0), length))


def _error_string(e: JSError) -> str:
    """Error.prototype.toString."""
    if not e.name:
        return e.message
    if not e.message:
        return e.name
    return f"{e.name}: {e.message}"


def _join(a: list, sep: str, active: set | None = None) -> str:
    """Array#join; an array already being joined (a cycle) joins as ""."""
    if active is None:
        active = set()
    if id(a) in active:
        return ""
    active.add(id(a))
    try:
        parts = [_join_part(x, active) for x in a]
    except RecursionError:
        raise range_error("Maximum call stack size exceeded") from None
    finally:
        active.discard(id(a))
    return _canonical(sep.join(parts))


def _join_part(x, active: set) -> str:
    t = type(x)
    if t is str:
        return x
    if x is None or x is UNDEFINED:
        return ""
    if t is list or t is MatchArray:
        return _join(x, ",", active)
    return to_string(x)
