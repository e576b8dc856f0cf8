"""Operations the compiler's lowering needs beyond plain values (`_op`).

Iteration, spreading, destructuring and updates, written once here so the
generated code stays short and every corner follows JavaScript (Node's error
messages included).
"""

from __future__ import annotations

from rhythm_runtime.execution import values as _js


def nullish(v) -> bool:
    return v is None or v is _js.UNDEFINED


def iterable(v, text: str | None) -> list:
    """What for…of and array destructuring walk: the live array, a string's code points, a Map's or Set's items.

    Not iterable: V8 names the source text when it has it (`x is not iterable`),
    else the value (`number 5 is not iterable (cannot read property …)`)."""
    if isinstance(v, list):
        return v
    if isinstance(v, str):
        return list(v)
    items = _js.collection_items(v)  # a Map's [key, value] entries or a Set's values, as they are now
    if items is not None:
        return items
    if text is not None:
        raise _js.type_error(f"{text} is not iterable")
    raise _js.type_error(f"{_js.described(v)} is not iterable (cannot read property Symbol(Symbol.iterator))")


def spread(v, text: str) -> list:
    return list(iterable(v, text))


def spread_args(v, text: str) -> list:
    """`f(...v)`: as `[...v]`, but V8 words a call's bad spread differently."""
    if v is None or v is _js.UNDEFINED:
        raise _js.type_error(f"{text} is not iterable (cannot read property {_js.to_string(v)})")
    if isinstance(v, (list, str)) or _js.collection_items(v) is not None:
        return spread(v, text)
    raise _js.type_error("Spread syntax requires ...iterable[Symbol.iterator] to be a function")


def spread_object(v) -> dict:
    """`{...v}`: own enumerable properties; null/undefined/numbers add nothing."""
    if isinstance(v, dict):
        return v
    if isinstance(v, (list, str)):
        items = {str(i): x for i, x in enumerate(_js._units(v) if type(v) is str else v)}  # a string's code units
        return {**items, **v.props} if type(v) is _js.MatchArray else items
    if isinstance(v, _js.JSError):
        return dict(v.props)
    return {}


def for_in_keys(v, text: str) -> list:
    """The keys for…in visits, in JavaScript's order; none for null/undefined."""
    if nullish(v):
        return []
    if isinstance(v, (dict, list, str)) or isinstance(v, _js.JSError):
        return _js.own_keys(v)
    return []


def next_key(v, keys: list, i):
    """The position in `keys` (for_in_keys of `v`) of the next key for…in visits from `i` on: a key deleted
    since the loop began is skipped, as in JavaScript."""
    n = len(keys)
    while i < n and not _js.has_own(v, keys[int(i)]):
        i += 1
    return i


def at(items: list, i: int):
    return items[i] if i < len(items) else _js.UNDEFINED


def require_object(v, text: str | None, key: str | None = None, reading: bool = False) -> None:
    """Object destructuring of null/undefined is a TypeError worded as V8 words it.

    `text`: the destructured expression's source (None inside another pattern);
    `key`: the pattern's first key; `reading`: that key has a default."""
    if not nullish(v):
        return
    shown = "undefined" if v is _js.UNDEFINED else "null"
    if key is not None and (text is None or reading):
        raise _js.type_error(f"Cannot read properties of {shown} (reading '{key}')")
    if key is None:
        raise _js.type_error(f"Cannot destructure '{text or shown}' as it is {shown}.")
    raise _js.type_error(f"Cannot destructure property '{key}' of '{text}' as it is {shown}.")


def require_argument(v, key: str | None = None, reading: bool = False) -> None:
    """A destructured parameter: V8 names the argument by its value (`of 'undefined'`, `of 'object null'`)."""
    if nullish(v):
        require_object(v, _js.described(v), key, reading)


def object_rest(v, used: list) -> dict:
    taken = set(used)
    return {k: _js.get(v, k) for k in _js.own_keys(v) if k not in taken} if not nullish(v) else {}


def drop(L: dict, names: tuple) -> None:
    """Forget temporaries so they do not bloat the next snapshot."""
    for name in names:
        L.pop(name, None)


def store(L: dict, slot: str, value):
    L[slot] = value
    return value


def update_slot(L: dict, slot: str, delta: float, prefix: bool):
    old = _js.to_number(L[slot])
    L[slot] = old + delta
    return L[slot] if prefix else old


def update_prop(obj, key, delta: float, prefix: bool):
    old = _js.to_number(_js.get(obj, key))
    _js.set_(obj, key, old + delta)
    return old + delta if prefix else old


def env(up) -> _js.Env:
    """A scope's environment record (captured variables), linked to the enclosing one."""
    record = _js.Env()
    if up is not None:
        record["@up"] = up
    return record


def env_copy(record: _js.Env) -> _js.Env:
    """The next iteration's copy of a `for (let …)` loop's record: closures of earlier iterations keep theirs."""
    return _js.Env(record)


def closure(fid: int, record) -> _js.JSClosure:
    return _js.JSClosure(fid, record)


def named_closure(fid: int, up, name: str) -> _js.JSClosure:
    """`function g() { … }` as an expression: g is bound, inside, in a record of its own."""
    record = env(up)
    fn = record[name] = _js.JSClosure(fid, record)
    return fn


def library_function(name: str) -> _js.JSFunction:
    """`Math.floor` or `Task.run` read as a value: a function (typeof says so)."""
    return _js.global_function(name)


NAMESPACE_FUNCTIONS = {"Task": ("run", "all", "any", "race", "allSettled"), "Promise": ("all", "any", "race", "allSettled"),
                       "Timer": ("delay",), "Signal": ("next",), "Workflow": ("run",)}


def namespace_get(ns: str, key):
    """`Math[key]`: a library member chosen at run time, or undefined."""
    key = _js.to_property_key(key)
    name = f"{ns}.{key}"
    if name in _js.GLOBAL_FUNCTIONS or key in NAMESPACE_FUNCTIONS.get(ns, ()):
        return library_function(name)
    if name in _js.GLOBAL_CONSTANTS:
        return _js.GLOBAL_CONSTANTS[name]
    return _js.constructor_member(ns, key)


def delete_property(obj, key) -> bool:
    """`delete obj[key]` in strict code (workflows are): where sloppy JavaScript says false, a TypeError."""
    if _js.delete(obj, key):
        return True
    kind = "[object Array]" if type(obj) is list else "[object String]"
    raise _js.type_error(f"Cannot delete property '{_js.to_property_key(key)}' of {kind}")


def apply_library(fn, max_args: int, args: list):
    """A library call with spread arguments: like JS, extra arguments are ignored."""
    return fn(*args[:max_args])
