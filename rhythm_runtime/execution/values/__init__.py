"""JavaScript value semantics for compiled workflows.

Generated modules do ``from rhythm_runtime import values as _js`` and route
every operator, property access, method call and global through this module,
so a ``.flow`` program computes what Node computes.

Representation (fixed, shared with the compiler and the runtime):

=============  ===========================================================
JavaScript     Python
=============  ===========================================================
number         ``float`` -- always; never ``int``, never ``bool``
string         ``str``; astral characters are single code points, and a
               valid surrogate pair is always stored joined (see UTF-16)
boolean        ``bool``
null           ``None``
undefined      ``UNDEFINED`` (the only ``Undefined``)
array          ``list`` (dense: a hole reads as ``UNDEFINED``)
object         ``dict`` with ``str`` keys
Error          ``JSError``
promise        ``Promise`` (a handle the runtime resolves)
method value   ``JSFunction`` (``arr.push`` read as a value)
=============  ===========================================================

Everything a script can observe as an error is raised as ``JSThrow``; no
Python exception escapes an operation on well-formed values.

The sandbox: property names are only ever looked up in dicts owned by this
module or by the script.  ``getattr`` is never called with a script-supplied
name, so ``__class__``, ``constructor``, ``__proto__`` and friends are plain
missing properties.

Deliberate differences from Node (each has a test):

* ``==`` does not coerce: it is ``===`` except that null == undefined.
* There are no prototypes: ``({}).toString`` is undefined and
  ``"toString" in {}`` is false; a method read as a value stays bound to
  the receiver it was read from (``const f = a.push; f(1)`` pushes onto a).
* Arrays are dense lists: ``delete a[i]`` leaves undefined, a write that
  would grow an array past 2**24 elements throws RangeError, and arrays,
  promises and method values hold no named properties (TypeError).
* An Error's ``message`` is always a string, and never enumerable.
* No callbacks (the language has no closures): ``sort`` takes no compare
  function, ``JSON.parse`` no reviver, ``JSON.stringify`` only an array of
  keys as replacer.
* JSON nested deeper than Python's recursion limit throws RangeError.
* Strings must arrive canonical (see UTF-16): the compiler emits an escaped
  pair like ``"\\uD83D\\uDE00"`` as the one character it encodes.
"""

from __future__ import annotations

import json
import math
import random
import re
import struct
import sys
import time
from decimal import ROUND_HALF_UP, Context, Decimal

# --------------------------------------------------------------------------
# Representation
# --------------------------------------------------------------------------


class Undefined:
    """The type of ``UNDEFINED``: a falsy singleton that survives copying."""

    __slots__ = ()
    _instance: Undefined | None = None

    def __new__(cls) -> Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "undefined"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self):
        return (Undefined, ())


UNDEFINED = Undefined()


class JSError:
    """An Error object.

    ``name`` and ``message`` are strings: the error's name and message as
    ``String(e)`` shows them.  ``props`` holds the own enumerable properties
    a script adds later (``e.code = 5``), which are all ``JSON.stringify``
    shows.  As in JS, assigning ``e.name`` adds an enumerable ``name`` (it
    lives on the prototype until then): it goes to ``props`` with the value
    as assigned, and ``name`` follows it as a string.
    """

    __slots__ = ("name", "message", "props", "hidden")

    def __init__(self, name: str, message: str = "", props: dict | None = None, hidden: dict | None = None):
        self.name = name
        self.message = message
        self.props = {} if props is None else props
        # non-enumerable own properties (AggregateError's `errors`, `cause`): readable, not in JSON
        self.hidden = hidden

    def __repr__(self) -> str:
        return f"JSError({self.name!r}, {self.message!r}, {self.props!r})"


class Promise:
    """A handle on something the runtime resolves: a leaf (``key`` names it)
    or a combinator over ``items``.  Compared by identity, like JS objects.

    ``born`` (combinators only): the highest settlement seq the run had seen
    when the combinator was made; items settled by then count as settled at
    its creation, so they take part in array order, as in JavaScript."""

    __slots__ = ("kind", "key", "items", "born")

    def __init__(self, kind: str, key: str | None = None, items: list | None = None, born: int | None = None):
        self.kind = kind
        self.key = key
        self.items = items
        self.born = born

    def __repr__(self) -> str:
        return f"Promise({self.kind!r}, {self.key!r}, {self.items!r})"


class JSFunction:
    """A built-in method read as a value (``typeof arr.push``), bound to the
    receiver it was read from.  ``impl(this, args)`` runs it."""

    __slots__ = ("name", "this", "impl")

    def __init__(self, name: str, this, impl):
        self.name = name
        self.this = this
        self.impl = impl

    def __repr__(self) -> str:
        return f"<JSFunction {self.name}>"


class JSThrow(Exception):
    """A JavaScript ``throw``; ``value`` is the thrown JS value."""

    def __init__(self, value):
        super().__init__(value)
        self.value = value

    def __str__(self) -> str:
        value = self.value
        if type(value) is dict or type(value) is list:
            try:
                return json_stringify(value)
            except JSThrow:
                pass
        return to_string(value)


def type_error(message: str) -> JSThrow:
    """A ``TypeError`` ready to raise: ``raise type_error(...)``."""
    return JSThrow(JSError("TypeError", message))


def range_error(message: str) -> JSThrow:
    return JSThrow(JSError("RangeError", message))


def syntax_error(message: str) -> JSThrow:
    return JSThrow(JSError("SyntaxError", message))


def new_error(message=UNDEFINED, options=UNDEFINED, *_ignored) -> JSError:
    """``new Error(message, { cause })``: the cause becomes an own property, as in JS."""
    error = JSError("Error", "" if message is UNDEFINED else to_string(message))
    if type(options) is dict and "cause" in options:
        error.hidden = {"cause": options["cause"]}
    return error


NAN = math.nan
INF = math.inf
_MAX_SAFE = 9007199254740992.0  # 2**53
_MAX_STRING_LENGTH = 2**29 - 24  # V8's limit on 64-bit machines
_MAX_ARRAY_INDEX = 2**32 - 2
# Arrays are dense lists, so a write far past the end would allocate every
# hole; cap the length such writes may produce (a documented deviation).
_MAX_HOLEY_LENGTH = 2**24
_ABSENT = object()  # "no argument at all", where JS tells it from undefined

# --------------------------------------------------------------------------
# Conversions
# --------------------------------------------------------------------------

_TYPEOF = {
    float: "number",
    str: "string",
    bool: "boolean",
    type(None): "object",
    Undefined: "undefined",
    JSFunction: "function",
}


def typeof(v) -> str:
    return _TYPEOF.get(type(v), "object")


def truthy(v) -> bool:
    t = type(v)
    if t is bool:
        return v
    if t is float:
        return v == v and v != 0.0
    if t is str:
        return v != ""
    return v is not None and v is not UNDEFINED


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


def to_number(v) -> float:
    """ToNumber."""
    t = type(v)
    if t is float:
        return v
    if t is bool:
        return 1.0 if v else 0.0
    if t is str:
        return _string_to_number(v)
    if v is None:
        return 0.0
    if v is UNDEFINED:
        return NAN
    return _string_to_number(to_primitive(v))


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


def to_primitive(v):
    """ToPrimitive: objects become their string form; primitives stay."""
    t = type(v)
    if t is list:
        return _join(v, ",")
    if t is dict:
        return "[object Object]"
    if t is JSError:
        return _error_string(v)
    if t is Promise:
        return "[object Promise]"
    if t is JSFunction:
        return f"function {v.name.rpartition('.')[2]}() {{ [native code] }}"
    return v


def to_string(v) -> str:
    """String(v)."""
    t = type(v)
    if t is str:
        return v
    if t is float:
        return number_to_string(v)
    if t is bool:
        return "true" if v else "false"
    if v is None:
        return "null"
    if v is UNDEFINED:
        return "undefined"
    return to_primitive(v)


def to_property_key(v) -> str:
    return v if type(v) is str else to_string(v)


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


def _to_integer(v) -> float:
    """ToIntegerOrInfinity, as a float (so it may be +-inf)."""
    n = v if type(v) is float else to_number(v)
    if n != n:
        return 0.0
    if n == INF or n == -INF:
        return n
    return float(math.trunc(n))


def _to_uint32(v) -> int:
    n = v if type(v) is float else to_number(v)
    if n != n or n == INF or n == -INF:
        return 0
    return math.trunc(n) % 2**32


def _to_int32(v) -> int:
    n = _to_uint32(v)
    return n - 2**32 if n >= 2**31 else n


def _relative(v, length: int, default: int) -> int:
    """A relative index argument (negative counts from the end) clamped to
    ``[0, length]``; ``default`` when the argument is undefined."""
    if v is UNDEFINED:
        return default
    k = _to_integer(v)
    if k < 0:
        return int(max(length + k, 0))
    return int(min(k, length))


def _clamp(v, length: int) -> int:
    """An absolute index argument clamped to ``[0, length]``."""
    return int(min(max(_to_integer(v), 0.0), length))


def _error_string(e: JSError) -> str:
    """Error.prototype.toString."""
    if not e.name:
        return e.message
    if not e.message:
        return e.name
    return f"{e.name}: {e.message}"


# --------------------------------------------------------------------------
# UTF-16
#
# JavaScript strings are sequences of UTF-16 code units.  We keep Python
# strings (fast, readable) and switch to a "unit string" -- every astral
# character split into its two surrogates -- only for operations that count
# positions on a string that has astral characters.  Results are joined back
# with _canonical, so a surrogate pair never stays split in a stored value.
# --------------------------------------------------------------------------

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


# --------------------------------------------------------------------------
# Operators
# --------------------------------------------------------------------------


def add(a, b):
    ta = type(a)
    tb = type(b)
    if ta is float and tb is float:
        return a + b
    if ta is str and tb is str:
        return _concat(a, b)
    a = to_primitive(a)
    b = to_primitive(b)
    if type(a) is str or type(b) is str:
        return _concat(to_string(a), to_string(b))
    return to_number(a) + to_number(b)


def sub(a, b):
    if type(a) is float and type(b) is float:
        return a - b
    return to_number(a) - to_number(b)


def mul(a, b):
    if type(a) is float and type(b) is float:
        return a * b
    return to_number(a) * to_number(b)


def div(a, b):
    if type(a) is not float:
        a = to_number(a)
    if type(b) is not float:
        b = to_number(b)
    try:
        return a / b
    except ZeroDivisionError:
        if a != a or a == 0:
            return NAN
        return INF if (a > 0) == (math.copysign(1.0, b) > 0) else -INF


def mod(a, b):
    if type(a) is not float:
        a = to_number(a)
    if type(b) is not float:
        b = to_number(b)
    try:
        return math.fmod(a, b)
    except ValueError:  # x % 0, Infinity % y
        return NAN


def pow(a, b):  # noqa: A001 -- the JS operator's name
    x = a if type(a) is float else to_number(a)
    y = b if type(b) is float else to_number(b)
    if y != y:
        return NAN
    if y == 0:
        return 1.0
    if x != x:
        return NAN
    if x - x == 0 and y - y == 0 and x != 0:
        return _fdlibm_pow(x, y)
    if x == 1 or x == -1:  # and y is infinite
        return NAN
    try:  # zeros and infinities: exact results, which libm gets right
        return math.pow(x, y)
    except ValueError:  # 0 ** negative
        return -INF if math.copysign(1.0, x) < 0 and _is_odd_integer(y) else INF


def _is_odd_integer(y: float) -> bool:
    return y == int(y) and int(y) % 2 == 1 if -INF < y < INF else False


# V8 computes ``**`` with fdlibm's pow, which is not correctly rounded, and
# scripts print every digit; Python's math.pow (the C library's) disagrees in
# the last bit for about one random input in ten.  So: a port of fdlibm's
# e_pow.c (Sun Microsystems, 1993 -- freely redistributable), for finite x != 0
# and finite y.

_DOUBLE = struct.Struct("<d")
_BITS = struct.Struct("<Q")
_BP = (1.0, 1.5)
_DP_H = (0.0, 5.84962487220764160156e-01)
_DP_L = (0.0, 1.35003920212974897128e-08)
_L1, _L2, _L3 = (
    5.99999999999994648725e-01,
    4.28571428578550184252e-01,
    3.33333329818377432918e-01,
)
_L4, _L5, _L6 = (
    2.72728123808534006489e-01,
    2.30660745775561754067e-01,
    2.06975017800338417784e-01,
)
_P1, _P2, _P3 = (
    1.66666666666666019037e-01,
    -2.77777777770155933842e-03,
    6.61375632143793436117e-05,
)
_P4, _P5 = -1.65339022054652515390e-06, 4.13813679705723846039e-08
_LG2, _LG2_H, _LG2_L = (
    6.93147180559945286227e-01,
    6.93147182464599609375e-01,
    -1.90465429995776804525e-09,
)
_OVT = 8.0085662595372944372e-17
_CP, _CP_H, _CP_L = (
    9.61796693925975554329e-01,
    9.61796700954437255859e-01,
    -7.02846165095275826516e-09,
)
_IVLN2, _IVLN2_H, _IVLN2_L = (
    1.44269504088896338700e00,
    1.44269502162933349609e00,
    1.92596299112661746887e-08,
)


def _words(x: float) -> tuple[int, int]:
    """The signed high and unsigned low 32-bit words of a double."""
    bits = _BITS.unpack(_DOUBLE.pack(x))[0]
    high = bits >> 32
    return (high - 2**32 if high >= 2**31 else high), bits & 0xFFFFFFFF


def _from_words(high: int, low: int) -> float:
    return _DOUBLE.unpack(_BITS.pack(((high & 0xFFFFFFFF) << 32) | (low & 0xFFFFFFFF)))[
        0
    ]


def _clear_low(x: float) -> float:
    return _from_words(_words(x)[0], 0)


def _fdlibm_pow(x: float, y: float) -> float:
    hx, lx = _words(x)
    hy, ly = _words(y)
    ix = hx & 0x7FFFFFFF
    iy = hy & 0x7FFFFFFF
    # yisint: 0 = not an integer, 1 = odd, 2 = even (only needed for x < 0)
    yisint = 0
    if hx < 0:
        if iy >= 0x43400000:
            yisint = 2
        elif iy >= 0x3FF00000:
            k = (iy >> 20) - 0x3FF
            if k > 20:
                j = ly >> (52 - k)
                if (j << (52 - k)) == ly:
                    yisint = 2 - (j & 1)
            elif ly == 0:
                j = iy >> (20 - k)
                if (j << (20 - k)) == iy:
                    yisint = 2 - (j & 1)
    if ly == 0:
        if iy == 0x3FF00000:
            return 1.0 / x if hy < 0 else x
        if hy == 0x40000000:
            return x * x
        if hy == 0x3FE00000 and hx >= 0:
            return math.sqrt(x)
    ax = abs(x)
    if lx == 0 and ix == 0x3FF00000:  # x is +-1
        if hx < 0 and yisint == 0:
            return NAN
        return -1.0 if hx < 0 and yisint == 1 else 1.0
    if hx < 0 and yisint == 0:
        return NAN
    s = -1.0 if hx < 0 and yisint == 1 else 1.0
    if iy > 0x41E00000:  # |y| > 2**31
        if iy > 0x43F00000:  # |y| > 2**64: must overflow or underflow
            if ix <= 0x3FEFFFFF:
                return INF if hy < 0 else 0.0
            if ix >= 0x3FF00000:
                return INF if hy > 0 else 0.0
        if ix < 0x3FEFFFFF:
            return s * INF if hy < 0 else s * 0.0
        if ix > 0x3FF00000:
            return s * INF if hy > 0 else s * 0.0
        # |1 - x| <= 2**-20: log2(x) by its series
        t = ax - 1.0
        w = (t * t) * (0.5 - t * (0.3333333333333333333333 - t * 0.25))
        u = _IVLN2_H * t
        v = t * _IVLN2_L - w * _IVLN2
        t1 = _clear_low(u + v)
        t2 = v - (t1 - u)
    else:
        t1, t2 = _log2_parts(ax, ix)
    # (y1 + y2) * (t1 + t2), in extra precision
    y1 = _clear_low(y)
    p_l = (y - y1) * t1 + y * t2
    p_h = y1 * t1
    z = p_l + p_h
    j, i = _words(z)
    if j >= 0x40900000:  # z >= 1024
        if ((j - 0x40900000) | i) != 0 or p_l + _OVT > z - p_h:
            return s * INF
    elif (j & 0x7FFFFFFF) >= 0x4090CC00:  # z <= -1075
        if (((j & 0xFFFFFFFF) - 0xC090CC00) | i) != 0 or p_l <= z - p_h:
            return s * 0.0
    return s * _exp2(p_h, p_l, j)


def _log2_parts(ax: float, ix: int) -> tuple[float, float]:
    """log2(ax) as t1 + t2, t1 with a zero low word."""
    n = 0
    if ix < 0x00100000:  # subnormal
        ax *= 9007199254740992.0
        n -= 53
        ix = _words(ax)[0]
    n += (ix >> 20) - 0x3FF
    j = ix & 0x000FFFFF
    ix = j | 0x3FF00000
    if j <= 0x3988E:  # |x| < sqrt(3/2)
        k = 0
    elif j < 0xBB67A:  # |x| < sqrt(3)
        k = 1
    else:
        k = 0
        n += 1
        ix -= 0x00100000
    ax = _from_words(ix, _words(ax)[1])
    bp = _BP[k]
    u = ax - bp
    v = 1.0 / (ax + bp)
    ss = u * v
    s_h = _clear_low(ss)
    t_h = _from_words(((ix >> 1) | 0x20000000) + 0x00080000 + (k << 18), 0)
    t_l = ax - (t_h - bp)
    s_l = v * ((u - s_h * t_h) - s_h * t_l)
    s2 = ss * ss
    r = s2 * s2 * (_L1 + s2 * (_L2 + s2 * (_L3 + s2 * (_L4 + s2 * (_L5 + s2 * _L6)))))
    r += s_l * (s_h + ss)
    s2 = s_h * s_h
    t_h = _clear_low(3.0 + s2 + r)
    t_l = r - ((t_h - 3.0) - s2)
    u = s_h * t_h
    v = s_l * t_h + t_l * ss
    p_h = _clear_low(u + v)
    p_l = v - (p_h - u)
    z_h = _CP_H * p_h
    z_l = _CP_L * p_h + p_l * _CP + _DP_L[k]
    t = float(n)
    t1 = _clear_low(((z_h + z_l) + _DP_H[k]) + t)
    return t1, z_l - (((t1 - t) - _DP_H[k]) - z_h)


def _exp2(p_h: float, p_l: float, j: int) -> float:
    """2 ** (p_h + p_l), where j is the high word of p_h + p_l."""
    i = j & 0x7FFFFFFF
    k = (i >> 20) - 0x3FF
    n = 0
    if i > 0x3FE00000:  # |z| > 0.5: n = [z + 0.5]
        n = j + (0x00100000 >> (k + 1))
        k = ((n & 0x7FFFFFFF) >> 20) - 0x3FF
        t = _from_words(n & ~(0x000FFFFF >> k), 0)
        n = ((n & 0x000FFFFF) | 0x00100000) >> (20 - k)
        if j < 0:
            n = -n
        p_h -= t
    t = _clear_low(p_l + p_h)
    u = t * _LG2_H
    v = (p_l - (t - p_h)) * _LG2 + t * _LG2_L
    z = u + v
    w = v - (z - u)
    t = z * z
    t1 = z - t * (_P1 + t * (_P2 + t * (_P3 + t * (_P4 + t * _P5))))
    r = (z * t1) / ((t1 - 2.0) - (w + z * w))  # sic: V8's grouping, not fdlibm's
    z = 1.0 - (r - z)
    high, low = _words(z)
    high += n << 20
    if (high >> 20) <= 0:
        return math.ldexp(z, n)
    return _from_words(high, low)


def neg(a):
    return -(a if type(a) is float else to_number(a))


def pos(a):
    return a if type(a) is float else to_number(a)


def lt(a, b) -> bool:
    if type(a) is float and type(b) is float:
        return a < b
    a, b = _comparable(a, b)
    if type(a) is str:
        return _string_lt(a, b)
    return a < b


def gt(a, b) -> bool:
    return lt(b, a)


def le(a, b) -> bool:
    if type(a) is float and type(b) is float:
        return a <= b
    a, b = _comparable(a, b)
    if type(a) is str:
        return not _string_lt(b, a)
    return a <= b


def ge(a, b) -> bool:
    return le(b, a)


def _comparable(a, b):
    """Both strings, or both numbers (NaN compares false on its own)."""
    a = to_primitive(a)
    b = to_primitive(b)
    if type(a) is str and type(b) is str:
        return a, b
    return to_number(a), to_number(b)


def strict_eq(a, b) -> bool:
    """``===``: no coercion; a bool is never equal to a number (even though
    Python says ``True == 1.0``); NaN is unequal to itself; objects compare
    by identity.  Method values compare by method, as JS's shared prototype
    functions do (``[].push === [1].push``)."""
    t = type(a)
    if t is not type(b):
        return False
    if t is float or t is str or t is bool:
        return a == b
    if t is JSFunction:
        return a.impl is b.impl
    return a is b


def strict_ne(a, b) -> bool:
    return not strict_eq(a, b)


def loose_eq(a, b) -> bool:
    """``==`` in Rhythm: exactly ``===`` except that null and undefined equal
    each other.  Deliberately NOT JavaScript's coercing ``==``: ``1 == "1"``
    is false here, as the language reference documents."""
    if a is None or a is UNDEFINED:
        return b is None or b is UNDEFINED
    return strict_eq(a, b)


def loose_ne(a, b) -> bool:
    return not loose_eq(a, b)


def template(*parts) -> str:
    """A template literal: the parts' String() values, concatenated."""
    return _canonical("".join([p if type(p) is str else to_string(p) for p in parts]))


# --------------------------------------------------------------------------
# Property access
# --------------------------------------------------------------------------


def _index_key(key: str) -> int | None:
    """The array index a canonical key like "12" names, else None."""
    if (
        key.isdigit()
        and len(key) <= 10
        and key.isascii()
        and (key[0] != "0" or len(key) == 1)
    ):
        i = int(key)
        if i <= _MAX_ARRAY_INDEX:
            return i
    return None


def _float_index(key: float) -> int | None:
    if 0 <= key <= _MAX_ARRAY_INDEX and key == int(key):
        return int(key)
    return None


def _ordered_keys(d: dict) -> list[str]:
    """JS own-key order: array indexes ascending, then insertion order."""
    indexes = [k for k in d if _index_key(k) is not None]
    if not indexes:
        return list(d)
    indexes.sort(key=int)
    return indexes + [k for k in d if _index_key(k) is None]


def own_keys(obj) -> list[str]:
    """The keys ``for…in`` visits and ``Object.keys`` returns."""
    t = type(obj)
    if t is dict:
        return _ordered_keys(obj)
    if t is list:
        return [str(i) for i in range(len(obj))]
    if t is str:
        return [str(i) for i in range(_unit_length(obj))]
    if t is JSError:
        return _ordered_keys(obj.props)
    return []


def get(obj, key):
    """``obj[key]``."""
    if type(obj) is dict:
        return obj.get(key if type(key) is str else to_property_key(key), UNDEFINED)
    t = type(obj)
    if t is list:
        if type(key) is float and 0 <= key < len(obj) and key == int(key):
            return obj[int(key)]
        return _get_array(obj, key)
    if t is str:
        return _get_string(obj, key)
    if obj is None or obj is UNDEFINED:
        raise type_error(
            f"Cannot read properties of {to_string(obj)} (reading '{to_property_key(key)}')"
        )
    if t is JSError:
        return _get_error(obj, to_property_key(key))
    table = _METHODS.get(t)  # numbers and booleans
    return (
        UNDEFINED if table is None else _method_value(obj, table, to_property_key(key))
    )


def get_optional(obj, key):
    """``obj?.[key]``."""
    if obj is None or obj is UNDEFINED:
        return UNDEFINED
    return get(obj, key)


def _get_array(a: list, key):
    if type(key) is float:
        i = _float_index(key)
        return a[i] if i is not None and i < len(a) else UNDEFINED
    key = to_property_key(key)
    if key == "length":
        return float(len(a))
    i = _index_key(key)
    if i is not None:
        return a[i] if i < len(a) else UNDEFINED
    return _method_value(a, _ARRAY_METHODS, key)


def _get_string(s: str, key):
    if type(key) is float:
        i = _float_index(key)
        if i is None:
            return UNDEFINED
    else:
        key = to_property_key(key)
        if key == "length":
            return float(_unit_length(s))
        i = _index_key(key)
        if i is None:
            return _method_value(s, _STRING_METHODS, key)
    u = _units(s)
    return u[i] if i < len(u) else UNDEFINED


def _get_error(e: JSError, key: str):
    if key == "message":
        return e.message
    value = e.props.get(key, _ABSENT)
    if value is not _ABSENT:
        return value
    if key == "name":
        return e.name
    if key == "stack":
        return _error_string(e)
    if e.hidden is not None and key in e.hidden:
        return e.hidden[key]
    return _method_value(e, _ERROR_METHODS, key)


def _method_value(obj, table: dict, key: str):
    impl = table.get(key)
    return UNDEFINED if impl is None else JSFunction(key, obj, impl)


def set_(obj, key, value):
    """``obj[key] = value``; returns ``value``."""
    if type(obj) is dict:
        obj[key if type(key) is str else to_property_key(key)] = value
        return value
    t = type(obj)
    if t is list:
        _set_array(obj, key, value)
    elif t is JSError:
        _set_error(obj, to_property_key(key), value)
    elif obj is None or obj is UNDEFINED:
        raise type_error(
            f"Cannot set properties of {to_string(obj)} (setting '{to_property_key(key)}')"
        )
    elif t is Promise or t is JSFunction:
        raise _no_named_properties(obj, key)
    else:  # a primitive: a TypeError in strict mode, which Node runs us in
        raise _primitive_write(obj, to_property_key(key))
    return value


def _primitive_write(obj, key: str) -> JSThrow:
    """Node's TypeError for ``"s".x = 1`` / ``(5).x = 1`` (strict mode)."""
    if type(obj) is str:
        i = _index_key(key)
        if key == "length" or (i is not None and i < len(obj)):
            return type_error(
                f"Cannot assign to read only property '{key}' of string '{obj}'"
            )
    return type_error(
        f"Cannot create property '{key}' on {typeof(obj)} '{to_string(obj)}'"
    )


def _set_array(a: list, key, value) -> None:
    if type(key) is float:
        i = _float_index(key)
    else:
        key = to_property_key(key)
        if key == "length":
            _set_length(a, value)
            return
        i = _index_key(key)
    if i is None:
        raise _no_named_properties(a, key)
    if i < len(a):
        a[i] = value
        return
    if i >= _MAX_HOLEY_LENGTH:  # JS would accept it, sparsely
        raise range_error("Invalid array length")
    a.extend([UNDEFINED] * (i - len(a)))
    a.append(value)


def _set_length(a: list, value) -> None:
    n = to_number(value)
    if not 0 <= n <= 2**32 - 1 or n != int(n):
        raise range_error("Invalid array length")
    n = int(n)
    if n <= len(a):
        del a[n:]
    elif n > _MAX_HOLEY_LENGTH:
        raise range_error("Invalid array length")
    else:
        a.extend([UNDEFINED] * (n - len(a)))


def _set_error(e: JSError, key: str, value) -> None:
    if key == "message":
        e.message = to_string(value)
        return
    e.props[key] = value
    if key == "name":
        e.name = "Error" if value is UNDEFINED else to_string(value)


_NAMED = {
    list: "an array (Rhythm arrays hold only elements)",
    Promise: "a promise",
    JSFunction: "a function",
}


def _no_named_properties(obj, key) -> JSThrow:
    """Unlike JS, Rhythm's arrays (plain lists), promises and method values
    hold no named properties: say so instead of losing the write."""
    return type_error(
        f"Cannot create property '{to_property_key(key)}' on {_NAMED[type(obj)]}"
    )


def delete(obj, key) -> bool:
    """``delete obj[key]``; False where JS refuses (array/string length,
    string indexes).  An array element becomes undefined (no holes)."""
    if obj is None or obj is UNDEFINED:
        raise type_error("Cannot convert undefined or null to object")
    t = type(obj)
    key = to_property_key(key)
    if t is dict:
        obj.pop(key, None)
    elif t is list:
        if key == "length":
            return False
        i = _index_key(key)
        if i is not None and i < len(obj):
            obj[i] = UNDEFINED
    elif t is str:
        i = _index_key(key)
        return not (key == "length" or (i is not None and i < _unit_length(obj)))
    elif t is JSError:
        if key == "message":
            obj.message = ""
        obj.props.pop(key, None)
    return True


def _in_key_text(key) -> str:
    """How Node's `in` TypeError shows the key (objects are not converted)."""
    if type(key) is list:
        return "[object Array]"
    if type(key) is dict:
        return "#<Object>"
    return to_property_key(key)


def has_property(key, obj) -> bool:
    """``key in obj``."""
    t = type(obj)
    if t is dict:
        return to_property_key(key) in obj
    if t is not list and t is not JSError and t is not Promise and t is not JSFunction:
        raise type_error(
            f"Cannot use 'in' operator to search for '{_in_key_text(key)}' in {to_string(obj)}"
        )
    key = to_property_key(key)
    if t is list:
        i = _index_key(key)
        return (
            key == "length" or (i is not None and i < len(obj)) or key in _ARRAY_METHODS
        )
    if t is JSError:
        return (
            key in ("name", "message", "stack")
            or key in obj.props
            or key in _ERROR_METHODS
        )
    return False


# --------------------------------------------------------------------------
# Calls and built-in methods
#
# A method implementation takes (this, args): ``args`` is the list of JS
# arguments, read with _arg so a missing one is undefined, as in JS.
# --------------------------------------------------------------------------


def call(fn, args, text: str):
    """``fn(...args)``; ``text`` is the callee's source for the message."""
    if type(fn) is JSFunction:
        return fn.impl(fn.this, args)
    raise type_error(f"{text} is not a function")


def call_method(obj, name, args, text: str):
    """``obj.name(...args)``."""
    table = _METHODS.get(type(obj))
    if table is not None and type(name) is str:
        impl = table.get(name)
        if impl is not None:
            return impl(obj, args)
    return call(get(obj, name), args, text)


def _arg(args, i: int):
    return args[i] if len(args) > i else UNDEFINED


# -- arrays ----------------------------------------------------------------


def _array_push(a: list, args):
    a.extend(args)
    return float(len(a))


def _array_pop(a: list, args):
    return a.pop() if a else UNDEFINED


def _array_shift(a: list, args):
    return a.pop(0) if a else UNDEFINED


def _array_unshift(a: list, args):
    a[:0] = args
    return float(len(a))


def _array_slice(a: list, args):
    n = len(a)
    return a[_relative(_arg(args, 0), n, 0) : _relative(_arg(args, 1), n, n)]


def _array_splice(a: list, args):
    n = len(a)
    start = _relative(_arg(args, 0), n, 0)
    if len(args) == 0:
        count = 0
    elif len(args) == 1:
        count = n - start
    else:
        count = int(min(max(_to_integer(args[1]), 0.0), n - start))
    removed = a[start : start + count]
    a[start : start + count] = args[2:]
    return removed


def _array_index_of(a: list, args):
    target = _arg(args, 0)
    start = _relative(_arg(args, 1), len(a), 0)
    for i in range(start, len(a)):
        if strict_eq(a[i], target):
            return float(i)
    return -1.0


def _array_last_index_of(a: list, args):
    target = _arg(args, 0)
    n = len(a)
    start = n - 1
    if len(args) > 1:
        k = _to_integer(args[1])
        start = int(min(k, n - 1)) if k >= 0 else int(max(n + k, -1))
    for i in range(start, -1, -1):
        if strict_eq(a[i], target):
            return float(i)
    return -1.0


def _array_includes(a: list, args):
    target = _arg(args, 0)
    start = _relative(_arg(args, 1), len(a), 0)
    if type(target) is float and target != target:  # SameValueZero finds NaN
        return any(type(x) is float and x != x for x in a[start:])
    return any(strict_eq(x, target) for x in a[start:])


def _array_join(a: list, args):
    sep = _arg(args, 0)
    return _join(a, "," if sep is UNDEFINED else to_string(sep))


def _join(a: list, sep: str, active: set | None = None) -> str:
    """Array#join; an array already being joined (a cycle) joins as ""."""
    if active is None:
        active = set()
    if id(a) in active:
        return ""
    active.add(id(a))
    try:
        parts = [_join_part(x, active) for x in a]
    except RecursionError:
        raise range_error("Maximum call stack size exceeded") from None
    finally:
        active.discard(id(a))
    return _canonical(sep.join(parts))


def _join_part(x, active: set) -> str:
    t = type(x)
    if t is str:
        return x
    if x is None or x is UNDEFINED:
        return ""
    if t is list:
        return _join(x, ",", active)
    return to_string(x)


def _array_reverse(a: list, args):
    a.reverse()
    return a


def _array_concat(a: list, args):
    out = a[:]
    for x in args:
        if type(x) is list:
            out.extend(x)
        else:
            out.append(x)
    return out


def _array_at(a: list, args):
    k = _to_integer(_arg(args, 0))
    if k < 0:
        k += len(a)
    return a[int(k)] if 0 <= k < len(a) else UNDEFINED


def _array_fill(a: list, args):
    n = len(a)
    start = _relative(_arg(args, 1), n, 0)
    end = _relative(_arg(args, 2), n, n)
    if start < end:
        a[start:end] = [_arg(args, 0)] * (end - start)
    return a


def _array_flat(a: list, args):
    depth = _arg(args, 0)
    out: list = []
    try:
        _flatten_into(out, a, 1.0 if depth is UNDEFINED else _to_integer(depth))
    except RecursionError:
        raise range_error("Maximum call stack size exceeded") from None
    return out


def _flatten_into(out: list, a: list, depth: float) -> None:
    for x in a:
        if type(x) is list and depth > 0:
            _flatten_into(out, x, depth - 1)
        else:
            out.append(x)


def _array_sort(a: list, args):
    """Default sort only (there are no closures to compare with): by String()
    in UTF-16 order, stable, undefined last."""
    if _arg(args, 0) is not UNDEFINED:
        raise type_error(
            "The comparison function must be either a function or undefined"
        )
    defined = [x for x in a if x is not UNDEFINED]
    defined.sort(key=_sort_key)
    a[:] = defined + [UNDEFINED] * (len(a) - len(defined))
    return a


def _sort_key(x) -> str:
    return _units(to_string(x))


def _array_to_string(a: list, args):
    return _join(a, ",")


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
    u = _units(s)
    pattern = _units(to_string(_arg(args, 0)))
    i = u.find(pattern)
    if i < 0:
        return s
    replacement = _replacement(s, u, pattern, i, _arg(args, 1))
    return _canonical(u[:i] + replacement + u[i + len(pattern) :])


def _string_replace_all(s: str, args):
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


def _occurrences(u: str, pattern: str) -> list[int]:
    if not pattern:
        return list(range(len(u) + 1))
    found = []
    i = u.find(pattern)
    while i >= 0:
        found.append(i)
        i = u.find(pattern, i + len(pattern))
    return found


_SUBSTITUTION = re.compile(r"\$([$&`'])")


def _replacement(s: str, u: str, matched: str, i: int, replace_value) -> str:
    """The text that replaces ``matched`` found at unit position ``i``: a
    method value is called as JS calls a replacer function; a string has its
    $$, $&, $` and $' patterns expanded (there are no capture groups)."""
    if type(replace_value) is JSFunction:
        return to_string(
            call(replace_value, [_canonical(matched), float(i), s], replace_value.name)
        )
    text = to_string(replace_value)
    if "$" not in text:
        return text
    expansions = {"$": "$", "&": matched, "`": u[:i], "'": u[i + len(matched) :]}
    return _SUBSTITUTION.sub(lambda m: expansions[m.group(1)], text)


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


# -- numbers, booleans, errors ---------------------------------------------

_FIXED_CONTEXT = Context(prec=200, rounding=ROUND_HALF_UP)
_FIXED_QUANTUM = [Decimal(1).scaleb(-f) for f in range(101)]


def _number_to_fixed(x: float, args):
    """Number#toFixed, rounding the exact binary value half away from zero."""
    f = _to_integer(_arg(args, 0))
    if not 0 <= f <= 100:
        raise range_error("toFixed() digits argument must be between 0 and 100")
    if x != x:
        return "NaN"
    if not -1e21 < x < 1e21:
        return number_to_string(x)
    quantized = Decimal(x or 0.0).quantize(
        _FIXED_QUANTUM[int(f)], context=_FIXED_CONTEXT
    )
    return format(quantized, "f")


def _number_to_precision(x: float, args):
    """Number#toPrecision: p significant digits of the exact binary value, ties away from zero (the spec's
    "larger n"), in exponential notation when the exponent is below -6 or not below p."""
    precision = _arg(args, 0)
    if precision is UNDEFINED:
        return number_to_string(x)
    p = _to_integer(precision)
    if x != x or x in (INF, -INF):
        return number_to_string(x)
    if not 1 <= p <= 100:
        raise range_error("toPrecision() argument must be between 1 and 100")
    p = int(p)
    sign, x = ("-", -x) if x < 0 else ("", x)
    if x == 0:
        digits, e = "0" * p, 0
    else:
        exact = Decimal(x)
        e = exact.adjusted()
        n = int(exact.scaleb(p - 1 - e, context=_FIXED_CONTEXT).quantize(Decimal(1), context=_FIXED_CONTEXT))
        if n >= 10**p:  # 9.99 to two digits is 10: one more digit before the point
            n, e = n // 10, e + 1
        digits = str(n)
    if e < -6 or e >= p:
        mantissa = digits[0] + ("." + digits[1:] if p > 1 else "")
        return f"{sign}{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"
    if e == p - 1:
        return sign + digits
    if e >= 0:
        return f"{sign}{digits[:e + 1]}.{digits[e + 1:]}"
    return f"{sign}0.{'0' * (-(e + 1))}{digits}"


def _number_to_string(x: float, args):
    radix = _arg(args, 0)
    r = 10.0 if radix is UNDEFINED else _to_integer(radix)
    if not 2 <= r <= 36:
        raise range_error("toString() radix argument must be between 2 and 36")
    if r == 10 or x != x or x == INF or x == -INF:
        return number_to_string(x)
    return _radix_string(x, int(r))


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


def _boolean_to_string(b: bool, args):
    return "true" if b else "false"


def _error_to_string(e: JSError, args):
    return _error_string(e)


_ARRAY_METHODS = {
    "push": _array_push,
    "pop": _array_pop,
    "shift": _array_shift,
    "unshift": _array_unshift,
    "slice": _array_slice,
    "splice": _array_splice,
    "indexOf": _array_index_of,
    "lastIndexOf": _array_last_index_of,
    "includes": _array_includes,
    "join": _array_join,
    "reverse": _array_reverse,
    "concat": _array_concat,
    "at": _array_at,
    "fill": _array_fill,
    "flat": _array_flat,
    "sort": _array_sort,
    "toString": _array_to_string,
}
_STRING_METHODS = {
    "toUpperCase": _string_to_upper_case,
    "toLowerCase": _string_to_lower_case,
    "trim": _string_trim,
    "trimStart": _string_trim_start,
    "trimEnd": _string_trim_end,
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
}
_NUMBER_METHODS = {"toFixed": _number_to_fixed, "toPrecision": _number_to_precision, "toString": _number_to_string}
_BOOLEAN_METHODS = {"toString": _boolean_to_string}
_ERROR_METHODS = {"toString": _error_to_string}
# Receivers whose methods call_method may dispatch without a property read
# (none of them can hold an own property that shadows a method).
_METHODS = {
    list: _ARRAY_METHODS,
    str: _STRING_METHODS,
    float: _NUMBER_METHODS,
    bool: _BOOLEAN_METHODS,
}
_METHODS_BY_TYPE = {**_METHODS, JSError: _ERROR_METHODS}


# --------------------------------------------------------------------------
# Globals: Math, Number, String, Boolean, parseInt/parseFloat, Object,
# Array, JSON, Date.  Each is a plain module-level function; the tables at
# the end give the compiler the JS names and the argument counts it accepts.
# --------------------------------------------------------------------------


def _num(v) -> float:
    return v if type(v) is float else to_number(v)


def math_min(*args) -> float:
    result = INF
    for v in args:
        x = _num(v)
        if x != x:
            return NAN
        if x < result or (x == 0 and result == 0 and math.copysign(1.0, x) < 0):
            result = x
    return result


def math_max(*args) -> float:
    result = -INF
    for v in args:
        x = _num(v)
        if x != x:
            return NAN
        if x > result or (x == 0 and result == 0 and math.copysign(1.0, result) < 0):
            result = x
    return result


def math_floor(x=UNDEFINED) -> float:
    x = _num(x)
    if x != x or x == INF or x == -INF or x == int(x):
        return x  # keeps -0
    return float(math.floor(x))


def math_ceil(x=UNDEFINED) -> float:
    x = _num(x)
    if x != x or x == INF or x == -INF or x == int(x):
        return x
    return -0.0 if -1 < x < 0 else float(math.ceil(x))


def math_trunc(x=UNDEFINED) -> float:
    x = _num(x)
    if x != x or x == INF or x == -INF:
        return x
    return math.copysign(float(math.trunc(x)), x)


def math_round(x=UNDEFINED) -> float:
    """Half-way cases go toward +Infinity; -0.5 <= x < 0 gives -0."""
    x = _num(x)
    if x != x or x == INF or x == -INF or x == int(x):
        return x
    if -0.5 <= x < 0:
        return -0.0
    r = float(math.floor(x))
    return r + 1.0 if x - r >= 0.5 else r


def math_abs(x=UNDEFINED) -> float:
    return abs(_num(x))


def math_sign(x=UNDEFINED) -> float:
    x = _num(x)
    if x != x or x == 0:
        return x
    return 1.0 if x > 0 else -1.0


def math_pow(x=UNDEFINED, y=UNDEFINED) -> float:
    return pow(_num(x), _num(y))


def math_sqrt(x=UNDEFINED) -> float:
    x = _num(x)
    return NAN if x < 0 else math.sqrt(x)  # NaN passes through sqrt


def math_random() -> float:
    return random.random()


def date_now() -> float:
    return float(time.time_ns() // 1_000_000)


def number_call(value=_ABSENT) -> float:
    """``Number(value)``; ``Number()`` is 0."""
    return 0.0 if value is _ABSENT else to_number(value)


def string_call(value=_ABSENT) -> str:
    """``String(value)``; ``String()`` is ""."""
    return "" if value is _ABSENT else to_string(value)


def boolean_call(value=UNDEFINED) -> bool:
    return truthy(value)


def is_nan(value=UNDEFINED) -> bool:
    x = _num(value)
    return x != x


def is_finite(value=UNDEFINED) -> bool:
    x = _num(value)
    return x - x == 0


def number_is_nan(value=UNDEFINED) -> bool:
    return type(value) is float and value != value


def number_is_finite(value=UNDEFINED) -> bool:
    return type(value) is float and value - value == 0


def number_is_integer(value=UNDEFINED) -> bool:
    return type(value) is float and value - value == 0 and value == int(value)


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


def parse_int(string=UNDEFINED, radix=UNDEFINED) -> float:
    s = to_string(string).lstrip(_WHITESPACE)
    sign = -1.0 if s[:1] == "-" else 1.0
    if s[:1] in ("-", "+"):
        s = s[1:]
    r = _to_int32(radix)
    if r == 0:
        r = 16 if s[:2] in ("0x", "0X") else 10
    elif not 2 <= r <= 36:
        return NAN
    if r == 16 and s[:2] in ("0x", "0X"):
        s = s[2:]
    end = _digits_prefix(s, r)
    return sign * _digits_value(s[:end], r) if end else NAN


def parse_float(string=UNDEFINED) -> float:
    m = _FLOAT_PREFIX.match(to_string(string).lstrip(_WHITESPACE))
    return float(m.group()) if m else NAN


def array_is_array(value=UNDEFINED) -> bool:
    return type(value) is list


def _object_argument(value):
    if value is None or value is UNDEFINED:
        raise type_error("Cannot convert undefined or null to object")
    return value


def object_keys(obj=UNDEFINED) -> list:
    return own_keys(_object_argument(obj))


def object_values(obj=UNDEFINED) -> list:
    obj = _object_argument(obj)
    return [get(obj, k) for k in own_keys(obj)]


def object_entries(obj=UNDEFINED) -> list:
    obj = _object_argument(obj)
    return [[k, get(obj, k)] for k in own_keys(obj)]


def object_assign(target=UNDEFINED, *sources):
    _object_argument(target)
    for source in sources:
        if source is not None and source is not UNDEFINED:
            for k in own_keys(source):
                set_(target, k, get(source, k))
    return target


def object_from_entries(entries=UNDEFINED) -> dict:
    if type(entries) is str:
        entries = list(_units(entries))
    elif type(entries) is not list:
        raise _not_iterable(entries)
    out = {}
    for entry in entries:
        if type(entry) not in (list, dict, JSError, Promise, JSFunction):
            raise type_error(
                f"Iterator value {to_string(entry)} is not an entry object"
            )
        out[to_property_key(get(entry, 0.0))] = get(entry, 1.0)
    return out


def _not_iterable(v) -> JSThrow:
    if v is None or v is UNDEFINED:
        return type_error("undefined is not iterable")
    what = (
        "object"
        if type(v) in (dict, JSError, Promise)
        else f"{typeof(v)} {to_string(v)}"
    )
    return type_error(
        f"{what} is not iterable (cannot read property Symbol(Symbol.iterator))"
    )


# -- JSON --------------------------------------------------------------------


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


def json_stringify(value=UNDEFINED, replacer=UNDEFINED, space=UNDEFINED):
    """JSON.stringify; ``replacer`` may be an array of keys (a function
    replacer needs a closure, which the language does not have)."""
    keys = _replacer_keys(replacer)
    gap = _json_gap(space)
    colon = ": " if gap else ":"
    path: list = []  # (container, key it was reached by), for cycle messages
    open_ids: dict[int, int] = {}

    def write(v, indent: str, key):
        t = type(v)
        if t is str:
            return _json_quote(v)
        if t is float:
            return number_to_string(v) if v - v == 0 else "null"
        if t is bool:
            return "true" if v else "false"
        if v is None:
            return "null"
        if v is UNDEFINED or t is JSFunction:
            return None
        if id(v) in open_ids:
            raise _circular_structure(path[open_ids[id(v)] :], key)
        open_ids[id(v)] = len(path)
        path.append((v, key))
        inner = indent + gap
        if t is list:
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


def json_parse(text=UNDEFINED):
    """JSON.parse (no reviver: it would need a closure)."""
    s = to_string(text)
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


VARIADIC = sys.maxsize

# JS name -> (function, fewest arguments, most arguments).
GLOBAL_FUNCTIONS: dict[str, tuple] = {
    "Math.min": (math_min, 0, VARIADIC),
    "Math.max": (math_max, 0, VARIADIC),
    "Math.floor": (math_floor, 1, 1),
    "Math.ceil": (math_ceil, 1, 1),
    "Math.abs": (math_abs, 1, 1),
    "Math.round": (math_round, 1, 1),
    "Math.sign": (math_sign, 1, 1),
    "Math.trunc": (math_trunc, 1, 1),
    "Math.pow": (math_pow, 2, 2),
    "Math.sqrt": (math_sqrt, 1, 1),
    "Math.random": (math_random, 0, 0),
    "JSON.stringify": (json_stringify, 1, 3),
    "JSON.parse": (json_parse, 1, 1),
    "Object.keys": (object_keys, 1, 1),
    "Object.values": (object_values, 1, 1),
    "Object.entries": (object_entries, 1, 1),
    "Object.assign": (object_assign, 1, VARIADIC),
    "Object.fromEntries": (object_from_entries, 1, 1),
    "Array.isArray": (array_is_array, 1, 1),
    "Number": (number_call, 0, 1),
    "String": (string_call, 0, 1),
    "Boolean": (boolean_call, 0, 1),
    "parseInt": (parse_int, 1, 2),
    "parseFloat": (parse_float, 1, 1),
    "isNaN": (is_nan, 1, 1),
    "isFinite": (is_finite, 1, 1),
    "Number.isInteger": (number_is_integer, 1, 1),
    "Number.isFinite": (number_is_finite, 1, 1),
    "Number.isNaN": (number_is_nan, 1, 1),
    "Number.parseFloat": (parse_float, 1, 1),
    "Number.parseInt": (parse_int, 1, 2),
    "Date.now": (date_now, 0, 0),
}

GLOBAL_CONSTANTS: dict[str, object] = {
    "Math.PI": math.pi,
    "Math.E": math.e,
    "Number.MAX_SAFE_INTEGER": 9007199254740991.0,
    "Number.MIN_SAFE_INTEGER": -9007199254740991.0,
    "Number.EPSILON": 2.0**-52,
    "Number.MAX_VALUE": sys.float_info.max,
    "Number.MIN_VALUE": 5e-324,
    "Number.POSITIVE_INFINITY": INF,
    "Number.NEGATIVE_INFINITY": -INF,
    "Number.NaN": NAN,
    "Infinity": INF,
    "NaN": NAN,
    "undefined": UNDEFINED,
}


def global_function(name: str) -> JSFunction:
    """A global such as ``Math.floor`` read as a value: one JSFunction per
    name, so ``Math.floor === Math.floor`` holds and a snapshot stores it by
    name.  Names outside GLOBAL_FUNCTIONS (``Task.run`` …) give a function
    that can only be called directly."""
    fn = _GLOBAL_VALUES.get(name)
    if fn is None:
        fn = _GLOBAL_VALUES[name] = JSFunction(name, UNDEFINED, _global_impl(name))
    return fn


def _global_impl(name: str):
    entry = GLOBAL_FUNCTIONS.get(name)
    if entry is None:

        def direct_only(this, args):
            raise type_error(f"{name} can only be called directly, as {name}(…)")

        return direct_only
    target, _, most = entry
    return lambda this, args: target(*args[:most])  # JS ignores extra arguments


_GLOBAL_VALUES = {
    name: JSFunction(name, UNDEFINED, _global_impl(name)) for name in GLOBAL_FUNCTIONS
}


# --------------------------------------------------------------------------
# Boundary copies: Python data entering a run (inputs, task results, signal
# payloads) and JS values leaving it (task arguments, workflow results).
# --------------------------------------------------------------------------


def from_json(v):
    """A deep copy of JSON-like Python data as JS values: ints become floats,
    tuples become lists.  Raises Python's ``TypeError`` for anything that is
    not JSON (sets, bytes, datetimes, non-str keys, NaN or infinite floats)
    and ``ValueError`` for circular data."""
    try:
        return _from_json(v)
    except RecursionError:
        raise ValueError("value is circular or nested too deeply to be JSON") from None


def _from_json(v):
    t = type(v)
    if t is str:
        return _canonical(v)
    if t is float:
        if v - v == 0:
            return v
        raise TypeError(f"float {v!r} is not a JSON value")
    if t is bool or v is None:
        return v
    if t is int:
        return _int_to_float(v)
    if t is dict:
        return {_from_json_key(k): _from_json(x) for k, x in v.items()}
    if t is list or t is tuple:
        return [_from_json(x) for x in v]
    return _from_json(_exact_type(v))


def _exact_type(v):
    """A subclass of a JSON type (IntEnum, OrderedDict, numpy.float64 …) as
    its base type; anything else is rejected."""
    for base in (int, float, str, dict, list, tuple):
        if isinstance(v, base):
            return base(v) if base is not str else str.__str__(v)
    raise TypeError(f"{type(v).__name__} is not a JSON value")


def _from_json_key(k) -> str:
    if type(k) is str:
        return _canonical(k)
    if isinstance(k, str):
        return _canonical(str.__str__(k))
    raise TypeError(f"object keys must be str, not {type(k).__name__}")


def _int_to_float(i: int) -> float:
    try:
        return float(i)
    except OverflowError:  # as JSON.parse reads 1e400
        return INF if i > 0 else -INF


class _Circular(Exception):
    """to_json met a cycle."""


def to_json(v):
    """What ``JSON.parse(JSON.stringify(v))`` gives, as Python data: undefined
    and method properties dropped (null in arrays), NaN and +-Infinity null,
    errors as their own props, promises ``{}``.  A top-level undefined is
    None; integral numbers within +-2**53 become ``int`` (-0 becomes 0).  A
    cycle raises the TypeError JSON.stringify raises."""
    try:
        return _to_json(v, set())
    except _Circular:
        json_stringify(v)  # meets the same cycle and raises Node's TypeError
        raise


def _to_json(v, open_ids: set):
    t = type(v)
    if t is str or t is bool or v is None:
        return v
    if t is float:
        if v - v != 0:
            return None
        if -_MAX_SAFE <= v <= _MAX_SAFE and v == int(v):
            return int(v)
        return v
    if v is UNDEFINED or t is JSFunction:
        return None
    if id(v) in open_ids:
        raise _Circular
    open_ids.add(id(v))
    if t is list:
        out = [_to_json(x, open_ids) for x in v]
    else:
        out = {}
        for k, x in _json_members(v, None):
            if x is not UNDEFINED and type(x) is not JSFunction:
                out[k] = _to_json(x, open_ids)
    open_ids.discard(id(v))
    return out


# --------------------------------------------------------------------------
# Snapshot codec
#
# A snapshot is the JSON that Postgres stores at every step and a person
# reads while debugging, so plain data encodes as itself and only what JSON
# cannot say is tagged, as an object with a "$" key:
#
#   {"$": "undefined"}   {"$": "NaN"}   {"$": "Infinity"}   {"$": "-Infinity"}
#   {"$": "-0"}
#   {"$": "error", "name": …, "message": …, "props": {…}}      (props if any)
#   {"$": "promise", "kind": …, "key": …, "items": […]}        (items if any)
#   {"$": "function", "name": "push", "this": <receiver>}   a method value
#   {"$": "function", "name": "Math.floor"}                  a global one
#   {"$": "object", "value": {…}}     a script object that has a "$" key
#   {"$": "shared", "id": 1, "value": <container>}   first sight of a
#   {"$": "ref", "id": 1}                            container reached twice
#
# Numbers are written as JSON numbers (Python's repr round-trips exactly);
# JSON integers, which Postgres may hand back for big values, decode as floats.
# --------------------------------------------------------------------------

_AS_IS = frozenset({str, bool, type(None)})
_DECODED_AS_IS = frozenset({str, bool, float, type(None)})


def encode_snapshot(value):
    """JSON-ready data for any graph of JS values, in one pass.

    Every container's encoding is put into its holder (the output list or
    dict, or the root holder) before its members are encoded, and where it
    was put is remembered.  Reaching a container a second time, whether
    through sharing or a cycle, wraps that first placement in place into
    ``{"$": "shared", "id": n, "value": …}`` and writes ``{"$": "ref", "id":
    n}`` here; the definition thus always sits where the container was first
    reached.  Shared ids are numbered in the order sharing is discovered.

    Raises RecursionError for data nested deeper than decode_snapshot could
    read back (see _Encoding.put)."""
    top = [value]
    if type(value) not in _AS_IS:
        _Encoding().put(value, top, 0, 0)
    return top[0]


# Python frames decode_snapshot spends between a container and its members
# (e.g. _decode -> _decode_list -> <listcomp> -> _decode for a list), and how
# many frames below the recursion limit encode_snapshot leaves for callers.
_LIST_FRAMES, _DICT_FRAMES, _TAGGED_FRAMES, _PROMISE_FRAMES = 3, 2, 3, 4
_CALLER_FRAMES = 100


class _Encoding:
    """The state of one encode_snapshot call."""

    __slots__ = ("places", "shared", "limit")

    def __init__(self):
        # id(container) -> [holder, slot, shared id or 0]; the containers are
        # all reachable from the value being encoded, so their ids are stable.
        self.places: dict[int, list] = {}
        self.shared = 0
        self.limit = sys.getrecursionlimit() - _CALLER_FRAMES

    def put(self, v, holder, slot, depth: int) -> None:
        """Write the encoding of ``v`` (anything but a str, bool or None) to
        ``holder[slot]``.

        ``depth`` counts the frames decode_snapshot will need to reach ``v``
        when the snapshot is read back; data past the recursion limit is
        refused here rather than stored and found unreadable at the next
        step.  (A shared definition or a reference decoded before it may
        cost decoding a few frames more; _CALLER_FRAMES covers that.)"""
        t = type(v)
        if t is float:
            holder[slot] = v if v - v == 0 and v else _encode_number(v)
            return
        if v is UNDEFINED:
            holder[slot] = {"$": "undefined"}
            return
        if t is JSFunction:
            this = v.this
            if this is UNDEFINED:
                holder[slot] = {"$": "function", "name": v.name}
                return
            holder[slot] = out = {"$": "function", "name": v.name, "this": this}
            if type(this) not in _AS_IS:
                self.put(this, out, "this", depth + _DICT_FRAMES)
            return
        places = self.places
        key = id(v)
        place = places.get(key)
        if place is not None:  # reached before: shared, or a cycle
            n = place[2]
            if not n:
                n = place[2] = self.shared = self.shared + 1
                first, first_slot = place[0], place[1]
                first[first_slot] = {"$": "shared", "id": n, "value": first[first_slot]}
            holder[slot] = {"$": "ref", "id": n}
            return
        if depth > self.limit:
            raise RecursionError("the snapshot data is nested too deeply")
        if t is list:
            places[key] = [holder, slot, 0]
            holder[slot] = out = v.copy()
            depth += _LIST_FRAMES
            i = 0
            for x in v:
                if type(x) not in _AS_IS:
                    self.put(x, out, i, depth)
                i += 1
        elif t is dict:
            places[key] = [holder, slot, 0]
            out = v.copy()
            if "$" in v:
                holder[slot] = {"$": "object", "value": out}
                self.members(v, out, depth + _TAGGED_FRAMES)
            else:
                holder[slot] = out
                self.members(v, out, depth + _DICT_FRAMES)
        elif t is JSError:
            places[key] = [holder, slot, 0]
            holder[slot] = out = {"$": "error", "name": v.name, "message": v.message}
            if v.props:
                out["props"] = props = v.props.copy()
                self.members(v.props, props, depth + _TAGGED_FRAMES)
            if v.hidden:
                out["hidden"] = hidden = v.hidden.copy()
                self.members(v.hidden, hidden, depth + _TAGGED_FRAMES)
        elif t is Promise:
            places[key] = [holder, slot, 0]
            holder[slot] = out = {"$": "promise", "kind": v.kind, "key": v.key}
            if v.born is not None:
                out["born"] = v.born
            if v.items is not None:
                out["items"] = items = v.items.copy()
                depth += _PROMISE_FRAMES
                i = 0
                for x in v.items:
                    if type(x) not in _AS_IS:
                        self.put(x, items, i, depth)
                    i += 1
        else:
            raise TypeError(f"{t.__name__} is not a JavaScript value")

    def members(self, d: dict, out: dict, depth: int) -> None:
        """Encode the values of ``out``, a copy of ``d``, in place."""
        for k, x in d.items():
            if type(x) not in _AS_IS:
                self.put(x, out, k, depth)


def _encode_number(x: float):
    """A zero, NaN or an infinity (other numbers are written as they are)."""
    if x == 0:
        return x if math.copysign(1.0, x) > 0 else {"$": "-0"}
    return {"$": number_to_string(x)}  # NaN, Infinity, -Infinity


def decode_snapshot(data):
    """The JS values ``encode_snapshot`` encoded, sharing and cycles included.

    Key order may have changed on the way (Postgres ``jsonb`` sorts keys), so
    a reference may come before the definition it points to."""
    return _decode(data, _Refs(_shared_definitions(data)))


class _Refs(dict):
    """Decoded shared containers by id; a reference met before its
    definition decodes that definition on the spot."""

    def __init__(self, definitions: dict):
        super().__init__()
        self.definitions = definitions

    def __missing__(self, ref_id):
        return _decode_container(self.definitions[ref_id], self, ref_id)


def _shared_definitions(data) -> dict:
    """Every ``shared`` definition in ``data`` by id.  Walks encoded nodes
    only: the raw member dicts of objects and errors are script data, which
    may look like a tag without being one."""
    found = {}
    stack = [data]
    while stack:
        node = stack.pop()
        if type(node) is list:
            stack.extend(node)
        elif type(node) is dict:
            tag = node.get("$")
            if tag is None:
                stack.extend(node.values())
            elif tag == "shared":
                found[node["id"]] = node["value"]
                stack.append(node["value"])
            elif tag == "object":
                stack.extend(node["value"].values())
            elif tag == "error":
                stack.extend(node.get("props", {}).values())
                stack.extend(node.get("hidden", {}).values())
            elif tag == "promise":
                stack.extend(node.get("items", ()))
            elif tag == "function":
                stack.append(node.get("this"))
    return found


_SCALAR_TAGS = {
    "undefined": UNDEFINED,
    "NaN": NAN,
    "Infinity": INF,
    "-Infinity": -INF,
    "-0": -0.0,
}


def _decode(node, refs: dict):
    t = type(node)
    if t in _DECODED_AS_IS:
        return node
    if t is int:
        return float(node)
    if t is list:
        return _decode_list(node, refs, None)
    tag = node.get("$")
    if tag is None:
        return _decode_object(node, refs, None)
    if tag == "ref":
        return refs[node["id"]]
    if tag == "shared":
        if node["id"] in refs:  # already decoded through an earlier reference
            return dict.__getitem__(refs, node["id"])
        return _decode_container(node["value"], refs, node["id"])
    if tag == "function":
        return _decode_function(node, refs)
    if tag in _SCALAR_TAGS:
        return _SCALAR_TAGS[tag]
    return _decode_container(node, refs, None)


def _decode_function(node: dict, refs: dict) -> JSFunction:
    name = node["name"]
    if "this" not in node:
        return global_function(name)
    this = _decode(node["this"], refs)
    return JSFunction(name, this, _METHODS_BY_TYPE[type(this)][name])


def _decode_container(node, refs: dict, ref_id):
    """Decode a list, object, error or promise; with ``ref_id`` it is
    registered before its members are decoded, so cycles resolve."""
    if type(node) is list:
        return _decode_list(node, refs, ref_id)
    tag = node.get("$")
    if tag is None:
        return _decode_object(node, refs, ref_id)
    if tag == "object":
        return _decode_object(node["value"], refs, ref_id)
    if tag == "error":
        error = _register(JSError(node["name"], node["message"]), refs, ref_id)
        error.props = _decode_object(node.get("props", {}), refs, None)
        if "hidden" in node:
            error.hidden = _decode_object(node["hidden"], refs, None)
        return error
    if tag == "promise":
        promise = _register(Promise(node["kind"], node["key"], None, node.get("born")), refs, ref_id)
        if "items" in node:
            promise.items = _decode_list(node["items"], refs, None)
        return promise
    raise ValueError(f"unknown snapshot tag {tag!r}")


def _register(container, refs: dict, ref_id):
    if ref_id is not None:
        refs[ref_id] = container
    return container


def _decode_list(node: list, refs: dict, ref_id) -> list:
    out = _register([], refs, ref_id)
    out.extend([x if type(x) in _DECODED_AS_IS else _decode(x, refs) for x in node])
    return out


def _decode_object(node: dict, refs: dict, ref_id) -> dict:
    out = _register({}, refs, ref_id)
    for k, x in node.items():
        out[k] = x if type(x) in _DECODED_AS_IS else _decode(x, refs)
    return out
