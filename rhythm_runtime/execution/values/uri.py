"""encodeURIComponent, encodeURI, decodeURIComponent and decodeURI, as ECMAScript defines them.

Encoding is urllib's `quote` with JavaScript's unescaped sets (UTF-8, upper-case hex); a lone
surrogate cannot be encoded and throws URIError, as in JavaScript. Decoding is written out: a `%`
without two hex digits, or escapes that are not one well-formed UTF-8 character, throw URIError,
and decodeURI leaves the escapes of the reserved characters as they are.
"""

from __future__ import annotations

from urllib.parse import quote

from .conversions import to_string
from .representation import UNDEFINED, JSError, JSThrow

_COMPONENT_SAFE = "-_.!~*'()"  # with the letters and digits, which quote never escapes
_URI_RESERVED = ";/?:@&=+$,#"


def encode_uri_component(value=UNDEFINED) -> str:
    return _encode(to_string(value), _COMPONENT_SAFE)


def encode_uri(value=UNDEFINED) -> str:
    return _encode(to_string(value), _COMPONENT_SAFE + _URI_RESERVED)


def decode_uri_component(value=UNDEFINED) -> str:
    return _decode(to_string(value), "")


def decode_uri(value=UNDEFINED) -> str:
    return _decode(to_string(value), _URI_RESERVED)


def _malformed() -> JSThrow:
    return JSThrow(JSError("URIError", "URI malformed"))


def _encode(s: str, safe: str) -> str:
    try:
        return quote(s, safe=safe, encoding="utf-8", errors="strict")
    except UnicodeEncodeError:  # a lone surrogate
        raise _malformed() from None


def _decode(s: str, keep: str) -> str:
    """Replace each escape sequence by the character it encodes, except those in `keep`."""
    out = []
    i = s.find("%")
    start = 0
    while i >= 0:
        out.append(s[start:i])
        first = _byte(s, i)
        count = _sequence_length(first)
        end = i + 3 * count
        data = bytes([first] + [_byte(s, i + 3 * k) for k in range(1, count)])
        try:
            char = data.decode("utf-8")
        except UnicodeDecodeError:  # a wrong continuation byte, an overlong form, a surrogate
            raise _malformed() from None
        out.append(s[i:end] if char in keep else char)
        start = end
        i = s.find("%", start)
    out.append(s[start:])
    return "".join(out)


def _byte(s: str, i: int) -> int:
    """The byte of the escape at `i` (`%` and two hex digits)."""
    digits = s[i + 1:i + 3]
    if s[i:i + 1] != "%" or len(digits) != 2 or not all(c in "0123456789abcdefABCDEF" for c in digits):
        raise _malformed()
    return int(digits, 16)


def _sequence_length(first: int) -> int:
    """How many bytes the UTF-8 sequence that starts with `first` has."""
    if first < 0x80:
        return 1
    for count, lead in ((2, 0xC0), (3, 0xE0), (4, 0xF0)):
        if first & (0xFF << (7 - count)) & 0xFF == lead:
            return count
    raise _malformed()
