"""JavaScript strings as UTF-16 code units, kept as Python strings.  Below the
conversions and operators, which join and compare strings through it."""

from __future__ import annotations

import re


# JavaScript strings are sequences of UTF-16 code units.  We keep Python
# strings (fast, readable) and switch to a "unit string" -- every astral
# character split into its two surrogates -- only for operations that count
# positions on a string that has astral characters.  Results are joined back
# with _canonical, so a surrogate pair never stays split in a stored value.

_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _units(s: str) -> str:
    if s.isascii() or not _ASTRAL.search(s):
        return s
    return _ASTRAL.sub(_split_pair, s)


def _split_pair(m: re.Match) -> str:
    c = ord(m.group()) - 0x10000
    return chr(0xD800 + (c >> 10)) + chr(0xDC00 + (c & 0x3FF))


def _canonical(s: str) -> str:
    """Join every high+low surrogate pair of ``s`` into one character."""
    if s.isascii() or not _SURROGATE.search(s):
        return s
    return s.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def _concat(a: str, b: str) -> str:
    if a and b and "\ud800" <= a[-1] <= "\udbff" and "\udc00" <= b[0] <= "\udfff":
        return _canonical(a + b)
    return a + b


def _unit_length(s: str) -> int:
    if s.isascii():
        return len(s)
    return len(s) + len(_ASTRAL.findall(s))


def _string_lt(a: str, b: str) -> bool:
    """a < b in UTF-16 code unit order (differs from code point order only
    when both sides hold non-ASCII text)."""
    if a.isascii() or b.isascii():
        return a < b
    return _units(a) < _units(b)
