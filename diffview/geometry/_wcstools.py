"""
WCSTools' gnomonic projection and mViewer's great circles, operation for operation.

mViewer (``docs/montage-semantics.md`` §8.9) outlines an image by sampling
great circles between its corners and projecting every point with WCSTools
(``wcs2pix``); corners rebuilt from an image table's WCS columns come from
WCSTools too (``pix2wcs``). Outlines of projected tiles lie exactly on pixel
edges, where the last bit of a coordinate decides which pixel a line end
lands in: so the arithmetic here is Montage's, in its order, with the C
library's trigonometry (numba calls libm, as Montage does; numpy's vectorised
``arcsin``/``arctan2`` may differ in the last bit). Only what plain
equatorial gnomonic images need is ported: ``wcsdeltset``/``wcscdset``,
``matinv``, ``linfwd``/``linrev``, ``celset`` (TAN), ``sphfwd``/``sphrev``,
``tanfwd``/``tanrev``, ``cosdeg`` ... ``atan2deg`` and
``mViewer_great_circle``.

The compiled loops are cached on disk (numba's ``cache=True``); import this
module lazily (`mviewer_points` does).
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = ["wcstools_tan", "mviewer_points", "tan_corners"]

#: WCSLIB's constants (``wcslib.h``, ``wcstrig.c``).
_PI = 3.141592653589793238462643
_D2R = _PI / 180.0
_R2D = 180.0 / _PI
_TOL = 1.0e-10     # WCSTRIG_TOL
_SPH_TOL = 1.0e-5  # sph.c

_JIT = {"cache": True, "nogil": True, "error_model": "numpy"}


@numba.njit(**_JIT)
def _cosdeg(angle):
    resid = abs(np.fmod(angle, 360.0))
    if resid == 0.0:
        return 1.0
    if resid == 90.0 or resid == 270.0:
        return 0.0
    if resid == 180.0:
        return -1.0
    return math.cos(angle * _D2R)


@numba.njit(**_JIT)
def _sindeg(angle):
    resid = np.fmod(angle - 90.0, 360.0)
    if resid == 0.0:
        return 1.0
    if resid == 90.0 or resid == 270.0:
        return 0.0
    if resid == 180.0:
        return -1.0
    return math.sin(angle * _D2R)


@numba.njit(**_JIT)
def _acosdeg(v):
    if v >= 1.0:
        if v - 1.0 < _TOL:
            return 0.0
    elif v == 0.0:
        return 90.0
    elif v <= -1.0:
        if v + 1.0 > -_TOL:
            return 180.0
    return math.acos(v) * _R2D


@numba.njit(**_JIT)
def _asindeg(v):
    if v <= -1.0:
        if v + 1.0 > -_TOL:
            return -90.0
    elif v == 0.0:
        return 0.0
    elif v >= 1.0:
        if v - 1.0 < _TOL:
            return 90.0
    return math.asin(v) * _R2D


@numba.njit(**_JIT)
def _atan2deg(y, x):
    if y == 0.0:
        if x >= 0.0:
            return 0.0
        if x < 0.0:
            return 180.0
    elif x == 0.0:
        if y > 0.0:
            return 90.0
        if y < 0.0:
            return -90.0
    return math.atan2(y, x) * _R2D


@numba.njit(**_JIT)
def _native_lat(x, y, z, lat0, coslng, eul1, exact):
    """Return the latitude of sphfwd/sphrev once x, y and z are known."""
    if exact:
        t = lat0 + coslng * eul1
        if t > 90.0:
            t = 180.0 - t
        if t < -90.0:
            t = -180.0 - t
        return t
    if abs(z) > 0.99:
        if z < 0:
            return -_acosdeg(math.sqrt(x * x + y * y))
        return _acosdeg(math.sqrt(x * x + y * y))
    return _asindeg(z)


@numba.njit(**_JIT)
def _sph(lng, lat, e0, e1, e2, e3, e4, forward):
    """Run WCSLIB's sphfwd (celestial -> native) or sphrev (native -> celestial)."""
    coslat = _cosdeg(lat)
    sinlat = _sindeg(lat)
    d = lng - e0 if forward else lng - e2
    cosd = _cosdeg(d)
    sind = _sindeg(d)
    x = sinlat * e4 - coslat * e3 * cosd
    if abs(x) < _SPH_TOL:
        x = -_cosdeg(lat + e1) + coslat * e3 * (1.0 - cosd)
    y = -coslat * sind
    if x != 0.0 or y != 0.0:
        dout = _atan2deg(y, x)
    elif forward:
        dout = d - 180.0
    else:
        dout = d + 180.0
    if forward:
        out = e2 + dout
        if out > 180.0:
            out -= 360.0
        elif out < -180.0:
            out += 360.0
    else:
        out = e0 + dout
        if e0 >= 0.0:
            if out < 0.0:
                out += 360.0
        elif out > 0.0:
            out -= 360.0
        if out > 360.0:
            out -= 360.0
        elif out < -360.0:
            out += 360.0
    z = sinlat * e3 + coslat * e4 * cosd
    return out, _native_lat(x, y, z, lat, cosd, e1, np.fmod(d, 180.0) == 0.0)


@numba.njit(**_JIT)
def _wcs2pix(lon, lat, p):
    """wcs2pix of a plain J2000 TAN WCS (``p``: `wcstools_tan`'s array)."""
    phi, theta = _sph(lon, lat, p[0], p[1], p[2], p[3], p[4], True)
    s = _sindeg(theta)
    if s <= 0.0:
        return 0.0, 0.0, True
    r = p[5] * _cosdeg(theta) / s
    x = r * _sindeg(phi)
    y = -r * _cosdeg(phi)
    px = 0.0
    px += p[6] * x
    px += p[7] * y
    py = 0.0
    py += p[8] * x
    py += p[9] * y
    px += p[14]
    py += p[15]
    off = px < 0.5 or py < 0.5 or px > p[16] + 0.5 or py > p[17] + 0.5
    return px, py, off


@numba.njit(**_JIT)
def _pix2wcs(px, py, p):
    """pix2wcs of a plain J2000 TAN WCS (``p``: `wcstools_tan`'s array)."""
    t0 = px - p[14]
    t1 = py - p[15]
    x = 0.0
    y = 0.0
    x += p[10] * t0
    y += p[12] * t0
    x += p[11] * t1
    y += p[13] * t1
    r = math.sqrt(x * x + y * y)
    phi = 0.0 if r == 0.0 else _atan2deg(x, -y)
    theta = _atan2deg(p[5], r)
    lng, lat = _sph(phi, theta, p[0], p[1], p[2], p[3], p[4], False)
    if lng < 0.0:
        lng += 360.0
    elif lng > 360.0:
        lng -= 360.0
    return lng, lat


@numba.njit(**_JIT)
def _corners(params, shapes, out):
    for k in range(params.shape[0]):
        p = params[k]
        n1 = shapes[k, 0]
        n2 = shapes[k, 1]
        xs = (0.5, n1 + 0.5, n1 + 0.5, 0.5)
        ys = (0.5, 0.5, n2 + 0.5, n2 + 0.5)
        for c in range(4):
            out[k, c, 0], out[k, c, 1] = _pix2wcs(xs[c], ys[c], p)


@numba.njit(**_JIT)
def _arc_setup(lon0, lat0, lon1, lat1, dtr):
    cos_lat0 = math.cos(lat0 * dtr)
    sin_lat0 = math.sin(lat0 * dtr)
    cos_lat1 = math.cos(lat1 * dtr)
    sin_lat1 = math.sin(lat1 * dtr)
    sin_dl = math.sin((lon1 - lon0) * dtr)
    x0 = math.cos(lon0 * dtr) * cos_lat0
    y0 = math.sin(lon0 * dtr) * cos_lat0
    x = math.cos(lon1 * dtr) * cos_lat1
    y = math.sin(lon1 * dtr) * cos_lat1
    c = x0 * x + y0 * y + sin_lat0 * sin_lat1
    if c > 1.0:
        c = 1.0
    if c < -1.0:
        c = -1.0
    s = math.sqrt(1.0 - c * c)
    sin_phi = (sin_dl * cos_lat1) / s
    cos_phi = (sin_lat1 - c * sin_lat0) / (s * cos_lat0)
    theta_max = math.acos(c) / dtr
    return cos_lat0, sin_lat0, sin_phi, cos_phi, theta_max


@numba.njit(**_JIT)
def _arc_count(theta_max, sz):
    if theta_max < sz:
        return 2
    return int(theta_max / sz) + 1


@numba.njit(**_JIT)
def _points(corners, p, sz, flip, nypix):
    """mViewer_great_circle of every side of every footprint: the kept points."""
    dtr = math.atan(1.0) / 45.0
    nimg = corners.shape[0]
    total = 0
    for k in range(nimg):
        for s in range(4):
            e = (s + 1) % 4
            tm = _arc_setup(corners[k, s, 0], corners[k, s, 1], corners[k, e, 0],
                            corners[k, e, 1], dtr)[4]
            if tm == tm:
                total += _arc_count(tm, sz)
            else:
                total += 2          # (int)(NaN) in C: n is garbage; draw nothing
    xs = np.empty(total)
    ys = np.empty(total)
    side = np.empty(total, np.int64)
    m = 0
    for k in range(nimg):
        for s in range(4):
            e = (s + 1) % 4
            lon0 = corners[k, s, 0]
            cos_lat0, sin_lat0, sin_phi, cos_phi, tm = _arc_setup(
                lon0, corners[k, s, 1], corners[k, e, 0], corners[k, e, 1], dtr)
            if tm != tm:
                continue
            n = _arc_count(tm, sz)
            for i in range(n):
                arc = tm if i == n - 1 else i * sz
                cosa = math.cos(arc * dtr)
                sina = math.sin(arc * dtr)
                lat = math.asin(cos_phi * sina * cos_lat0 + cosa * sin_lat0) / dtr
                den = cosa * cos_lat0 - sin_lat0 * cos_phi * sina
                lon = lon0 + math.atan2(sina * sin_phi, den) / dtr
                px, py, off = _wcs2pix(lon, lat, p)
                if off or px != px or py != py:
                    continue
                xs[m] = px
                ys[m] = py if flip else nypix - py
                side[m] = 4 * k + s
                m += 1
    return xs[:m], ys[:m], side[:m]


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
    out = np.empty((params.shape[0], 4, 2))
    _corners(np.ascontiguousarray(params, float),
             np.ascontiguousarray(shapes, float), out)
    return out


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
    return _points(c, params, abs(ydelt * 0.5), bool(flip), float(params[17]))
