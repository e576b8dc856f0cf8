"""Property access: ``obj[key]`` read and written, ``delete``, ``in``, the own
keys ``for…in`` visits, and ``obj.name(...)`` calls."""

from __future__ import annotations

from .representation import (
    UNDEFINED, _ABSENT, _MAX_ARRAY_INDEX, _MAX_HOLEY_LENGTH, JSClosure, JSDate, JSError, JSFunction, JSMap,
    JSRegExp, JSSet, JSThrow, MatchArray, Promise, is_method_value, native_function_name, range_error, type_error,
)
from .utf16 import _unit_length, _units
from .conversions import _error_string, to_number, to_property_key, to_string, typeof
from .calls import call
from .methods import (
    _ARRAY_METHODS, _ERROR_METHODS, _FUNCTION_METHODS, _METHODS, _PROMISE_METHODS, _bound_call, _call_with_this,
    _unbound_call,
)
from .string_methods import _REGEXP_METHODS, _STRING_METHODS
from .regexps import regexp_property
from .collections import _MAP_METHODS, _SET_METHODS, collection_size


def _index_key(key: str) -> int | None:
    """The array index a canonical key like "12" names, else None."""
    if (
        key.isdigit()
        and len(key) <= 10
        and key.isascii()
        and (key[0] != "0" or len(key) == 1)
    ):
        i = int(key)
        if i <= _MAX_ARRAY_INDEX:
            return i
    return None


def _float_index(key: float) -> int | None:
    if 0 <= key <= _MAX_ARRAY_INDEX and key == int(key):
        return int(key)
    return None


def _ordered_keys(d: dict) -> list[str]:
    """JS own-key order: array indexes ascending, then insertion order."""
    indexes = [k for k in d if k.isdigit() and _index_key(k) is not None]  # (most keys: one str method)
    if not indexes:
        return list(d)
    indexes.sort(key=int)
    return indexes + [k for k in d if _index_key(k) is None]


def own_keys(obj) -> list[str]:
    """The keys ``for…in`` visits and ``Object.keys`` returns."""
    t = type(obj)
    if t is dict:
        return _ordered_keys(obj)
    if t is list:
        return [str(i) for i in range(len(obj))]
    if t is str:
        return [str(i) for i in range(_unit_length(obj))]
    if t is JSError:
        return _ordered_keys(obj.props)
    if t is MatchArray:
        return [str(i) for i in range(len(obj))] + list(obj.props)
    return []


def get(obj, key):
    """``obj[key]``."""
    if type(obj) is dict:
        return obj.get(key if type(key) is str else to_property_key(key), UNDEFINED)
    t = type(obj)
    if t is list:
        if type(key) is float and 0 <= key < len(obj) and key == int(key):
            return obj[int(key)]
        return _get_array(obj, key)
    if t is str:
        return _get_string(obj, key)
    if obj is None or obj is UNDEFINED:
        raise type_error(
            f"Cannot read properties of {to_string(obj)} (reading '{to_property_key(key)}')"
        )
    if t is JSError:
        return _get_error(obj, to_property_key(key))
    if t is MatchArray:
        return _get_match(obj, key)
    if t is JSRegExp:
        return _get_regexp(obj, to_property_key(key))
    if t is JSClosure or t is JSFunction:
        return _get_function(obj, to_property_key(key))
    if t is JSMap or t is JSSet:
        key = to_property_key(key)
        return collection_size(obj) if key == "size" else _method_value(obj, _COLLECTION_METHODS[t], key)
    table = _METHODS.get(t)  # numbers, booleans and promises
    return (
        UNDEFINED if table is None else _method_value(obj, table, to_property_key(key))
    )


def get_optional(obj, key):
    """``obj?.[key]``."""
    if obj is None or obj is UNDEFINED:
        return UNDEFINED
    return get(obj, key)


def _get_array(a: list, key):
    if type(key) is float:
        i = _float_index(key)
        return a[i] if i is not None and i < len(a) else UNDEFINED
    key = to_property_key(key)
    if key == "length":
        return float(len(a))
    i = _index_key(key)
    if i is not None:
        return a[i] if i < len(a) else UNDEFINED
    return _method_value(a, _ARRAY_METHODS, key)


def _get_string(s: str, key):
    if type(key) is float:
        i = _float_index(key)
        if i is None:
            return UNDEFINED
    else:
        key = to_property_key(key)
        if key == "length":
            return float(_unit_length(s))
        i = _index_key(key)
        if i is None:
            return _method_value(s, _STRING_METHODS, key)
    u = _units(s)
    return u[i] if i < len(u) else UNDEFINED


def _get_error(e: JSError, key: str):
    if key == "message":
        return e.message
    value = e.props.get(key, _ABSENT)
    if value is not _ABSENT:
        return value
    if key == "name":
        return e.name
    if key == "stack":
        return _error_string(e)
    if e.hidden is not None and key in e.hidden:
        return e.hidden[key]
    return _method_value(e, _ERROR_METHODS, key)


def _get_match(m: MatchArray, key):
    if type(key) is not float:
        key = to_property_key(key)
        if key in m.props:
            return m.props[key]
    return _get_array(m, key)


def _get_regexp(rx: JSRegExp, key: str):
    value = regexp_property(rx, key)
    return _method_value(rx, _REGEXP_METHODS, key) if value is None else value


def _get_function(fn, key: str):
    """A function's `name`, `length`, `call`, `apply` and `bind`; it has no other properties."""
    if key == "name":
        return function_name(fn)
    if key == "length":
        return float(_function_length(fn))
    return _method_value(fn, _FUNCTION_METHODS, key)


# The `length` of each global function, by name; global_objects.py, which defines them, fills it in.
GLOBAL_LENGTHS: dict[str, int] = {}
# The `length` of the built-in methods whose length is not 0 (Number's toString is 1, the others' 0);
# tests/test_builtin_lengths.py checks every receiver's methods against Node.
_METHOD_LENGTHS = {
    **dict.fromkeys((
        "push unshift indexOf lastIndexOf includes join concat at fill sort toSorted forEach map filter some every "
        "find findIndex findLast findLastIndex reduce reduceRight flatMap codePointAt startsWith endsWith padStart "
        "padEnd repeat charAt charCodeAt match matchAll search toFixed toExponential toPrecision call bind catch "
        "finally test exec get has delete add setTime toJSON setDate setUTCDate setMilliseconds setUTCMilliseconds"
    ).split(), 1),
    **dict.fromkeys((
        "slice splice toSpliced with substr split replace replaceAll substring apply then set setMonth setUTCMonth "
        "setSeconds setUTCSeconds"
    ).split(), 2),
    **dict.fromkeys("setFullYear setUTCFullYear setMinutes setUTCMinutes".split(), 3),
    **dict.fromkeys("setHours setUTCHours".split(), 4),
}
def function_name(fn) -> str:
    """JavaScript's `name` of a function value."""
    if type(fn) is JSClosure:
        return JSClosure.describe(fn)[0]
    if fn.impl is _bound_call:
        return "bound " + function_name(fn.this[0])
    if fn.impl is _unbound_call:  # (a built-in method bound to null)
        return function_name(fn.this[0])
    return native_function_name(fn)


def _function_length(fn) -> int:
    if type(fn) is JSClosure:
        return JSClosure.describe(fn)[1]
    if fn.impl is _bound_call:
        return max(0, _function_length(fn.this[0]) - (len(fn.this) - 1))
    if fn.impl is _unbound_call:
        return _function_length(fn.this[0])
    if fn.this is UNDEFINED:
        return GLOBAL_LENGTHS.get(fn.name, 0)
    if not is_method_value(fn):
        return 1
    return 1 if type(fn.this) is float and fn.name == "toString" else _METHOD_LENGTHS.get(fn.name, 0)


def _method_value(obj, table: dict, key: str):
    impl = table.get(key)
    return UNDEFINED if impl is None else JSFunction(key, obj, impl)


def set_(obj, key, value):
    """``obj[key] = value``; returns ``value``."""
    if type(obj) is dict:
        obj[key if type(key) is str else to_property_key(key)] = value
        return value
    t = type(obj)
    if t is list:
        _set_array(obj, key, value)
    elif t is MatchArray:
        _set_match(obj, key, value)
    elif t is JSRegExp:
        _set_regexp(obj, to_property_key(key), value)
    elif t is JSError:
        _set_error(obj, to_property_key(key), value)
    elif obj is None or obj is UNDEFINED:
        raise type_error(
            f"Cannot set properties of {to_string(obj)} (setting '{to_property_key(key)}')"
        )
    elif t is Promise or t is JSFunction or t is JSClosure or t is JSMap or t is JSSet or t is JSDate:
        raise _no_named_properties(obj, key)
    else:  # a primitive: a TypeError in strict mode, which Node runs us in
        raise _primitive_write(obj, to_property_key(key))
    return value


def _set_match(m: MatchArray, key, value) -> None:
    if type(key) is not float:
        key = to_property_key(key)
        if key != "length" and _index_key(key) is None:
            m.props[key] = value
            return
    _set_array(m, key, value)


def _set_regexp(rx: JSRegExp, key: str, value) -> None:
    if key == "lastIndex":
        rx.last_index = value
    elif regexp_property(rx, key) is not None:
        raise type_error(f"Cannot set property {key} of {to_string(rx)} which has only a getter")
    else:
        raise _no_named_properties(rx, key)


def _primitive_write(obj, key: str) -> JSThrow:
    """Node's TypeError for ``"s".x = 1`` / ``(5).x = 1`` (strict mode)."""
    if type(obj) is str:
        i = _index_key(key)
        if key == "length" or (i is not None and i < len(obj)):
            return type_error(
                f"Cannot assign to read only property '{key}' of string '{obj}'"
            )
    return type_error(
        f"Cannot create property '{key}' on {typeof(obj)} '{to_string(obj)}'"
    )


def _set_array(a: list, key, value) -> None:
    if type(key) is float:
        i = _float_index(key)
    else:
        key = to_property_key(key)
        if key == "length":
            _set_length(a, value)
            return
        i = _index_key(key)
    if i is None:
        raise _no_named_properties(a, key)
    if i < len(a):
        a[i] = value
        return
    if i >= _MAX_HOLEY_LENGTH:  # JS would accept it, sparsely
        raise range_error("Invalid array length")
    a.extend([UNDEFINED] * (i - len(a)))
    a.append(value)


def _set_length(a: list, value) -> None:
    n = to_number(value)
    if not 0 <= n <= 2**32 - 1 or n != int(n):
        raise range_error("Invalid array length")
    n = int(n)
    if n <= len(a):
        del a[n:]
    elif n > _MAX_HOLEY_LENGTH:
        raise range_error("Invalid array length")
    else:
        a.extend([UNDEFINED] * (n - len(a)))


def _set_error(e: JSError, key: str, value) -> None:
    if key == "message":
        e.message = to_string(value)
        return
    e.props[key] = value
    if key == "name":
        e.name = "Error" if value is UNDEFINED else to_string(value)


_COLLECTION_METHODS = {JSMap: _MAP_METHODS, JSSet: _SET_METHODS}

_NAMED = {
    list: "an array (Rhythm arrays hold only elements)",
    JSMap: "a Map (use map.set(key, value) for its entries)",
    JSSet: "a Set (use set.add(value) for its values)",
    JSDate: "a Date (Rhythm dates hold only their time)",
    Promise: "a promise",
    JSFunction: "a function",
    JSRegExp: "a regular expression (Rhythm's hold only lastIndex)",
    JSClosure: "a function (Rhythm functions hold no properties)",
}


def _no_named_properties(obj, key) -> JSThrow:
    """Unlike JS, Rhythm's arrays (plain lists), promises and method values
    hold no named properties: say so instead of losing the write."""
    return type_error(
        f"Cannot create property '{to_property_key(key)}' on {_NAMED[type(obj)]}"
    )


def delete(obj, key) -> bool:
    """``delete obj[key]``; False where JS refuses (array/string length,
    string indexes).  An array element becomes undefined (no holes)."""
    if obj is None or obj is UNDEFINED:
        raise type_error("Cannot convert undefined or null to object")
    t = type(obj)
    key = to_property_key(key)
    if t is dict:
        obj.pop(key, None)
    elif t is list:
        if key == "length":
            return False
        i = _index_key(key)
        if i is not None and i < len(obj):
            obj[i] = UNDEFINED
    elif t is str:
        i = _index_key(key)
        return not (key == "length" or (i is not None and i < _unit_length(obj)))
    elif t is JSError:
        if key == "message":
            obj.message = ""
        obj.props.pop(key, None)
    return True


def _in_key_text(key) -> str:
    """How Node's `in` TypeError shows the key (objects are not converted)."""
    if type(key) is list:
        return "[object Array]"
    if type(key) is dict:
        return "#<Object>"
    return to_property_key(key)


def has_property(key, obj) -> bool:
    """``key in obj``."""
    t = type(obj)
    if t is dict:
        return to_property_key(key) in obj
    if t is MatchArray:
        return to_property_key(key) in obj.props or has_property(key, list(obj))
    if t is JSRegExp:
        key = to_property_key(key)
        return regexp_property(obj, key) is not None or key in _REGEXP_METHODS
    if t is JSMap or t is JSSet:
        key = to_property_key(key)
        return key == "size" or key in _COLLECTION_METHODS[t]
    if t is JSDate:
        return to_property_key(key) in _METHODS[t]
    if t is not list and t is not JSError and t is not Promise and t is not JSFunction and t is not JSClosure:
        raise type_error(
            f"Cannot use 'in' operator to search for '{_in_key_text(key)}' in {to_string(obj)}"
        )
    key = to_property_key(key)
    if t is list:
        i = _index_key(key)
        return (
            key == "length" or (i is not None and i < len(obj)) or key in _ARRAY_METHODS
        )
    if t is JSError:
        return (
            key in ("name", "message", "stack")
            or key in obj.props
            or (obj.hidden is not None and key in obj.hidden)  # cause, errors
            or key in _ERROR_METHODS
        )
    if t is JSClosure:
        return key in ("name", "length") or key in _FUNCTION_METHODS
    if t is JSFunction:
        return key in _FUNCTION_METHODS
    if t is Promise:
        return key in _PROMISE_METHODS
    return False


def has_own(obj=UNDEFINED, key=UNDEFINED) -> bool:
    """``Object.hasOwn(obj, key)``: the object's own properties, not its methods (which JavaScript keeps on
    the prototype)."""
    if obj is None or obj is UNDEFINED:
        raise type_error("Cannot convert undefined or null to object")
    key = to_property_key(key)
    t = type(obj)
    if t is dict:
        return key in obj
    if t is list or t is str or t is MatchArray:
        i = _index_key(key)
        length = _unit_length(obj) if t is str else len(obj)
        return key == "length" or (i is not None and i < length) or (t is MatchArray and key in obj.props)
    if t is JSError:
        return key in ("stack", "message") or key in obj.props or (obj.hidden is not None and key in obj.hidden)
    if t is JSClosure or t is JSFunction:
        return key in ("name", "length")
    if t is JSRegExp:
        return key == "lastIndex"
    return False


def call_method(obj, name, args, text: str):
    """``obj.name(...args)``."""
    table = _METHODS.get(type(obj))
    if table is not None and type(name) is str:
        impl = table.get(name)
        if impl is not None:
            return impl(obj, args)
    if name == "hasOwnProperty" and obj is not None and obj is not UNDEFINED and not has_own(obj, name):
        return has_own(obj, args[0] if args else UNDEFINED)  # Object.prototype's, which every value inherits
    fn = get(obj, name)
    if type(fn) is JSFunction:  # `obj` is its `this` (a built-in method kept in a property runs on it)
        return _call_with_this(fn, obj, args)
    return call(fn, args, text)


def call_on(obj, fn, args, text: str):
    """``obj.name?.(...args)`` once ``fn``, read from `obj`, is known not to be nullish: as call_method, a
    built-in method runs on `obj` (``s.at?.(0)``)."""
    if type(fn) is JSFunction:
        return _call_with_this(fn, obj, args)
    return call(fn, args, text)
