"""Numbers as text and text as numbers, without coercion: Number#toString's
shortest digits and radix strings, and the digit scanning behind ToNumber on a
string and parseInt.  Below the conversions, which print and read every number
through it."""

from __future__ import annotations

import math
import re

from .representation import INF, NAN, _MAX_SAFE


# WhiteSpace and LineTerminator of ECMA-262 (not Python's str.isspace set).
_WHITESPACE = (
    "\t\n\x0b\x0c\r \xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_DECIMAL_LITERAL = (
    r"[+-]?(?:Infinity|(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
)
_STRING_NUMBER = re.compile(_DECIMAL_LITERAL + r"\Z")
_FLOAT_PREFIX = re.compile(_DECIMAL_LITERAL)
_RADIX_PREFIXES = {"0x": 16, "0X": 16, "0o": 8, "0O": 8, "0b": 2, "0B": 2}


def _string_to_number(s: str) -> float:
    s = s.strip(_WHITESPACE)
    if not s:
        return 0.0
    if _STRING_NUMBER.match(s):
        return float(s)
    radix = _RADIX_PREFIXES.get(s[:2])
    digits = s[2:]
    if radix is None or not digits or _digits_prefix(digits, radix) < len(digits):
        return NAN
    return _digits_value(digits, radix)


def number_to_string(x: float) -> str:
    """Number#toString() -- the shortest digits that round-trip (which is what
    Python's repr computes too), laid out by ECMA-262 Number::toString."""
    if -_MAX_SAFE < x < _MAX_SAFE and x == int(x):
        return str(int(x))  # also turns -0 into "0"
    if x != x:
        return "NaN"
    if x == INF:
        return "Infinity"
    if x == -INF:
        return "-Infinity"
    if x < 0:
        return "-" + _format_positive(-x)
    return _format_positive(x)


def _format_positive(x: float) -> str:
    digits, n = _shortest_digits(x)  # x == 0.<digits> * 10**n
    k = len(digits)
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * -n + digits
    exponent = n - 1
    mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
    return f"{mantissa}e{'+' if exponent >= 0 else '-'}{abs(exponent)}"


def _shortest_digits(x: float) -> tuple[str, int]:
    mantissa, _, exp = repr(x).partition("e")
    whole, _, fraction = mantissa.partition(".")
    raw = whole + fraction
    digits = raw.lstrip("0")
    point = len(whole) - (len(raw) - len(digits)) + (int(exp) if exp else 0)
    return digits.rstrip("0"), point


_DIGIT_CHARS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _radix_string(value: float, radix: int) -> str:
    """Number#toString(radix) for radix != 10, ported from V8's
    DoubleToRadixCString so that fractions print digit-for-digit as Node."""
    negative = value < 0
    if negative:
        value = -value
    integer = float(math.floor(value))
    fraction = value - integer
    delta = max(0.5 * (math.nextafter(value, INF) - value), 5e-324)
    fraction_digits: list[int] = []
    if fraction >= delta:
        while True:
            fraction *= radix
            delta *= radix
            digit = int(fraction)
            fraction_digits.append(digit)
            fraction -= digit
            if (
                fraction > 0.5 or (fraction == 0.5 and digit & 1)
            ) and fraction + delta > 1:
                integer += _round_up(fraction_digits, radix)
                break
            if fraction < delta:
                break
    integer_digits: list[int] = []
    while math.frexp(integer / radix)[1] > 53:  # beyond 2**53: digits unknown
        integer /= radix
        integer_digits.append(0)
    while True:
        remainder = math.fmod(integer, radix)
        integer_digits.append(int(remainder))
        integer = (integer - remainder) / radix
        if integer <= 0:
            break
    text = "".join(_DIGIT_CHARS[d] for d in reversed(integer_digits))
    if fraction_digits:
        text += "." + "".join(_DIGIT_CHARS[d] for d in fraction_digits)
    return "-" + text if negative else text


def _round_up(digits: list[int], radix: int) -> int:
    """Add one unit in the last place of fraction ``digits``; returns the
    carry into the integer part (trailing digits that wrap are dropped)."""
    while digits:
        d = digits.pop() + 1
        if d < radix:
            digits.append(d)
            return 0
    return 1


_DIGIT_VALUES = {c: i for i, c in enumerate(_DIGIT_CHARS)} | {
    c.upper(): i for i, c in enumerate(_DIGIT_CHARS) if c.isalpha()
}


def _digits_prefix(s: str, radix: int) -> int:
    """How many leading characters of ``s`` are digits in ``radix``."""
    for i, c in enumerate(s):
        if _DIGIT_VALUES.get(c, 99) >= radix:
            return i
    return len(s)


def _digits_value(digits: str, radix: int) -> float:
    """The correctly rounded value of a non-empty digit string."""
    if radix == 10:
        return float(digits)
    digits = digits.lstrip("0") or "0"
    if len(digits) > 1100:  # at least 2**1100: beyond every double
        return INF
    try:
        return float(int(digits, radix))
    except OverflowError:
        return INF
