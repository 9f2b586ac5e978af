"""
Coordinate grids and symbols in a displayed image, as mViewer draws them.

`grid_lines` follows ``mViewer_makeGrid``: the sky range is read from the
image's corners and border, a spacing chosen from Montage's table, and each
line of constant longitude or latitude sampled every ``|CDELT2|/2`` degrees
and projected, points off the image ending a run. `symbol_arcs` gives the
great-circle arcs of ``mViewer_symbol``'s shapes (polygons, stars, skeletal
crosses, the compass rose), drawn with `arc_runs`. The arithmetic is
Montage's, step for step (``docs/montage-semantics.md`` §8.10); the grid's
text labels are not drawn.
"""

from __future__ import annotations

import math

import numpy as np

from ._orientation import Orientation, _header, _increments, orientation

__all__ = ["SYMBOL_SHAPES", "grid_lines", "symbol_arcs", "sky_frame",
           "convert_sky", "pixel_scale"]

_DTR = math.atan(1.0) / 45.0

#: Grid spacings (degrees) and the largest sky range each is used for.
_GRID_RANGE = [0.6 / 3600., 1.5 / 3600., 3. / 3600., 6. / 3600., 15. / 3600.,
               30. / 3600., 60. / 3600., 3. / 60., 6. / 60., 15. / 60., 30. / 60.,
               1.5, 3., 6., 15., 30., 60., 90., 360.]
_GRID_SPACE = [0.1 / 3600., 0.2 / 3600., 0.5 / 3600., 1. / 3600., 2. / 3600.,
               5. / 3600., 10. / 3600., 20. / 3600., 1. / 60., 2. / 60., 5. / 60.,
               10. / 60., 30. / 60., 1., 2., 5., 10., 15., 30.]

#: mViewer's named symbols: name -> (vertices, vertices drawn (0: all),
#: kind 0 polygon / 1 starred / 2 skeletal / 3 compass, rotation degrees).
#: A name matches on its first three letters (``el``: two).
SYMBOL_SHAPES = {
    "triangle": (3, 0, 0, 120.0), "box": (4, 0, 0, 45.0), "square": (4, 0, 0, 45.0),
    "diamond": (4, 0, 0, 0.0), "pentagon": (5, 0, 0, 72.0),
    "hexagon": (6, 0, 0, 60.0), "septagon": (7, 0, 0, 360.0 / 7.0),
    "octagon": (8, 0, 0, 45.0), "plus": (4, 0, 2, 0.0), "el": (4, 2, 0, 135.0),
    "circle": (128, 0, 0, 0.0), "compass": (4, 0, 3, 0.0),
}

_COMPASS = ((0.0, 0.0, 0.0, 8.0), (0.0, 0.0, -4.0, 0.0), (-4.0, 0.0, -3.0, -0.5),
            (-4.0, 0.0, -3.0, 0.5), (0.0, 8.0, 0.5, 7.0), (0.0, 8.0, -0.5, 7.0),
            (-0.7, 9.0, -0.7, 11.0), (-0.7, 11.0, 0.7, 9.0), (0.7, 9.0, 0.7, 11.0))


def sky_frame(header) -> str:
    """
    Name the sky frame of an image's axes: ``equatorial``, ``galactic`` or ``ecliptic``.

    Parameters
    ----------
    header : astropy.io.fits.Header
        The image.

    Returns
    -------
    str
        From ``CTYPE1`` (``RA``, ``GLON``, ``ELON``); equatorial otherwise.

    Examples
    --------
    >>> from astropy.io import fits
    >>> sky_frame(fits.Header({"CTYPE1": "GLON-CAR"}))
    'galactic'
    """
    c = str(_header(header).get("CTYPE1", "RA")).upper()
    return "galactic" if c.startswith("GLON") else "ecliptic" if c.startswith(
        "ELON") else "equatorial"


def convert_sky(lon, lat, frm: str, to: str):
    """
    Convert J2000 sky coordinates between equatorial, galactic and ecliptic.

    Parameters
    ----------
    lon, lat : array_like
        Degrees.
    frm, to : str
        ``equatorial``, ``galactic`` or ``ecliptic`` (mean ecliptic J2000).

    Returns
    -------
    (ndarray, ndarray)
        Longitude (0..360) and latitude, degrees; the input when
        ``frm == to``.

    Notes
    -----
    astropy's transformations, not Montage's ``convertCoordinates``: the
    two agree to milli-arcseconds (``docs/montage-semantics.md`` §9.2).

    Examples
    --------
    >>> l, b = convert_sky(266.405, -28.936, "equatorial", "galactic")
    >>> round(float(l) % 360, 3), round(float(b), 3)
    (0.0, 0.0)
    """
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    if frm == to:
        return lon, lat
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    names = {"equatorial": "fk5", "galactic": "galactic",
             "ecliptic": "barycentricmeanecliptic"}
    c = SkyCoord(lon * u.deg, lat * u.deg, frame=names[frm])
    out = c.transform_to(names[to])
    sph = out.spherical
    return (np.asarray(sph.lon.to_value(u.deg)) % 360.0,
            np.asarray(sph.lat.to_value(u.deg)))


def pixel_scale(header) -> tuple[float, float]:
    """
    Return an image's pixel size along its axes, degrees, as Montage's WCS library.

    Parameters
    ----------
    header : astropy.io.fits.Header
        The image (CDELT or CD matrix).

    Returns
    -------
    (float, float)
        ``|CDELT1|``, ``|CDELT2|`` (from the CD matrix when there is one).

    Examples
    --------
    >>> from astropy.io import fits
    >>> pixel_scale(fits.Header({"CDELT1": -0.5, "CDELT2": 0.25}))
    (0.5, 0.25)
    """
    xinc, yinc, _ = _increments(_header(header))
    return abs(xinc), abs(yinc)


class _Sky:
    """An image's pixel <-> sky mapping in one grid frame (1-based pixels)."""

    def __init__(self, h, frame: str):
        from astropy.wcs import WCS  # on first use (~0.3 s of a fresh process)

        self.w = WCS(h, naxis=2)
        self.img = sky_frame(h)
        self.frame = frame

    def world(self, x, y):
        lon, lat = self.w.all_pix2world(np.asarray(x, float), np.asarray(y, float), 1)
        return convert_sky(lon, lat, self.img, self.frame)

    def pixel(self, lon, lat):
        lon, lat = convert_sky(lon, lat, self.frame, self.img)
        with np.errstate(invalid="ignore"):
            return self.w.all_world2pix(lon, lat, 1)


def _border(ns: int, nl: int):
    """List the pixels mViewer walks around the image, in its order (1-based)."""
    up = np.arange(nl + 2) - 0.5
    across = np.arange(ns + 2) - 0.5
    xs = np.concatenate([np.full(up.size, -0.5), across, np.full(up.size, ns + 0.5),
                         across[::-1]])
    ys = np.concatenate([up, np.full(across.size, nl + 0.5), up[::-1],
                         np.full(across.size, -0.5)])
    return xs, ys


def _ranges(sky: _Sky, ns: int, nl: int, xinc: float, yinc: float):
    """``mViewer_makeGrid``'s longitude and latitude ranges."""
    cx = np.array([-0.5, -0.5, ns + 0.5, ns + 0.5])
    cy = np.array([-0.5, nl + 0.5, nl + 0.5, -0.5])
    lon, lat = sky.world(cx, cy)
    lonmin, lonmax = float(lon.min()), float(lon.max())
    latmin, latmax = float(lat.min()), float(lat.max())
    size = math.hypot(ns * xinc * _DTR, nl * yinc * _DTR)
    coslat = min(math.cos(latmin * _DTR), math.cos(latmax * _DTR))
    lonrange = size / coslat if coslat > 0.0 else 360.0
    neglon = lonrange < 180.0 and lonmax - lonmin > 180.0
    if neglon:
        lonmin, lonmax = lonmax - 360.0, lonmin
    lon, lat = sky.world(*_border(ns, nl))
    if neglon:
        lon = np.where(lon > 180.0, lon - 360.0, lon)
    v = np.stack([np.cos(lat * _DTR) * np.cos(lon * _DTR),
                  np.cos(lat * _DTR) * np.sin(lon * _DTR), np.sin(lat * _DTR)])
    v = np.concatenate([v[:, :1], v], axis=1)
    dotmax = math.cos(10.0 * (yinc if abs(yinc) > abs(xinc) else xinc) * _DTR)
    if (np.abs((v[:, 1:] * v[:, :-1]).sum(axis=0)) < dotmax).any():
        return 0.0, 360.0, -90.0, 90.0
    lonmin, lonmax = min(lonmin, float(lon.min())), max(lonmax, float(lon.max()))
    latmin, latmax = min(latmin, float(lat.min())), max(latmax, float(lat.max()))
    for pole in (90.0, -90.0):
        x, y = sky.pixel(0.0, pole)
        if 0.5 <= x <= ns + 0.5 and 0.5 <= y <= nl + 0.5:
            lonmin, lonmax = 0.0, 360.0
            latmax, latmin = (90.0, latmin) if pole > 0 else (latmax, -90.0)
    return lonmin, lonmax, latmin, latmax


def _spacing(span: float) -> float:
    """Choose the grid spacing for a sky range (Montage's table)."""
    for rng, space in zip(_GRID_RANGE[1:], _GRID_SPACE[1:], strict=True):
        if span <= rng:
            return space
    return _GRID_SPACE[0]


def _line_values(start: float, stop: float, step: float) -> list:
    """``for(v = start; v <= stop; v += step)``, accumulated as C does."""
    out, v = [], start
    while v <= stop:
        out.append(v)
        v += step
    return out


def _grid_starts(lonmin, lonmax, latmin, latmax):
    """First and last grid longitude and latitude and their spacings (mViewer's)."""
    lsp = _spacing(lonmax - lonmin)
    lon0 = ((int(lonmin / lsp) + 1.0) * lsp if lonmin >= 0
            else int(lonmin / lsp) * lsp)
    lonn = int(lonmax / lsp) * lsp
    bsp = _spacing(latmax - latmin)
    lat0 = int(latmin / bsp + 1.0) * bsp if latmin >= 0 else int(latmin / bsp) * bsp
    if lat0 < latmin:
        lat0 += bsp
    latn = int(latmax / bsp) * bsp
    if latn > latmax:
        latn -= bsp
    if latmax == 90.0:
        latn = 90.0 - bsp
    if latmin == -90.0:
        lat0 = -90.0 + bsp
    return lon0, lonn, lsp, lat0, latn, bsp


def _grid_values(lonmin, lonmax, latmin, latmax):
    """Return the longitudes and latitudes of the grid lines."""
    lon0, lonn, lsp, lat0, latn, bsp = _grid_starts(lonmin, lonmax, latmin, latmax)
    return _line_values(lon0, lonn + lsp, lsp), _line_values(lat0, latn + bsp, bsp)


#: Most points a grid line may have (a grid of a degenerate WCS could ask for
#: billions).
_MAX_LINE_POINTS = 2_000_000


def _walk(start: float, stop: float, step: float, last_beyond: bool) -> np.ndarray:
    """Sample a grid line from ``start`` by ``step``, as mViewer."""
    if not step > 0.0 or (stop - start) / step > _MAX_LINE_POINTS:
        from diffview.errors import InputError

        raise InputError(f"coordinate grid of {abs(stop - start):g} degrees at "
                         f"{step:g}-degree steps is too fine to draw")
    out, v = [start], start
    while True:
        v += step
        if v > stop and not last_beyond:
            break
        out.append(v)
        if v > stop:
            break
    return np.array(out)


def _line_runs(x, y, ns: int, nl: int) -> list:
    """
    Cut one grid line's projected points into runs, as mViewer's drawing loop.

    A point off the image ends the run when it has two points or more;
    repeated points are skipped. 1-based (x, y) in, runs of (x, y) out.
    """
    with np.errstate(invalid="ignore"):
        off = ~((x >= 0.5) & (x <= ns + 0.5) & (y >= 0.5) & (y <= nl + 0.5))
    runs, cur, prev = [], [], (-1.0, -1.0)
    for k in range(x.size):
        p = (float(x[k]), float(y[k]))
        if off[k]:
            if len(cur) > 1:
                runs.append(cur)
                cur, prev = [], (-1.0, -1.0)
        elif k == 0 or p != prev:
            cur.append(p)
            prev = p
    if cur:
        runs.append(cur)
    return [np.array(r) for r in runs if len(r) >= 2]


def grid_lines(header, csys: str = "equatorial", *, orient: Orientation | None = None
               ) -> list[np.ndarray]:
    """
    Draw a coordinate grid over a displayed image, as mViewer's ``-grid``.

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
    list of ndarray
        Runs of displayed 0-based (x, y): the lines of constant longitude,
        then of constant latitude, in mViewer's order.

    Examples
    --------
    >>> from astropy.io import fits
    >>> h = fits.Header({"NAXIS": 2, "NAXIS1": 200, "NAXIS2": 100,
    ...     "CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRVAL1": 10.0,
    ...     "CRVAL2": 0.0, "CRPIX1": 100.5, "CRPIX2": 50.5,
    ...     "CDELT1": -0.001, "CDELT2": 0.001})
    >>> runs = grid_lines(h)
    >>> len(runs), runs[2][0].round(2).tolist()
    (8, [99.5, 99.5])
    """
    h = _header(header)
    o = orient if orient is not None else orientation(h)
    ns, nl = int(h["NAXIS1"]), int(h["NAXIS2"])
    xinc, yinc, _ = _increments(h)
    sky = _Sky(h, csys)
    lonmin, lonmax, latmin, latmax = _ranges(sky, ns, nl, xinc, yinc)
    lons, lats = _grid_values(lonmin, lonmax, latmin, latmax)
    step = abs(yinc) * 0.5
    runs = []
    for lon in lons:
        b = _walk(latmin, latmax, step, False)
        runs += _line_runs(*sky.pixel(np.full(b.size, lon), b), ns, nl)
    for lat in lats:
        if not -90.0 < lat < 90.0:
            continue
        lo = _walk(lonmin, lonmax, step, True)
        runs += _line_runs(*sky.pixel(lo, np.full(lo.size, lat)), ns, nl)
    out = []
    for r in runs:
        x, y = o.to_display(r[:, 0] - 1.0, r[:, 1] - 1.0)
        out.append(np.column_stack([x, y]))
    return out


def _c_call(f, x: float) -> float:
    """``f(x)`` as C's libm gives it: NaN outside the domain, not an error."""
    try:
        return f(x)
    except (ValueError, ZeroDivisionError):
        return math.nan


def _offset(clon: float, clat: float, rad: float, vang: float):
    """Return the point ``rad`` degrees from (clon, clat) at position angle ``vang``."""
    cosc = (math.cos(rad * _DTR) * math.cos((90.0 - clat) * _DTR)
            - math.sin(rad * _DTR) * math.sin((90.0 - clat) * _DTR)
            * math.cos(vang * _DTR))
    colat = _c_call(math.acos, cosc) / _DTR
    den = math.sin(colat * _DTR)
    sina = (math.sin(rad * _DTR) * math.sin(vang * _DTR) / den if den != 0.0
            else math.nan)
    return clon + _c_call(math.asin, sina) / _DTR, 90.0 - colat


def _polygon(clon, clat, radius, npnt, nmax, rot, starred):
    """Arcs between the vertices of a polygon or star (``mViewer_symbol``)."""
    dv = 360.0 / npnt / (2.0 if starred else 1.0)
    vmax = (180.0 + rot + 0.001 if nmax == 0
            else -180.0 + (2.0 if starred else 1.0) * dv * nmax + rot + 0.001)
    arcs, prev, k, v = [], None, 0, -180.0 + rot
    while v <= vmax:
        p = _offset(clon, clat, radius / 2.0 if (starred and k) else radius, v)
        if v > -180.0 + rot:
            arcs.append((*prev, *p))
        prev, k, v = p, (k + 1) % 2, v + dv
    return arcs


def symbol_arcs(lon: float, lat: float, radius: float, npnt: int = 3, nmax: int = 0,
                kind: int = 0, rot: float = 0.0) -> np.ndarray:
    """
    Return the great-circle arcs of an mViewer symbol.

    Parameters
    ----------
    lon, lat : float
        Centre, degrees.
    radius : float
        Size (vertex distance from the centre), degrees.
    npnt : int
        Vertices.
    nmax : int
        Vertices drawn (0: all; ``el`` draws 2).
    kind : int
        0 polygon, 1 starred, 2 skeletal (spokes), 3 compass rose (modulo 4).
    rot : float
        Rotation, degrees.

    Returns
    -------
    ndarray, shape (n, 4)
        ``(lon0, lat0, lon1, lat1)`` of each arc, in drawing order.

    Examples
    --------
    >>> a = symbol_arcs(10.0, 0.0, 0.01, *SYMBOL_SHAPES["box"][:3], 45.0)
    >>> a.shape, bool(np.allclose(a[-1, 2:], a[0, :2]))
    ((4, 4), True)
    """
    kind = int(kind) % 4
    if kind in (0, 1):
        arcs = _polygon(lon, lat, radius, npnt, nmax, rot, kind == 1)
    elif kind == 2:
        dv = 360.0 / npnt
        vmax = 180.0 + rot + 0.001 if nmax == 0 else -180.0 + dv * nmax + rot + 0.001
        arcs, v = [], -180.0 + rot
        while v <= vmax:
            if v > -180.0 + rot:
                arcs.append((lon, lat, *_offset(lon, lat, radius, v)))
            v += dv
    else:
        arcs = []
        for seg in _COMPASS:
            ends = []
            for y, x in ((-seg[0], -seg[1]), (-seg[2], -seg[3])):
                ends += _offset(lon, lat, radius * math.sqrt(x * x + y * y) / 12.0,
                                math.atan2(y, x) / _DTR)
            arcs.append(tuple(ends))
    return np.array(arcs, float).reshape(-1, 4)
