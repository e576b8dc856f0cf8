"""Calling a function value with JavaScript's arguments: ``call`` for a call in a workflow, the
checks and messages V8 gives a callback that is not a function. Below the built-in methods."""

from __future__ import annotations

from .representation import (
    UNDEFINED, JSClosure, JSDate, JSError, JSFunction, JSMap, JSRegExp, JSSet, MatchArray, Promise, is_method_value,
    type_error,
)
from .conversions import to_string, typeof


def call(fn, args, text: str):
    """``fn(...args)``; ``text`` is the callee's source for the message."""
    t = type(fn)
    if t is JSClosure:
        return JSClosure.invoke(fn, args)
    if t is JSFunction:
        if is_method_value(fn):
            raise type_error(unbound_message(fn, text))
        return fn.impl(fn.this, args)
    raise type_error(f"{text} is not a function")


_KINDS = {list: "Array", MatchArray: "Array", str: "String", float: "Number", bool: "Boolean", JSError: "Error",
          JSClosure: "Function", JSFunction: "Function", Promise: "Promise", JSRegExp: "RegExp", JSMap: "Map",
          JSSet: "Set", JSDate: "Date"}
_NO_OBJECT = "Cannot convert undefined or null to object"
# The Array methods whose message (V8's) names them; the others convert `this` to an object first.
_ARRAY_NAMED = frozenset({"concat", "indexOf", "forEach", "map", "filter", "some", "every", "find", "findIndex",
                          "findLast", "findLastIndex", "reduce", "reduceRight"})
_V8_NAMES = {("String", "trimStart"): "trimLeft", ("String", "trimEnd"): "trimRight", ("Set", "keys"): "values"}
_SPECIAL = {("Promise", "catch"): "Cannot read properties of undefined (reading 'then')",
            ("Promise", "finally"): "Promise.prototype.finally called on non-object",
            ("Date", "toJSON"): _NO_OBJECT, ("Function", "bind"): "Bind must be called on a function"}


def unbound_message(fn: JSFunction, text: str) -> str:
    """V8's message for a built-in method called with `this` undefined (`const push = arr.push; push(1)`)."""
    kind, name = _KINDS[type(fn.this)], fn.name
    name = _V8_NAMES.get((kind, name), name)
    if (kind, name) in _SPECIAL:
        return _SPECIAL[kind, name]
    if kind == "Array":
        return f"Array.prototype.{name} called on null or undefined" if name in _ARRAY_NAMED else _NO_OBJECT
    if kind in ("Number", "Boolean") or (kind == "String" and name in ("toString", "valueOf")):
        return f"{kind}.prototype.{name} requires that 'this' be a {kind}"
    if kind == "String":
        return f"String.prototype.{name} called on null or undefined"
    if kind == "Function":  # call, apply
        return f"{text or 'function'} is not a function"
    if kind == "Date" and (name.startswith("get") or name == "valueOf"):
        return "this is not a Date object."
    return f"Method {kind}.prototype.{name} called on incompatible receiver undefined"


def _callback(fn, message: str | None = None):
    """A callback argument, or V8's TypeError naming the value that is not a function."""
    if type(fn) is JSClosure or type(fn) is JSFunction:
        return fn
    raise type_error(message or f"{_shown(fn)} is not a function")


# How V8's 'is not a function' messages show the objects that are not shown as their string.
_SHOWN_OBJECTS = {dict: "#<Object>", list: "[object Array]", MatchArray: "[object Array]", Promise: "#<Promise>",
                  JSMap: "#<Map>", JSSet: "#<Set>", JSRegExp: "[object RegExp]", JSDate: "[object Date]"}


def _shown(v) -> str:
    """A value as V8's 'is not a function' messages show it."""
    shown = _SHOWN_OBJECTS.get(type(v))
    return to_string(v) if shown is None else shown


def described(v) -> str:
    """A value as V8's messages that name its type describe it: `undefined`, `object null`, `number 5`,
    `string "x"`, `object`."""
    if v is None:
        return "object null"
    if type(v) is str:
        return f'string "{v}"'
    kind = typeof(v)
    return f"{kind} {to_string(v)}" if kind in ("number", "boolean") else kind


def _call1(fn, value, i: int, a: list):
    """A callback's call: (element, index, array)."""
    if type(fn) is JSClosure:
        return JSClosure.invoke(fn, [value, float(i), a])
    return call(fn, [value, float(i), a], "")


# A method implementation takes (this, args): ``args`` is the list of JS
# arguments, read with _arg so a missing one is undefined, as in JS.
def _arg(args, i: int):
    return args[i] if len(args) > i else UNDEFINED
