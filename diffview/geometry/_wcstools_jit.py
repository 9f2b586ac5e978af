"""
`diffview.geometry._wcstools`' outline points as compiled loops (numba).

The same arithmetic, operation for operation and with the C library's
trigonometry (numba calls it, as Montage does), for large tables: element by
element, ``math``'s functions cost ~1 s per million outline points, where
loading numba costs ~0.9 s once. `diffview.geometry._wcstools.mviewer_points`
uses these loops past `JIT_POINTS` points.

The loops are cached on disk (numba's ``cache=True``); import this module
lazily.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ._wcstools import _D2R, _R2D, _SPH_TOL, _TOL

__all__ = ["points"]

_JIT = {"cache": True, "nogil": True, "error_model": "numpy"}


@numba.njit(**_JIT)
def _trigdeg(angle, shift):
    """Return ``cosdeg`` (shift 0) or ``sindeg`` (shift 90), exact at quarter turns."""
    resid = np.fmod(angle - shift, 360.0)
    if shift == 0.0:
        resid = abs(resid)
    if resid == 0.0:
        return 1.0
    if resid == 90.0 or resid == 270.0:
        return 0.0
    if resid == 180.0:
        return -1.0
    return math.cos(angle * _D2R) if shift == 0.0 else math.sin(angle * _D2R)


@numba.njit(**_JIT)
def _cosdeg(angle):
    return _trigdeg(angle, 0.0)


@numba.njit(**_JIT)
def _sindeg(angle):
    return _trigdeg(angle, 90.0)


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


def points(corners, params, sz: float, flip: bool):
    """
    Compute `diffview.geometry._wcstools.mviewer_points` with the compiled loops.

    Parameters
    ----------
    corners : ndarray (n, 4, 2)
        Footprint corners, RA/Dec degrees.
    params : ndarray
        `diffview.geometry._wcstools.wcstools_tan` of the displayed image.
    sz : float
        The sampling step, degrees.
    flip : bool
        mViewer's ``flipY``.

    Returns
    -------
    x, y, side : ndarray
        As ``mviewer_points``.
    """
    return _points(np.ascontiguousarray(corners, float), np.asarray(params, float),
                   float(sz), bool(flip), float(params[17]))
