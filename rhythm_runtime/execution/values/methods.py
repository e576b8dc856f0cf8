"""The built-in methods of arrays, numbers, booleans, errors, promises and functions, and the tables
that dispatch every receiver's methods (strings' and regexes' are in string_methods.py). Below
property access, which reads methods from these tables."""

from __future__ import annotations

import functools
from decimal import ROUND_HALF_UP, Context, Decimal

from .representation import (
    INF, RECEIVER_METHODS, UNDEFINED, JSClosure, JSDate, JSError, JSFunction, JSRegExp, MatchArray, Promise,
    is_method_value, range_error, type_error,
)
from .utf16 import _units
from .number_text import _radix_string, number_to_string
from .conversions import _error_string, _join, _relative, _to_integer, to_number, to_string, truthy
from .operators import strict_eq
from .calls import _arg, _call1, _callback, _shown, call, unbound_message
from .string_methods import _REGEXP_METHODS, _STRING_METHODS, _value_of
from .dates import DATE_METHODS


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
            if isinstance(r, list):  # a match array too
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


def _significant_digits(x: float, p: int) -> tuple[str, int]:
    """The p significant digits of non-negative x's exact binary value, ties away from zero (the spec's
    "larger n"), and the decimal exponent of the first."""
    if x == 0:
        return "0" * p, 0
    exact = Decimal(x)
    e = exact.adjusted()
    n = int(exact.scaleb(p - 1 - e, context=_FIXED_CONTEXT).quantize(Decimal(1), context=_FIXED_CONTEXT))
    if n >= 10**p:  # 9.99 to two digits is 10: one more digit before the point
        n, e = n // 10, e + 1
    return str(n), e


def _exponential(sign: str, digits: str, e: int) -> str:
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{sign}{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"


def _number_to_exponential(x: float, args):
    """Number#toExponential: one digit before the point and f after it (as many as it takes to tell x from
    its neighbours when f is not given), in exponential notation."""
    fraction = _arg(args, 0)
    f = _to_integer(fraction)
    if x != x or x in (INF, -INF):
        return number_to_string(x)
    if not 0 <= f <= 100:
        raise range_error("toExponential() argument must be between 0 and 100")
    sign, x = ("-", -x) if x < 0 else ("", x)
    if fraction is UNDEFINED:
        shortest = Decimal(repr(x)).normalize() if x else Decimal(0)
        return _exponential(sign, "".join(map(str, shortest.as_tuple().digits)), shortest.adjusted())
    return _exponential(sign, *_significant_digits(x, int(f) + 1))


def _number_to_precision(x: float, args):
    """Number#toPrecision: p significant digits of the exact binary value, ties away from zero, in
    exponential notation when the exponent is below -6 or not below p."""
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
    digits, e = _significant_digits(x, p)
    if e < -6 or e >= p:
        return _exponential(sign, digits, e)
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
_NUMBER_METHODS = {"toFixed": _number_to_fixed, "toExponential": _number_to_exponential,
                   "toPrecision": _number_to_precision, "toString": _number_to_string,
                   "valueOf": _value_of}
_BOOLEAN_METHODS = {"toString": _boolean_to_string}
_ERROR_METHODS = {"toString": _error_to_string}


def _promise_method_unavailable(p, args):
    raise type_error("promise methods can only be called while the workflow runs")


# then/catch/finally; execution/promises.py installs the implementations (they need the run's job queue).
_PROMISE_METHODS = {"then": _promise_method_unavailable, "catch": _promise_method_unavailable,
                    "finally": _promise_method_unavailable}
# The resolving functions `new Promise` hands its executor (JSFunctions whose data is the promise);
# not properties of promises, so only the snapshot codec looks them up here.
_RESOLVING_FUNCTIONS = {"resolve": _promise_method_unavailable, "reject": _promise_method_unavailable}
# -- functions: call, apply, bind (a workflow has no `this`: a function of the workflow ignores thisArg; a
# built-in method runs on thisArg) ---------------------------------------------------------------------------


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
    """A bound function: the target and the arguments bound so far, kept as data (a snapshot stores it); a
    built-in method's target is that method on thisArg."""
    if type(fn) is JSFunction and is_method_value(fn):
        this = _arg(args, 0)
        if this is None or this is UNDEFINED:  # JavaScript's TypeError comes when it is called
            fn = JSFunction("unbound", [fn], _unbound_call)
        else:
            fn = JSFunction(fn.name, _receiver(fn, this, "bound to"), fn.impl)
    return JSFunction("bound", [fn, *args[1:]], _bound_call)


def _unbound_call(target: list, args):
    raise type_error(unbound_message(target[0], "function"))


def _bound_call(bound: list, args):
    target, args = bound[0], bound[1:] + list(args)
    if type(target) is JSFunction and is_method_value(target):  # bound to its receiver by _function_bind
        return target.impl(target.this, args)
    return call(target, args, "bound function")


def _call_with_this(fn, this, args):
    if type(fn) is JSFunction and is_method_value(fn):
        return fn.impl(_receiver(fn, this, "called on"), args)
    return call(fn, args, "function")


# The array methods that only read their array: JavaScript runs them on a string too, as on an array of its
# code units (`[].map.call("ab", f)`).
_READING_ARRAY_METHODS = frozenset((
    "slice indexOf lastIndexOf includes join at flat toSorted toReversed toSpliced with keys values entries "
    "forEach map filter some every find findIndex findLast findLastIndex reduce reduceRight flatMap"
).split())


def _receiver(fn: JSFunction, this, verb: str):
    """`this` for the built-in method `fn`: JavaScript's TypeError without one; a string for an array method
    that only reads; a value of another type (which JavaScript's generic methods may accept) is refused."""
    if this is None or this is UNDEFINED:
        raise type_error(unbound_message(fn, "function"))
    if RECEIVER_METHODS.get(type(this), {}).get(fn.name) is fn.impl:
        return this
    if type(this) is str and fn.name in _READING_ARRAY_METHODS and _ARRAY_METHODS[fn.name] is fn.impl:
        return list(_units(this))
    raise type_error(f"{fn.name} cannot be {verb} {_shown(this)} in a workflow")


_FUNCTION_METHODS = {"call": _function_call, "apply": _function_apply, "bind": _function_bind}
# Functions of the codec that no receiver's table holds (their receiver is the data they carry).
_FREE_FUNCTIONS = {"bound": _bound_call, "unbound": _unbound_call}

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
    JSDate: DATE_METHODS,
}
_METHODS_BY_TYPE = {**_METHODS, JSError: _ERROR_METHODS, MatchArray: _ARRAY_METHODS}
RECEIVER_METHODS.update(_METHODS_BY_TYPE)
