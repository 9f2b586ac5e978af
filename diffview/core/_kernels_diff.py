"""Compiled loop of mDiff's pixel rule (numba); its numpy twin is ``_mdiff``."""

from __future__ import annotations

import math

import numba

from ._jit import _F, _F2, _JIT

__all__ = ["mdiff"]


@numba.njit(**_JIT)
def _ok(v, a):
    # ``not a <= 0``: a NaN area passes, as in Montage (it then turns the
    # running area mean into NaN and so disables the area filter)
    return math.isfinite(v) and not a <= 0.0


@numba.njit(**_JIT)
def _area_means(v1, a1, v2, a2):
    """Compute Montage's mean areas.

    Image 1 over its valid pixels, image 2 over the pixels valid in both;
    NaN when either set is empty.
    """
    n1 = n2 = 0
    s1 = s2 = 0.0
    ny, nx = v1.shape
    for j in range(ny):
        for i in range(nx):
            if _ok(v1[j, i], a1[j, i]):
                n1 += 1
                s1 += a1[j, i]
                if _ok(v2[j, i], a2[j, i]):
                    n2 += 1
                    s2 += a2[j, i]
    if n1 == 0 or n2 == 0:
        return math.nan
    return s1 / n1 + s2 / n2


@numba.njit([(_F2, _F2, _F2, _F2, _F, _F, _F2, _F2)], **_JIT)
def mdiff(v1, a1, v2, a2, factor, tolerance, value, area):
    """
    Apply mDiff's pixel rules to two co-registered boxes.

    Fills ``value`` with ``2 (v1 a1 - factor v2 a2) / (a1 + a2)`` (NaN where
    dropped) and ``area`` with ``a1 + a2`` (0 where dropped). A pixel is kept
    when valid in both images (finite value, area not <= 0) with a finite,
    non-zero total area within ``tolerance`` (relative) of the sum of the mean
    areas.

    Returns
    -------
    tuple
        ``(kept, row0, row1, col0, col1, min_pixel, max_pixel, min_diff,
        max_diff)``: the count of kept pixels, their bounding rows/columns
        (end exclusive), the extremes of ``v a`` over either image's pixels
        with finite value and positive area, and of ``|value|`` over the kept
        ones (NaN when there are none).
    """
    amean = _area_means(v1, a1, v2, a2)
    ny, nx = v1.shape
    kept = 0
    r0, r1, c0, c1 = ny, 0, nx, 0
    pmin, pmax, dmin, dmax = math.inf, -math.inf, math.inf, -math.inf
    for j in range(ny):
        for i in range(nx):
            x1, w1, x2, w2 = v1[j, i], a1[j, i], v2[j, i], a2[j, i]
            if math.isfinite(x1) and w1 > 0.0:
                pmin, pmax = min(pmin, x1 * w1), max(pmax, x1 * w1)
            if math.isfinite(x2) and w2 > 0.0:
                pmin, pmax = min(pmin, x2 * w2), max(pmax, x2 * w2)
            value[j, i] = math.nan
            area[j, i] = 0.0
            if not (_ok(x1, w1) and _ok(x2, w2)):
                continue
            total = w1 + w2
            if not math.isfinite(total) or total == 0.0:
                continue
            if abs(total - amean) / amean > tolerance:
                continue
            d = 2.0 * (x1 * w1 - factor * x2 * w2) / total
            value[j, i] = d
            area[j, i] = total
            kept += 1
            r0, r1, c0, c1 = min(r0, j), max(r1, j + 1), min(c0, i), max(c1, i + 1)
            dmin, dmax = min(dmin, abs(d)), max(dmax, abs(d))
    if pmin > pmax:
        pmin = pmax = math.nan
    if kept == 0:
        dmin = dmax = math.nan
    return kept, r0, r1, c0, c1, pmin, pmax, dmin, dmax
