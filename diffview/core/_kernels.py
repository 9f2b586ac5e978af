"""
Compiled per-pixel loops (numba) of mDiff, mFitplane and mBgModel.

mDiff's pixel rule, mFitplane's clipped fit and its bounding box are here;
mBgModel's iterations (``_kernels_bg``) are loaded on their own (a command
loads only the loops it runs), and reached from here too as ``bg_iterate``,
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

from ._jit import _B1, _B2, _BOOL, _F, _F1, _F2, _FAST, _I, _JIT

__all__ = [  # noqa: F822 (bg_iterate: module __getattr__)
    "clip_fit",
    "row_end_points",
    "hull_box",
    "mdiff",
    "bg_iterate",
    "STATUS_OK",
    "STATUS_SINGULAR",
]

STATUS_OK = 0
STATUS_SINGULAR = 2


def __getattr__(name: str):
    """Load mBgModel's loop (``bg_iterate``) on first access (PEP 562)."""
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


@numba.njit(**_JIT)
def _staircase(v):
    """Rows whose ``v`` beats every row above it or every row below it."""
    n = len(v)
    keep = np.zeros(n, np.bool_)
    best = math.inf
    for k in range(n):
        if v[k] < best:
            keep[k] = True
            best = v[k]
    best = math.inf
    for k in range(n - 1, -1, -1):
        if v[k] < best:
            keep[k] = True
            best = v[k]
    return keep


@numba.njit(**_JIT)
def _hull_candidates(x, y):
    """Keep the row end points that can be convex-hull vertices.

    These are the staircase corners: a left end point with rows above and
    below reaching as far left lies inside the hull, and likewise on the
    right.
    """
    left, right, rows = x[0::2], x[1::2], y[0::2]
    keep_l, keep_r = _staircase(left), _staircase(-right)
    return (
        np.concatenate((left[keep_l], right[keep_r])),
        np.concatenate((rows[keep_l], rows[keep_r])),
    )


@numba.njit(**_JIT)
def _cross(px, py, o, a, b):
    return (px[a] - px[o]) * (py[b] - py[o]) - (py[a] - py[o]) * (px[b] - px[o])


@numba.njit(**_JIT)
def _chain(px, py, order, step):
    """One half of Andrew's monotone chain over ``order`` (indices)."""
    stack = np.empty(len(order), np.int64)
    top = 0
    for p in order[::step]:
        while top >= 2 and _cross(px, py, stack[top - 2], stack[top - 1], p) <= 0:
            top -= 1
        stack[top] = p
        top += 1
    return stack[:top]


@numba.njit(**_JIT)
def _hull_stack(x, y):
    """Strict convex hull in the order Montage's Graham stack is walked.

    Montage starts at the lowest (then rightmost) point, sorts the others
    counter-clockwise and pops collinear points; its stack is then walked
    from the last vertex pushed back to that start point.
    """
    by_y = np.argsort(y, kind="mergesort")
    order = by_y[np.argsort(x[by_y], kind="mergesort")]  # by x, then y
    uniq = np.empty(len(order), np.int64)
    m = 0
    for p in order:
        if m == 0 or x[p] != x[uniq[m - 1]] or y[p] != y[uniq[m - 1]]:
            uniq[m] = p
            m += 1
    uniq = uniq[:m]
    if m < 3:
        return x[uniq], y[uniq]
    ccw = np.concatenate((_chain(x, y, uniq, 1)[:-1], _chain(x, y, uniq, -1)[:-1]))
    n = len(ccw)
    start = 0
    for k in range(1, n):
        p, s = ccw[k], ccw[start]
        if y[p] < y[s] or (y[p] == y[s] and x[p] > x[s]):
            start = k
    hull = np.empty(n, np.int64)
    for k in range(n):  # from start, then reversed
        hull[n - 1 - k] = ccw[(start + k) % n]
    return x[hull], y[hull]


@numba.njit(**_JIT)
def _edge_box(hx, hy, k):
    """Montage's rectangle on hull edge k: (area, w, h, A, B, C1..C4)."""
    n = len(hx)
    xc, yc, xn, yn = hx[k], hy[k], hx[(k + 1) % n], hy[(k + 1) % n]
    A, B = yc - yn, xn - xc
    C1 = xc * yn - xn * yc
    norm = math.sqrt(A * A + B * B)
    A, B, C1 = A / norm, B / norm, C1 / norm
    dmax, far = -1.0, 0
    for p in range(n):
        d = abs(A * hx[p] + B * hy[p] + C1)
        if d > dmax:
            dmax, far = d, p
    C2 = -A * hx[far] - B * hy[far]
    C3, C4 = math.inf, -math.inf
    for p in range(n):
        proj = B * hx[p] - A * hy[p]
        C3, C4 = min(C3, proj), max(C4, proj)
    h, w = abs(C1 - C2), abs(C3 - C4)
    return w * h, w, h, A, B, C1, C2, C3, C4


@numba.njit([(_F1, _F1)], **_JIT)
def hull_box(x, y):
    """
    Find mFitplane's minimum-area rectangle of row end points ``x, y``.

    Returns ``(ok, xcen, ycen, width, height, angle)``; ``ok`` is False when
    the points' hull has fewer than 3 vertices (the caller's axis-aligned
    case) or no edge gives a box of non-zero area (then the rest is 0).
    """
    hx, hy = _hull_stack(*_hull_candidates(x, y))
    if len(hx) < 3:
        return False, 0.0, 0.0, 0.0, 0.0, 0.0
    best = -1
    area = math.inf
    for k in range(len(hx)):
        box = _edge_box(hx, hy, k)
        if box[0] > 0.0 and (best < 0 or box[0] < area):
            best, area = k, box[0]
    if best < 0:
        return True, 0.0, 0.0, 0.0, 0.0, 0.0
    _, w, h, A, B, C1, C2, C3, C4 = _edge_box(hx, hy, best)
    xcen = (
        (-A * C1 + B * C3)
        + (-A * C2 + B * C3)
        + (-A * C2 + B * C4)
        + (-A * C1 + B * C4)
    ) / 4.0
    ycen = (
        (-B * C1 - A * C3)
        + (-B * C2 - A * C3)
        + (-B * C2 - A * C4)
        + (-B * C1 - A * C4)
    ) / 4.0
    theta = math.atan2(A, B) * 45.0 / math.atan(1.0)
    return True, xcen, ycen, w, h, -1.0 * theta


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
