"""
The text labels of mViewer's coordinate grids: what they say and where.

`grid_labels` follows ``mViewer_makeGrid`` and ``mViewer_coord_label``: each
longitude line (every other one when there are more than four) is labelled
where it crosses the middle latitude line, each latitude line (likewise, the
middle one skipped) halfway between the two middle longitude lines; every
label lies along its line of constant latitude, reading left to right. The
values are written as Montage writes them (`longitude_label`,
`latitude_label`): sexagesimal hours for equatorial longitudes, degrees
otherwise, trailing zero fields dropped (``docs/montage-semantics.md`` §8.10).
"""

from __future__ import annotations

import math

import numpy as np

from ._orientation import _header, _increments, orientation
from .marks import _grid_starts, _ranges, _Sky

__all__ = ["grid_labels", "longitude_label", "latitude_label"]


def _sexagesimal(val: float):
    """Whole units, ``'%02d'`` minutes and ``'%05.2f'`` seconds, carried as Montage."""
    whole = int(val)
    val = (val - whole) * 60.0
    minutes = int(val)
    sec = f"{(val - minutes) * 60.0:05.2f}"
    return whole, minutes, sec


def _tail(mstr: str, sstr: str) -> str:
    """Montage's minutes and seconds fields, trailing zeros removed."""
    sstr = sstr.rstrip("0")
    if sstr.endswith("."):
        sstr = sstr[:-1]
    if sstr == "00":
        sstr = ""
        if mstr == "00":
            mstr = ""
    out = f" {mstr}m" if mstr else (" 00m" if sstr else "")
    return out + (f" {sstr}s" if sstr else "")


def longitude_label(lon: float, hours: bool = True) -> str:
    """
    Write a grid longitude as ``mViewer_longitude_label``.

    Parameters
    ----------
    lon : float
        Longitude, degrees (0..360).
    hours : bool
        Hours (equatorial grids) rather than degrees.

    Returns
    -------
    str
        For instance ``'10h 20m'``, ``'5h'``, ``'120d 30m'``.

    Examples
    --------
    >>> longitude_label(155.0), longitude_label(120.5, hours=False)
    ('10h 20m', '120d 30m')
    """
    whole, minutes, sec = _sexagesimal(lon / 15.0 if hours else lon)
    if sec == "60.00":
        sec, minutes = "00.00", minutes + 1
    mstr = f"{minutes:02d}"
    if mstr == "60":          # Montage resets the seconds to "00" here
        sec, whole = "00", whole + 1
    return f"{whole}{'h' if hours else 'd'}" + _tail(mstr, sec)


def latitude_label(lat: float) -> str:
    """
    Write a grid latitude as ``mViewer_latitude_label``.

    Parameters
    ----------
    lat : float
        Latitude, degrees.

    Returns
    -------
    str
        Signed degrees, minutes and seconds, for instance ``'+30d'``.

    Examples
    --------
    >>> latitude_label(30.0), latitude_label(-0.25)
    ('+30d', '-0d 15m')
    """
    whole, minutes, sec = _sexagesimal(abs(lat))
    if sec == "60.00":
        sec, minutes = "00.00", minutes + 1
    mstr = f"{minutes:02d}"
    if mstr == "60":
        mstr, whole = "00", whole + 1
    return f"{'-' if lat < 0.0 else '+'}{whole}d" + _tail(mstr, sec)


def _c_div2(n: int) -> int:
    """``n / 2`` in C (towards zero)."""
    return int(n / 2)


def _label_spots(lonmin, lonmax, latmin, latmax, hours):
    """(text, lon, lat) of each label, in mViewer's order."""
    lon0, lonn, lsp, lat0, latn, bsp = _grid_starts(lonmin, lonmax, latmin, latmax)
    nlon = math.floor((lonn - lon0) / lsp + 0.5) + 1
    nlat = math.floor((latn - lat0) / bsp + 0.5) + 1
    midlon = lon0 + (_c_div2(nlon - 1) + 0.5) * lsp
    midlat = lat0 + _c_div2(nlat - 1) * bsp
    # every other line when there are more than four (MontagePy 2.3.0's
    # mViewer; its published source labels every longitude line)
    lon_every, lat_every = (2 if nlon > 4 else 1), (2 if nlat > 4 else 1)
    out, use = [], 0
    for i in range(nlon):
        use += 1
        lon = lon0 + i * lsp
        lon = lon + 360.0 if lon < 0.0 else lon
        if use == lon_every:
            out.append((longitude_label(lon, hours), lon, midlat))
            use = 0
    use = int(any(lat0 + i * bsp == midlat
                  for i in range(lat_every - 1, nlat, lat_every)))
    for i in range(nlat):     # the middle line (longitude labels) skipped
        use += 1
        lat = lat0 + i * bsp
        if lat == midlat:
            continue
        if use >= lat_every:
            out.append((latitude_label(lat), midlon, lat))
            use = 0
    return out


def grid_labels(header, csys: str = "equatorial", *, orient=None) -> list:
    """
    Place the labels of a coordinate grid over a displayed image, as mViewer.

    Parameters
    ----------
    header : astropy.io.fits.Header
        The displayed image.
    csys : str
        Grid frame: ``equatorial``, ``galactic`` or ``ecliptic`` (J2000).
    orient : Orientation, optional
        Precomputed `orientation` of ``header``.

    Returns
    -------
    list of (str, float, float, float)
        Each label's text, the displayed 0-based (x, y) of its centre on its
        line of constant latitude, and the direction of that line there
        (degrees counter-clockwise from the picture's x axis, reading left to
        right). Labels whose centre falls off the image are left out.

    Examples
    --------
    >>> from astropy.io import fits
    >>> h = fits.Header({"NAXIS": 2, "NAXIS1": 200, "NAXIS2": 100,
    ...     "CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRVAL1": 10.0,
    ...     "CRVAL2": 0.0, "CRPIX1": 100.5, "CRPIX2": 50.5,
    ...     "CDELT1": -0.001, "CDELT2": 0.001})
    >>> [(t, round(x, 1), abs(round(a))) for t, x, y, a in grid_labels(h)][:2]
    [('0h 39m 52s', 132.8, 0), ('0h 40m 08s', 66.2, 0)]
    """
    h = _header(header)
    o = orient if orient is not None else orientation(h)
    ns, nl = int(h["NAXIS1"]), int(h["NAXIS2"])
    xinc, yinc, _ = _increments(h)
    sky = _Sky(h, csys)
    spots = _label_spots(*_ranges(sky, ns, nl, xinc, yinc),
                                  csys == "equatorial")
    step = abs(yinc)
    out = []
    for text, lon, lat in spots:
        x, y = sky.pixel(np.array([lon, lon - step]), np.array([lat, lat]))
        if not (np.isfinite(x).all() and np.isfinite(y).all()):
            continue
        if not all(0.5 <= v <= ns + 0.5 for v in x) or not all(
                0.5 <= v <= nl + 0.5 for v in y):
            continue
        dx, dy = o.to_display(x - 1.0, y - 1.0)
        ang = math.degrees(math.atan2(-(dy[1] - dy[0]), dx[1] - dx[0]))
        if dx[1] < dx[0]:     # read left to right
            ang = ang + 180.0 if ang <= 0.0 else ang - 180.0
        out.append((text, float(dx[0]), float(dy[0]), ang + 0.0))
    return out
