"""JSON.stringify and JSON.parse, with V8's messages for a circular structure and
for text that is not JSON.  (Not named json.py, so that ``import json`` in this
package is always the standard library.)"""

from __future__ import annotations

import json

from .representation import (
    UNDEFINED, JSClosure, JSDate, JSError, JSFunction, JSThrow, MatchArray, Promise, range_error, syntax_error,
    type_error,
)
from .utf16 import _SURROGATE, _canonical, _units
from .number_text import number_to_string
from .date_time import to_json_value
from .conversions import _to_integer, to_string
from .properties import _ordered_keys, get
from .calls import call


def _json_quote(s: str) -> str:
    """JSON.stringify of a string: like Python's encoder, except that lone
    surrogates are escaped (well-formed JSON.stringify)."""
    quoted = json.encoder.encode_basestring(s)
    if quoted.isascii() or not _SURROGATE.search(quoted):
        return quoted
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


def _json_members(obj, keys: list[str] | None) -> list:
    """The (key, value) pairs JSON shows for an object-like value."""
    if keys is not None:
        return [(k, get(obj, k)) for k in keys]
    t = type(obj)
    source = obj if t is dict else obj.props if t is JSError else {}
    return [(k, source[k]) for k in _ordered_keys(source)]


def _replacer_keys(replacer) -> list[str] | None:
    if type(replacer) is not list:
        return None
    keys: dict[str, None] = {}
    for k in replacer:
        if type(k) is str or type(k) is float:
            keys[to_string(k)] = None
    return list(keys)


def _json_gap(space) -> str:
    if type(space) is float:
        return " " * int(min(10.0, max(0.0, _to_integer(space))))
    if type(space) is str:
        return _canonical(_units(space)[:10])
    return ""


def _function(v):
    """A replacer or reviver, or None when ``v`` is not a function (JavaScript then ignores it)."""
    return v if type(v) is JSClosure or type(v) is JSFunction else None


def to_json_result(v, key):
    """What JSON shows for `v` (reached by `key`): a Date's ISO text, an object's `toJSON(key)` if it has
    that method, else `v`."""
    t = type(v)
    if t is JSDate:
        return to_json_value(v)
    if t is dict:
        to_json = _function(v.get("toJSON"))
        if to_json is not None:
            return call(to_json, [key if type(key) is str else str(key)], "toJSON")
    return v


def json_stringify(value=UNDEFINED, replacer=UNDEFINED, space=UNDEFINED):
    """JSON.stringify; ``replacer`` is an array of keys, or a function of
    (key, value) called for the top value (key "") and every member, whose
    result is written instead."""
    keys = _replacer_keys(replacer)
    replace = _function(replacer)
    gap = _json_gap(space)
    colon = ": " if gap else ":"
    path: list = []  # (container, key it was reached by), for cycle messages
    open_ids: dict[int, int] = {}

    def write(v, indent: str, key):
        v = to_json_result(v, key)
        if replace is not None:
            v = call(replace, [key if type(key) is str else str(key), v], "replacer")
        t = type(v)
        if t is str:
            return _json_quote(v)
        if t is float:
            return number_to_string(v) if v - v == 0 else "null"
        if t is bool:
            return "true" if v else "false"
        if v is None:
            return "null"
        if v is UNDEFINED or t is JSFunction or t is JSClosure:
            return None
        if id(v) in open_ids:
            raise _circular_structure(path[open_ids[id(v)] :], key)
        open_ids[id(v)] = len(path)
        path.append((v, key))
        inner = indent + gap
        if t is list or t is MatchArray:
            parts = [write(x, inner, i) or "null" for i, x in enumerate(v)]
            brackets = "[]"
        else:
            parts = []
            for k, x in _json_members(v, keys):
                text = write(x, inner, k)
                if text is not None:
                    parts.append(_json_quote(k) + colon + text)
            brackets = "{}"
        path.pop()
        del open_ids[id(v)]
        if not parts:
            return brackets
        if not gap:
            return brackets[0] + ",".join(parts) + brackets[1]
        return (
            f"{brackets[0]}\n{inner}"
            + f",\n{inner}".join(parts)
            + f"\n{indent}{brackets[1]}"
        )

    try:
        text = write(value, "", "")
    except RecursionError:
        raise range_error("Maximum call stack size exceeded") from None
    return UNDEFINED if text is None else text


def _circular_structure(cycle: list, closing_key) -> JSThrow:
    """Node's message: the cycle's first object, its path (at most two steps,
    "...", and the last step), and the key that closes the circle."""

    def step(key) -> str:
        return f"index {key}" if type(key) is int else f"property '{key}'"

    def constructor(obj) -> str:
        return {list: "Array", dict: "Object", Promise: "Promise"}.get(
            type(obj)
        ) or obj.name

    lines = [
        "Converting circular structure to JSON",
        f"    --> starting at object with constructor '{constructor(cycle[0][0])}'",
    ]
    middle = [
        f"    |     {step(k)} -> object with constructor '{constructor(o)}'"
        for o, k in cycle[1:]
    ]
    if len(middle) > 3:
        middle[2:-1] = ["    |     ..."]
    lines += middle
    lines.append(f"    --- {step(closing_key)} closes the circle")
    return type_error("\n".join(lines))


def _reject_constant(name: str):
    raise ValueError(f'"{name}" is not valid JSON')


_JSON_DECODER = json.JSONDecoder(parse_int=float, parse_constant=_reject_constant)


def json_parse(text=UNDEFINED, reviver=UNDEFINED):
    """JSON.parse; a ``reviver`` function of (key, value) is called on every
    member, innermost first, then on the top value (key ""): its result
    replaces the member, and undefined removes it."""
    s = to_string(text)
    value = _decoded(s)
    revive = _function(reviver)
    if revive is None:
        return value
    try:
        return _revive(revive, "", value)
    except RecursionError:
        raise range_error("Maximum call stack size exceeded") from None


def _decoded(s: str):
    try:
        return _JSON_DECODER.decode(s)
    except RecursionError:
        raise range_error("Maximum call stack size exceeded") from None
    except ValueError:  # JSONDecodeError, or NaN/Infinity (_reject_constant)
        try:
            message = _JsonErrorFinder(_units(s)).message()
        except RecursionError:
            raise range_error("Maximum call stack size exceeded") from None
        raise syntax_error(_canonical(message)) from None


def _revive(fn, key: str, value):
    """InternalizeJSONProperty: the members first, then the value itself."""
    if type(value) is list:
        for i, x in enumerate(value):
            value[i] = _revive(fn, str(i), x)  # undefined leaves a gap, as deleting an element does
    elif type(value) is dict:
        for k in list(_ordered_keys(value)):
            x = _revive(fn, k, value[k])
            if x is UNDEFINED:
                del value[k]
            else:
                value[k] = x
    return call(fn, [key, value], "reviver")  # no `this`: the holder is not passed


class _JsonFail(Exception):
    pass


class _JsonErrorFinder:
    """Why V8's JSON.parse rejects a text, in V8's (Node 20's) words.

    Python's decoder accepts exactly the same texts; this scan runs only
    after it failed, to find the error that V8 reports first.  Positions
    count UTF-16 code units (``u`` is the text split into units)."""

    _WS = " \t\n\r"
    _SPECIAL = ("NaN", "Infinity", "undefined", "[object Object]")

    def __init__(self, u: str):
        self.u = u
        self.i = 0

    def message(self) -> str:
        try:
            self.ws()
            self.value()
            self.ws()
            if self.i < len(self.u):
                self.fail(f"Unexpected non-whitespace character after JSON at position {self.i}")
        except _JsonFail as e:
            return str(e)
        return "Unexpected end of JSON input"  # pragma: no cover - Python failed, so V8 does too

    def fail(self, message: str):
        raise _JsonFail(message)

    def peek(self) -> str:
        return self.u[self.i] if self.i < len(self.u) else ""

    def ws(self) -> None:
        while self.i < len(self.u) and self.u[self.i] in self._WS:
            self.i += 1

    def unexpected(self):
        """A token no rule expects here (V8's generic report)."""
        u, i = self.u, self.i
        if i >= len(u):
            self.fail("Unexpected end of JSON input")
        ch = u[i]
        if ch == '"':
            self.fail(f"Unexpected string in JSON at position {i}")
        if ch == "-" or "0" <= ch <= "9":
            self.fail(f"Unexpected number in JSON at position {i}")
        if u in self._SPECIAL:
            self.fail(f'"{u}" is not valid JSON')
        if len(u) < 21:
            self.fail(f"Unexpected token '{ch}', \"{u}\" is not valid JSON")
        if i < 10:
            self.fail(f"Unexpected token '{ch}', \"{u[:i + 10]}\"... is not valid JSON")
        if i < len(u) - 10:
            self.fail(f"Unexpected token '{ch}', ...\"{u[i - 10:i + 10]}\"... is not valid JSON")
        self.fail(f"Unexpected token '{ch}', ...\"{u[i - 10:]}\" is not valid JSON")

    def value(self) -> None:
        c = self.peek()
        if c == '"':
            self.string()
        elif c == "[":
            self.array()
        elif c == "{":
            self.object()
        elif c == "-" or "0" <= c <= "9":
            self.number()
        elif c in ("t", "f", "n"):
            for expected in {"t": "true", "f": "false", "n": "null"}[c]:
                if self.peek() != expected:
                    self.unexpected()
                self.i += 1
        else:
            self.unexpected()

    def digits(self) -> bool:
        start = self.i
        while "0" <= self.peek() <= "9" and self.peek():
            self.i += 1
        return self.i > start

    def number(self) -> None:
        if self.peek() == "-":
            self.i += 1
        if self.peek() == "0":
            self.i += 1
            if "0" <= self.peek() <= "9" and self.peek():
                self.fail(f"Unexpected number in JSON at position {self.i}")
        elif not self.digits():
            self.fail(f"No number after minus sign in JSON at position {self.i}")
        if self.peek() == ".":
            self.i += 1
            if not self.digits():
                self.fail(f"Unterminated fractional number in JSON at position {self.i}")
        if self.peek() in ("e", "E") and self.peek():
            self.i += 1
            if self.peek() in ("+", "-") and self.peek():
                self.i += 1
            if not self.digits():
                self.fail(f"Exponent part is missing a number in JSON at position {self.i}")

    def string(self) -> None:
        u = self.u
        self.i += 1
        while True:
            if self.i >= len(u):
                self.fail(f"Unterminated string in JSON at position {self.i}")
            c = u[self.i]
            if c == '"':
                self.i += 1
                return
            if c < " ":
                self.fail(f"Bad control character in string literal in JSON at position {self.i}")
            self.i += 1
            if c != "\\":
                continue
            if self.i >= len(u):
                self.unexpected()
            c = u[self.i]
            if c == "u":
                for _ in range(4):
                    self.i += 1
                    if self.i >= len(u) or u[self.i] not in "0123456789abcdefABCDEF":
                        self.fail(f"Bad Unicode escape in JSON at position {self.i}")
            elif c > "\xff":  # V8 reports a non-Latin-1 escape as a stray token
                self.unexpected()
            elif c not in '"\\/bfnrt':
                self.fail(f"Bad escaped character in JSON at position {self.i}")
            self.i += 1

    def array(self) -> None:
        self.i += 1
        self.ws()
        if self.peek() == "]":
            self.i += 1
            return
        while True:
            self.value()
            self.ws()
            if self.peek() == ",":
                self.i += 1
                self.ws()
            elif self.peek() == "]":
                self.i += 1
                return
            else:
                self.fail(f"Expected ',' or ']' after array element in JSON at position {self.i}")

    def object(self) -> None:
        self.i += 1
        self.ws()
        if self.peek() == "}":
            self.i += 1
            return
        if self.peek() != '"':
            self.fail(f"Expected property name or '}}' in JSON at position {self.i}")
        first = True
        while True:
            self.string()
            self.ws()
            if self.peek() != ":":
                if first:
                    self.fail(f"Expected ':' after property name in JSON at position {self.i}")
                self.unexpected()
            self.i += 1
            self.ws()
            self.value()
            self.ws()
            first = False
            if self.peek() == ",":
                self.i += 1
                self.ws()
                if self.peek() != '"':
                    self.fail(f"Expected double-quoted property name in JSON at position {self.i}")
            elif self.peek() == "}":
                self.i += 1
                return
            else:
                self.fail(f"Expected ',' or '}}' after property value in JSON at position {self.i}")


def describe_thrown(value) -> str:
    """``str(JSThrow)``: JSON for objects and arrays (when they have one), else JavaScript's ``String()``."""
    if type(value) is dict or type(value) is list:
        try:
            return json_stringify(value)
        except JSThrow:
            pass
    return to_string(value)


JSThrow.describe = staticmethod(describe_thrown)
