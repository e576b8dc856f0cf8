"""The built-in methods of strings and regular expressions (a regex's ``test`` and ``exec``, and the
string methods that take one: ``match``, ``matchAll``, ``search``, ``replace``, ``replaceAll``,
``split``). Positions count UTF-16 code units, as in JavaScript (utf16.py)."""

from __future__ import annotations

import unicodedata

from .representation import INF, NAN, UNDEFINED, _MAX_STRING_LENGTH, JSRegExp, range_error, type_error
from .utf16 import _SURROGATE, _canonical, _unit_length, _units
from .number_text import _WHITESPACE, number_to_string
from .conversions import _clamp, _relative, _to_integer, _to_uint32, to_number, to_string, typeof
from .regexps import all_matches, new_regexp, regexp_exec, regexp_split, regexp_to_string, to_length
from .calls import _arg, call


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
