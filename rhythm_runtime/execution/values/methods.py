"""The built-in methods of arrays, strings, numbers, booleans, errors and
promises, the tables that dispatch them, and ``call`` for a function value.
Below property access, which reads methods from these tables."""

from __future__ import annotations

import functools
import re
import unicodedata
from decimal import ROUND_HALF_UP, Context, Decimal

from .representation import (
    INF, NAN, UNDEFINED, _MAX_STRING_LENGTH, JSClosure, JSError, JSFunction, JSRegExp, MatchArray, Promise,
    range_error, type_error,
)
from .utf16 import _SURROGATE, _canonical, _unit_length, _units
from .number_text import _WHITESPACE, _radix_string, number_to_string
from .conversions import (
    _clamp, _error_string, _join, _relative, _to_integer, _to_uint32, to_number, to_string, truthy, typeof,
)
from .operators import strict_eq
from .regexps import all_matches, new_regexp, regexp_exec, regexp_split, regexp_to_string, to_length


# A method implementation takes (this, args): ``args`` is the list of JS
# arguments, read with _arg so a missing one is undefined, as in JS.


def call(fn, args, text: str):
    """``fn(...args)``; ``text`` is the callee's source for the message."""
    t = type(fn)
    if t is JSClosure:
        return JSClosure.invoke(fn, args)
    if t is JSFunction:
        return fn.impl(fn.this, args)
    raise type_error(f"{text} is not a function")


def _callback(fn, message: str | None = None):
    """A callback argument, or V8's TypeError naming the value that is not a function."""
    if type(fn) is JSClosure or type(fn) is JSFunction:
        return fn
    raise type_error(message or f"{_shown(fn)} is not a function")


def _shown(v) -> str:
    """A value as V8's 'is not a function' messages show it."""
    t = type(v)
    if t is dict:
        return "#<Object>"
    if t is list:
        return "[object Array]"
    if t is Promise:
        return "#<Promise>"
    return to_string(v)


def _call1(fn, value, i: int, a: list):
    """A callback's call: (element, index, array)."""
    t = type(fn)
    if t is JSClosure:
        return JSClosure.invoke(fn, [value, float(i), a])
    return fn.impl(fn.this, [value, float(i), a])


def _arg(args, i: int):
    return args[i] if len(args) > i else UNDEFINED


# -- arrays ----------------------------------------------------------------


def _array_push(a: list, args):
    a.extend(args)
    return float(len(a))


def _array_pop(a: list, args):
    return a.pop() if a else UNDEFINED


def _array_shift(a: list, args):
    return a.pop(0) if a else UNDEFINED


def _array_unshift(a: list, args):
    a[:0] = args
    return float(len(a))


def _array_slice(a: list, args):
    n = len(a)
    return a[_relative(_arg(args, 0), n, 0) : _relative(_arg(args, 1), n, n)]


def _array_splice(a: list, args):
    n = len(a)
    start = _relative(_arg(args, 0), n, 0)
    if len(args) == 0:
        count = 0
    elif len(args) == 1:
        count = n - start
    else:
        count = int(min(max(_to_integer(args[1]), 0.0), n - start))
    removed = a[start : start + count]
    a[start : start + count] = args[2:]
    return removed


def _array_index_of(a: list, args):
    target = _arg(args, 0)
    start = _relative(_arg(args, 1), len(a), 0)
    for i in range(start, len(a)):
        if strict_eq(a[i], target):
            return float(i)
    return -1.0


def _array_last_index_of(a: list, args):
    target = _arg(args, 0)
    n = len(a)
    start = n - 1
    if len(args) > 1:
        k = _to_integer(args[1])
        start = int(min(k, n - 1)) if k >= 0 else int(max(n + k, -1))
    for i in range(start, -1, -1):
        if strict_eq(a[i], target):
            return float(i)
    return -1.0


def _array_includes(a: list, args):
    target = _arg(args, 0)
    start = _relative(_arg(args, 1), len(a), 0)
    if type(target) is float and target != target:  # SameValueZero finds NaN
        return any(type(x) is float and x != x for x in a[start:])
    return any(strict_eq(x, target) for x in a[start:])


def _array_join(a: list, args):
    sep = _arg(args, 0)
    return _join(a, "," if sep is UNDEFINED else to_string(sep))


def _array_reverse(a: list, args):
    a.reverse()
    return a


def _array_concat(a: list, args):
    out = a[:]
    for x in args:
        if isinstance(x, list):
            out.extend(x)
        else:
            out.append(x)
    return out


def _array_at(a: list, args):
    k = _to_integer(_arg(args, 0))
    if k < 0:
        k += len(a)
    return a[int(k)] if 0 <= k < len(a) else UNDEFINED


def _array_fill(a: list, args):
    n = len(a)
    start = _relative(_arg(args, 1), n, 0)
    end = _relative(_arg(args, 2), n, n)
    if start < end:
        a[start:end] = [_arg(args, 0)] * (end - start)
    return a


def _array_flat(a: list, args):
    depth = _arg(args, 0)
    out: list = []
    try:
        _flatten_into(out, a, 1.0 if depth is UNDEFINED else _to_integer(depth))
    except RecursionError:
        raise range_error("Maximum call stack size exceeded") from None
    return out


def _flatten_into(out: list, a: list, depth: float) -> None:
    for x in a:
        if isinstance(x, list) and depth > 0:
            _flatten_into(out, x, depth - 1)
        else:
            out.append(x)


def _array_sort(a: list, args):
    """Stable; undefined last (never passed to the comparison function); without
    one, by String() in UTF-16 order.  A comparison result that is NaN counts as
    0.  (Python's sort and V8's are both TimSort, but a comparison function with
    side effects may see the pairs in another order.)"""
    a[:] = _sorted(a, _arg(args, 0))
    return a


def _sorted(a: list, compare) -> list:
    if compare is not UNDEFINED and type(compare) is not JSClosure and type(compare) is not JSFunction:
        raise type_error(
            "The comparison function must be either a function or undefined"
        )
    defined = [x for x in a if x is not UNDEFINED]
    if compare is UNDEFINED:
        defined.sort(key=_sort_key)
    else:
        def order(x, y) -> int:
            v = to_number(call(compare, [x, y], ""))
            return -1 if v < 0 else 1 if v > 0 else 0

        defined.sort(key=functools.cmp_to_key(order))
    return defined + [UNDEFINED] * (len(a) - len(defined))


def _array_to_sorted(a: list, args):
    return _sorted(a, _arg(args, 0))


def _array_to_reversed(a: list, args):
    return a[::-1]


def _array_to_spliced(a: list, args):
    copy = a[:]
    _array_splice(copy, args)
    return copy


def _array_with(a: list, args):
    index = to_number(_arg(args, 0))
    k = _to_integer(index)
    if k < 0:
        k += len(a)
    if not 0 <= k < len(a):
        raise range_error(f"Invalid index : {number_to_string(index)}")
    copy = a[:]
    copy[int(k)] = _arg(args, 1)
    return copy


# -- arrays: the methods that take a callback ---------------------------------
# As in JavaScript, a callback sees (element, index, array); indexes are those
# below the length at the start, and one removed meanwhile is skipped where JS
# skips holes (forEach, map, filter, some, every, reduce) and read as undefined
# where JS reads every index (find, findIndex, findLast, findLastIndex).


def _array_for_each(a: list, args):
    fn = _callback(_arg(args, 0))
    for i in range(len(a)):
        if i < len(a):
            _call1(fn, a[i], i, a)
    return UNDEFINED


def _array_map(a: list, args):
    fn = _callback(_arg(args, 0))
    n = len(a)
    out = [UNDEFINED] * n
    for i in range(n):
        if i < len(a):
            out[i] = _call1(fn, a[i], i, a)
    return out


def _array_filter(a: list, args):
    fn = _callback(_arg(args, 0))
    out = []
    for i in range(len(a)):
        if i < len(a):
            x = a[i]
            if truthy(_call1(fn, x, i, a)):
                out.append(x)
    return out


def _array_some(a: list, args):
    fn = _callback(_arg(args, 0))
    for i in range(len(a)):
        if i < len(a) and truthy(_call1(fn, a[i], i, a)):
            return True
    return False


def _array_every(a: list, args):
    fn = _callback(_arg(args, 0))
    for i in range(len(a)):
        if i < len(a) and not truthy(_call1(fn, a[i], i, a)):
            return False
    return True


def _element(a: list, i: int):
    return a[i] if i < len(a) else UNDEFINED


def _array_find(a: list, args):
    fn = _callback(_arg(args, 0))
    for i in range(len(a)):
        x = _element(a, i)
        if truthy(_call1(fn, x, i, a)):
            return x
    return UNDEFINED


def _array_find_index(a: list, args):
    fn = _callback(_arg(args, 0))
    for i in range(len(a)):
        if truthy(_call1(fn, _element(a, i), i, a)):
            return float(i)
    return -1.0


def _array_find_last(a: list, args):
    fn = _callback(_arg(args, 0))
    for i in range(len(a) - 1, -1, -1):
        x = _element(a, i)
        if truthy(_call1(fn, x, i, a)):
            return x
    return UNDEFINED


def _array_find_last_index(a: list, args):
    fn = _callback(_arg(args, 0))
    for i in range(len(a) - 1, -1, -1):
        if truthy(_call1(fn, _element(a, i), i, a)):
            return float(i)
    return -1.0


def _array_reduce(a: list, args):
    fn = _callback(_arg(args, 0))
    return _reduce(a, fn, args, range(len(a)))


def _array_reduce_right(a: list, args):
    fn = _callback(_arg(args, 0))
    return _reduce(a, fn, args, range(len(a) - 1, -1, -1))


def _reduce(a: list, fn, args, indexes):
    indexes = iter(indexes)
    if len(args) >= 2:
        acc = args[1]
    else:
        for i in indexes:
            if i < len(a):
                acc = a[i]
                break
        else:
            raise type_error("Reduce of empty array with no initial value")
    for i in indexes:
        if i < len(a):
            acc = call(fn, [acc, a[i], float(i), a], "")
    return acc


def _array_flat_map(a: list, args):
    fn = _callback(_arg(args, 0), "flatMap mapper function is not callable")
    out = []
    for i in range(len(a)):
        if i < len(a):
            r = _call1(fn, a[i], i, a)
            if type(r) is list:
                out.extend(r)
            else:
                out.append(r)
    return out


def _sort_key(x) -> str:
    return _units(to_string(x))


def _array_keys(a: list, args):
    """``keys()``, ``values()``, ``entries()``: arrays of what JavaScript's iterators would give (for…of,
    spreading and destructuring see the same values)."""
    return [float(i) for i in range(len(a))]


def _array_values(a: list, args):
    return a[:]


def _array_entries(a: list, args):
    return [[float(i), x] for i, x in enumerate(a)]


def _array_to_string(a: list, args):
    return _join(a, ",")


# -- strings ---------------------------------------------------------------


def _piece(s: str, u: str, start: int, end: int) -> str:
    """u[start:end] where u is _units(s), as a canonical string."""
    return s[start:end] if u is s else _canonical(u[start:end])


def _string_to_upper_case(s: str, args):
    return s.upper()


def _string_to_lower_case(s: str, args):
    return s.lower()


def _string_trim(s: str, args):
    return s.strip(_WHITESPACE)


def _string_trim_start(s: str, args):
    return s.lstrip(_WHITESPACE)


def _string_trim_end(s: str, args):
    return s.rstrip(_WHITESPACE)


def _string_split(s: str, args):
    separator = _arg(args, 0)
    limit = _arg(args, 1)
    lim = 2**32 - 1 if limit is UNDEFINED else _to_uint32(limit)
    if type(separator) is JSRegExp:
        return regexp_split(separator, s, lim)
    if separator is UNDEFINED:
        return [s] if lim else []
    separator = to_string(separator)
    if lim == 0:
        return []
    u = _units(s)
    if separator == "":
        return list(u[:lim])
    parts = u.split(_units(separator), lim)
    return [p if u is s else _canonical(p) for p in parts[:lim]]


def _string_starts_with(s: str, args):
    u = _units(s)
    return u.startswith(_units(to_string(_arg(args, 0))), _clamp(_arg(args, 1), len(u)))


def _string_ends_with(s: str, args):
    u = _units(s)
    end = _arg(args, 1)
    return u.endswith(
        _units(to_string(_arg(args, 0))),
        0,
        len(u) if end is UNDEFINED else _clamp(end, len(u)),
    )


def _string_includes(s: str, args):
    u = _units(s)
    return u.find(_units(to_string(_arg(args, 0))), _clamp(_arg(args, 1), len(u))) >= 0


def _string_index_of(s: str, args):
    u = _units(s)
    return float(
        u.find(_units(to_string(_arg(args, 0))), _clamp(_arg(args, 1), len(u)))
    )


def _string_last_index_of(s: str, args):
    u = _units(s)
    search = _units(to_string(_arg(args, 0)))
    position = to_number(_arg(args, 1))
    start = len(u) if position != position else _clamp(position, len(u))
    return float(u.rfind(search, 0, start + len(search)))


def _string_replace(s: str, args):
    if type(_arg(args, 0)) is JSRegExp:
        return _regexp_replace(args[0], s, _arg(args, 1))
    u = _units(s)
    pattern = _units(to_string(_arg(args, 0)))
    i = u.find(pattern)
    if i < 0:
        return s
    replacement = _replacement(s, u, pattern, i, _arg(args, 1))
    return _canonical(u[:i] + replacement + u[i + len(pattern) :])


def _string_replace_all(s: str, args):
    if type(_arg(args, 0)) is JSRegExp:
        if "g" not in args[0].flags:
            raise type_error("String.prototype.replaceAll called with a non-global RegExp argument")
        return _regexp_replace(args[0], s, _arg(args, 1))
    u = _units(s)
    pattern = _units(to_string(_arg(args, 0)))
    replace_value = _arg(args, 1)
    out = []
    done = 0
    for i in _occurrences(u, pattern):
        out.append(u[done:i])
        out.append(_replacement(s, u, pattern, i, replace_value))
        done = i + len(pattern)
    out.append(u[done:])
    return _canonical("".join(out))


def _regexp_replace(rx: JSRegExp, s: str, replace_value) -> str:
    """RegExp.prototype[@@replace]: every match with `g` (from lastIndex 0), else the first."""
    if "g" in rx.flags:
        rx.last_index = 0.0
        matches = all_matches(rx, s)
    else:
        found = regexp_exec(rx, s)
        matches = [] if found is None else [found]
    u = _units(s)
    out = []
    done = 0
    for m in matches:
        i = int(m.props["index"])
        matched = _units(m[0])
        out.append(u[done:i])
        out.append(_replacement(s, u, matched, i, replace_value, m[1:], m.props["groups"]))
        done = i + len(matched)
    out.append(u[done:])
    return _canonical("".join(out))


def _occurrences(u: str, pattern: str) -> list[int]:
    if not pattern:
        return list(range(len(u) + 1))
    found = []
    i = u.find(pattern)
    while i >= 0:
        found.append(i)
        i = u.find(pattern, i + len(pattern))
    return found


def _replacement(s: str, u: str, matched: str, i: int, replace_value, captures=(), groups=UNDEFINED) -> str:
    """The text (code units) that replaces ``matched`` (code units) found at unit position ``i``: a
    function is called as JS calls a replacer (matched, captures…, position, string[, groups]); a string
    has its $$, $&, $`, $', $n, $nn and $<name> patterns expanded (GetSubstitution)."""
    if typeof(replace_value) == "function":
        extra = [] if groups is UNDEFINED else [groups]
        name = getattr(replace_value, "name", "replacer")
        return _units(to_string(call(replace_value, [_canonical(matched), *captures, float(i), s, *extra], name)))
    text = _units(to_string(replace_value))
    if "$" not in text:
        return text
    return _substitute(text, u, matched, i, captures, groups)


def _substitute(text: str, u: str, matched: str, i: int, captures, groups) -> str:
    """GetSubstitution: each `$…` that names something replaced by it; any other `$` stays."""
    out = []
    k, n = 0, len(text)
    while k < n:
        c = text[k]
        d = text[k + 1] if k + 1 < n else ""
        if c != "$" or not d:
            out.append(c)
            k += 1
        elif d in "$&`'":
            out.append({"$": "$", "&": matched, "`": u[:i], "'": u[i + len(matched) :]}[d])
            k += 2
        elif d in _DIGITS:
            taken = _capture_reference(text, k, len(captures))
            if taken:
                value = captures[int(text[k + 1 : k + 1 + taken]) - 1]
                out.append("" if value is UNDEFINED else _units(value))
                k += 1 + taken
            else:
                out.append("$")
                k += 1
        elif d == "<" and groups is not UNDEFINED and text.find(">", k + 2) >= 0:
            end = text.find(">", k + 2)
            value = groups.get(text[k + 2 : end], UNDEFINED) if type(groups) is dict else UNDEFINED
            out.append("" if value is UNDEFINED else _units(to_string(value)))
            k = end + 1
        else:
            out.append("$")
            k += 1
    return "".join(out)


_DIGITS = "0123456789"


def _capture_reference(text: str, k: int, count: int) -> int:
    """How many digits after the `$` at ``k`` name a capture (2, 1, or 0 when `$n`/`$nn` names none)."""
    two = text[k + 1 : k + 3]
    if len(two) == 2 and two[1] in _DIGITS and 1 <= int(two) <= count:
        return 2
    return 1 if 1 <= int(text[k + 1]) <= count else 0


def _as_regexp(value, flags=UNDEFINED) -> JSRegExp:
    """The RegExp that match/matchAll/search use: the argument, or a new one from its text."""
    return value if type(value) is JSRegExp else new_regexp(value, flags)


def _string_match(s: str, args):
    rx = _as_regexp(_arg(args, 0))
    if "g" not in rx.flags:
        return regexp_exec(rx, s)
    rx.last_index = 0.0
    found = all_matches(rx, s)
    return [m[0] for m in found] if found else None


def _string_match_all(s: str, args):
    """Every match, as an array (JavaScript returns an iterator over the same matches); the RegExp's own
    lastIndex is left as it was."""
    value = _arg(args, 0)
    if type(value) is JSRegExp and "g" not in value.flags:
        raise type_error("String.prototype.matchAll called with a non-global RegExp argument")
    rx = _as_regexp(value, "g")
    return all_matches(JSRegExp(rx.source, rx.flags, float(to_length(rx.last_index))), s)


def _string_search(s: str, args):
    rx = _as_regexp(_arg(args, 0))
    previous, rx.last_index = rx.last_index, 0.0
    found = regexp_exec(rx, s)
    rx.last_index = previous
    return -1.0 if found is None else found.props["index"]


def _regexp_test(rx: JSRegExp, args):
    return regexp_exec(rx, to_string(_arg(args, 0))) is not None


def _regexp_exec(rx: JSRegExp, args):
    return regexp_exec(rx, to_string(_arg(args, 0)))


def _regexp_to_string(rx: JSRegExp, args):
    return regexp_to_string(rx)


def _string_pad_start(s: str, args):
    return _pad(s, args, at_start=True)


def _string_pad_end(s: str, args):
    return _pad(s, args, at_start=False)


def _pad(s: str, args, at_start: bool) -> str:
    u = _units(s)
    target = _to_integer(_arg(args, 0))
    filler = _arg(args, 1)
    filler = " " if filler is UNDEFINED else _units(to_string(filler))
    if target <= len(u) or not filler:
        return s
    if target > _MAX_STRING_LENGTH:
        raise range_error("Invalid string length")
    need = int(target) - len(u)
    padding = (filler * (need // len(filler) + 1))[:need]
    return _canonical(padding + u if at_start else u + padding)


def _string_repeat(s: str, args):
    count = _arg(args, 0)
    n = _to_integer(count)
    if n < 0 or n == INF:
        raise range_error(f"Invalid count value: {number_to_string(to_number(count))}")
    if not s or n == 0:
        return ""
    if _unit_length(s) * n > _MAX_STRING_LENGTH:
        raise range_error("Invalid string length")
    return _canonical(s * int(n))


def _string_slice(s: str, args):
    u = _units(s)
    n = len(u)
    return _piece(s, u, _relative(_arg(args, 0), n, 0), _relative(_arg(args, 1), n, n))


def _string_substring(s: str, args):
    u = _units(s)
    n = len(u)
    start = _clamp(_arg(args, 0), n)
    end = _arg(args, 1)
    end = n if end is UNDEFINED else _clamp(end, n)
    return _piece(s, u, min(start, end), max(start, end))


def _string_char_at(s: str, args):
    u = _units(s)
    k = _to_integer(_arg(args, 0))
    return u[int(k)] if 0 <= k < len(u) else ""


def _string_char_code_at(s: str, args):
    u = _units(s)
    k = _to_integer(_arg(args, 0))
    return float(ord(u[int(k)])) if 0 <= k < len(u) else NAN


def _string_code_point_at(s: str, args):
    """The code point at a code unit index: a surrogate pair's, or the unit's own (a lone surrogate)."""
    u = _units(s)
    k = _to_integer(_arg(args, 0))
    if not 0 <= k < len(u):
        return UNDEFINED
    i = int(k)
    first = ord(u[i])
    if 0xD800 <= first <= 0xDBFF and i + 1 < len(u) and 0xDC00 <= ord(u[i + 1]) <= 0xDFFF:
        return float(0x10000 + ((first - 0xD800) << 10) + ord(u[i + 1]) - 0xDC00)
    return float(first)


def _string_substr(s: str, args):
    """Annex B's substr(start, length)."""
    u = _units(s)
    size = len(u)
    start = _to_integer(_arg(args, 0))
    start = max(size + start, 0) if start < 0 else min(start, size)
    length = _arg(args, 1)
    count = size if length is UNDEFINED else min(max(_to_integer(length), 0), size)
    end = min(start + count, size)
    return _piece(s, u, int(start), int(end)) if start < end else ""


_NORMALIZATION_FORMS = ("NFC", "NFD", "NFKC", "NFKD")


def _string_normalize(s: str, args):
    form = "NFC" if _arg(args, 0) is UNDEFINED else to_string(args[0])
    if form not in _NORMALIZATION_FORMS:
        raise range_error("The normalization form should be one of NFC, NFD, NFKC, NFKD.")
    return _canonical(unicodedata.normalize(form, s))


def _string_is_well_formed(s: str, args):
    """A canonical string holds a surrogate only where it is lone (pairs are one code point)."""
    return s.isascii() or not _SURROGATE.search(s)


def _string_to_well_formed(s: str, args):
    """Each lone surrogate replaced by U+FFFD."""
    return s if s.isascii() else _SURROGATE.sub("\ufffd", s)


def _value_of(v, args):
    return v


def _string_at(s: str, args):
    u = _units(s)
    k = _to_integer(_arg(args, 0))
    if k < 0:
        k += len(u)
    return u[int(k)] if 0 <= k < len(u) else UNDEFINED


def _string_concat(s: str, args):
    return _canonical(s + "".join([to_string(x) for x in args]))


def _string_to_string(s: str, args):
    return s


# -- numbers, booleans, errors ---------------------------------------------

_FIXED_CONTEXT = Context(prec=200, rounding=ROUND_HALF_UP)
_FIXED_QUANTUM = [Decimal(1).scaleb(-f) for f in range(101)]


def _number_to_fixed(x: float, args):
    """Number#toFixed, rounding the exact binary value half away from zero."""
    f = _to_integer(_arg(args, 0))
    if not 0 <= f <= 100:
        raise range_error("toFixed() digits argument must be between 0 and 100")
    if x != x:
        return "NaN"
    if not -1e21 < x < 1e21:
        return number_to_string(x)
    quantized = Decimal(x or 0.0).quantize(
        _FIXED_QUANTUM[int(f)], context=_FIXED_CONTEXT
    )
    return format(quantized, "f")


def _number_to_precision(x: float, args):
    """Number#toPrecision: p significant digits of the exact binary value, ties away from zero (the spec's
    "larger n"), in exponential notation when the exponent is below -6 or not below p."""
    precision = _arg(args, 0)
    if precision is UNDEFINED:
        return number_to_string(x)
    p = _to_integer(precision)
    if x != x or x in (INF, -INF):
        return number_to_string(x)
    if not 1 <= p <= 100:
        raise range_error("toPrecision() argument must be between 1 and 100")
    p = int(p)
    sign, x = ("-", -x) if x < 0 else ("", x)
    if x == 0:
        digits, e = "0" * p, 0
    else:
        exact = Decimal(x)
        e = exact.adjusted()
        n = int(exact.scaleb(p - 1 - e, context=_FIXED_CONTEXT).quantize(Decimal(1), context=_FIXED_CONTEXT))
        if n >= 10**p:  # 9.99 to two digits is 10: one more digit before the point
            n, e = n // 10, e + 1
        digits = str(n)
    if e < -6 or e >= p:
        mantissa = digits[0] + ("." + digits[1:] if p > 1 else "")
        return f"{sign}{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"
    if e == p - 1:
        return sign + digits
    if e >= 0:
        return f"{sign}{digits[:e + 1]}.{digits[e + 1:]}"
    return f"{sign}0.{'0' * (-(e + 1))}{digits}"


def _number_to_string(x: float, args):
    radix = _arg(args, 0)
    r = 10.0 if radix is UNDEFINED else _to_integer(radix)
    if not 2 <= r <= 36:
        raise range_error("toString() radix argument must be between 2 and 36")
    if r == 10 or x != x or x == INF or x == -INF:
        return number_to_string(x)
    return _radix_string(x, int(r))


def _boolean_to_string(b: bool, args):
    return "true" if b else "false"


def _error_to_string(e: JSError, args):
    return _error_string(e)


_ARRAY_METHODS = {
    "push": _array_push,
    "pop": _array_pop,
    "shift": _array_shift,
    "unshift": _array_unshift,
    "slice": _array_slice,
    "splice": _array_splice,
    "indexOf": _array_index_of,
    "lastIndexOf": _array_last_index_of,
    "includes": _array_includes,
    "join": _array_join,
    "reverse": _array_reverse,
    "concat": _array_concat,
    "at": _array_at,
    "fill": _array_fill,
    "flat": _array_flat,
    "sort": _array_sort,
    "toSorted": _array_to_sorted,
    "toReversed": _array_to_reversed,
    "toString": _array_to_string,
    "keys": _array_keys,
    "values": _array_values,
    "entries": _array_entries,
    "forEach": _array_for_each,
    "map": _array_map,
    "filter": _array_filter,
    "some": _array_some,
    "every": _array_every,
    "find": _array_find,
    "findIndex": _array_find_index,
    "findLast": _array_find_last,
    "findLastIndex": _array_find_last_index,
    "reduce": _array_reduce,
    "reduceRight": _array_reduce_right,
    "flatMap": _array_flat_map,
    "toSpliced": _array_to_spliced,
    "with": _array_with,
}
_STRING_METHODS = {
    "toUpperCase": _string_to_upper_case,
    "toLowerCase": _string_to_lower_case,
    "trim": _string_trim,
    "trimStart": _string_trim_start,
    "trimEnd": _string_trim_end,
    "trimLeft": _string_trim_start,
    "trimRight": _string_trim_end,
    "codePointAt": _string_code_point_at,
    "substr": _string_substr,
    "normalize": _string_normalize,
    "isWellFormed": _string_is_well_formed,
    "toWellFormed": _string_to_well_formed,
    "valueOf": _value_of,
    "split": _string_split,
    "startsWith": _string_starts_with,
    "endsWith": _string_ends_with,
    "replace": _string_replace,
    "replaceAll": _string_replace_all,
    "padStart": _string_pad_start,
    "padEnd": _string_pad_end,
    "repeat": _string_repeat,
    "slice": _string_slice,
    "substring": _string_substring,
    "indexOf": _string_index_of,
    "lastIndexOf": _string_last_index_of,
    "charAt": _string_char_at,
    "charCodeAt": _string_char_code_at,
    "at": _string_at,
    "includes": _string_includes,
    "concat": _string_concat,
    "toString": _string_to_string,
    "match": _string_match,
    "matchAll": _string_match_all,
    "search": _string_search,
}
_REGEXP_METHODS = {"test": _regexp_test, "exec": _regexp_exec, "toString": _regexp_to_string}
_NUMBER_METHODS = {"toFixed": _number_to_fixed, "toPrecision": _number_to_precision, "toString": _number_to_string,
                   "valueOf": _value_of}
_BOOLEAN_METHODS = {"toString": _boolean_to_string}
_ERROR_METHODS = {"toString": _error_to_string}


def _promise_method_unavailable(p, args):
    raise type_error("promise methods can only be called while the workflow runs")


# then/catch/finally; execution/promises.py installs the implementations (they need the run's job queue).
_PROMISE_METHODS = {"then": _promise_method_unavailable, "catch": _promise_method_unavailable,
                    "finally": _promise_method_unavailable}
# The resolving functions `new Promise` hands its executor (method values whose receiver is the promise);
# not properties of promises, so only the snapshot codec looks them up here.
_RESOLVING_FUNCTIONS = {"resolve": _promise_method_unavailable, "reject": _promise_method_unavailable}
# -- functions: call, apply, bind (a workflow has no `this`: a function of the workflow ignores thisArg) ----


def _function_call(fn, args):
    return _call_with_this(fn, _arg(args, 0), args[1:])


def _function_apply(fn, args):
    items = _arg(args, 1)
    if items is None or items is UNDEFINED:
        return _call_with_this(fn, _arg(args, 0), [])
    if type(items) is not list and type(items) is not MatchArray:
        raise type_error("CreateListFromArrayLike called on non-object")
    return _call_with_this(fn, _arg(args, 0), list(items))


def _function_bind(fn, args):
    """A bound function: the target and the arguments bound so far, kept as data (a snapshot stores it)."""
    return JSFunction("bound", [fn, *args[1:]], _bound_call)


def _bound_call(bound: list, args):
    return call(bound[0], bound[1:] + list(args), "bound function")


def _call_with_this(fn, this, args):
    """A built-in method runs on `this` when `this` has that very method; a workflow's function ignores it."""
    if type(fn) is JSFunction and fn.impl is not _bound_call:
        if _METHODS_BY_TYPE.get(type(this), {}).get(fn.name) is not fn.impl:
            raise type_error(f"{fn.name} cannot be called on {_shown(this)} in a workflow")
        return fn.impl(this, args)
    return call(fn, args, "function")


_FUNCTION_METHODS = {"call": _function_call, "apply": _function_apply, "bind": _function_bind}
# Functions of the codec that no receiver's table holds (their receiver is the data they carry).
_FREE_FUNCTIONS = {"bound": _bound_call}

# Receivers whose methods call_method may dispatch without a property read
# (none of them can hold an own property that shadows a method).
_METHODS = {
    list: _ARRAY_METHODS,
    str: _STRING_METHODS,
    float: _NUMBER_METHODS,
    bool: _BOOLEAN_METHODS,
    JSRegExp: _REGEXP_METHODS,
    Promise: _PROMISE_METHODS,
    JSClosure: _FUNCTION_METHODS,
    JSFunction: _FUNCTION_METHODS,
}
_METHODS_BY_TYPE = {**_METHODS, JSError: _ERROR_METHODS, MatchArray: _ARRAY_METHODS}
