"""Boundary copies: Python data entering a run (inputs, task results, signal
payloads) and JS values leaving it (task arguments, workflow results)."""

from __future__ import annotations

from .representation import INF, UNDEFINED, _MAX_SAFE, JSClosure, JSDate, JSFunction, MatchArray
from .date_time import to_json_value
from .utf16 import _canonical
from .json_text import _json_members, json_stringify, to_json_result
from .properties import _ordered_keys


def from_json(v):
    """A deep copy of JSON-like Python data as JS values: ints become floats,
    tuples become lists.  Raises Python's ``TypeError`` for anything that is
    not JSON (sets, bytes, datetimes, non-str keys, NaN or infinite floats)
    and ``ValueError`` for circular data."""
    try:
        return _from_json(v)
    except RecursionError:
        raise ValueError("value is circular or nested too deeply to be JSON") from None


def _from_json(v):
    t = type(v)
    if t is str:
        return _canonical(v)
    if t is float:
        if v - v == 0:
            return v
        raise TypeError(f"float {v!r} is not a JSON value")
    if t is bool or v is None:
        return v
    if t is int:
        return _int_to_float(v)
    if t is dict:
        return {_from_json_key(k): _from_json(x) for k, x in v.items()}
    if t is list or t is tuple:
        return [_from_json(x) for x in v]
    return _from_json(_exact_type(v))


def _exact_type(v):
    """A subclass of a JSON type (IntEnum, OrderedDict, numpy.float64 …) as
    its base type; anything else is rejected."""
    for base in (int, float, str, dict, list, tuple):
        if isinstance(v, base):
            return base(v) if base is not str else str.__str__(v)
    raise TypeError(f"{type(v).__name__} is not a JSON value")


def _from_json_key(k) -> str:
    if type(k) is str:
        return _canonical(k)
    if isinstance(k, str):
        return _canonical(str.__str__(k))
    raise TypeError(f"object keys must be str, not {type(k).__name__}")


def _int_to_float(i: int) -> float:
    try:
        return float(i)
    except OverflowError:  # as JSON.parse reads 1e400
        return INF if i > 0 else -INF


def json_copy(v):
    """``to_json(from_json(v))`` in one pass, as stored for a task's result: a copy of JSON-like Python data
    with ints kept within +-2**53 (other numbers as floats, too large ones null), tuples as lists, keys in
    JavaScript's order. Raises as ``from_json`` does."""
    try:
        return _json_copy(v)
    except RecursionError:
        raise ValueError("value is circular or nested too deeply to be JSON") from None


def _json_copy(v):
    t = type(v)
    if t is str:
        return _canonical(v)
    if t is int:
        return v if -_MAX_SAFE <= v <= _MAX_SAFE else _stored_number(_int_to_float(v))
    if t is float:
        if v - v == 0:
            return _stored_number(v)
        raise TypeError(f"float {v!r} is not a JSON value")
    if t is bool or v is None:
        return v
    if t is dict:
        out = {_from_json_key(k): _json_copy(x) for k, x in v.items()}
        return out if not any(k.isdigit() for k in out) else {k: out[k] for k in _ordered_keys(out)}
    if t is list or t is tuple:
        return [_json_copy(x) for x in v]
    return _json_copy(_exact_type(v))


def _stored_number(f: float):
    """What to_json makes of a JS number."""
    if f - f != 0:
        return None
    return int(f) if -_MAX_SAFE <= f <= _MAX_SAFE and f == int(f) else f


class _Circular(Exception):
    """to_json met a cycle."""


def to_json(v):
    """What ``JSON.parse(JSON.stringify(v))`` gives, as Python data: undefined
    and method properties dropped (null in arrays), NaN and +-Infinity null,
    errors as their own props, promises ``{}``, a Date its ISO text.  A top-level undefined is
    None; integral numbers within +-2**53 become ``int`` (-0 becomes 0).  A
    cycle raises the TypeError JSON.stringify raises."""
    try:
        return _to_json(to_json_result(v, ""), set())
    except _Circular:
        json_stringify(v)  # meets the same cycle and raises Node's TypeError
        raise


def _to_json(v, open_ids: set):
    t = type(v)
    if t is str or t is bool or v is None:
        return v
    if t is float:
        if v - v != 0:
            return None
        if -_MAX_SAFE <= v <= _MAX_SAFE and v == int(v):
            return int(v)
        return v
    if v is UNDEFINED or t is JSFunction or t is JSClosure:
        return None
    if id(v) in open_ids:
        raise _Circular
    open_ids.add(id(v))
    if t is list or t is MatchArray:
        out = [_to_json(to_json_result(x, str(i)), open_ids) for i, x in enumerate(v)]
    else:
        out = {}
        for k, x in _json_members(v, None):
            x = to_json_result(x, k)
            if x is not UNDEFINED and type(x) is not JSFunction and type(x) is not JSClosure:
                out[k] = _to_json(x, open_ids)
    open_ids.discard(id(v))
    return out
