"""Globals: Math, Number, String, Boolean, parseInt/parseFloat, Object,
Array, JSON, Date, RegExp (regexps.new_regexp), and ``new Error``.  Each is a plain module-level function
(JSON's are in json_text); the tables at the end give the compiler the JS names
and the argument counts it accepts."""

from __future__ import annotations

import math
import random
import struct
import sys
import time
import uuid

from .representation import (
    INF, NAN, UNDEFINED, _ABSENT, _MAX_HOLEY_LENGTH, JSClosure, JSDate, JSError, JSFunction, JSMap, JSRegExp, JSSet,
    JSThrow, MatchArray, Promise, range_error, type_error,
)
from .utf16 import _canonical, _units
from .number_text import _FLOAT_PREFIX, _WHITESPACE, _digits_prefix, _digits_value
from .conversions import _to_int32, _to_uint32, to_number, to_property_key, to_string, truthy, typeof
from .operators import pow, strict_eq
from .properties import GLOBAL_LENGTHS, get, has_own, own_keys, set_
from .calls import _callback, call
from .json_text import json_parse, json_stringify
from .regexps import new_regexp
from .uri import decode_uri, decode_uri_component, encode_uri, encode_uri_component
from .collections import _map_set, _not_iterable, _set_add, collection_items
from .dates import date_parse, date_utc


def _num(v) -> float:
    return v if type(v) is float else to_number(v)


def math_min(*args) -> float:
    result = INF
    for v in args:
        x = _num(v)
        if x != x:
            return NAN
        if x < result or (x == 0 and result == 0 and math.copysign(1.0, x) < 0):
            result = x
    return result


def math_max(*args) -> float:
    result = -INF
    for v in args:
        x = _num(v)
        if x != x:
            return NAN
        if x > result or (x == 0 and result == 0 and math.copysign(1.0, result) < 0):
            result = x
    return result


def math_floor(x=UNDEFINED) -> float:
    x = _num(x)
    if x != x or x == INF or x == -INF or x == int(x):
        return x  # keeps -0
    return float(math.floor(x))


def math_ceil(x=UNDEFINED) -> float:
    x = _num(x)
    if x != x or x == INF or x == -INF or x == int(x):
        return x
    return -0.0 if -1 < x < 0 else float(math.ceil(x))


def math_trunc(x=UNDEFINED) -> float:
    x = _num(x)
    if x != x or x == INF or x == -INF:
        return x
    return math.copysign(float(math.trunc(x)), x)


def math_round(x=UNDEFINED) -> float:
    """Half-way cases go toward +Infinity; -0.5 <= x < 0 gives -0."""
    x = _num(x)
    if x != x or x == INF or x == -INF or x == int(x):
        return x
    if -0.5 <= x < 0:
        return -0.0
    r = float(math.floor(x))
    return r + 1.0 if x - r >= 0.5 else r


def math_abs(x=UNDEFINED) -> float:
    return abs(_num(x))


def math_sign(x=UNDEFINED) -> float:
    x = _num(x)
    if x != x or x == 0:
        return x
    return 1.0 if x > 0 else -1.0


def math_pow(x=UNDEFINED, y=UNDEFINED) -> float:
    return pow(_num(x), _num(y))


def math_sqrt(x=UNDEFINED) -> float:
    x = _num(x)
    return NAN if x < 0 else math.sqrt(x)  # NaN passes through sqrt


def math_random() -> float:
    return random.random()


def crypto_random_uuid() -> str:
    """`crypto.randomUUID()`: a random version-4 UUID, lower-case, as Node's (kept in the run's state once made)."""
    return str(uuid.uuid4())


def date_now() -> float:
    return float(time.time_ns() // 1_000_000)


def number_call(value=_ABSENT) -> float:
    """``Number(value)``; ``Number()`` is 0."""
    return 0.0 if value is _ABSENT else to_number(value)


def string_call(value=_ABSENT) -> str:
    """``String(value)``; ``String()`` is ""."""
    return "" if value is _ABSENT else to_string(value)


def boolean_call(value=UNDEFINED) -> bool:
    return truthy(value)


def is_nan(value=UNDEFINED) -> bool:
    x = _num(value)
    return x != x


def is_finite(value=UNDEFINED) -> bool:
    x = _num(value)
    return x - x == 0


def number_is_nan(value=UNDEFINED) -> bool:
    return type(value) is float and value != value


def number_is_finite(value=UNDEFINED) -> bool:
    return type(value) is float and value - value == 0


def number_is_integer(value=UNDEFINED) -> bool:
    return type(value) is float and value - value == 0 and value == int(value)


def number_is_safe_integer(value=UNDEFINED) -> bool:
    return number_is_integer(value) and abs(value) <= 9007199254740991.0


def math_imul(a=UNDEFINED, b=UNDEFINED) -> float:
    """``Math.imul``: the low 32 bits of the integer product, as a signed integer."""
    n = (_to_uint32(a) * _to_uint32(b)) & 0xFFFFFFFF
    return float(n - 2**32 if n >= 2**31 else n)


def math_fround(value=UNDEFINED) -> float:
    """``Math.fround``: the nearest single-precision value (IEEE 754 rounding, as struct packs it)."""
    n = to_number(value)
    try:
        return struct.unpack("<f", struct.pack("<f", n))[0]
    except OverflowError:  # rounds beyond the largest single
        return math.copysign(INF, n)


def math_clz32(value=UNDEFINED) -> float:
    return float(32 - _to_uint32(value).bit_length())


def parse_int(string=UNDEFINED, radix=UNDEFINED) -> float:
    s = to_string(string).lstrip(_WHITESPACE)
    sign = -1.0 if s[:1] == "-" else 1.0
    if s[:1] in ("-", "+"):
        s = s[1:]
    r = _to_int32(radix)
    if r == 0:
        r = 16 if s[:2] in ("0x", "0X") else 10
    elif not 2 <= r <= 36:
        return NAN
    if r == 16 and s[:2] in ("0x", "0X"):
        s = s[2:]
    end = _digits_prefix(s, r)
    return sign * _digits_value(s[:end], r) if end else NAN


def parse_float(string=UNDEFINED) -> float:
    m = _FLOAT_PREFIX.match(to_string(string).lstrip(_WHITESPACE))
    return float(m.group()) if m else NAN


def string_from_char_code(*codes) -> str:
    """``String.fromCharCode``: one UTF-16 code unit per argument (ToUint16), pairs joined as stored."""
    return _canonical("".join(chr(_to_uint32(code) & 0xFFFF) for code in codes))


def string_from_code_point(*codes) -> str:
    """``String.fromCodePoint``: one code point per argument; RangeError for anything else."""
    out = []
    for code in codes:
        n = to_number(code)
        if not 0 <= n <= 0x10FFFF or n != math.floor(n):
            raise range_error(f"Invalid code point {to_string(n)}")
        out.append(chr(int(n)))
    return _canonical(_units("".join(out)))


def object_is(a=UNDEFINED, b=UNDEFINED) -> bool:
    """``Object.is``: SameValue (NaN is itself; 0 and -0 differ)."""
    if type(a) is float and type(b) is float:
        if a != a:
            return b != b
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    return strict_eq(a, b)


def array_is_array(value=UNDEFINED) -> bool:
    return type(value) is list or type(value) is MatchArray


def array_of(*items) -> list:
    return list(items)


def array_call(*items) -> list:
    """``Array(…)`` and ``new Array(…)``: one number is a length (its elements are `undefined`: workflows
    have no holes), anything else lists the elements."""
    if len(items) != 1 or type(items[0]) is not float:
        return list(items)
    n = items[0]
    if n != _to_uint32(n) or n > _MAX_HOLEY_LENGTH:  # (JS would accept a longer one, sparsely)
        raise range_error("Invalid array length")
    return [UNDEFINED] * int(n)


def array_from(items=UNDEFINED, map_fn=UNDEFINED) -> list:
    """``Array.from(iterable or array-like, mapFn)``: arrays and strings iterate,
    an object with a ``length`` is array-like; mapFn gets (value, index)."""
    if map_fn is not UNDEFINED:
        _callback(map_fn)
    t = type(items)
    if t is list or t is MatchArray or t is str:
        values = list(items)  # a string by code points, as it iterates
    elif items is None or items is UNDEFINED:
        raise type_error(f"{'undefined' if items is UNDEFINED else 'object null'} is not iterable "
                         f"(cannot read property Symbol(Symbol.iterator))")
    elif (values := collection_items(items)) is not None:
        pass
    else:
        n = to_number(get(items, "length")) if t is dict else 0.0
        n = 0 if n != n or n <= 0 else int(min(n, 2.0**24))
        values = [get(items, str(i)) for i in range(n)]
    if map_fn is UNDEFINED:
        return values
    return [call(map_fn, [v, float(i)], "") for i, v in enumerate(values)]


def _object_argument(value):
    if value is None or value is UNDEFINED:
        raise type_error("Cannot convert undefined or null to object")
    return value


def object_keys(obj=UNDEFINED) -> list:
    return own_keys(_object_argument(obj))


def object_values(obj=UNDEFINED) -> list:
    obj = _object_argument(obj)
    return [get(obj, k) for k in own_keys(obj)]


def object_entries(obj=UNDEFINED) -> list:
    obj = _object_argument(obj)
    return [[k, get(obj, k)] for k in own_keys(obj)]


def object_assign(target=UNDEFINED, *sources):
    _object_argument(target)
    for source in sources:
        if source is not None and source is not UNDEFINED:
            for k in own_keys(source):
                set_(target, k, get(source, k))
    return target


def object_from_entries(entries=UNDEFINED) -> dict:
    if type(entries) is str:
        entries = list(_units(entries))
    elif (items := collection_items(entries)) is not None:
        entries = items
    elif not isinstance(entries, list):
        raise _not_iterable(entries)
    out = {}
    for entry in entries:
        if entry is None or typeof(entry) not in ("object", "function"):  # any object is an entry object
            raise type_error(
                f"Iterator value {to_string(entry)} is not an entry object"
            )
        out[to_property_key(get(entry, 0.0))] = get(entry, 1.0)
    return out


def structured_clone(value=_ABSENT, options=UNDEFINED):
    """``structuredClone(value)``: a deep copy that keeps sharing and cycles, Maps, Sets, Dates, errors (a
    standard name, the message and the cause; not added properties) and regexps (lastIndex 0); functions and
    promises cannot be cloned (a DataCloneError, as the DOMException Node throws)."""
    if value is _ABSENT:
        raise type_error("The value argument must be specified")
    return _clone(value, {})


_CLONED_ERROR_NAMES = {"EvalError", "RangeError", "ReferenceError", "SyntaxError", "TypeError", "URIError"}


def _clone(v, memo: dict):
    t = type(v)
    if t is float or t is str or t is bool or v is None or v is UNDEFINED:
        return v
    if id(v) in memo:
        return memo[id(v)]
    if t is JSFunction or t is JSClosure or t is Promise:
        shown = "#<Promise>" if t is Promise else to_string(v)
        raise JSThrow(JSError("DataCloneError", f"{shown} could not be cloned."))
    if t is list:
        out = memo[id(v)] = []
        out.extend(_clone(x, memo) for x in v)
    elif t is MatchArray:
        out = memo[id(v)] = MatchArray((), {})
        out.extend(_clone(x, memo) for x in v)
        out.props = {k: _clone(x, memo) for k, x in v.props.items()}
    elif t is dict:
        out = memo[id(v)] = {}
        for k, x in v.items():
            out[k] = _clone(x, memo)
    elif t is JSMap:
        out = memo[id(v)] = JSMap()
        for k, x in list(v.data.values()):
            _map_set(out, [_clone(k, memo), _clone(x, memo)])
    elif t is JSSet:
        out = memo[id(v)] = JSSet()
        for cell in list(v.data.values()):
            _set_add(out, [_clone(cell[0], memo)])
    else:
        out = memo[id(v)] = _clone_leaf(v, memo)
    return out


def _clone_leaf(v, memo: dict):
    t = type(v)
    if t is JSDate:
        return JSDate(v.time)
    if t is JSRegExp:
        return JSRegExp(v.source, v.flags)
    # an error (the only other kind of value)
    error = JSError(v.name if v.name in _CLONED_ERROR_NAMES else "Error", v.message)
    if v.hidden and "cause" in v.hidden:
        memo[id(v)] = error
        error.hidden = {"cause": _clone(v.hidden["cause"], memo)}
    return error


def new_error(message=UNDEFINED, options=UNDEFINED, *_ignored, kind: str = "Error") -> JSError:
    """``new Error(message, { cause })`` (or ``new TypeError(…)``, … as `kind`): the cause becomes an own
    property, as in JS."""
    error = JSError(kind, "" if message is UNDEFINED else to_string(message))
    if type(options) is dict and "cause" in options:
        error.hidden = {"cause": options["cause"]}
    return error


VARIADIC = sys.maxsize

# JS name -> (function, fewest arguments, most arguments).
GLOBAL_FUNCTIONS: dict[str, tuple] = {
    "Math.min": (math_min, 0, VARIADIC),
    "Math.max": (math_max, 0, VARIADIC),
    "Math.floor": (math_floor, 1, 1),
    "Math.ceil": (math_ceil, 1, 1),
    "Math.abs": (math_abs, 1, 1),
    "Math.round": (math_round, 1, 1),
    "Math.sign": (math_sign, 1, 1),
    "Math.trunc": (math_trunc, 1, 1),
    "Math.pow": (math_pow, 2, 2),
    "Math.sqrt": (math_sqrt, 1, 1),
    "Math.imul": (math_imul, 2, 2),
    "Math.clz32": (math_clz32, 1, 1),
    "Math.fround": (math_fround, 1, 1),
    "Math.random": (math_random, 0, 0),
    "crypto.randomUUID": (crypto_random_uuid, 0, 0),
    "JSON.stringify": (json_stringify, 1, 3),
    "JSON.parse": (json_parse, 1, 2),
    "Object.keys": (object_keys, 1, 1),
    "Object.values": (object_values, 1, 1),
    "Object.entries": (object_entries, 1, 1),
    "Object.assign": (object_assign, 1, VARIADIC),
    "Object.fromEntries": (object_from_entries, 1, 1),
    "Object.hasOwn": (has_own, 2, 2),
    "Array.isArray": (array_is_array, 1, 1),
    "Array.from": (array_from, 1, 2),
    "Array.of": (array_of, 0, VARIADIC),
    "Array": (array_call, 0, VARIADIC),
    "Number": (number_call, 0, 1),
    "String": (string_call, 0, 1),
    "Boolean": (boolean_call, 0, 1),
    "parseInt": (parse_int, 1, 2),
    "parseFloat": (parse_float, 1, 1),
    "isNaN": (is_nan, 1, 1),
    "isFinite": (is_finite, 1, 1),
    "Number.isInteger": (number_is_integer, 1, 1),
    "Number.isFinite": (number_is_finite, 1, 1),
    "Number.isNaN": (number_is_nan, 1, 1),
    "Number.isSafeInteger": (number_is_safe_integer, 1, 1),
    "Number.parseFloat": (parse_float, 1, 1),
    "Number.parseInt": (parse_int, 1, 2),
    "Date.now": (date_now, 0, 0),
    "Date.UTC": (date_utc, 0, 7),
    "Date.parse": (date_parse, 0, 1),
    "String.fromCharCode": (string_from_char_code, 0, VARIADIC),
    "String.fromCodePoint": (string_from_code_point, 0, VARIADIC),
    "Object.is": (object_is, 2, 2),
    "structuredClone": (structured_clone, 1, 2),
    "RegExp": (new_regexp, 0, 2),
    "encodeURIComponent": (encode_uri_component, 1, 1),
    "encodeURI": (encode_uri, 1, 1),
    "decodeURIComponent": (decode_uri_component, 1, 1),
    "decodeURI": (decode_uri, 1, 1),
}
# JavaScript's `length` of the functions whose length is not their fewest arguments, and of Promise's (the
# compiler's, not in GLOBAL_FUNCTIONS). tests/test_builtin_lengths.py checks them against Node.
_LENGTHS = {"Math.min": 2, "Math.max": 2, "JSON.stringify": 3, "JSON.parse": 2, "Object.assign": 2, "Array": 1,
            "Number": 1, "String": 1, "Boolean": 1, "parseInt": 2, "Number.parseInt": 2, "Date.UTC": 7, "Date.parse": 1,
            "String.fromCharCode": 1, "String.fromCodePoint": 1, "structuredClone": 0, "RegExp": 2,
            **dict.fromkeys(("Promise.all", "Promise.any", "Promise.race", "Promise.allSettled", "Promise.resolve",
                             "Promise.reject"), 1)}
GLOBAL_LENGTHS.update({name: entry[1] for name, entry in GLOBAL_FUNCTIONS.items()}, **_LENGTHS)

GLOBAL_CONSTANTS: dict[str, object] = {
    "Math.PI": math.pi,
    "Math.E": math.e,
    "Number.MAX_SAFE_INTEGER": 9007199254740991.0,
    "Number.MIN_SAFE_INTEGER": -9007199254740991.0,
    "Number.EPSILON": 2.0**-52,
    "Number.MAX_VALUE": sys.float_info.max,
    "Number.MIN_VALUE": 5e-324,
    "Number.POSITIVE_INFINITY": INF,
    "Number.NEGATIVE_INFINITY": -INF,
    "Number.NaN": NAN,
    "Infinity": INF,
    "NaN": NAN,
    "undefined": UNDEFINED,
}


# The namespaces whose JavaScript global is also a function (`String(x)`, `new Date()`), with its `length`.
_CONSTRUCTOR_LENGTHS = {"String": 1, "Number": 1, "Array": 1, "Object": 1, "Date": 7, "Promise": 1}


def constructor_member(ns: str, key: str):
    """`String.name`, `Date.length`: the function behind a namespace; undefined for other members (and for
    `Math` and the others that are no function)."""
    if ns not in _CONSTRUCTOR_LENGTHS:
        return UNDEFINED
    if key == "name":
        return ns
    return float(_CONSTRUCTOR_LENGTHS[ns]) if key == "length" else UNDEFINED


def global_function(name: str) -> JSFunction:
    """A global such as ``Math.floor`` read as a value: one JSFunction per
    name, so ``Math.floor === Math.floor`` holds and a snapshot stores it by
    name.  Names outside GLOBAL_FUNCTIONS (``Task.run`` …) give a function
    that can only be called directly."""
    fn = _GLOBAL_VALUES.get(name)
    if fn is None:
        fn = _GLOBAL_VALUES[name] = JSFunction(name, UNDEFINED, _global_impl(name))
    return fn


def _global_impl(name: str):
    entry = GLOBAL_FUNCTIONS.get(name)
    if entry is None:

        def direct_only(this, args):
            raise type_error(f"{name} can only be called directly, as {name}(…)")

        return direct_only
    target, _, most = entry
    return lambda this, args: target(*args[:most])  # JS ignores extra arguments


_GLOBAL_VALUES = {
    name: JSFunction(name, UNDEFINED, _global_impl(name)) for name in GLOBAL_FUNCTIONS
}
# JavaScript's Number.parseFloat and Number.parseInt are the global functions themselves
# (`Number.parseFloat === parseFloat`); a snapshot that named them "Number.…" still decodes.
_GLOBAL_VALUES["Number.parseFloat"] = _GLOBAL_VALUES["parseFloat"]
_GLOBAL_VALUES["Number.parseInt"] = _GLOBAL_VALUES["parseInt"]
