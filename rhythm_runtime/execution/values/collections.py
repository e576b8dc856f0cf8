"""Map and Set: JavaScript's keyed collections.

Keys compare as SameValueZero (NaN equals NaN, -0 is +0, objects by
identity), and iteration follows insertion order, both as in JavaScript. The
collections are plain data (``JSMap``/``JSSet`` in representation), so a
snapshot stores them with everything else. ``keys()``, ``values()`` and
``entries()`` return arrays, as every iterator of the language does.
"""

from __future__ import annotations

from .representation import (
    RECEIVER_METHODS, UNDEFINED, JSClosure, JSFunction, JSMap, JSSet, JSThrow, MatchArray, is_shared_function,
    type_error,
)
from .calls import _arg, _shown, call, described


def key_token(k):
    """The dict key that stands for ``k`` under SameValueZero (never True == 1.0, as Python would have it)."""
    t = type(k)
    if t is str:
        return k
    if t is float:
        return ("n", k + 0.0) if k == k else ("n", "NaN")  # -0 + 0.0 is +0
    if t is bool:
        return ("b", k)
    if k is None or k is UNDEFINED:
        return k
    if t is JSFunction and is_shared_function(k):  # the same built-in function however often it was read
        return ("f", id(k.impl))
    return ("o", id(k))  # objects by identity: the entry keeps the key alive, so its id stays its own


def _normal(k):
    """A key as stored: -0 becomes +0, as `new Map([[-0, 1]]).keys()` shows."""
    return 0.0 if type(k) is float and k == 0 else k


def collection_items(v) -> list | None:
    """What iterating a Map ([key, value] arrays) or a Set (its values) visits, now; None for anything else."""
    if type(v) is JSMap:
        return [[k, x] for k, x in v.data.values()]
    if type(v) is JSSet:
        return [cell[0] for cell in v.data.values()]
    return None


def new_map(items=UNDEFINED) -> JSMap:
    """``new Map(iterable)``: each item must be an entry object ([key, value])."""
    m = JSMap()
    for item in _items(items, "Map"):
        if type(item) is not list and type(item) is not MatchArray:
            raise type_error(f"Iterator value {_shown(item)} is not an entry object")
        _map_set(m, [item[0] if item else UNDEFINED, item[1] if len(item) > 1 else UNDEFINED])
    return m


def new_set(items=UNDEFINED) -> JSSet:
    s = JSSet()
    for item in _items(items, "Set"):
        _set_add(s, [item])
    return s


def _items(items, kind: str) -> list:
    if items is UNDEFINED or items is None:
        return []
    if type(items) is list or type(items) is str or type(items) is MatchArray:
        return list(items)
    found = collection_items(items)
    if found is None:
        raise _not_iterable(items)
    return found


def _not_iterable(v) -> JSThrow:
    """Node's TypeError for iterating something that is not iterable."""
    if v is None or v is UNDEFINED:
        return type_error("undefined is not iterable")
    return type_error(f"{described(v)} is not iterable (cannot read property Symbol(Symbol.iterator))")


def _for_each_callback(args):
    """The callback of Map's and Set's forEach (V8 names a value that is not a function with its type)."""
    fn = _arg(args, 0)
    if type(fn) is JSClosure or type(fn) is JSFunction:
        return fn
    raise type_error(f"{described(fn)} is not a function")


def collection_size(c) -> float:
    return float(len(c.data))


# -- Map ------------------------------------------------------------------------------


def _map_get(m: JSMap, args):
    entry = m.data.get(key_token(_arg(args, 0)))
    return UNDEFINED if entry is None else entry[1]


def _map_set(m: JSMap, args) -> JSMap:
    k = _arg(args, 0)
    token = key_token(k)
    entry = m.data.get(token)
    if entry is None:
        m.data[token] = [_normal(k), _arg(args, 1)]
    else:
        entry[1] = _arg(args, 1)
    return m


def _has(c, args) -> bool:
    return key_token(_arg(args, 0)) in c.data


def _delete(c, args) -> bool:
    return c.data.pop(key_token(_arg(args, 0)), _ABSENT) is not _ABSENT


def _clear(c, args):
    c.data.clear()
    return UNDEFINED


def _map_for_each(m: JSMap, args):
    fn = _for_each_callback(args)
    for token in _live_order(m):
        entry = m.data.get(token)
        if entry is not None:
            call(fn, [entry[1], entry[0], m], "callback")
    return UNDEFINED


def _map_keys(m: JSMap, args) -> list:
    return [k for k, _ in m.data.values()]


def _map_values(m: JSMap, args) -> list:
    return [x for _, x in m.data.values()]


def _map_entries(m: JSMap, args) -> list:
    return [[k, x] for k, x in m.data.values()]


# -- Set ------------------------------------------------------------------------------


def _set_add(s: JSSet, args) -> JSSet:
    v = _arg(args, 0)
    s.data.setdefault(key_token(v), [_normal(v)])
    return s


def _set_for_each(s: JSSet, args):
    fn = _for_each_callback(args)
    for token in _live_order(s):
        cell = s.data.get(token)
        if cell is not None:
            call(fn, [cell[0], cell[0], s], "callback")
    return UNDEFINED


def _set_values(s: JSSet, args) -> list:
    return [cell[0] for cell in s.data.values()]


def _set_entries(s: JSSet, args) -> list:
    return [[cell[0], cell[0]] for cell in s.data.values()]


def _live_order(c):
    """The tokens forEach visits (each entry is a cell, a new one when a key is added again): those present when it reaches them, including ones added meanwhile (JavaScript's
    live iteration); a deleted entry is skipped, one deleted and added again is visited again at its new place."""
    seen: dict = {}
    while True:
        fresh = [t for t in c.data if seen.get(t) is not c.data[t]]
        if not fresh:
            return
        for t in fresh:
            if t in c.data and seen.get(t) is not c.data[t]:
                seen[t] = c.data[t]
                yield t


_ABSENT = object()

_MAP_METHODS = {
    "get": _map_get, "set": _map_set, "has": _has, "delete": _delete, "clear": _clear, "forEach": _map_for_each,
    "keys": _map_keys, "values": _map_values, "entries": _map_entries,
}
_SET_METHODS = {
    "add": _set_add, "has": _has, "delete": _delete, "clear": _clear, "forEach": _set_for_each,
    "values": _set_values, "keys": _set_values, "entries": _set_entries,
}
RECEIVER_METHODS.update({JSMap: _MAP_METHODS, JSSet: _SET_METHODS})
