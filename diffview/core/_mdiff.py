"""
mDiff's pixel rule in numpy (no compiled loop to load).

The difference of two co-registered boxes is a handful of whole-array
expressions; written with numpy it needs neither numba's import nor the
loading of a compiled kernel (together 0.4-1 s in a fresh process, against
milliseconds of arithmetic for a typical pair). The arithmetic is the same
IEEE double arithmetic as Montage's C, in the same order, and the mean areas
are summed sequentially, as Montage sums them, so the pixels are
bit-identical to Montage's (``docs/montage-semantics.md`` §3.4).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["numpy_mdiff"]


def _valid(v, a):
    """Montage's valid pixel: finite value, area not <= 0 (a NaN area passes)."""
    return np.isfinite(v) & ~(a <= 0.0)


def _area_sum(a, mask, scratch) -> float:
    """Sum of ``a[mask]`` left to right, as Montage's loop sums it.

    numpy's ``sum`` is pairwise, which can differ in the last bit; the
    running sum of ``a`` with zeros outside the mask is the loop's sum.
    """
    scratch.fill(0.0)
    np.copyto(scratch, a, where=mask)
    flat = scratch.reshape(-1)
    np.cumsum(flat, out=flat)
    return float(flat[-1])


def _area_mean(a1, a2, ok1, ok2, scratch) -> float:
    """Montage's mean areas: image 1 over its valid pixels, image 2 over both."""
    both = ok1 & ok2
    n1, n2 = int(np.count_nonzero(ok1)), int(np.count_nonzero(both))
    if n2 == 0:
        return math.nan
    return _area_sum(a1, ok1, scratch) / n1 + _area_sum(a2, both, scratch) / n2


def _extremes(x, where) -> tuple[float, float]:
    """Smallest and largest of ``x[where]``, NaNs ignored (as the loop's ``min``)."""
    lo = float(np.min(x, where=where, initial=math.inf))
    hi = float(np.max(x, where=where, initial=-math.inf))
    if math.isnan(lo) or math.isnan(hi):  # 0 * inf: rare, slower
        lo = float(np.fmin.reduce(x, where=where, initial=math.inf, axis=None))
        hi = float(np.fmax.reduce(x, where=where, initial=-math.inf, axis=None))
    return (lo, hi) if lo <= hi else (math.nan, math.nan)


def _pixel_extremes(v1, a1, v2, a2, scratch) -> tuple[float, float]:
    """Extremes of ``v a`` over either image's finite pixels with positive area."""
    lo, hi = math.inf, -math.inf
    for v, a in ((v1, a1), (v2, a2)):
        np.multiply(v, a, out=scratch)
        lo_i, hi_i = _extremes(scratch, np.isfinite(v) & (a > 0.0))
        lo, hi = float(np.fmin(lo, lo_i)), float(np.fmax(hi, hi_i))
    return (lo, hi) if lo <= hi else (math.nan, math.nan)


def _bounds(keep) -> tuple[int, int, int, int]:
    rows, cols = np.flatnonzero(keep.any(axis=1)), np.flatnonzero(keep.any(axis=0))
    if rows.size == 0:
        ny, nx = keep.shape
        return ny, 0, nx, 0
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def numpy_mdiff(v1, a1, v2, a2, factor, tolerance, value, area):
    """
    Apply mDiff's pixel rules to two co-registered boxes.

    Fills ``value`` with ``2 (v1 a1 - factor v2 a2) / (a1 + a2)`` (NaN where
    dropped) and ``area`` with ``a1 + a2`` (0 where dropped). A pixel is kept
    when valid in both images (finite value, area not <= 0) with a finite,
    non-zero total area within ``tolerance`` (relative) of the sum of the mean
    areas.

    Parameters
    ----------
    v1, a1, v2, a2 : numpy.ndarray
        float64 values and areas of the two images over the same box.
    factor, tolerance : float
        Scale of image 2; relative area tolerance.
    value, area : numpy.ndarray
        float64 outputs of the same shape, filled in place.

    Returns
    -------
    tuple
        ``(kept, row0, row1, col0, col1, min_pixel, max_pixel, min_diff,
        max_diff)``: the count of kept pixels, their bounding rows/columns
        (end exclusive), the extremes of ``v a`` over either image's pixels
        with finite value and positive area, and of ``|value|`` over the kept
        ones (NaN when there are none).

    Examples
    --------
    >>> one = np.ones((1, 2))
    >>> value, area = np.empty((1, 2)), np.empty((1, 2))
    >>> v1 = np.array([[3.0, np.nan]])
    >>> numpy_mdiff(v1, one, one, one, 1.0, 0.333, value, area)[0]
    1
    >>> value, area
    (array([[ 2., nan]]), array([[2., 0.]]))
    """
    ok1, ok2 = _valid(v1, a1), _valid(v2, a2)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        pmin, pmax = _pixel_extremes(v1, a1, v2, a2, value)
        amean = _area_mean(a1, a2, ok1, ok2, value)
        np.add(a1, a2, out=area)  # the total area
        keep = ok1 & ok2 & np.isfinite(area) & (area != 0.0)
        keep &= ~(np.abs(area - amean) / amean > tolerance)
        # 2 (v1 a1 - factor v2 a2) / total, in the loop's order of operations
        np.multiply(v1, a1, out=value)
        scratch = np.multiply(v2, factor)
        np.multiply(scratch, a2, out=scratch)
        np.subtract(value, scratch, out=value)
        np.multiply(value, 2.0, out=value)
        np.divide(value, area, out=value)
        drop = ~keep
        value[drop] = math.nan
        area[drop] = 0.0
        dmin, dmax = _extremes(np.abs(value, out=scratch), keep)
    kept = int(np.count_nonzero(keep))
    return (kept, *_bounds(keep), pmin, pmax, dmin, dmax)
