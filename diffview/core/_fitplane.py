"""
mFitplane's clipped fit and bounding box in numpy (no compiled loop to load).

The same algorithm as the compiled loops of ``_kernels`` (``clip_fit``,
``row_end_points``), with the same signatures and results: the valid pixels
are collected once, row-major, as the rows ``x - x0, y - y0, 1, z`` of one
array, so that each clipping pass is a handful of whole-array calls (a 4 x 4
Gram product less that of the clipped pixels, a matrix-vector product for
the residuals). The pixel counts, ranges, centres and row end points are
bit-identical to the loops'; the plane and rms agree to rounding (numpy and
the loop add the moment sums in different orders), far below what
``fits.tbl`` prints (``docs/montage-semantics.md`` §4.1). mFitplane's
rectangle around the convex hull of the row end points (``hull_box``) is
here only, for both paths: a few dozen points, cheaper in Python than a
loop is to compile.

For a typical difference of a few thousand pixels this costs a fraction of a
millisecond, against 0.5-1 s to import numba and load the compiled loops in
a fresh process; `diffview.core.fit` chooses (`_loader.use_compiled`).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["numpy_clip_fit", "numpy_row_end_points", "numpy_hull_box"]

STATUS_OK = 0
STATUS_SINGULAR = 2
_SINGULAR = (STATUS_SINGULAR, 0.0, 0.0, 0.0, 0.0, 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)


def _running_sum(values: np.ndarray) -> float:
    """Sum left to right, as the loop adds (numpy's ``sum`` is pairwise)."""
    return float(np.cumsum(values)[-1]) if values.size else 0.0


def _solve3(s) -> tuple[bool, float, float, float]:
    """Montage's normal equations by cofactors (the loop's ``_solve3``).

    ``s`` is ``[Sxx, Sxy, Syy, Sx, Sy, n, Sxz, Syz, Sz]``; not ok when the
    determinant is below ``1e-11`` of the diagonal product.
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


class _Pixels:
    """The valid pixels of a difference inside a border, row-major.

    ``rows`` is ``(xc, yc, 1, z)`` with ``xc = x - x0``, ``yc = y - y0``
    centred on the pixels' mean; ``flat`` their indices in the whole array.
    """

    def __init__(self, array, crpix1, crpix2, border):
        ny, nx = array.shape
        rows, cols = slice(border, max(border, ny - border)), slice(
            border, max(border, nx - border)
        )
        inner = array[rows, cols]
        finite = np.isfinite(inner)
        jj, ii = np.nonzero(finite)
        jj += border
        ii += border
        self.z = inner[finite]
        self.n = n = self.z.size
        self.x = ii - crpix1
        self.y = jj - crpix2
        self.flat = jj * nx + ii
        # the centre only conditions the sums (the loop's, left to right,
        # differs by rounding): exact integer sums cost a tenth of a running sum
        self.x0 = float(ii.sum()) / n - crpix1 if n else 0.0
        self.y0 = float(jj.sum()) / n - crpix2 if n else 0.0
        self.zmax = float(np.abs(self.z).max()) if n else 0.0
        self.rows = np.empty((4, n))
        np.subtract(self.x, self.x0, out=self.rows[0])
        np.subtract(self.y, self.y0, out=self.rows[1])
        self.rows[2] = 1.0
        self.rows[3] = self.z
        self.gram = (self.rows @ self.rows.T).tolist()
        # scratch of the passes
        self._mask = np.empty(n, bool)
        self._kept = np.empty(n)

    def sums(self, resid, thr) -> list[float]:
        """``[Sxx, Sxy, Syy, Sx, Sy, n, Sxz, Syz, Sz]`` of the set ``resid <= thr``.

        Every pixel when ``thr < 0``. The sums of all pixels less those of
        the few outside the set (clipping leaves out a few per cent).
        """
        g = self.gram
        if thr >= 0.0:
            outside = np.less_equal(resid, thr, out=self._mask)
            np.logical_not(outside, out=outside)
            out = np.flatnonzero(outside)
            if out.size:
                rows = self.rows.take(out, axis=1)
                g = (np.array(g) - rows @ rows.T).tolist()
        return [g[0][0], g[0][1], g[1][1], g[0][2], g[1][2], g[2][2], g[0][3],
                g[1][3], g[2][3]]

    def rms_pass(self, plane, thr, out=None):
        """Residuals ``|z - plane|`` of every pixel (into ``out`` if given).

        Also the sum of squares and the count of those ``<= thr`` (every
        pixel when ``thr < 0``).
        """
        a, b, c = plane
        r = np.empty(self.n) if out is None else out
        np.dot(np.array([-a, -b, -c, 1.0]), self.rows, out=r)
        np.abs(r, out=r)
        if thr < 0.0:
            return r, float(np.dot(r, r)), self.n
        inside = np.less_equal(r, thr, out=self._mask)
        kept = np.multiply(r, inside, out=self._kept)
        return r, float(np.dot(kept, kept)), int(np.count_nonzero(inside))


def _fit_set(px: _Pixels, resid, thr, level_only):
    """Plane ``(ok, a, b, c)`` in centred coordinates of the set ``resid <= thr``."""
    s = px.sums(resid, thr)
    if level_only:
        return True, 0.0, 0.0, s[8] / s[5] if s[5] > 0 else math.nan
    return _solve3(s)


def _describe(px: _Pixels, resid, thr, keep):
    """Ranges and centre of the set ``resid <= thr``; marks it in ``keep``."""
    if thr < 0.0:
        x, y, flat = px.x, px.y, px.flat
    else:
        sel = resid <= thr
        x, y, flat = px.x[sel], px.y[sel], px.flat[sel]
    if keep.size:
        keep[flat] = True
    if x.size == 0:
        return 1000000.0, -1000000.0, 1000000.0, -1000000.0, math.nan, math.nan
    # the loop starts its ranges at +-1e6 and counts its centre left to right
    cnt = x.size
    return (
        min(1000000.0, float(x.min())),
        max(-1000000.0, float(x.max())),
        min(1000000.0, float(y.min())),
        max(-1000000.0, float(y.max())),
        _running_sum(x) / cnt,
        _running_sum(y) / cnt,
    )


def numpy_clip_fit(array, crpix1, crpix2, border, level_only, niter, exact, keep):
    """
    Fit a plane to a difference image with mFitplane's clipping, in numpy.

    The compiled ``clip_fit`` of `diffview.core.kernels` in whole-array
    calls: the same arguments, the same iterations and stopping rule, the
    same returned tuple.

    Parameters
    ----------
    array : numpy.ndarray
        The difference (2-D float64); non-finite pixels are blank.
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
    keep : numpy.ndarray
        1-D bool of size ``array.size`` to receive the last fit set
        (flattened), or of size 0.

    Returns
    -------
    tuple
        ``(status, a, b, c, rms, npixel, xmin, xmax, ymin, ymax, xcenter,
        ycenter)``, status 0 (ok) or 2 (singular).

    Examples
    --------
    >>> j, i = np.mgrid[0:5, 0:7]
    >>> out = numpy_clip_fit(0.5 * i + 2.0, 1.0, 1.0, 0, False, 20, 1e-10,
    ...                      np.zeros(0, bool))
    >>> [round(v, 9) for v in out[1:4]], out[5]
    ([0.5, 0.0, 2.5], 35)
    """
    px = _Pixels(array, crpix1, crpix2, border)
    floor = exact * px.zmax
    prev = cur = None
    rms, npix, a, b, c = 0.0, px.n, 0.0, 0.0, 0.0  # niter=0: no fit, all pixels
    fit_thr = -1.0
    for it in range(niter):
        # the set fitted now: pixels within thr of the previous plane (in prev)
        thr = -1.0 if (it == 0 or math.isnan(rms)) else max(2.0 * rms, floor)
        ok, na, nb, nc = _fit_set(px, prev, thr, level_only)
        if not ok:
            return _SINGULAR
        # into the residuals of two passes ago, no longer needed
        cur, total, cnt = px.rms_pass((na, nb, nc), thr, out=cur)
        nrms = math.sqrt(total / cnt) if cnt else math.nan
        fit_thr = thr
        prev, cur = cur, prev  # `cur` now holds the fitted set's residuals
        # each compared with ==, as the loop does (a NaN never repeats)
        same = it > 0 and na == a and nb == b and nc == c
        same = same and nrms == rms and cnt == npix
        a, b, c, rms, npix = na, nb, nc, nrms, cnt
        if same:
            break
    ranges = _describe(px, cur, fit_thr, keep)
    cm = c - a * px.x0 - b * px.y0
    return (STATUS_OK, a, b, cm, rms, npix, *ranges)


def numpy_row_end_points(valid, crpix1, crpix2):
    """
    Find the first and last valid column of every row, in numpy.

    The compiled ``row_end_points``: rows with fewer than two valid pixels
    are skipped; the end points come as interleaved plane coordinates.

    Parameters
    ----------
    valid : numpy.ndarray
        2-D bool mask of the valid pixels.
    crpix1, crpix2 : float
        Reference pixel of the plane coordinates.

    Returns
    -------
    x, y : numpy.ndarray
        ``first, last`` of each such row (x) and its row (y).

    Examples
    --------
    >>> numpy_row_end_points(np.array([[0, 1, 1, 1], [0, 1, 0, 0]], bool), 1.0, 1.0)
    (array([0., 2.]), array([-1., -1.]))
    """
    nx = valid.shape[1]
    first = valid.argmax(axis=1)
    last = nx - 1 - valid[:, ::-1].argmax(axis=1)
    rows = np.flatnonzero(first < last)  # one valid pixel: first == last
    rows = rows[valid[rows, first[rows]]]  # argmax is 0 on a row without any
    x = np.empty(2 * rows.size)
    x[0::2] = first[rows] - crpix1
    x[1::2] = last[rows] - crpix1
    return x, np.repeat(rows - crpix2, 2)


def _staircase(v: np.ndarray) -> np.ndarray:
    """Rows whose ``v`` beats every row above it or every row below it."""
    inf = np.array([math.inf])
    before = np.concatenate([inf, np.minimum.accumulate(v)[:-1]])
    after = np.concatenate([np.minimum.accumulate(v[::-1])[::-1][1:], inf])
    return (v < before) | (v < after)


def _cross(o, a, b) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _chain(points: list, hull: list) -> list:
    for p in points:
        while len(hull) >= 2 and _cross(hull[-2], hull[-1], p) <= 0:
            hull.pop()
        hull.append(p)
    return hull


def _hull_stack(x: np.ndarray, y: np.ndarray) -> list:
    """Strict convex hull in the order Montage's Graham stack is walked.

    The row end points that can be hull vertices (staircase corners) are
    kept; Montage starts at the lowest (then rightmost) point, sorts the
    others counter-clockwise and pops collinear points; its stack is then
    walked from the last vertex pushed back to that start point.
    """
    left, right, rows = x[0::2], x[1::2], y[0::2]
    keep_l, keep_r = _staircase(left), _staircase(-right)
    px = np.concatenate((left[keep_l], right[keep_r])).tolist()
    py = np.concatenate((rows[keep_l], rows[keep_r])).tolist()
    order = sorted(set(zip(px, py, strict=True)))  # by x, then y
    if len(order) < 3:
        return order
    ccw = _chain(order, [])[:-1] + _chain(order[::-1], [])[:-1]
    start = min(range(len(ccw)), key=lambda k: (ccw[k][1], -ccw[k][0]))
    return (ccw[start:] + ccw[:start])[::-1]


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
    C3, C4 = math.inf, -math.inf
    for p in hull:
        proj = B * p[0] - A * p[1]
        C3, C4 = min(C3, proj), max(C4, proj)
    h, w = abs(C1 - C2), abs(C3 - C4)
    return w * h, w, h, A, B, C1, C2, C3, C4


def numpy_hull_box(x, y):
    """
    Find mFitplane's minimum-area rectangle of row end points, in numpy.

    Montage's ``pixbounds``: ``(ok, xcen, ycen, width, height, angle)``;
    ``ok`` is False when the points' hull has fewer than 3 vertices, and
    the rest is 0 when no edge gives a box of non-zero area.

    Parameters
    ----------
    x, y : numpy.ndarray
        Row end points, as `numpy_row_end_points` gives them.

    Returns
    -------
    tuple
        ``(ok, xcen, ycen, width, height, angle)``, angle in degrees.

    Examples
    --------
    >>> x, y = numpy_row_end_points(np.ones((14, 6), bool), 1.0, 1.0)
    >>> numpy_hull_box(x, y)
    (True, 1.5, 5.5, 13.0, 5.0, 90.0)
    """
    hull = _hull_stack(x, y)
    if len(hull) < 3:
        return False, 0.0, 0.0, 0.0, 0.0, 0.0
    best, area = -1, math.inf
    for k in range(len(hull)):
        box = _edge_box(hull, k)
        if box[0] > 0.0 and (best < 0 or box[0] < area):
            best, area = k, box[0]
    if best < 0:
        return True, 0.0, 0.0, 0.0, 0.0, 0.0
    _, w, h, A, B, C1, C2, C3, C4 = _edge_box(hull, best)
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
