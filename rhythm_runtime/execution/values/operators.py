"""The operators generated code calls: arithmetic, comparison, equality and
template literals."""

from __future__ import annotations

import math

from .representation import (
    INF, NAN, UNDEFINED, JSClosure, JSDate, JSError, JSFunction, JSMap, JSRegExp, JSSet, MatchArray,
    is_shared_function,
)
from .utf16 import _canonical, _concat, _string_lt
from .fdlibm_pow import _fdlibm_pow
from .conversions import _to_int32, _to_uint32, to_number, to_primitive, to_string


def add(a, b):
    ta = type(a)
    tb = type(b)
    if ta is float and tb is float:
        return a + b
    if ta is str and tb is str:
        return _concat(a, b)
    a = to_primitive(a)
    b = to_primitive(b)
    if type(a) is str or type(b) is str:
        return _concat(to_string(a), to_string(b))
    return to_number(a) + to_number(b)


def sub(a, b):
    if type(a) is float and type(b) is float:
        return a - b
    return to_number(a) - to_number(b)


def mul(a, b):
    if type(a) is float and type(b) is float:
        return a * b
    return to_number(a) * to_number(b)


def div(a, b):
    if type(a) is not float:
        a = to_number(a)
    if type(b) is not float:
        b = to_number(b)
    try:
        return a / b
    except ZeroDivisionError:
        if a != a or a == 0:
            return NAN
        return INF if (a > 0) == (math.copysign(1.0, b) > 0) else -INF


def mod(a, b):
    if type(a) is not float:
        a = to_number(a)
    if type(b) is not float:
        b = to_number(b)
    try:
        return math.fmod(a, b)
    except ValueError:  # x % 0, Infinity % y
        return NAN


def pow(a, b):  # noqa: A001 -- the JS operator's name
    x = a if type(a) is float else to_number(a)
    y = b if type(b) is float else to_number(b)
    if y != y:
        return NAN
    if y == 0:
        return 1.0
    if x != x:
        return NAN
    if x - x == 0 and y - y == 0 and x != 0:
        return _fdlibm_pow(x, y)
    if x == 1 or x == -1:  # and y is infinite
        return NAN
    try:  # zeros and infinities: exact results, which libm gets right
        return math.pow(x, y)
    except ValueError:  # 0 ** negative
        return -INF if math.copysign(1.0, x) < 0 and _is_odd_integer(y) else INF


def _is_odd_integer(y: float) -> bool:
    return y == int(y) and int(y) % 2 == 1 if -INF < y < INF else False


def neg(a):
    return -(a if type(a) is float else to_number(a))


def pos(a):
    return a if type(a) is float else to_number(a)


def bit_not(a) -> float:
    return float(~_to_int32(a))


def bit_and(a, b) -> float:
    return float(_to_int32(a) & _to_int32(b))


def bit_or(a, b) -> float:
    return float(_to_int32(a) | _to_int32(b))


def bit_xor(a, b) -> float:
    return float(_to_int32(a) ^ _to_int32(b))


def shift_left(a, b) -> float:
    n = (_to_int32(a) << (_to_uint32(b) & 31)) & 0xFFFFFFFF
    return float(n - 2**32 if n >= 2**31 else n)


def shift_right(a, b) -> float:
    return float(_to_int32(a) >> (_to_uint32(b) & 31))


def shift_right_unsigned(a, b) -> float:
    return float(_to_uint32(a) >> (_to_uint32(b) & 31))


def lt(a, b) -> bool:
    if type(a) is float and type(b) is float:
        return a < b
    a, b = _comparable(a, b)
    if type(a) is str:
        return _string_lt(a, b)
    return a < b


def gt(a, b) -> bool:
    return lt(b, a)


def le(a, b) -> bool:
    if type(a) is float and type(b) is float:
        return a <= b
    a, b = _comparable(a, b)
    if type(a) is str:
        return not _string_lt(b, a)
    return a <= b


def ge(a, b) -> bool:
    return le(b, a)


def _comparable(a, b):
    """Both strings, or both numbers (NaN compares false on its own); a Date compares as its time value."""
    a = a.time if type(a) is JSDate else to_primitive(a)
    b = b.time if type(b) is JSDate else to_primitive(b)
    if type(a) is str and type(b) is str:
        return a, b
    return to_number(a), to_number(b)


def strict_eq(a, b) -> bool:
    """``===``: no coercion; a bool is never equal to a number (even though
    Python says ``True == 1.0``); NaN is unequal to itself; objects compare
    by identity.  Built-in functions compare by function, as JS's shared
    prototype functions do (``[].push === [1].push``)."""
    t = type(a)
    if t is not type(b):
        return False
    if t is float or t is str or t is bool:
        return a == b
    if t is JSFunction:
        return a is b or (a.impl is b.impl and is_shared_function(a) and is_shared_function(b))
    return a is b


def strict_ne(a, b) -> bool:
    return not strict_eq(a, b)


def loose_eq(a, b) -> bool:
    """``==``: JavaScript's IsLooselyEqual. null and undefined equal each other
    and nothing else; a boolean compares as its number; a number and a string
    compare as numbers; an object compared with a primitive compares as its
    primitive (``[1] == 1``, ``[1, 2] == "1,2"``); two objects only by identity."""
    ta = type(a)
    tb = type(b)
    if ta is tb:
        return strict_eq(a, b)
    if a is None or a is UNDEFINED:
        return b is None or b is UNDEFINED
    if b is None or b is UNDEFINED:
        return False
    if ta is bool:
        return loose_eq(1.0 if a else 0.0, b)
    if tb is bool:
        return loose_eq(a, 1.0 if b else 0.0)
    if ta is float and tb is str:
        return a == to_number(b)
    if ta is str and tb is float:
        return to_number(a) == b
    if ta is float or ta is str:
        return loose_eq(a, to_primitive(b))
    if tb is float or tb is str:
        return loose_eq(to_primitive(a), b)
    return False  # two objects of different kinds


def loose_ne(a, b) -> bool:
    return not loose_eq(a, b)


_ERROR_KINDS = {"TypeError", "RangeError", "SyntaxError", "ReferenceError", "EvalError", "URIError",
                "AggregateError"}
_INSTANCE_TYPES = {"Array": (list, MatchArray), "Error": (JSError,), "Map": (JSMap,), "Set": (JSSet,),
                   "Date": (JSDate,), "RegExp": (JSRegExp,), "Function": (JSFunction, JSClosure)}


def instance_of(v, constructor: str) -> bool:
    """``v instanceof C`` for a built-in constructor's name. An error is an instance of its kind
    (TypeError, ...) by the name it was made with: one whose name the workflow assigned is an Error."""
    t = type(v)
    if constructor == "Object":
        return not (t is float or t is str or t is bool or v is None or v is UNDEFINED)
    if constructor in _ERROR_KINDS:
        return t is JSError and v.name == constructor and "name" not in v.props
    return t in _INSTANCE_TYPES[constructor]


def template(*parts) -> str:
    """A template literal: the parts' String() values, concatenated."""
    return _canonical("".join([p if type(p) is str else to_string(p) for p in parts]))
