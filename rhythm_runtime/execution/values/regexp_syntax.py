"""JavaScript regular expression syntax, translated to a pattern of the
``regex`` module that matches exactly what V8 matches.

Python's dialect differs from JavaScript's almost everywhere it can: ``\\d``,
``\\w``, ``\\s`` and ``\\b`` are Unicode-wide, ``$`` matches before a final
newline, ``.`` stops only at ``\\n``, ``\\a``/``{,3}``/``(?P`` mean things,
and a backreference to a group that did not take part fails instead of
matching the empty string.  So the pattern is parsed here (ECMAScript's
grammar, with the Annex B leniencies V8 keeps outside ``u`` mode) into a small
tree, and every piece is re-emitted in an unambiguous form: characters as
escapes, classes as explicit ranges, anchors and ``\\b`` as lookarounds,
capture groups as ``(?P<gN>…)``.  (The ``regex`` module's ``\\A`` and ``\\Z``
are the very start and end of the subject, whatever position a search starts
at, as JavaScript's ``^`` and ``$`` without ``m`` are.)

What Python cannot reproduce is refused with a ``PatternError`` naming the
construct: a capture group inside a repeated group that may skip it
(JavaScript resets it on every repetition, Python keeps the previous value),
a repetition of something that can match empty (JavaScript fails such a
repetition and backtracks, Python ends the loop), a repeated lookaround, legacy octal escapes, and syntax newer
than Node 20 (``v`` mode, ``(?i:…)`` modifiers).

Without the ``u`` flag JavaScript matches UTF-16 code units, so the pattern
(and later the subject string) is taken as units: an astral character is
two characters here.  With ``u`` both are code points.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from functools import lru_cache

from .utf16 import _canonical, _units

FLAGS = "dgimsuy"  # the flags supported, in the order RegExp.prototype.flags lists them
LINE_TERMINATORS = "\n\r\u2028\u2029"
# JavaScript's \s: WhiteSpace and LineTerminator.
_SPACE_RANGES = [(0x09, 0x0D), (0x20, 0x20), (0xA0, 0xA0), (0x1680, 0x1680), (0x2000, 0x200A),
                 (0x2028, 0x2029), (0x202F, 0x202F), (0x205F, 0x205F), (0x3000, 0x3000), (0xFEFF, 0xFEFF)]
_DIGIT_RANGES = [(0x30, 0x39)]
_WORD_RANGES = [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)]
# With both `i` and `u`, \w and \b also take the two characters that fold to ASCII letters (ſ, K).
_WORD_RANGES_UI = _WORD_RANGES + [(0x017F, 0x017F), (0x212A, 0x212A)]
_SYNTAX = set("^$\\.*+?()[]{}|/")
_CONTROL_ESCAPES = {"t": 0x09, "n": 0x0A, "v": 0x0B, "f": 0x0C, "r": 0x0D}
MAX_LEAST_REPEATS = 10_000  # `a{n}`: the regex module compiles n copies (a{10**9} never finishes compiling)
_MAX_STRING_UNITS = 2**29  # V8's longest string


class PatternError(Exception):
    """An invalid (or inexpressible) pattern: ``message`` as V8 words it, at ``offset`` in the source."""

    def __init__(self, message: str, offset: int, width: int = 1, unsupported: bool = False, advice: str = ""):
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.width = max(width, 1)
        self.unsupported = unsupported  # valid JavaScript that Rhythm cannot match exactly
        self.advice = advice or "rewrite that part of the pattern, or do the matching in a task"


@dataclass
class Translation:
    """A JavaScript pattern in the ``regex`` module's terms."""

    pattern: str
    group_names: list  # per capture group (1-based index - 1): its JavaScript name, or None
    ignore_case: bool


# -- the tree ----------------------------------------------------------------


@dataclass
class _Node:
    kind: str  # "alt" "seq" "group" "look" "quant" "text" "ref"
    children: list = field(default_factory=list)
    text: str = ""  # the Python text of a leaf; the opening of a group or lookaround
    nullable: bool = False
    capture: int = 0  # a capture group's number
    low: int = 1
    high: float = 1
    offset: int = 0


def _leaf(text: str, nullable: bool = False, kind: str = "text") -> _Node:
    return _Node(kind, text=text, nullable=nullable)


# -- character sets ---------------------------------------------------------------


def _complement(ranges: list[tuple[int, int]], top: int) -> list[tuple[int, int]]:
    out, start = [], 0
    for lo, hi in sorted(ranges):
        if lo > start:
            out.append((start, lo - 1))
        start = max(start, hi + 1)
    if start <= top:
        out.append((start, top))
    return out


def _char(code: int) -> str:
    """One code point as pattern text that means only itself."""
    ch = chr(code)
    if ch.isascii() and (ch.isalnum() or ch == "_"):
        return ch
    if code < 0x80 and ch.isprintable():
        return "\\" + ch
    return f"\\U{code:08x}" if code > 0xFFFF else f"\\u{code:04x}"


def _class_text(ranges: list[tuple[int, int]], raw: list[str], negated: bool) -> str:
    items = [_char(lo) if lo == hi else f"{_char(lo)}-{_char(hi)}" for lo, hi in ranges] + raw
    if not items:
        return "[\\s\\S]" if negated else "(?!)"
    return f"[{'^' if negated else ''}{''.join(items)}]"


# -- the parser -------------------------------------------------------------------


class _Parser:
    def __init__(self, source: str, flags: str):
        self.unicode = "u" in flags
        self.ignore_case = "i" in flags
        self.multiline = "m" in flags
        self.dot_all = "s" in flags
        self.src = source if self.unicode else _units(source)
        self.top = 0x10FFFF if self.unicode else 0xFFFF
        self.pos = 0
        self.captures = 0
        self.names: list = []
        self.total, self.named = _count_groups(self.src)
        self.word = _WORD_RANGES_UI if self.unicode and self.ignore_case else _WORD_RANGES
        # `i` without `u` compares code units by JavaScript's Canonicalize (upper case), which no Python
        # flag does: each character and class is widened to its case variants instead.
        self.fold = self.ignore_case and not self.unicode

    def char(self, code: int) -> str:
        """A character as pattern text (with its case variants under `fold`)."""
        if self.fold and code in _case_variants():
            return _class_text([(c, c) for c in _case_variants()[code]], [], False)
        return _char(code)

    def chars(self, ranges: list[tuple[int, int]], raw: list[str], negated: bool) -> str:
        """A class as pattern text (with the case variants of its members under `fold`)."""
        return _class_text(_merge(_folded(ranges) if self.fold else ranges), raw, negated)

    # -- helpers
    def error(self, message: str, at: int | None = None, width: int = 1) -> PatternError:
        return PatternError(message, self.pos if at is None else at, width)

    def unsupported(self, what: str, at: int, width: int = 1, advice: str = "") -> PatternError:
        return PatternError(what, at, width, unsupported=True, advice=advice)

    def peek(self, k: int = 0) -> str:
        i = self.pos + k
        return self.src[i] if i < len(self.src) else ""

    def eat(self, text: str) -> bool:
        if self.src.startswith(text, self.pos):
            self.pos += len(text)
            return True
        return False

    # -- grammar
    def disjunction(self) -> _Node:
        alternatives = [self.alternative()]
        while self.eat("|"):
            alternatives.append(self.alternative())
        if len(alternatives) == 1:
            return alternatives[0]
        return _Node("alt", alternatives, nullable=any(a.nullable for a in alternatives))

    def alternative(self) -> _Node:
        terms = []
        while self.peek() not in ("", "|", ")"):
            terms.append(self.term())
        return _Node("seq", terms, nullable=all(t.nullable for t in terms))

    def term(self) -> _Node:
        start = self.pos
        atom = self.assertion()
        if atom is not None:
            if self.quantifier_ahead():
                if atom.kind == "look":
                    raise self.unsupported("a repeated lookahead", start, self.pos - start)
                raise self.error("Nothing to repeat")
            return atom
        atom = self.atom()
        atom.offset = start
        return self.quantified(atom, start)

    def quantifier_ahead(self) -> bool:
        c = self.peek()
        return c in ("*", "+", "?") or (c == "{" and self.braces() is not None)

    def braces(self):
        """The (low, high, end) of a `{n}`, `{n,}` or `{n,m}` at pos, else None."""
        src, i = self.src, self.pos + 1
        j = i
        while j < len(src) and src[j].isdigit() and src[j].isascii():
            j += 1
        if j == i:
            return None
        low, high = int(src[i:j]), None
        if j < len(src) and src[j] == ",":
            k = j + 1
            while k < len(src) and src[k].isdigit() and src[k].isascii():
                k += 1
            high = int(src[j + 1:k]) if k > j + 1 else float("inf")
            j = k
        else:
            high = low
        if j < len(src) and src[j] == "}":
            return low, high, j + 1
        return None

    def quantified(self, atom: _Node, start: int) -> _Node:
        c = self.peek()
        if c in ("*", "+", "?"):
            low, high = {"*": (0, float("inf")), "+": (1, float("inf")), "?": (0, 1)}[c]
            self.pos += 1
        elif c == "{" and self.braces() is not None:
            low, high, end = self.braces()
            if high < low:
                raise self.error("numbers out of order in {} quantifier", self.pos, end - self.pos)
            self.pos = end
        else:
            return atom
        lazy = self.eat("?")
        if high > _MAX_STRING_UNITS:  # no string is that long: the same as no upper bound
            high = float("inf")
        high_text = "" if high == float("inf") else str(high)
        braces = {(0, float("inf")): "*", (1, float("inf")): "+", (0, 1): "?"}.get((low, high))
        text = braces or (f"{{{low}}}" if low == high else f"{{{low},{high_text}}}")
        quant = _Node("quant", [atom], text=text + ("?" if lazy else ""), low=low, high=high, offset=start,
                      nullable=low == 0 or atom.nullable)
        if _least_repeats(quant) > MAX_LEAST_REPEATS:
            raise self.unsupported(f"a repetition that must match more than {MAX_LEAST_REPEATS:,} times (Python's "
                                   f"engine unrolls it when compiling)", start, self.pos - start,
                                   "match fewer repetitions and check the length separately")
        _check_repeated_captures(quant)
        return quant

    def assertion(self) -> _Node | None:
        c = self.peek()
        if c == "^":
            self.pos += 1
            return _leaf(f"(?<![^{_TERMINATORS}])" if self.multiline else "\\A", True)
        if c == "$":
            self.pos += 1
            return _leaf(f"(?![^{_TERMINATORS}])" if self.multiline else "\\Z", True)
        if c == "\\" and self.peek(1) in ("b", "B"):
            self.pos += 2
            word = _class_text(self.word, [], False)
            if c == "\\" and self.src[self.pos - 1] == "b":
                return _leaf(f"(?:(?<={word})(?!{word})|(?<!{word})(?={word}))", True)
            return _leaf(f"(?:(?<={word})(?={word})|(?<!{word})(?!{word}))", True)
        for opener in ("(?=", "(?!", "(?<=", "(?<!"):
            if self.src.startswith(opener, self.pos):
                start = self.pos
                self.pos += len(opener)
                inner = self.disjunction()
                self.close_group(start)
                return _Node("look", [inner], text=opener, nullable=True, offset=start)
        return None

    def close_group(self, start: int) -> None:
        if not self.eat(")"):
            raise self.error("Unterminated group", start)

    def atom(self) -> _Node:
        c = self.peek()
        start = self.pos
        if c == ".":
            self.pos += 1
            return _leaf("[\\s\\S]" if self.dot_all else f"[^{_TERMINATORS}]")
        if c == "(":
            return self.group()
        if c == "[":
            return _leaf(self.char_class())
        if c == "\\":
            return self.atom_escape()
        if c in ("*", "+", "?"):
            raise self.error("Nothing to repeat")
        if c == "{":
            if self.unicode or self.braces() is not None:
                raise self.error("Nothing to repeat" if self.braces() is not None else "Lone quantifier brackets")
        if c in ("}", "]") and self.unicode:
            raise self.error("Lone quantifier brackets")
        self.pos += 1
        return _leaf(self.char(ord(c)))

    def group(self) -> _Node:
        start = self.pos
        self.pos += 1
        name = None
        if self.eat("?"):
            if self.eat(":"):
                inner = self.disjunction()
                self.close_group(start)
                return _Node("group", [inner], text="(?:", nullable=inner.nullable, offset=start)
            if self.peek() == "<":
                self.pos += 1
                name = self.group_name(start)
            elif self.peek() in ("i", "m", "s", "-"):
                raise self.unsupported("a group with flag modifiers (?i:…)", start, 3)
            else:
                raise self.error("Invalid group", start)
        self.captures += 1
        number = self.captures
        self.names.append(name)
        inner = self.disjunction()
        self.close_group(start)
        return _Node("group", [inner], text=f"(?P<g{number}>", capture=number, nullable=inner.nullable,
                     offset=start)

    def group_name(self, start: int) -> str:
        end = self.src.find(">", self.pos)
        name = self.src[self.pos:end] if end >= 0 else ""
        if not name or not _is_identifier(name):
            raise self.error("Invalid capture group name", start)
        if name in self.names:
            raise self.error("Duplicate capture group name", start, end + 1 - start)
        self.pos = end + 1
        return name

    def atom_escape(self) -> _Node:
        start = self.pos
        self.pos += 1
        c = self.peek()
        if c == "":
            raise self.error("\\ at end of pattern", start)
        if c.isdigit() and c.isascii() and c != "0":
            return self.backreference(start)
        if c == "k" and (self.unicode or self.named):
            self.pos += 1
            if not self.eat("<"):
                raise self.error("Invalid named reference", start)
            end = self.src.find(">", self.pos)
            name = self.src[self.pos:end] if end >= 0 else ""
            if name not in self.named:
                raise self.error("Invalid named capture referenced", start, (end + 1 if end >= 0 else self.pos) - start)
            self.pos = end + 1
            return _reference(self.named[name], self.ignore_case and not self.unicode)
        ranges = self.class_escape_ranges(c)
        if ranges is not None:
            self.pos += 1
            return _leaf(self.chars(*ranges))
        if c in ("p", "P") and self.unicode:
            return _leaf(_class_text([], [self.property_escape(start)], False))
        return _leaf(self.char(self.character_escape(start)))

    def backreference(self, start: int) -> _Node:
        end = self.pos
        while end < len(self.src) and self.src[end].isdigit() and self.src[end].isascii():
            end += 1
        number = int(self.src[self.pos:end])
        if number > self.total:
            if self.unicode:
                raise self.error("Invalid escape", start, end - start)
            raise self.unsupported(f"'\\{number}' without a capture group {number} (a legacy octal escape in "
                                   f"JavaScript)", start, end - start, _OCTAL_ADVICE)
        self.pos = end
        return _reference(number, self.ignore_case and not self.unicode)

    def class_escape_ranges(self, c: str):
        """(ranges, raw, negated) for \\d \\D \\w \\W \\s \\S, else None."""
        table = {"d": _DIGIT_RANGES, "w": self.word, "s": _SPACE_RANGES}
        if c.lower() not in table or not c.isascii():
            return None
        ranges = table[c.lower()]
        return (_complement(ranges, self.top) if c.isupper() else ranges), [], False

    def property_escape(self, start: int) -> str:
        kind = self.peek()
        self.pos += 1
        if not self.eat("{"):
            raise self.error("Invalid property name", start)
        end = self.src.find("}", self.pos)
        body = self.src[self.pos:end] if end >= 0 else ""
        if not body or not all(ch.isascii() and (ch.isalnum() or ch in "_=") for ch in body):
            raise self.error("Invalid property name", start)
        self.pos = end + 1
        return f"\\{kind}{{{body}}}"

    def character_escape(self, start: int) -> int:
        """The code point of a character escape at pos (after the backslash)."""
        c = self.peek()
        self.pos += 1
        if c in _CONTROL_ESCAPES:
            return _CONTROL_ESCAPES[c]
        if c == "0" and not (self.peek().isdigit() and self.peek().isascii()):
            return 0
        if c == "0":
            raise self.unsupported("a legacy octal escape", start, 3, _OCTAL_ADVICE)
        if c == "c" and self.peek().isascii() and self.peek().isalpha():
            self.pos += 1
            return ord(self.src[self.pos - 1]) % 32
        if c == "x":
            digits = self.src[self.pos:self.pos + 2]
            if len(digits) == 2 and _is_hex(digits):
                self.pos += 2
                return int(digits, 16)
            if self.unicode:
                raise self.error("Invalid escape", start)
            return ord("x")
        if c == "u":
            return self.unicode_escape(start)
        if self.unicode and c not in _SYNTAX and c != "-":
            raise self.error("Invalid escape", start, 2)
        if not self.unicode and c == "c":
            self.pos -= 1
            return ord("\\")
        return ord(c)

    def unicode_escape(self, start: int) -> int:
        src = self.src
        if self.unicode and self.eat("{"):
            end = src.find("}", self.pos)
            digits = src[self.pos:end] if end >= 0 else ""
            if not digits or not _is_hex(digits) or int(digits, 16) > 0x10FFFF:
                raise self.error("Invalid Unicode escape", start)
            self.pos = end + 1
            return int(digits, 16)
        digits = src[self.pos:self.pos + 4]
        if len(digits) != 4 or not _is_hex(digits):
            if self.unicode:
                raise self.error("Invalid Unicode escape", start)
            return ord("u")
        self.pos += 4
        code = int(digits, 16)
        if self.unicode and 0xD800 <= code <= 0xDBFF and src.startswith("\\u", self.pos):
            low = src[self.pos + 2:self.pos + 6]
            if len(low) == 4 and _is_hex(low) and 0xDC00 <= int(low, 16) <= 0xDFFF:
                self.pos += 6
                return 0x10000 + ((code - 0xD800) << 10) + (int(low, 16) - 0xDC00)
        return code

    def char_class(self) -> str:
        start = self.pos
        self.pos += 1
        negated = self.eat("^")
        ranges: list[tuple[int, int]] = []
        raw: list[str] = []
        while True:
            c = self.peek()
            if c == "":
                raise self.error("Unterminated character class", start)
            if c == "]":
                self.pos += 1
                break
            item_start = self.pos
            low = self.class_atom(ranges, raw)
            if self.peek() == "-" and self.peek(1) not in ("]", ""):
                self.pos += 1
                high = self.class_atom(ranges, raw)
                if low is None or high is None:
                    if self.unicode:
                        raise self.error("Invalid character class", item_start)
                    ranges.append((ord("-"), ord("-")))
                    continue
                if high < low:
                    raise self.error("Range out of order in character class", item_start, self.pos - item_start)
                ranges.append((low, high))
            elif low is not None:
                ranges.append((low, low))
        return self.chars(ranges, raw, negated)

    def class_atom(self, ranges: list, raw: list) -> int | None:
        """One class atom: its code point, or None after adding a class escape's ranges."""
        c = self.peek()
        if c != "\\":
            self.pos += 1
            return ord(c)
        start = self.pos
        self.pos += 1
        e = self.peek()
        if e == "":
            raise self.error("\\ at end of pattern", start)
        found = self.class_escape_ranges(e)
        if found is not None:
            self.pos += 1
            sub, _raw, _neg = found
            ranges.extend(sub)
            return None
        if e in ("p", "P") and self.unicode:
            raw.append(self.property_escape(start))
            return None
        if e == "b":
            self.pos += 1
            return 0x08
        if e == "-" and self.unicode:
            self.pos += 1
            return ord("-")
        if e.isdigit() and e.isascii() and e != "0":
            if self.unicode:
                raise self.error("Invalid class escape", start)
            raise self.unsupported("a legacy octal escape", start, 2, _OCTAL_ADVICE)
        return self.character_escape(start)


_TERMINATORS = "\\n\\r\\u2028\\u2029"
_OCTAL_ADVICE = "write the character as a \\x or \\u escape"
_GROUP_ADVICE = "make that group non-capturing (?:…), or capture the whole repetition instead"


def _reference(number: int, ignore_case: bool) -> _Node:
    """A backreference: it matches the empty string when its group has not taken part, as in JavaScript."""
    ref = f"(?i:(?P=g{number}))" if ignore_case else f"(?P=g{number})"
    return _Node("ref", text=f"(?(g{number}){ref}|)", nullable=True, capture=number)


def _canonicalize(code: int) -> int:
    """JavaScript's Canonicalize without `u`: the upper case of a code unit, unless that is several
    characters, or ASCII for a non-ASCII one."""
    upper = chr(code).upper()
    if len(upper) != 1 or (code >= 0x80 and ord(upper) < 0x80):
        return code
    return ord(upper)


@lru_cache(maxsize=1)
def _case_variants() -> dict[int, list[int]]:
    """Every code unit that shares its Canonicalize with another -> all of them."""
    groups: dict[int, list[int]] = {}
    for code in range(0x10000):
        groups.setdefault(_canonicalize(code), []).append(code)
    return {code: group for group in groups.values() if len(group) > 1 for code in group}


def _folded(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Ranges plus the case variants of their members."""
    merged = _merge(ranges)
    variants = _case_variants()
    codes = _variant_codes()
    extra = []
    for lo, hi in merged:
        for code in codes[bisect.bisect_left(codes, lo) : bisect.bisect_right(codes, hi)]:
            extra.extend((c, c) for c in variants[code])
    return merged + extra


@lru_cache(maxsize=1)
def _variant_codes() -> list[int]:
    return sorted(_case_variants())


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


def _is_identifier(name: str) -> bool:
    return (name[0] in "$_" or name[0].isidentifier()) and all(c == "$" or ("a" + c).isidentifier() for c in name)


def _count_groups(src: str) -> tuple[int, dict]:
    """How many capture groups a pattern has, and the number of each named one (escapes and classes skipped),
    so that a backreference may come before its group."""
    count, names, i, in_class = 0, {}, 0, False
    while i < len(src):
        c = src[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "(" and (not src.startswith("?", i + 1) or (src.startswith("?<", i + 1)
                                                             and src[i + 3:i + 4] not in ("=", "!"))):
            count += 1
            if src.startswith("?<", i + 1):
                names.setdefault(src[i + 3:src.find(">", i)], count)
        i += 1
    return count, names


def _check_repeated_captures(quant: _Node) -> None:
    """Refuse a repetition JavaScript and Python would run differently: JavaScript clears the capture groups
    of a repeated atom on each repetition, and fails a repetition beyond the minimum that matches nothing
    (then tries the atom's other ways), where Python keeps old captures and ends the loop on an empty one."""
    body = quant.children[0]
    if quant.high <= quant.low:
        return
    if body.nullable:
        raise PatternError("a repetition of something that can match the empty string (JavaScript and Python "
                           "end such a repetition differently)", quant.offset, 1, unsupported=True,
                           advice="make the repeated part match at least one character")
    if quant.high > 1:
        group = _skippable_capture(body, False)
        if group is not None:
            raise PatternError("a capture group that a repetition may skip (JavaScript clears it at each "
                               "repetition)", group.offset, 1, unsupported=True, advice=_GROUP_ADVICE)


def _least_repeats(node: _Node) -> int:
    """The most times a piece of the pattern must repeat, nested repetitions multiplied."""
    inner = max((_least_repeats(c) for c in node.children), default=1)
    return inner * node.low if node.kind == "quant" else inner


def _skippable_capture(node: _Node, skippable: bool):
    if node.kind == "group" and node.capture and skippable:
        return node
    if node.kind == "alt":
        skippable = True
    if node.kind == "quant" and node.low == 0:
        skippable = True
    for child in node.children:
        found = _skippable_capture(child, skippable)
        if found is not None:
            return found
    return None


def _emit(node: _Node) -> str:
    if node.kind == "alt":
        return "|".join(_emit(c) for c in node.children)
    if node.kind == "seq":
        return "".join(_emit(c) for c in node.children)
    if node.kind in ("group", "look"):
        return f"{node.text}{_emit(node.children[0])})"
    if node.kind == "quant":
        inner = node.children[0]
        body = _emit(inner)
        if inner.kind not in ("group", "look") and not _single(body):
            body = f"(?:{body})"
        return body + node.text
    return node.text


def _single(text: str) -> bool:
    """Is this emitted leaf one atom (a character, an escape or a class) that a quantifier may follow?"""
    if len(text) == 1:
        return True
    if text.startswith("[") and text.endswith("]") and text.count("[") == 1:
        return True
    if text.startswith("\\") and (len(text) == 2 or text.startswith(("\\u", "\\U")) and text.count("\\") == 1):
        return True
    return False


def validate_flags(flags: str) -> str | None:
    """The flags in canonical order, or None when they are not valid (unknown or repeated)."""
    if any(f not in FLAGS for f in flags) or len(set(flags)) != len(flags):
        return None
    return "".join(f for f in FLAGS if f in flags)


def translate(source: str, flags: str) -> Translation:
    """The ``regex`` module pattern for a JavaScript pattern; raises PatternError (its offset counts the
    source's characters, as a diagnostic's column does)."""
    parser = _Parser(source, flags)
    try:
        tree = parser.disjunction()
        if parser.pos < len(parser.src):
            raise parser.error("Unmatched ')'")
    except PatternError as e:
        if parser.src is not source:  # units: count an astral character once
            e.offset = len(_canonical(parser.src[:e.offset]))
        raise
    return Translation(_emit(tree), parser.names, parser.ignore_case and parser.unicode)


def escaped_source(source: str) -> str:
    """A pattern as RegExp's ``source`` shows it, so that `/${source}/` reads back as the same pattern:
    `/` escaped outside classes, line terminators as escapes, the empty pattern as `(?:)`
    (V8's EscapeRegExpPattern)."""
    if not source:
        return "(?:)"
    out, in_class, escaped = [], False, False
    for c in source:
        if escaped:
            escaped = False
        elif c == "\\":
            escaped = True
        elif c == "[":
            in_class = True
        elif c == "]":
            in_class = False
        elif c == "/" and not in_class:
            c = "\\/"
        out.append(_ESCAPED_TERMINATORS.get(c, c))
    return "".join(out)


_ESCAPED_TERMINATORS = {"\n": "\\n", "\r": "\\r", "\u2028": "\\u2028", "\u2029": "\\u2029"}
