"""``**`` as V8 computes it, to the last bit: a port of fdlibm's pow, which only
the ``pow`` operator reads."""

from __future__ import annotations

import math
import struct

from .representation import INF, NAN


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
