"""
WCSTools' gnomonic projection and mViewer's great circles, operation for operation.

mViewer (``docs/montage-semantics.md`` §8.9) outlines an image by sampling
great circles between its corners and projecting every point with WCSTools
(``wcs2pix``); corners rebuilt from an image table's WCS columns come from
WCSTools too (``pix2wcs``). Outlines of projected tiles lie exactly on pixel
edges, where the last bit of a coordinate decides which pixel a line end
lands in: so the arithmetic here is Montage's, in its order, with the C
library's trigonometry (Python's ``math``; numpy's vectorised ``arcsin`` or
``arctan2`` may differ from it in the last bit, and are used only where a
check shows them equal, `_libm`). Only what plain equatorial gnomonic images
need is ported: ``wcsdeltset``/``wcscdset``, ``matinv``, ``linfwd``/``linrev``,
``celset`` (TAN), ``sphfwd``/``sphrev``, ``tanfwd``/``tanrev``, ``cosdeg`` ...
``atan2deg`` and ``mViewer_great_circle``.
"""

from __future__ import annotations

import functools
import math

import numpy as np

__all__ = ["wcstools_tan", "mviewer_points", "tan_corners"]

#: WCSLIB's constants (``wcslib.h``, ``wcstrig.c``).
_PI = 3.141592653589793238462643
_D2R = _PI / 180.0
_R2D = 180.0 / _PI
_TOL = 1.0e-10     # WCSTRIG_TOL
_SPH_TOL = 1.0e-5  # sph.c

#: Outline points past which `mviewer_points` runs compiled loops
#: (``_wcstools_jit``): ``math`` element by element costs ~3-5 s per million
#: points, loading numba ~0.9 s once.
JIT_POINTS = 200_000


#: Where each function is defined: arguments outside give NaN, as in C
#: (Python's ``math`` raises ValueError there instead).
_DOMAIN = {"sin": np.isfinite, "cos": np.isfinite,
           "asin": lambda v: np.abs(v) <= 1.0, "acos": lambda v: np.abs(v) <= 1.0}


@functools.cache
def _libm(name: str):
    """
    Return an array function giving the C library's values of ``math.<name>``.

    numpy's own ufunc when it agrees with the C library on a spread of test
    values (the same implementation), else ``math.<name>`` element by element
    (``np.frompyfunc`` of the C function itself, arguments outside its domain
    made NaN first, as C returns them).
    """
    scalar = getattr(math, name)
    ufunc = {"sin": np.sin, "cos": np.cos, "asin": np.arcsin, "acos": np.arccos,
             "atan2": np.arctan2}[name]
    # a spread over [-1, 1) (golden-ratio steps; numpy.random costs an import)
    t = (np.arange(512) * 0.6180339887498949) % 1.0 * 2.0 - 1.0
    if name == "atan2":
        same = all(ufunc(a, b) == scalar(a, b) for a, b in zip(t, t[::-1] * 3.0,
                                                                 strict=True))
    else:
        u = t if name in ("asin", "acos") else t * 7.0
        same = all(ufunc(v) == scalar(v) for v in u)
    return ufunc if same else _exact(name)


def _exact(name: str):
    """
    Return ``math.<name>`` element by element, NaN outside its domain as in C.

    Examples
    --------
    >>> _exact("asin")(np.array([2.0, 1.0])).tolist()
    [nan, 1.5707963267948966]
    """
    vec = np.frompyfunc(getattr(math, name), 2 if name == "atan2" else 1, 1)
    inside = _DOMAIN.get(name)

    def exact(*args):
        if inside is not None:
            v = np.asarray(args[0], float)
            with np.errstate(invalid="ignore"):
                args = (np.where(inside(v), v, np.nan),)
        return np.asarray(vec(*args), dtype=float)
    return exact


def _deg_trig(name: str, angle, shift: float):
    """``cosdeg`` (shift 0) or ``sindeg`` (shift 90): exact at quarter turns."""
    a = np.atleast_1d(np.asarray(angle, float))
    resid = np.fmod(a - shift, 360.0)
    if not shift:
        resid = np.abs(resid)
    out = np.atleast_1d(_libm(name)(a * _D2R))
    out[resid == 0.0] = 1.0
    out[(resid == 90.0) | (resid == 270.0)] = 0.0
    out[resid == 180.0] = -1.0
    return out if np.ndim(angle) else out[0]


def _cosdeg(angle):
    return _deg_trig("cos", angle, 0.0)


def _sindeg(angle):
    return _deg_trig("sin", angle, 90.0)


def _inv_deg(name, v, at_lo, at_zero, at_hi):
    """``acosdeg``/``asindeg``: WCSTRIG's end values, else ``name(v)`` degrees."""
    v = np.asarray(v, float)
    with np.errstate(invalid="ignore"):
        out = np.atleast_1d(_libm(name)(v) * _R2D)
        w = np.atleast_1d(v)
        out[(w <= -1.0) & (w + 1.0 > -_TOL)] = at_lo
        out[w == 0.0] = at_zero
        out[(w >= 1.0) & (w - 1.0 < _TOL)] = at_hi
    return out if v.ndim else out[0]


def _acosdeg(v):
    return _inv_deg("acos", v, 180.0, 90.0, 0.0)


def _asindeg(v):
    return _inv_deg("asin", v, -90.0, 0.0, 90.0)


def _atan2deg(y, x):
    scalar = not (np.ndim(y) or np.ndim(x))
    y, x = np.broadcast_arrays(np.atleast_1d(np.asarray(y, float)),
                               np.atleast_1d(np.asarray(x, float)))
    out = np.atleast_1d(_libm("atan2")(y, x) * _R2D)
    y0 = y == 0.0
    out[y0 & (x >= 0.0)] = 0.0
    out[y0 & (x < 0.0)] = 180.0
    x0 = ~y0 & (x == 0.0)
    out[x0 & (y > 0.0)] = 90.0
    out[x0 & (y < 0.0)] = -90.0
    return out[0] if scalar else out


def _sph(lng, lat, e, forward: bool):
    """Run WCSLIB's sphfwd (celestial -> native) or sphrev (native -> celestial)."""
    e0, e1, e2, e3, e4 = e
    coslat = _cosdeg(lat)
    sinlat = _sindeg(lat)
    d = lng - e0 if forward else lng - e2
    cosd = _cosdeg(d)
    sind = _sindeg(d)
    x = sinlat * e4 - coslat * e3 * cosd
    small = np.abs(x) < _SPH_TOL
    if small.any():
        x[small] = (-_cosdeg(lat[small] + e1)
                    + coslat[small] * e3 * (1.0 - cosd[small]))
    y = -coslat * sind
    dout = np.where((x != 0.0) | (y != 0.0), _atan2deg(y, x),
                    d - 180.0 if forward else d + 180.0)
    if forward:
        out = e2 + dout
        out = np.where(out > 180.0, out - 360.0, np.where(out < -180.0, out + 360.0,
                                                          out))
    else:
        out = e0 + dout
        out = (np.where(out < 0.0, out + 360.0, out) if e0 >= 0.0
               else np.where(out > 0.0, out - 360.0, out))
        out = np.where(out > 360.0, out - 360.0, np.where(out < -360.0, out + 360.0,
                                                          out))
    z = sinlat * e3 + coslat * e4 * cosd
    with np.errstate(invalid="ignore"):
        big = np.abs(z) > 0.99
    t = np.empty_like(z)
    r = _acosdeg(np.sqrt(x[big] * x[big] + y[big] * y[big]))
    t[big] = np.where(z[big] < 0, -r, r)
    t[~big] = _asindeg(z[~big])
    exact = np.fmod(d, 180.0) == 0.0
    if exact.any():
        te = lat[exact] + cosd[exact] * e1
        te = np.where(te > 90.0, 180.0 - te, te)
        t[exact] = np.where(te < -90.0, -180.0 - te, te)
    return out, t


def _wcs2pix(lon, lat, p):
    """wcs2pix of a plain J2000 TAN WCS (``p``: `wcstools_tan`'s array)."""
    phi, theta = _sph(lon, lat, p[:5], True)
    s = _sindeg(theta)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = p[5] * _cosdeg(theta) / s
        x = r * _sindeg(phi)
        y = -r * _cosdeg(phi)
        px = p[6] * x + p[7] * y + p[14]
        py = p[8] * x + p[9] * y + p[15]
        off = ~(s > 0.0) | (px < 0.5) | (py < 0.5) | (px > p[16] + 0.5) | (
            py > p[17] + 0.5)
    return px, py, off


def _pix2wcs(px: float, py: float, p) -> tuple[float, float]:
    """pix2wcs of a plain J2000 TAN WCS (``p``: `wcstools_tan`'s array)."""
    t0 = px - p[14]
    t1 = py - p[15]
    x = p[10] * t0 + p[11] * t1
    y = p[12] * t0 + p[13] * t1
    r = math.sqrt(x * x + y * y)
    phi = np.array([0.0 if r == 0.0 else float(_atan2deg(x, -y))])
    theta = np.array([float(_atan2deg(p[5], r))])
    lng, lat = (float(v[0]) for v in _sph(phi, theta, p[:5], False))
    if lng < 0.0:
        lng += 360.0
    elif lng > 360.0:
        lng -= 360.0
    return lng, lat


def _matinv2(mat):
    """WCSLIB's ``matinv`` (scaled partial pivoting) of a 2 x 2 matrix, as a list."""
    n = 2
    lu = list(mat)
    rowmax = [max(abs(lu[0]), abs(lu[1])), max(abs(lu[2]), abs(lu[3]))]
    if 0.0 in rowmax:
        return None
    mxl = [0, 1]
    for k in range(n):
        colmax = abs(lu[k * n + k]) / rowmax[k]
        pivot = k
        for i in range(k + 1, n):
            if abs(lu[i * n + k]) / rowmax[i] > colmax:
                colmax = abs(lu[i * n + k]) / rowmax[i]
                pivot = i
        if pivot > k:
            for j in range(n):
                lu[pivot * n + j], lu[k * n + j] = lu[k * n + j], lu[pivot * n + j]
            rowmax[pivot], rowmax[k] = rowmax[k], rowmax[pivot]
            mxl[pivot], mxl[k] = mxl[k], mxl[pivot]
        for i in range(k + 1, n):
            if lu[i * n + k] != 0.0:
                lu[i * n + k] /= lu[k * n + k]
                for j in range(k + 1, n):
                    lu[i * n + j] -= lu[i * n + k] * lu[k * n + j]
    lxm = [0, 0]
    for i in range(n):
        lxm[mxl[i]] = i
    inv = [0.0] * 4
    for k in range(n):
        inv[lxm[k] * n + k] = 1.0
        for i in range(lxm[k] + 1, n):
            for j in range(lxm[k], i):
                inv[i * n + k] -= lu[i * n + j] * inv[j * n + k]
        for i in range(n - 1, -1, -1):
            for j in range(i + 1, n):
                inv[i * n + k] -= lu[i * n + j] * inv[j * n + k]
            inv[i * n + k] /= lu[i * n + i]
    return inv


def _delt_cd(cdelt1: float, cdelt2: float, crota: float) -> list:
    """WCSTools' ``wcsdeltset``: the CD matrix of CDELTs and CROTA2."""
    if cdelt2 == 0.0:
        cdelt2 = cdelt1
    rot = crota
    if rot < 0.0:
        rot = rot + 360.0
    if rot >= 360.0:
        rot = rot - 360.0
    crot = math.cos(rot * _PI / 180.0)
    srot = math.sin(-(rot * _PI / 180.0)) if cdelt1 * cdelt2 > 0 else math.sin(
        rot * _PI / 180.0)
    cd1 = -abs(cdelt2) * srot if cdelt1 < 0 else abs(cdelt2) * srot
    cd2 = abs(cdelt1) * srot if cdelt2 < 0 else -abs(cdelt1) * srot
    return [cdelt1 * crot, cd1, cd2, cdelt2 * crot]


def wcstools_tan(crval, crpix, shape, *, cdelt=None, crota=0.0, cd=None):
    """
    Set up a plain J2000 TAN WCS as WCSTools' ``wcsinit`` does.

    Parameters
    ----------
    crval, crpix : (float, float)
        CRVAL1/2 (degrees) and 1-based CRPIX1/2.
    shape : (int, int)
        NAXIS1, NAXIS2.
    cdelt : (float, float), optional
        CDELT1/2, with ``crota`` (CROTA2, degrees); or
    cd : sequence of 4 float, optional
        CD1_1, CD1_2, CD2_1, CD2_2.

    Returns
    -------
    params : ndarray (18,)
        Euler angles (5), r0, the image-to-pixel matrix (4), the
        pixel-to-image matrix (4), CRPIX (2), NAXIS1/2; None if the matrix
        is singular.
    ydelt : float
        WCSTools' ``cdelt[1]`` (mViewer samples great circles every half of it).
    """
    if cd is not None:
        m = [float(v) for v in cd]
        ydelt = math.sqrt(m[1] * m[1] + m[3] * m[3])
    else:
        m = _delt_cd(float(cdelt[0]), float(cdelt[1]), float(crota))
        ydelt = float(cdelt[1]) if cdelt[1] != 0.0 else float(cdelt[0])
    inv = _matinv2(m)
    if inv is None:
        return None, ydelt
    latp = float(crval[1])
    e1 = 90.0 - latp
    e = [float(crval[0]), e1, 180.0, float(_cosdeg(e1)), float(_sindeg(e1))]
    p = np.array(e + [_R2D] + inv + m + [float(crpix[0]), float(crpix[1]),
                                          float(shape[0]), float(shape[1])])
    return p, ydelt


def tan_corners(params: np.ndarray, shapes: np.ndarray) -> np.ndarray:
    """
    Return the corners of images as mViewer rebuilds them from WCS columns.

    ``pix2wcs`` at (0.5, 0.5), (N1 + 0.5, 0.5), (N1 + 0.5, N2 + 0.5) and
    (0.5, N2 + 0.5).

    Parameters
    ----------
    params : ndarray (n, 18)
        `wcstools_tan` of each image.
    shapes : ndarray (n, 2)
        NAXIS1, NAXIS2 of each image.

    Returns
    -------
    ndarray (n, 4, 2)
        RA, Dec of the four corners, degrees.
    """
    out = np.empty((len(params), 4, 2))
    for k, (p, (n1, n2)) in enumerate(zip(params, shapes, strict=True)):
        for c, (x, y) in enumerate(((0.5, 0.5), (n1 + 0.5, 0.5),
                                    (n1 + 0.5, n2 + 0.5), (0.5, n2 + 0.5))):
            out[k, c] = _pix2wcs(float(x), float(y), p)
    return out


def _arc_setup(c):
    """Compute the per-side terms of ``mViewer_great_circle`` for (n, 4, 2) corners."""
    dtr = math.atan(1.0) / 45.0
    lon0, lat0 = c[:, :, 0].ravel(), c[:, :, 1].ravel()
    nxt = np.roll(c, -1, axis=1)
    lon1, lat1 = nxt[:, :, 0].ravel(), nxt[:, :, 1].ravel()
    cos_lat0, sin_lat0 = _libm("cos")(lat0 * dtr), _libm("sin")(lat0 * dtr)
    cos_lat1, sin_lat1 = _libm("cos")(lat1 * dtr), _libm("sin")(lat1 * dtr)
    sin_dl = _libm("sin")((lon1 - lon0) * dtr)
    x0 = _libm("cos")(lon0 * dtr) * cos_lat0
    y0 = _libm("sin")(lon0 * dtr) * cos_lat0
    x = _libm("cos")(lon1 * dtr) * cos_lat1
    y = _libm("sin")(lon1 * dtr) * cos_lat1
    with np.errstate(invalid="ignore", divide="ignore"):
        ct = np.clip(x0 * x + y0 * y + sin_lat0 * sin_lat1, -1.0, 1.0)
        st = np.sqrt(1.0 - ct * ct)
        sin_phi = (sin_dl * cos_lat1) / st
        cos_phi = (sin_lat1 - ct * sin_lat0) / (st * cos_lat0)
        theta_max = _libm("acos")(ct) / dtr
    return dtr, lon0, cos_lat0, sin_lat0, sin_phi, cos_phi, theta_max


def mviewer_points(corners, params: np.ndarray, ydelt: float, flip: bool):
    """
    Sample and project outline sides as ``mViewer_great_circle``.

    Parameters
    ----------
    corners : ndarray (n, 4, 2)
        Footprint corners, RA/Dec degrees (J2000).
    params : ndarray
        `wcstools_tan` of the displayed image.
    ydelt : float
        Its ``cdelt[1]``.
    flip : bool
        mViewer's ``flipY`` (and not ``imflip``): y as projected; else
        ``NAXIS2 - y``.

    Returns
    -------
    x, y : ndarray
        Kept points in mViewer's drawing frame (1-based pixels as projected).
    side : ndarray of int
        ``4 * row + side`` of each point.
    """
    c = np.ascontiguousarray(corners, float).reshape(-1, 4, 2)
    sz = abs(ydelt * 0.5)
    dtr, lon0, cos_lat0, sin_lat0, sin_phi, cos_phi, tm = _arc_setup(c)
    ok = ~np.isnan(tm)               # (int)(NaN) in C: a side with no points
    with np.errstate(invalid="ignore"):
        n = np.where(tm < sz, 2, (np.where(ok, tm, 0.0) / sz).astype(np.int64) + 1)
    n = np.where(ok, n, 0)
    if n.sum() > JIT_POINTS:
        from ._wcstools_jit import points

        return points(c, params, sz, flip)
    side = np.repeat(np.arange(n.size), n)
    i = np.arange(side.size) - np.repeat(np.cumsum(n) - n, n)
    arc = i * sz
    last = np.cumsum(n)[n > 0] - 1
    arc[last] = tm[n > 0]
    cosa, sina = _libm("cos")(arc * dtr), _libm("sin")(arc * dtr)
    cl0, sl0 = cos_lat0.take(side), sin_lat0.take(side)
    cp, sp = cos_phi.take(side), sin_phi.take(side)
    lat = _libm("asin")(cp * sina * cl0 + cosa * sl0) / dtr
    den = cosa * cl0 - sl0 * cp * sina
    lon = lon0.take(side) + _libm("atan2")(sina * sp, den) / dtr
    px, py, off = _wcs2pix(lon, lat, params)
    keep = ~off & ~np.isnan(px) & ~np.isnan(py)
    y = py if flip else params[17] - py
    return px[keep], y[keep], side[keep]
