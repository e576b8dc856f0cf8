"""Calling a function value with JavaScript's arguments: ``call`` for a call in a workflow, the
checks and messages V8 gives a callback that is not a function. Below the built-in methods."""

from __future__ import annotations

from .representation import UNDEFINED, JSClosure, JSFunction, Promise, type_error
from .conversions import to_string


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
