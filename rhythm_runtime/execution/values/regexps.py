"""RegExp objects: creating them, reading their properties, and matching
(ECMAScript's RegExpBuiltinExec) with the ``regex`` module on the pattern
regexp_syntax translates.

A match runs on what JavaScript matches: UTF-16 code units without the
``u`` flag (``_units`` of the subject), code points with it; every index a
script sees is a code-unit index either way.  Each call into the engine is
bounded by REGEX_TIMEOUT: catastrophic backtracking raises RegexTimeout,
which (like the step budget) fails the run instead of holding a worker."""

from __future__ import annotations

import bisect
from functools import lru_cache

import regex

from .representation import UNDEFINED, JSRegExp, MatchArray, syntax_error
from .utf16 import _canonical, _unit_length, _units
from .conversions import _to_integer, to_string
from .regexp_syntax import PatternError, escaped_source, translate, validate_flags

REGEX_TIMEOUT = 1.0  # seconds one match may take


class RegexTimeout(BaseException):
    """A match ran past REGEX_TIMEOUT; BaseException so a workflow `catch` can't swallow it."""

    def __init__(self, rx: JSRegExp, seconds: float):
        super().__init__(regexp_to_string(rx))
        self.seconds = seconds


@lru_cache(maxsize=512)
def compiled(source: str, flags: str):
    """(the compiled pattern, the JavaScript name of each capture group or None); raises PatternError."""
    translation = translate(source, flags)
    try:
        pattern = regex.compile(translation.pattern, regex.IGNORECASE if translation.ignore_case else 0)
    except regex.error as e:  # \p{…} names the regex module does not know
        raise PatternError(f"Invalid property name ({e})", 0) from None
    return pattern, translation.group_names


def new_regexp(pattern=UNDEFINED, flags=UNDEFINED) -> JSRegExp:
    """``RegExp(pattern, flags)``: a RegExp without new flags is returned as it is."""
    if type(pattern) is JSRegExp and flags is UNDEFINED:
        return pattern
    return new_regexp_object(pattern, flags)


def new_regexp_object(pattern=UNDEFINED, flags=UNDEFINED) -> JSRegExp:
    """``new RegExp(pattern, flags)``; a RegExp pattern is copied with its source (and its flags unless
    new ones are given)."""
    if type(pattern) is JSRegExp:
        source = pattern.source
        flags = pattern.flags if flags is UNDEFINED else to_string(flags)
    else:
        source = "" if pattern is UNDEFINED else to_string(pattern)
        flags = "" if flags is UNDEFINED else to_string(flags)
    canonical = validate_flags(flags)
    if canonical is None:
        raise syntax_error(f"Invalid flags supplied to RegExp constructor '{flags}'")
    try:
        compiled(source, canonical)
    except PatternError as e:
        reason = f"{e.message} is not supported in workflows ({e.advice})" if e.unsupported else e.message
        raise syntax_error(f"Invalid regular expression: /{source}/{canonical}: {reason}") from None
    return JSRegExp(source, canonical)


def regexp_literal(source: str, flags: str) -> JSRegExp:
    """A `/source/flags` literal: a new object at every evaluation, as in JavaScript (the compiler has
    checked the pattern)."""
    return JSRegExp(source, flags)


def regexp_source(rx: JSRegExp) -> str:
    """The ``source`` property."""
    return escaped_source(rx.source)


def regexp_to_string(rx: JSRegExp) -> str:
    return f"/{escaped_source(rx.source)}/{rx.flags}"


_FLAG_PROPERTIES = {"global": "g", "ignoreCase": "i", "multiline": "m", "dotAll": "s", "unicode": "u",
                    "sticky": "y", "hasIndices": "d", "unicodeSets": "v"}


def regexp_property(rx: JSRegExp, key: str):
    """A property of a RegExp other than its methods, or None when it has no such property."""
    if key == "lastIndex":
        return rx.last_index
    if key == "source":
        return regexp_source(rx)
    if key == "flags":
        return rx.flags
    flag = _FLAG_PROPERTIES.get(key)
    return None if flag is None else flag in rx.flags


# -- matching ---------------------------------------------------------------------


def _run(rx: JSRegExp, method, text: str, pos: int):
    seconds = REGEX_TIMEOUT
    try:
        return method(text, pos, timeout=seconds)
    except TimeoutError:
        raise RegexTimeout(rx, seconds) from None


class _Subject:
    """A string as the engine sees it for one RegExp, and the index conversions to and from code units."""

    __slots__ = ("string", "text", "unit_offsets")

    def __init__(self, string: str, unicode: bool):
        self.string = string
        self.text = string if unicode else _units(string)
        units = _units(string)
        # with `u` and astral characters: the code-unit index of each code point (and of the end)
        self.unit_offsets = None
        if unicode and units is not string:
            offsets, at = [], 0
            for c in string:
                offsets.append(at)
                at += 2 if c > "\uffff" else 1
            offsets.append(at)
            self.unit_offsets = offsets

    def units(self, i: int) -> int:
        return i if self.unit_offsets is None else self.unit_offsets[i]

    def position(self, unit_index: int) -> int:
        """The engine position of a code-unit index (inside a surrogate pair: the pair's start)."""
        if self.unit_offsets is None:
            return unit_index
        return bisect.bisect_right(self.unit_offsets, unit_index) - 1

    def unit_piece(self, a: int, b: int) -> str:
        """The string between two code-unit indexes."""
        units = _units(self.string)
        return units[a:b] if units is self.string else _canonical(units[a:b])

    def piece(self, a: int, b: int) -> str:
        return self.text[a:b] if self.text is self.string else _canonical(self.text[a:b])


def to_length(v) -> int:
    n = _to_integer(v)
    return int(min(max(n, 0.0), 2.0**53 - 1))


def regexp_exec(rx: JSRegExp, string: str, subject: _Subject | None = None):
    """RegExpBuiltinExec: the match at or after lastIndex (only at it with `y`), or None; `g`/`y` move
    lastIndex past the match (or back to 0 when there is none)."""
    flags = rx.flags
    pattern, names = compiled(rx.source, flags)
    moves = "g" in flags or "y" in flags
    last = to_length(rx.last_index) if moves else 0
    subject = subject or _Subject(string, "u" in flags)
    if last > _unit_length(string):
        if moves:
            rx.last_index = 0.0
        return None
    found = _run(rx, pattern.match if "y" in flags else pattern.search, subject.text, subject.position(last))
    if found is None:
        if moves:
            rx.last_index = 0.0
        return None
    if moves:
        rx.last_index = float(subject.units(found.end()))
    return _match_array(found, subject, names, "d" in flags)


def _match_array(found, subject: _Subject, names: list, with_indices: bool) -> MatchArray:
    spans = [found.span(i) for i in range(len(names) + 1)]
    items = [UNDEFINED if a < 0 else subject.piece(a, b) for a, b in spans]
    props = {"index": float(subject.units(spans[0][0])), "input": subject.string,
             "groups": _groups(names, items[1:])}
    if with_indices:
        pairs = [UNDEFINED if a < 0 else [float(subject.units(a)), float(subject.units(b))] for a, b in spans]
        props["indices"] = MatchArray(pairs, {"groups": _groups(names, pairs[1:])})
    return MatchArray(items, props)


def _groups(names: list, values: list):
    if not any(names):
        return UNDEFINED
    return {name: value for name, value in zip(names, values) if name}


def advance(string: str, index: int, unicode: bool) -> int:
    """AdvanceStringIndex: past an empty match, by a whole surrogate pair with `u`."""
    if not unicode:
        return index + 1
    units = _units(string)
    if index + 1 < len(units) and "\ud800" <= units[index] <= "\udbff" and "\udc00" <= units[index + 1] <= "\udfff":
        return index + 2
    return index + 1


def all_matches(rx: JSRegExp, string: str) -> list[MatchArray]:
    """Every match from lastIndex on, as a global `match` or `replace` collects them (lastIndex steps over
    an empty match)."""
    subject = _Subject(string, "u" in rx.flags)
    out = []
    while True:
        found = regexp_exec(rx, string, subject)
        if found is None:
            return out
        out.append(found)
        if found[0] == "":
            rx.last_index = float(advance(string, to_length(rx.last_index), "u" in rx.flags))


def regexp_split(rx: JSRegExp, string: str, limit: int) -> list:
    """``string.split(rx, limit)`` (RegExp.prototype[@@split]): pieces between matches, with the captures
    of each match spliced in; an empty match at a piece's start does not split.  The spec's sticky match at
    every position is the search from there, which finds the same matches in one engine call."""
    if limit == 0:
        return []
    pattern, names = compiled(rx.source, rx.flags)
    unicode = "u" in rx.flags
    subject = _Subject(string, unicode)
    size = _unit_length(string)
    if size == 0:
        return [] if _run(rx, pattern.match, subject.text, 0) is not None else [string]
    out: list = []
    p = q = 0
    while q < size:
        found = _run(rx, pattern.search, subject.text, subject.position(q))
        if found is None:
            break
        q, e = subject.units(found.start()), min(subject.units(found.end()), size)
        if q >= size:
            break
        if e == p:
            q = advance(string, q, unicode)
            continue
        out.append(subject.unit_piece(p, q))
        for i in range(1, len(names) + 1):
            if len(out) == limit:
                return out
            a, b = found.span(i)
            out.append(UNDEFINED if a < 0 else subject.piece(a, b))
        if len(out) == limit:
            return out
        p = q = e
    out.append(subject.unit_piece(p, size))
    return out[:limit]
