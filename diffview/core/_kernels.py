"""
Compiled per-pixel loops (numba) of mDiff, mFitplane and mBgModel.

mFitplane's clipped fit and the row scan of its bounding box are here (the
convex hull and rectangle of the few row end points run in numpy, ``_fitplane``:
compiling them took 8 s of a fresh install's first big fit, for ~30
microseconds a fit); mDiff's pixel rule
(``_kernels_diff``) and mBgModel's iterations (``_kernels_bg``) are loaded
on their own (a command loads, and on a fresh install compiles, only the
loops it runs), and reached from here too as ``mdiff`` and ``bg_iterate``,
loaded on first access.

mFitplane's clipping refits a plane up to 20 times, each time over the
pixels within ``2 rms`` of the previous plane. In numpy every pass is ~10
array calls, whose overheads dominate on the few thousand pixels of a typical
difference; here each pass is one loop over the pixels, in Montage's order,
and the loops release the GIL so that fits run side by side in threads.

The public kernels are compiled when this module is first imported and
cached on disk next to it (numba's ``cache=True``); later imports load them
from the cache. Import this module lazily (`diffview.core.kernels`):
importing numba alone costs ~0.3 s.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ._jit import _B1, _B2, _BOOL, _F, _F2, _FAST, _I, _JIT

__all__ = [  # noqa: F822 (mdiff, bg_iterate: module __getattr__)
    "clip_fit",
    "row_end_points",
    "mdiff",
    "bg_iterate",
    "STATUS_OK",
    "STATUS_SINGULAR",
]

STATUS_OK = 0
STATUS_SINGULAR = 2


def __getattr__(name: str):
    """Load ``mdiff`` and ``bg_iterate`` on first access (PEP 562)."""
    if name == "mdiff":
        from ._kernels_diff import mdiff

        return mdiff
    if name == "bg_iterate":
        from ._kernels_bg import bg_iterate

        return bg_iterate
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@numba.njit(**_JIT)
def _collect(array, crpix1, crpix2, border, xs, ys, zs, flat):
    """Collect the valid pixels inside ``border``, row-major.

    Fills coordinates, values and flat indices.

    Returns ``(n, x0, y0, zmax)``: the count, the mean plane coordinates and
    ``max |z|``.
    """
    ny, nx = array.shape
    n = 0
    sx = 0.0
    sy = 0.0
    zmax = 0.0
    for j in range(border, ny - border):
        y = j - crpix2
        for i in range(border, nx - border):
            v = array[j, i]
            if math.isfinite(v):
                x = i - crpix1
                xs[n] = x
                ys[n] = y
                zs[n] = v
                flat[n] = j * nx + i
                sx += x
                sy += y
                zmax = max(zmax, abs(v))
                n += 1
    if n == 0:
        return 0, 0.0, 0.0, 0.0
    return n, sx / n, sy / n, zmax


@numba.njit(fastmath=_FAST, **_JIT)
def _set_sums(xc, yc, z, r, thr, n, out):
    """Moment sums of the pixels with ``r <= thr`` (every pixel if thr < 0).

    ``out`` receives ``[Sxx, Sxy, Syy, Sx, Sy, n, Sxz, Syz, Sz]``.
    """
    sxx = sxy = syy = sx = sy = cnt = sxz = syz = sz = 0.0
    every = thr < 0.0
    for k in range(n):
        m = 1.0 if (every or r[k] <= thr) else 0.0
        x = xc[k] * m
        y = yc[k] * m
        sxx += x * xc[k]
        sxy += x * yc[k]
        syy += y * yc[k]
        sx += x
        sy += y
        cnt += m
        sxz += x * z[k]
        syz += y * z[k]
        sz += m * z[k]
    out[0], out[1], out[2], out[3], out[4] = sxx, sxy, syy, sx, sy
    out[5], out[6], out[7], out[8] = cnt, sxz, syz, sz


@numba.njit(fastmath=_FAST, **_JIT)
def _rms_pass(xc, yc, z, a, b, c, thr, n, r):
    """Store ``|z - (a xc + b yc + c)|`` in ``r``.

    Returns the sum of squares and the count of those ``<= thr`` (every
    pixel if thr < 0).
    """
    total = 0.0
    cnt = 0.0
    every = thr < 0.0
    for k in range(n):
        d = abs(z[k] - (a * xc[k] + b * yc[k] + c))
        r[k] = d
        m = 1.0 if (every or d <= thr) else 0.0
        total += m * (d * d)
        cnt += m
    return total, int(cnt)


@numba.njit(**_JIT)
def _solve3(s):
    """Solve Montage's normal equations by cofactors.

    ``ok`` is False when singular (determinant below ``1e-11`` of the
    diagonal product).
    """
    a, b, c, e, f, i = s[0], s[1], s[3], s[2], s[4], s[5]
    r0, r1, r2 = s[6], s[7], s[8]
    co_a, co_b, co_c = e * i - f * f, c * f - b * i, b * f - c * e
    det = a * co_a + b * co_b + c * co_c
    if not det > 1e-11 * a * e * i:
        return False, 0.0, 0.0, 0.0
    co_e, co_f, co_i = a * i - c * c, b * c - a * f, a * e - b * b
    return (
        True,
        (co_a * r0 + co_b * r1 + co_c * r2) / det,
        (co_b * r0 + co_e * r1 + co_f * r2) / det,
        (co_c * r0 + co_f * r1 + co_i * r2) / det,
    )


@numba.njit(**_JIT)
def _fit_set(xc, yc, z, r, thr, n, level_only, sums):
    """Plane ``(ok, a, b, c)`` in centred coordinates of the set ``r <= thr``."""
    _set_sums(xc, yc, z, r, thr, n, sums)
    if level_only:
        return True, 0.0, 0.0, sums[8] / sums[5] if sums[5] > 0 else math.nan
    return _solve3(sums)


@numba.njit(**_JIT)
def _describe(xs, ys, r, thr, n, flat, keep):
    """Ranges and centre of the set ``r <= thr``; marks it in ``keep``."""
    xmin, xmax, ymin, ymax = 1000000.0, -1000000.0, 1000000.0, -1000000.0
    sx = sy = 0.0
    cnt = 0
    mark = keep.size > 0
    every = thr < 0.0
    for k in range(n):
        if every or r[k] <= thr:
            x, y = xs[k], ys[k]
            xmin, xmax = min(xmin, x), max(xmax, x)
            ymin, ymax = min(ymin, y), max(ymax, y)
            sx += x
            sy += y
            cnt += 1
            if mark:
                keep[flat[k]] = True
    if cnt == 0:
        return xmin, xmax, ymin, ymax, math.nan, math.nan
    return xmin, xmax, ymin, ymax, sx / cnt, sy / cnt


# Public kernels carry explicit signatures (any array layout): each is compiled
# once, on first import of this module, and then loaded from numba's cache.
@numba.njit([(_F2, _F, _F, _I, _BOOL, _I, _F, _B1)], **_JIT)
def clip_fit(array, crpix1, crpix2, border, level_only, niter, exact, keep):
    """
    Fit a plane to a difference image with mFitplane's clipping.

    Iteration 0 fits every valid pixel; each later one the pixels within
    ``max(2 rms, exact max|z|)`` of the previous plane (no clipping while rms
    is NaN); the rms of iteration k is over the pixels within the previous
    threshold of the new plane. Stops once (plane, rms, count) repeats.

    Parameters
    ----------
    array : 2-D float64 array
        The difference; non-finite pixels are blank.
    crpix1, crpix2 : float
        Its reference pixel (plane coordinates ``x = i - crpix1``).
    border : int
        Rows and columns left out on each side.
    level_only : bool
        Fit ``c`` only.
    niter : int
        Most iterations (Montage: 20).
    exact : float
        Thresholds never drop below ``exact * max|z|``.
    keep : 1-D bool array
        Of size ``array.size`` to receive the last fit set (flattened), or
        of size 0.

    Returns
    -------
    tuple
        ``(status, a, b, c, rms, npixel, xmin, xmax, ymin, ymax, xcenter,
        ycenter)`` with ``status`` `STATUS_OK` or `STATUS_SINGULAR`.
    """
    size = array.size
    xs, ys, zs = np.empty(size), np.empty(size), np.empty(size)
    flat = np.empty(size, np.int64)
    n, x0, y0, zmax = _collect(array, crpix1, crpix2, border, xs, ys, zs, flat)
    xc, yc = xs[:n] - x0, ys[:n] - y0
    floor = exact * zmax
    prev, cur = np.empty(n), np.empty(n)
    sums = np.empty(9)
    rms, npix, a, b, c = 0.0, n, 0.0, 0.0, 0.0  # niter=0: no fit, all pixels
    fit_thr = -1.0
    for it in range(niter):
        # the set fitted now: pixels within thr of the previous plane (in prev)
        thr = -1.0 if (it == 0 or math.isnan(rms)) else max(2.0 * rms, floor)
        ok, na, nb, nc = _fit_set(xc, yc, zs, prev, thr, n, level_only, sums)
        if not ok:
            return STATUS_SINGULAR, 0.0, 0.0, 0.0, 0.0, 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
        total, cnt = _rms_pass(xc, yc, zs, na, nb, nc, thr, n, cur)
        nrms = math.sqrt(total / cnt) if cnt else math.nan
        fit_thr = thr
        prev, cur = cur, prev  # `cur` now holds the fitted set's residuals
        same = (na, nb, nc, nrms, cnt) == (a, b, c, rms, npix)
        same = same and it > 0
        a, b, c, rms, npix = na, nb, nc, nrms, cnt
        if same:
            break
    ranges = _describe(xs, ys, cur, fit_thr, n, flat, keep)
    cm = c - a * x0 - b * y0
    return (STATUS_OK, a, b, cm, rms, npix) + ranges


@numba.njit([(_B2, _F, _F)], **_JIT)
def row_end_points(valid, crpix1, crpix2):
    """Find the first and last valid column of every row.

    Rows with fewer than two valid pixels (``valid``: a 2-D bool mask) are
    skipped; the end points come as interleaved plane coordinates.
    """
    ny, nx = valid.shape
    xs = np.empty(2 * ny)
    ys = np.empty(2 * ny)
    m = 0
    for j in range(ny):
        first = -1
        for i in range(nx):
            if valid[j, i]:
                first = i
                break
        if first < 0:
            continue
        last = first
        for i in range(nx - 1, first, -1):
            if valid[j, i]:
                last = i
                break
        if last > first:
            xs[m], xs[m + 1] = first - crpix1, last - crpix1
            ys[m] = ys[m + 1] = j - crpix2
            m += 2
    return xs[:m], ys[:m]
