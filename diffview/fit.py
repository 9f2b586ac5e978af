"""
Plane fits of differences, exactly as Montage's mFitplane computes them.

Pure numpy: arrays in, `~diffview.PlaneFit` out. No file is read here
(`diffview.fitexec` does the files). Coordinates are Montage's plane
coordinates ``x = i - CRPIX1``, ``y = j - CRPIX2`` with 0-based ``i``, ``j``
and the 1-based CRPIX of the difference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ._util import PairError
from .models import Difference, PlaneFit

__all__ = ["fit_plane", "fit_residual", "bounding_box", "FitResidual", "NITERATION"]

#: Montage's fixed number of clipping iterations.
NITERATION = 20


def _as_array_crpix(diff):
    if isinstance(diff, Difference):
        return np.asarray(diff.array, dtype=float), diff.crpix, (diff.plus, diff.minus)
    array, crpix = diff
    return np.asarray(array, dtype=float), (float(crpix[0]), float(crpix[1])), (0, 0)


# --------------------------------------------------------------------------
# Bounding box (lib/src/pixbounds/pixbounds.c)
# --------------------------------------------------------------------------


def _row_end_points(valid: np.ndarray, crpix) -> tuple[np.ndarray, np.ndarray]:
    """End points of rows holding at least two valid pixels, plane coordinates."""
    nx = valid.shape[1]
    first = valid.argmax(axis=1)
    last = nx - 1 - valid[:, ::-1].argmax(axis=1)
    rows = np.flatnonzero(first < last)
    rows = rows[valid[rows, first[rows]]]  # argmax is 0 on an empty row
    x = np.empty(2 * len(rows))
    x[0::2], x[1::2] = first[rows] - crpix[0], last[rows] - crpix[0]
    y = np.repeat(rows - crpix[1], 2)
    return x, y.astype(float)


def _extreme(values: np.ndarray, sign: float) -> np.ndarray:
    """Rows whose value beats every row above it or every row below it."""
    v = sign * values
    inf = np.array([np.inf])
    before = np.concatenate([inf, np.minimum.accumulate(v)[:-1]])
    after = np.concatenate([np.minimum.accumulate(v[::-1])[::-1][1:], inf])
    return (v < before) | (v < after)


def _hull_candidates(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Row end points that can be convex-hull vertices (staircase corners).

    A left end point with some row above and some row below reaching at least
    as far left lies inside (or on) the hull, so it is dropped; likewise on
    the right. This leaves a handful of points for the exact hull.
    """
    left, right = x[0::2], x[1::2]
    keep_l, keep_r = _extreme(left, 1.0), _extreme(right, -1.0)
    yy = y[0::2]
    return np.column_stack(
        [
            np.concatenate([left[keep_l], right[keep_r]]),
            np.concatenate([yy[keep_l], yy[keep_r]]),
        ]
    )


def _cross(o, a, b) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _hull_stack(pts: np.ndarray) -> list:
    """Strict convex hull in the order Montage's Graham stack is walked.

    Montage starts at the lowest (then rightmost) point, sorts the others
    counter-clockwise and pops collinear points; its stack is then walked
    from the last vertex pushed back to that start point.
    """
    order = sorted(set(map(tuple, pts.tolist())))  # by x, then y
    if len(order) < 3:
        return order
    lower: list = []
    upper: list = []
    for p in order:  # monotone chain over a few candidate points
        while len(lower) >= 2 and _cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(order):
        while len(upper) >= 2 and _cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    ccw = lower[:-1] + upper[:-1]
    if len(ccw) < 3:
        return ccw
    start = min(range(len(ccw)), key=lambda k: (ccw[k][1], -ccw[k][0]))
    ccw = ccw[start:] + ccw[:start]  # lowest y, then largest x, first
    return ccw[::-1]


def _edge_box(hull: list, k: int):
    """Montage's rectangle on hull edge k: (area, w, h, A, B, C1..C4)."""
    (xc, yc), (xn, yn) = hull[k], hull[(k + 1) % len(hull)]
    A, B = yc - yn, xn - xc
    C1 = xc * yn - xn * yc
    norm = math.sqrt(A * A + B * B)
    A, B, C1 = A / norm, B / norm, C1 / norm
    dmax, far = -1.0, hull[0]
    for p in hull:
        d = abs(A * p[0] + B * p[1] + C1)
        if d > dmax:
            dmax, far = d, p
    C2 = -A * far[0] - B * far[1]
    proj = [B * p[0] - A * p[1] for p in hull]
    C3, C4 = min(proj), max(proj)
    h, w = abs(C1 - C2), abs(C3 - C4)
    return w * h, w, h, A, B, C1, C2, C3, C4


def _min_area_box(hull: list):
    best = None
    for k in range(len(hull)):
        box = _edge_box(hull, k)
        if box[0] > 0.0 and (best is None or box[0] < best[0]):
            best = box
    if best is None:
        return 0.0, 0.0, 0.0, 0.0, 0.0
    _, w, h, A, B, C1, C2, C3, C4 = best
    cx = (-A * C1 + B * C3, -A * C2 + B * C3, -A * C2 + B * C4, -A * C1 + B * C4)
    cy = (-B * C1 - A * C3, -B * C2 - A * C3, -B * C2 - A * C4, -B * C1 - A * C4)
    theta = math.atan2(A, B) * 45.0 / math.atan(1.0)
    xcen = (cx[0] + cx[1] + cx[2] + cx[3]) / 4.0
    ycen = (cy[0] + cy[1] + cy[2] + cy[3]) / 4.0
    return xcen, ycen, w, h, -1.0 * theta


def bounding_box(valid: np.ndarray, crpix) -> tuple[float, float, float, float, float]:
    """
    Montage's rotated bounding box of the valid pixels of a difference.

    Each row with at least two valid pixels contributes its two end points;
    the box is the minimum-area rectangle aligned with an edge of their convex
    hull, measured between pixel centres (mFitplane's ``pixbounds``). With one
    or two points it is the axis-aligned box of the points +-0.5.

    Parameters
    ----------
    valid : numpy.ndarray of bool
        Valid-pixel mask, (rows, columns).
    crpix : tuple of float
        ``(CRPIX1, CRPIX2)`` of the difference.

    Returns
    -------
    tuple of float
        ``(boxx, boxy, boxwidth, boxheight, boxang)`` before mFitplane's final
        zero-size fix-up (see `fit_plane`); ``boxang`` in degrees.

    Examples
    --------
    >>> bounding_box(np.ones((14, 6), bool), (1.0, 1.0))
    (1.5, 5.5, 13.0, 5.0, 90.0)
    """
    x, y = _row_end_points(np.asarray(valid, bool), crpix)
    if len(x) >= 3:
        hull = _hull_stack(_hull_candidates(x, y))
        if len(hull) >= 3:
            return tuple(float(v) for v in _min_area_box(hull))
    if len(x) == 0:
        return 0.0, 0.0, 0.0, 0.0, 0.0
    width = (x.max() + 0.5) - (x.min() - 0.5)
    height = (y.max() + 0.5) - (y.min() - 0.5)
    return float(x.mean()), float(y.mean()), float(width), float(height), 0.0


# --------------------------------------------------------------------------
# The fit (MontageLib/Fitplane/montageFitplane.c)
# --------------------------------------------------------------------------


def _solve3(m, r) -> tuple[float, float, float]:
    """Solve the 3x3 normal equations (centred coordinates) by cofactors.

    Raises ``Singular Matrix-2`` when the determinant vanishes relative to
    the diagonal (no pixels, or all kept pixels on one line).
    """
    (a, b, c), (_, e, f), (_, _, i) = m
    co_a, co_b, co_c = e * i - f * f, c * f - b * i, b * f - c * e
    det = a * co_a + b * co_b + c * co_c
    if not det > 1e-11 * a * e * i:
        raise PairError("Singular Matrix-2")
    co_e, co_f, co_i = a * i - c * c, b * c - a * f, a * e - b * b
    r0, r1, r2 = r
    return (
        (co_a * r0 + co_b * r1 + co_c * r2) / det,
        (co_b * r0 + co_e * r1 + co_f * r2) / det,
        (co_c * r0 + co_f * r1 + co_i * r2) / det,
    )


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """Dot product without BLAS.

    BLAS threads oversubscribe the cores when fits run in a process pool
    (5x slower on 2 cores); einsum's single-threaded loop does not.
    """
    if len(a) < 8192:  # BLAS stays single-threaded and has less call overhead
        return float(np.dot(a, b))
    return float(np.einsum("i,i->", a, b))


def _moment_sums(xc: np.ndarray, yc: np.ndarray, z: np.ndarray) -> np.ndarray:
    """[Sxx, Sxy, Syy, Sx, Sy, n, Sxz, Syz, Sz] of a set of pixels."""
    return np.array(
        [
            _dot(xc, xc),
            _dot(xc, yc),
            _dot(yc, yc),
            xc.sum(),
            yc.sum(),
            float(len(xc)),
            _dot(xc, z),
            _dot(yc, z),
            z.sum(),
        ]
    )


def _gram(rows: np.ndarray) -> np.ndarray:
    """``rows @ rows.T`` of a (4, n) array, single-threaded (see `_dot`)."""
    if rows.shape[1] < 8192:
        return np.dot(rows, rows.T)
    return np.einsum("in,jn->ij", rows, rows)


class _Pixels:
    """Valid pixels of a difference in coordinates centred on their mean.

    ``rows`` holds ``xc, yc, 1, z`` as the rows of one (4, n) array, so that
    the residuals of a plane are one matrix-vector product and the moment
    sums of any subset one small matrix product (``_gram``).
    """

    def __init__(self, x, y, z):
        n = len(z)
        self.n, self.z = n, z
        self.x0 = float(x.mean()) if n else 0.0
        self.y0 = float(y.mean()) if n else 0.0
        self.rows = np.empty((4, n))
        np.subtract(x, self.x0, out=self.rows[0])
        np.subtract(y, self.y0, out=self.rows[1])
        self.rows[2] = 1.0
        self.rows[3] = z
        self.xc, self.yc = self.rows[0], self.rows[1]
        self.full = _gram(self.rows)

    @cached_property
    def _stats(self):
        """Centre ``z0`` and extents ``zmax``, ``mx``, ``my`` (for `_Window`)."""
        if not self.n:
            return 0.0, 0.0, 0.0, 0.0
        return (
            float(self.z.mean()),
            float(np.abs(self.z).max()),
            float(np.abs(self.xc).max()),
            float(np.abs(self.yc).max()),
        )

    z0 = property(lambda self: self._stats[0])
    zmax = property(lambda self: self._stats[1])
    mx = property(lambda self: self._stats[2])
    my = property(lambda self: self._stats[3])

    def sums10(self, idx) -> np.ndarray:
        """Moment sums with centred z, plus the sum of zc^2 (all pixels if None)."""
        xc, yc, z = (
            (self.xc, self.yc, self.z)
            if idx is None
            else (self.xc[idx], self.yc[idx], self.z[idx])
        )
        zc = z - self.z0
        return np.append(_moment_sums(xc, yc, zc), _dot(zc, zc))

    def solve_sums(self, s, level_only: bool):
        """Plane in Montage's frame from `sums10` sums."""
        sxx, sxy, syy, sx, sy, n, sxz, syz, sz, _ = s.tolist()
        if level_only:
            with np.errstate(invalid="ignore", divide="ignore"):
                return 0.0, 0.0, float(np.float64(sz) / np.float64(n)) + self.z0
        a, b, c = _solve3(((sxx, sxy, sx), (sxy, syy, sy), (sx, sy, n)), (sxz, syz, sz))
        return a, b, c + self.z0 - a * self.x0 - b * self.y0

    def solve(self, clipped: np.ndarray | None, level_only: bool):
        """Plane (a, b, c) in Montage's frame without the ``clipped`` pixels."""
        g = self.full
        if clipped is not None and len(clipped):
            g = g - _gram(self.rows.take(clipped, axis=1))
        return self.solve_gram(g, level_only)

    def solve_gram(self, g: np.ndarray, level_only: bool):
        """Plane (a, b, c) in Montage's frame from the `_gram` of a pixel set."""
        (sxx, sxy, sx, sxz), (_, syy, sy, syz), (_, _, n, sz), _ = g.tolist()
        if level_only:
            with np.errstate(invalid="ignore", divide="ignore"):
                return 0.0, 0.0, float(np.float64(sz) / np.float64(n))
        a, b, c = _solve3(((sxx, sxy, sx), (sxy, syy, sy), (sx, sy, n)), (sxz, syz, sz))
        return a, b, c - a * self.x0 - b * self.y0

    def centred(self, plane) -> tuple[float, float, float]:
        """``(a, b, c')`` of a plane in the centred coordinates ``xc, yc``."""
        a, b, c = plane
        return a, b, c + a * self.x0 + b * self.y0

    def residual(self, plane) -> np.ndarray:
        """Signed ``z - (a x + b y + c)`` of every pixel, a new array."""
        a, b, c = self.centred(plane)
        return np.dot((-a, -b, -c, 1.0), self.rows)

    def abs_residual(self, plane) -> np.ndarray:
        """``|z - (a x + b y + c)|`` of every pixel, a new array."""
        out = self.residual(plane)
        return np.abs(out, out=out)


#: Residuals below this fraction of max|z| count as exact (rounding level).
EXACT = 1e-10


#: From this many valid pixels on, iterations after the first few use `_Window`.
WINDOW_MIN = 16384
_DIRECT_ITERATIONS = 2

#: Below `WINDOW_MIN`, from this iteration on a full pass also sorts the
#: pixels around the next threshold into a `_Band`; its limits, as fractions
#: of that threshold.
BAND_START = 3
BAND_LIMITS = (0.75, 1.03)


def _iterate(x, y, z, level_only: bool):
    """Montage's 20 clipping iterations, stopped early once the state repeats.

    Returns the plane, the rms, the rms-pass count and the last fit mask.
    The clipping threshold is ``2 rms`` but never below the rounding level
    of the data (``EXACT * max|z|``), so pixels on the plane are never
    clipped. Sums over a clipped set are the full sums minus those of the
    (few) clipped pixels. In the later iterations, where the plane barely
    moves, only the pixels near the threshold are tested (`_Band` or, on
    large differences, `_Window`); the sets are the same.
    """
    n = len(z)
    if n >= WINDOW_MIN:
        return _iterate_window(_Pixels(x, y, z), level_only)
    px = _Pixels(x, y, z)
    floor = EXACT * (float(np.max(np.abs(z))) if n else 0.0)
    rms, state, band, plane, npix = 0.0, None, None, (0.0, 0.0, 0.0), 0
    # the set the next plane is fitted to: its Gram matrix and description
    gram, chosen = px.full, None
    for iteration in range(NITERATION):
        # Montage: no clipping in iteration 0, nor while rms is NaN
        thr = None if (iteration == 0 or math.isnan(rms)) else max(2 * rms, floor)
        if thr is None:
            gram, chosen = px.full, None
        used = chosen
        plane = px.solve_gram(gram, level_only)
        step = None if (band is None or thr is None) else band.step(plane, thr, floor)
        if step is not None:
            rms, npix, gram, chosen = step
        else:
            dz = px.residual(plane)
            np.abs(dz, out=dz)
            rms, npix, clipped = _rms_pass(dz, thr, floor)
            gram, chosen = px.full, None
            if clipped is not None:
                gram, chosen = gram - _gram(px.rows.take(clipped, axis=1)), clipped
                if iteration >= BAND_START:
                    band = _Band(px, dz, plane, max(2 * rms, floor))
        new_state = (plane, rms, npix)
        if new_state == state:  # a fixed point: every later iteration repeats it
            break
        state = new_state
    return plane, rms, npix, _kept(n, used)


def _kept(n: int, chosen) -> np.ndarray:
    """Mask of the pixels of a fit set: clipped indices, or a `_Band` and the
    mask of its band pixels kept (all pixels if None)."""
    if chosen is None:
        keep = np.ones(n, bool)
    elif isinstance(chosen, tuple):
        band, kept = chosen
        keep = band.inside.copy()
        keep[band.idx[kept]] = True
    else:
        keep = np.ones(n, bool)
        keep[chosen] = False
    return keep


def _iterate_window(px: _Pixels, level_only: bool):
    """`_iterate` on a large difference: full passes for the first
    ``_DIRECT_ITERATIONS``, then `_Window`."""
    n = px.n
    floor = EXACT * (float(np.max(np.abs(px.z))) if n else 0.0)
    rms, state, thr, win = 0.0, None, None, None
    plane, prev, npix, out, nxt = (0.0, 0.0, 0.0), None, 0, None, None
    for iteration in range(NITERATION):
        thr = None if (iteration == 0 or math.isnan(rms)) else max(2 * rms, floor)
        prev = plane
        if thr is not None and iteration >= _DIRECT_ITERATIONS:
            win = win or _Window(px)
            plane = px.solve_sums(win.sums(prev, thr), level_only)
            counted = win.sums(plane, thr)
            npix = int(round(counted[5]))
            total = _square_sum(counted, plane, px) if npix else 0.0
            rms = math.sqrt(total / npix) if npix else math.nan
        else:
            out = None if thr is None else nxt
            plane = px.solve(out, level_only)
            rms, npix, nxt = _rms_pass(px.abs_residual(plane), thr, floor)
        new_state = (plane, rms, npix)
        if new_state == state:
            break
        state = new_state
    keep = np.ones(n, bool)
    if win is not None:
        keep = px.abs_residual(prev) <= thr
    elif out is not None:
        keep[out] = False
    return plane, rms, npix, keep


def _rms_pass(dz: np.ndarray, thr, floor: float):
    """Montage's rms over ``dz <= thr`` (all if None), and the next clip set.

    Returns ``(rms, count, clipped)`` where ``clipped`` are the indices with
    ``dz > max(2 rms, floor)``, the pixels the next iteration leaves out
    (None if rms is NaN). Both sets come from one scan of ``dz``: the pixels
    above a bound just under the old threshold, rescanned only if the new
    threshold is lower.
    """
    n = len(dz)
    total = _dot(dz, dz)
    lo = None if thr is None else 0.8 * thr
    above = None if lo is None else (dz > lo).nonzero()[0]
    npix = n
    if above is not None:
        high = dz[above]
        gone = high[high > thr]
        npix -= len(gone)
        total = max(total - _dot(gone, gone), 0.0) if npix else 0.0
    rms = math.sqrt(total / npix) if npix else math.nan
    if math.isnan(rms):
        return rms, npix, None
    nthr = max(2 * rms, floor)
    if above is not None and nthr >= lo:
        return rms, npix, above[high > nthr]
    return rms, npix, (dz > nthr).nonzero()[0]


class _Band:
    """The pixels of a small difference sorted around a threshold.

    Built from the residuals ``dz`` of a reference plane ``P_ref`` and a
    threshold ``T``: pixels with ``dz <= lo`` are *inside* (summed once),
    those in ``(lo, hi]`` are the *band* (kept as columns), the rest are
    outside. A later plane moves every residual by at most ``D`` (`offset`);
    for a threshold ``t`` with ``lo + D <= t`` and ``t + D <= hi`` the pixels
    within ``t`` are the inside ones plus the band pixels that pass, tested
    exactly. Sums over the inside pixels are kept in the frame of the
    reference residual ``r = z - P_ref``, so the sum of squares of a new
    residual ``r - dP`` has no cancellation.
    """

    def __init__(self, px: _Pixels, dz: np.ndarray, plane, thr: float):
        self.px, self.ref = px, px.centred(plane)
        self.lo, self.hi = BAND_LIMITS[0] * thr, BAND_LIMITS[1] * thr
        self.inside = dz <= self.lo
        beyond = (~self.inside).nonzero()[0]
        far = dz[beyond]
        self.idx = beyond[far <= self.hi]
        self.rows = px.rows.take(self.idx, axis=1)
        self.gram = px.full - _gram(px.rows.take(beyond, axis=1))
        (sxx, sxy, sx, sxz), (_, syy, sy, syz), (_, _, n, sz), _ = self.gram.tolist()
        a, b, c = self.ref
        # sums over the inside pixels: x^2, xy, y^2, x, y, n, then r, x r,
        # y r and r^2 of the reference residual r
        self.sums = (
            sxx,
            sxy,
            syy,
            sx,
            sy,
            n,
            sz - a * sx - b * sy - c * n,
            sxz - a * sxx - b * sxy - c * sx,
            syz - a * sxy - b * syy - c * sy,
            max(_dot(dz, dz) - _dot(far, far), 0.0),
        )
        self.n = int(round(n))
        self.eps = 1e-9 * (abs(self.hi) + px.zmax)

    def step(self, plane, thr: float, floor: float):
        """`_rms_pass` for ``plane`` and the Gram matrix of the next fit set.

        Returns ``(rms, count, gram, (band, kept))``, or None when the band
        does not decide the pixels for ``thr`` or for the next threshold.
        """
        px = self.px
        a, b, c = px.centred(plane)
        ra, rb, rc = self.ref
        da, db, dc = a - ra, b - rb, c - rc
        # the largest move of any residual from the reference
        d = abs(da) * px.mx + abs(db) * px.my + abs(dc) + self.eps
        if not (self.lo + d <= thr and thr + d <= self.hi):
            return None
        dzb = np.dot((-a, -b, -c, 1.0), self.rows)
        np.abs(dzb, out=dzb)
        kept = dzb[dzb <= thr]
        npix = self.n + len(kept)
        total = self._inside_squares(da, db, dc) + _dot(kept, kept)
        rms = math.sqrt(total / npix) if npix else math.nan
        if math.isnan(rms):
            return None
        nthr = max(2 * rms, floor)
        if not (self.lo + d <= nthr and nthr + d <= self.hi):
            return None
        mask = dzb <= nthr
        gram = self.gram + _gram(self.rows.compress(mask, axis=1))
        return rms, npix, gram, (self, mask)

    def _inside_squares(self, da: float, db: float, dc: float) -> float:
        """Sum over the inside pixels of ``(r - dP)^2``, ``dP = da x + db y + dc``
        in centred coordinates."""
        return _plane_squares(self.sums, da, db, dc)  # sums: ... n, sr, sxr, syr, srr


def _square_sum(s, plane, px) -> float:
    """Sum of (z - P)^2 over a set from its moment sums (centred z)."""
    a, b, c = plane
    c = c + a * px.x0 + b * px.y0 - px.z0  # plane in centred x, y, z
    sxx, sxy, syy, sx, sy, n, sxz, syz, sz, szz = s.tolist()
    return _plane_squares((sxx, sxy, syy, sx, sy, n, sz, sxz, syz, szz), a, b, c)


def _plane_squares(moments, a: float, b: float, c: float) -> float:
    """``sum (z - a x - b y - c)^2`` from the moment sums ``(sxx, sxy, syy, sx,
    sy, n, sz, sxz, syz, szz)`` of a pixel set; never below zero."""
    sxx, sxy, syy, sx, sy, n, sz, sxz, syz, szz = moments
    q = (
        szz
        - 2 * (a * sxz + b * syz + c * sz)
        + a * a * sxx
        + 2 * a * b * sxy
        + b * b * syy
        + 2 * a * c * sx
        + 2 * b * c * sy
        + c * c * n
    )
    return max(q, 0.0)


class _Window:
    """Moment sums over ``{|z - P| <= T}`` testing only pixels near ``T``.

    Built from a reference plane ``P_ref`` and threshold: pixels with
    residual ``<= lo`` are summed once (``base``), pixels in ``(lo, hi]`` are
    kept as the window. A later plane moves every residual by at most
    ``D = max|P - P_ref|``; while ``lo <= T - D`` and ``T + D <= hi`` the set
    is ``base`` plus the window pixels that pass, tested exactly. Otherwise
    the window is rebuilt around the new plane and threshold.
    """

    def __init__(self, px: _Pixels):
        self.px, self.ref, self.lo, self.hi = px, None, 0.0, -1.0

    def _offset(self, plane) -> float:
        px, ref = self.px, self.ref
        da, db = plane[0] - ref[0], plane[1] - ref[1]
        dc = (plane[2] + plane[0] * px.x0 + plane[1] * px.y0) - (
            ref[2] + ref[0] * px.x0 + ref[1] * px.y0
        )
        return (
            abs(da) * px.mx
            + abs(db) * px.my
            + abs(dc)
            + 1e-9 * (abs(self.hi) + px.zmax)
        )

    def _build(self, plane, thr):
        px = self.px
        self.ref, self.lo, self.hi = plane, 0.85 * thr, 1.05 * thr
        dz = px.abs_residual(plane)
        above = np.flatnonzero(dz > self.lo)
        self.base = px.sums10(None) - px.sums10(above)
        w = above[dz[above] <= self.hi]
        self.wx, self.wy, self.wz = px.xc[w], px.yc[w], px.z[w]
        zc = self.wz - px.z0
        self.rows = np.vstack(
            [
                self.wx * self.wx,
                self.wx * self.wy,
                self.wy * self.wy,
                self.wx,
                self.wy,
                np.ones_like(zc),
                self.wx * zc,
                self.wy * zc,
                zc,
                zc * zc,
            ]
        )

    def sums(self, plane, thr):
        if self.ref is None or not (
            self.lo <= thr - self._offset(plane)
            and thr + self._offset(plane) <= self.hi
        ):
            self._build(plane, thr)
        px = self.px
        a, b, c = plane
        res = np.abs(
            self.wz - (a * self.wx + b * self.wy + (c + a * px.x0 + b * px.y0))
        )
        return self.base + np.einsum("ij,j->i", self.rows, (res <= thr).astype(float))


def _valid_pixels(array: np.ndarray, crpix, border: int, finite=None):
    """Plane coordinates, values and mask of the valid pixels inside ``border``
    (``finite``: ``np.isfinite(array)`` if already known)."""
    ny, nx = array.shape
    sub = array[border : ny - border, border : nx - border]
    if finite is None:
        ok = np.isfinite(sub)
    else:
        ok = finite[border : ny - border, border : nx - border]
    jj, ii = np.nonzero(ok)
    if border:
        ii, jj = ii + border, jj + border
    # int64 - float64 converts exactly, then rounds once, as astype(float) did
    return np.subtract(ii, crpix[0]), np.subtract(jj, crpix[1]), sub[ok], ok


def fit_plane(
    diff, *, level_only: bool = False, border: int = 0, nofit: bool = False, ids=None
) -> PlaneFit:
    """
    Fit a plane ``a x + b y + c`` to a difference, as Montage's mFitplane does.

    Iteration 0 fits every valid pixel; each of the next 19 refits the pixels
    within ``2 rms`` of the previous plane (no clipping while rms is 0). The
    solve is Montage's Gauss-Jordan on the 3x3 normal equations.

    Parameters
    ----------
    diff : Difference or tuple
        A `~diffview.Difference`, or ``(array, (crpix1, crpix2))``; NaN and
        +-inf are blank.
    level_only : bool
        Fit only ``c`` (the mean), ``a = b = 0`` (mFitplane ``-l``).
    border : int
        Leave this many rows and columns on each side out of the fit (not out
        of the bounding box).
    nofit : bool
        Compute only the pixel ranges, centre and bounding box; ``a = b = c =
        rms = 0``.
    ids : tuple of int, optional
        ``(plus, minus)`` stored in the result; taken from a `Difference`
        when not given.

    Returns
    -------
    PlaneFit
        Every column of Montage's ``fits.tbl``. ``npixel`` is the count of the
        last rms pass (Montage's quirk), ``xmin``..``ymax`` and
        ``xcenter``/``ycenter`` describe the pixels of the last fit.

    Raises
    ------
    diffview.PairError
        ``Too few pixels to fit`` (an axis shorter than 2, full fit),
        ``Singular Matrix-1``/``Singular Matrix-2`` (no pixels, or all valid
        pixels on one line).

    Notes
    -----
    Two deviations from Montage, both for degenerate input:

    * Montage clips at ``2 rms`` unless rms is exactly 0, so on a perfect
      plane (rms at the rounding level, ~1e-16) it keeps a random handful of
      pixels and can return a wrong plane, ``npixel = 0`` and ``rms = nan``.
      diffview never clips below ``1e-10 max|z|``: a perfect plane is
      recovered exactly with every pixel counted, and an outlier on a
      perfect plane stays clipped.
    * Montage reports a collinear pixel set (all valid pixels on one line) as
      singular only when its Gauss-Jordan meets an exact zero pivot; diffview
      always raises ``Singular Matrix-2`` instead of returning a meaningless
      plane.

    Iterations stop early once the fit state repeats exactly, which gives the
    same numbers as running all 20.

    Examples
    --------
    >>> j, i = np.mgrid[0:5, 0:7]
    >>> f = fit_plane((0.1 * i + 0.2 * j + 3.0, (5.5, 2.5)))
    >>> round(f.a, 6), round(f.b, 6), round(f.c, 6), f.npixel
    (0.1, 0.2, 4.05, 35)
    """
    array, crpix, known = _as_array_crpix(diff)
    ids = known if ids is None else ids
    ny, nx = array.shape
    if not level_only and (nx < 2 or ny < 2):
        raise PairError("Too few pixels to fit")
    finite = np.isfinite(array)
    box = bounding_box(finite, crpix)
    x, y, z, _ = _valid_pixels(array, crpix, border, finite)
    if nofit:
        return _make_fit(ids, (0.0, 0.0, 0.0), crpix, x, y, len(z), 0.0, box)
    plane, rms, npix, keep = _iterate(x, y, z, level_only)
    return _make_fit(ids, plane, crpix, x[keep], y[keep], npix, rms, box)


def _make_fit(ids, plane, crpix, xk, yk, npix, rms, box) -> PlaneFit:
    if len(xk):
        ranges = (float(xk.min()), float(xk.max()), float(yk.min()), float(yk.max()))
        centre = (float(xk.mean()), float(yk.mean()))
    else:
        ranges = (1000000.0, -1000000.0, 1000000.0, -1000000.0)
        centre = (math.nan, math.nan)
    boxx, boxy, width, height, ang = box
    if width == 0.0:
        boxx, width, ang = ranges[0], 1.0, 0.0
    if height == 0.0:
        boxy, height, ang = ranges[2], 1.0, 0.0
    plus, minus = (-1 if v is None else int(v) for v in ids)
    return PlaneFit(
        plus,
        minus,
        float(plane[0]),
        float(plane[1]),
        float(plane[2]),
        float(crpix[0]),
        float(crpix[1]),
        *ranges,
        *centre,
        int(npix),
        float(rms),
        float(boxx),
        float(boxy),
        float(width),
        float(height),
        float(ang),
    )


@dataclass(frozen=True, eq=False)
class FitResidual:
    """
    What is left of a difference after its plane, for display.

    Attributes
    ----------
    residual : numpy.ndarray
        ``difference - (a x + b y + c)``, NaN where the difference is blank.
    clipped : numpy.ndarray of bool
        Valid pixels the last iteration left out of the fit (beyond
        ``2 rms`` of the previous plane, or in the ``border``).
    plane : numpy.ndarray
        The fitted plane evaluated on the difference's pixel grid.
    """

    residual: np.ndarray
    clipped: np.ndarray
    plane: np.ndarray


def fit_residual(
    diff, fit: PlaneFit | None = None, *, level_only: bool = False, border: int = 0
) -> FitResidual:
    """
    Residual image of a plane fit and the mask of the pixels it clipped.

    Parameters
    ----------
    diff : Difference or tuple
        As for `fit_plane`.
    fit : PlaneFit, optional
        A fit of ``diff``; computed with `fit_plane` when not given.
    level_only, border : optional
        Options of the fit, used to rebuild its clipping mask.

    Returns
    -------
    FitResidual

    Examples
    --------
    >>> z = np.zeros((5, 7)); z[2, 3] = 50.0
    >>> r = fit_residual((z, (1.0, 1.0)))
    >>> int(r.clipped.sum()), bool(r.clipped[2, 3])
    (1, True)
    """
    array, crpix, _ = _as_array_crpix(diff)
    if fit is None:
        fit = fit_plane((array, crpix), level_only=level_only, border=border)
    ny, nx = array.shape
    jj, ii = np.mgrid[0:ny, 0:nx]
    plane = fit.a * (ii - crpix[0]) + fit.b * (jj - crpix[1]) + fit.c
    valid = np.isfinite(array)
    residual = np.where(valid, array - plane, np.nan)
    inner = np.zeros_like(valid)
    inner[border : ny - border, border : nx - border] = True
    x, y, z, _ = _valid_pixels(array, crpix, border)
    keep = np.zeros_like(valid)
    if len(z):
        *_, kept = _iterate(x, y, z, level_only)
        sub = keep[border : ny - border, border : nx - border]
        sub[np.isfinite(array[border : ny - border, border : nx - border])] = kept
    return FitResidual(residual, valid & ~keep, plane)
