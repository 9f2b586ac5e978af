"""
Image footprint outlines in a displayed image, as mViewer's ``-imginfo``.

Each image of an image table is outlined by its four sides, each a
great-circle arc from corner to corner sampled every ``|CDELT2|/2`` degrees
of the *displayed* image (end point included), projected through the
displayed image's WCS; points off the image are dropped
(``montage-semantics.md`` §8.9). Corners come from ``ra1..dec4`` when the
table has them, otherwise from its WCS columns
(`diffview.geometry.footprints_from_table`).

Coordinates returned here are 0-based pixel ``(x, y)`` of the displayed
picture: column ``x`` from the left, row ``y`` from the top, after mViewer's
orientation rules (`orientation`), pixel centres on integers, so they can be
drawn directly over ``imshow(picture)`` or burned into a PNG.

Notes
-----
Two deliberate differences from mViewer's drawing, both within one pixel:
mViewer feeds 1-based WCS pixel coordinates to its 0-based line drawer, so
its lines sit one column right of (and, with ``flipY``, one row above) the
true edge; here outlines are at the true positions (the Montage-compatible
`diffview.montage.mViewer` re-applies the shift). And where an outline
leaves the displayed image mViewer joins the remaining points with a
straight chord; here the outline is split into separate runs instead.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections import OrderedDict

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

from diffview.geometry.overlaps import footprints_from_table

__all__ = [
    "Orientation",
    "orientation",
    "great_circle_points",
    "footprint_outline",
    "image_outlines",
    "box_outline",
]


class Orientation(tuple):
    """``(flip_x, flip_y, nx, ny)`` of a displayed image (see `orientation`)."""

    __slots__ = ()

    def __new__(cls, flip_x, flip_y, nx, ny):
        return super().__new__(cls, (bool(flip_x), bool(flip_y), int(nx), int(ny)))

    flip_x = property(lambda self: self[0])
    flip_y = property(lambda self: self[1])
    nx = property(lambda self: self[2])
    ny = property(lambda self: self[3])

    def to_display(self, x0, y0):
        """0-based FITS pixel coordinates -> displayed (x, y)."""
        x, y = np.asarray(x0, float), np.asarray(y0, float)
        x = (self.nx - 1) - x if self.flip_x else x
        y = (self.ny - 1) - y if self.flip_y else y
        return x, y

    def to_fits(self, x, y):
        """Displayed (x, y) -> 0-based FITS pixel coordinates."""
        return self.to_display(x, y)

    def apply(self, image):
        """Reorient a FITS-ordered array (rows = NAXIS2) for display."""
        a = image
        if self.flip_y:
            a = a[::-1]
        if self.flip_x:
            a = a[:, ::-1]
        return a


def _header(obj) -> fits.Header:
    if isinstance(obj, fits.Header):
        return obj
    if isinstance(obj, WCS):
        h = obj.to_header()
        if obj.pixel_shape is not None:
            h["NAXIS1"], h["NAXIS2"] = obj.pixel_shape
        return h
    raise TypeError(f"expected a FITS header or an astropy WCS, got {type(obj)!r}")


def _increments(h: fits.Header) -> tuple[float, float, float]:
    """(xinc, yinc, rot) as Montage's WCS library derives them."""
    if "CD1_1" in h or "CD2_2" in h:
        c11, c12 = float(h.get("CD1_1", 0.0)), float(h.get("CD1_2", 0.0))
        c21, c22 = float(h.get("CD2_1", 0.0)), float(h.get("CD2_2", 0.0))
        det = c11 * c22 - c12 * c21
        xinc = math.hypot(c11, c21) * (-1.0 if det < 0 else 1.0)
        yinc = math.hypot(c12, c22)
        rot = math.degrees(math.atan2(-c12, c22))
        return xinc, yinc, rot
    return (float(h.get("CDELT1", 1.0)), float(h.get("CDELT2", 1.0)),
            float(h.get("CROTA2", 0.0)))


def orientation(header, *, noflip: bool = False) -> Orientation:
    """
    mViewer's display orientation of an image.

    ``flip_y`` when CDELT2 > 0 (north up: display row 0 is the last FITS
    row), ``flip_x`` when CDELT1 > 0 (east left); both toggle when
    ``|CROTA2|`` is in (90, 270), and ``flip_x`` toggles for swapped axes
    (latitude first).

    Parameters
    ----------
    header : astropy.io.fits.Header or astropy.wcs.WCS
        The displayed image's header (NAXIS1/2 needed).
    noflip : bool
        mViewer's ``-noflip``.

    Examples
    --------
    >>> h = fits.Header({"NAXIS1": 4, "NAXIS2": 3, "CDELT1": -1e-3, "CDELT2": 1e-3})
    >>> orientation(h)
    (False, True, 4, 3)
    """
    h = _header(header)
    nx, ny = int(h.get("NAXIS1", 0)), int(h.get("NAXIS2", 0))
    if noflip:
        return Orientation(False, False, nx, ny)
    xinc, yinc, rot = _increments(h)
    fx, fy = xinc > 0, yinc > 0
    if 90.0 < abs(rot) < 270.0:
        fx, fy = not fx, not fy
    ctype1 = str(h.get("CTYPE1", "")).upper()
    if ctype1[:4] in ("DEC-", "GLAT", "ELAT") or ctype1.startswith("DEC"):
        fx = not fx
    return Orientation(fx, fy, nx, ny)


def great_circle_points(lon0, lat0, lon1, lat1, step):
    """
    Points along the great circle from (lon0, lat0) to (lon1, lat1),
    every ``step`` degrees, end point included (mViewer's sampling).

    Examples
    --------
    >>> lon, lat = great_circle_points(10.0, 0.0, 10.0, 1.0, 0.3)
    >>> np.round(lat, 6).tolist(), np.round(lon, 6).tolist()[0]
    ([0.0, 0.3, 0.6, 1.0], 10.0)
    """
    d = math.pi / 180.0
    cl0, sl0 = math.cos(lat0 * d), math.sin(lat0 * d)
    cl1, sl1 = math.cos(lat1 * d), math.sin(lat1 * d)
    sin_dl = math.sin((lon1 - lon0) * d)
    v0 = (math.cos(lon0 * d) * cl0, math.sin(lon0 * d) * cl0, sl0)
    v1 = (math.cos(lon1 * d) * cl1, math.sin(lon1 * d) * cl1, sl1)
    cth = min(1.0, max(-1.0, v0[0] * v1[0] + v0[1] * v1[1] + v0[2] * v1[2]))
    sth = math.sqrt(1.0 - cth * cth)
    theta = math.acos(cth) / d
    if sth == 0.0 or cl0 == 0.0:
        return np.array([lon0, lon1], float), np.array([lat0, lat1], float)
    sin_phi = (sin_dl * cl1) / sth
    cos_phi = (sl1 - cth * sl0) / (sth * cl0)
    n = 2 if theta < step else int(theta / step) + 1
    arc = np.arange(n, dtype=float) * step
    arc[-1] = theta
    cosa, sina = np.cos(arc * d), np.sin(arc * d)
    lat = np.arcsin(np.clip(cos_phi * sina * cl0 + cosa * sl0, -1, 1)) / d
    lon = lon0 + np.arctan2(sina * sin_phi, cosa * cl0 - sl0 * cos_phi * sina) / d
    return lon, lat


def _world_to_pixel(wcs: WCS | None, arcs, tan=None):
    """Points of `_arcs` -> 0-based pixel coordinates of ``wcs`` (NaN where
    a point does not project); ``tan``: its `_plain_tan`, if known (then
    ``wcs`` may be None)."""
    (ca, sa, arc_id), basis = arcs
    if tan is None:
        tan = _plain_tan(wcs)
    if tan is not None:
        return _tan_pixels(tan, ca, sa, arc_id, basis)
    v = ca[:, None] * basis[arc_id, 0] + sa[:, None] * basis[arc_id, 1]
    lon = np.degrees(np.arctan2(v[:, 1], v[:, 0]))
    lat = np.degrees(np.arcsin(np.clip(v[:, 2], -1.0, 1.0)))
    ctype = [str(wcs.wcs.ctype[0]).upper(), str(wcs.wcs.ctype[1]).upper()]
    if ctype[0].startswith("RA") or ctype[0].startswith("DEC"):
        if ctype[0].startswith("DEC"):
            return wcs.all_world2pix(lat, lon, 0)
        return wcs.all_world2pix(lon, lat, 0)
    from astropy.coordinates import SkyCoord
    c = SkyCoord(lon, lat, unit="deg", frame="fk5")
    x, y = wcs.world_to_pixel(c)
    return np.asarray(x, float), np.asarray(y, float)


def _plain_tan(wcs: WCS):
    """For a plain equatorial gnomonic WCS (``RA---TAN``/``DEC--TAN`` in
    degrees, no SIP, distortion tables, PV cards or other LONPOLE than 180):
    the (3, 3) matrix taking a unit vector to (x numerator, y numerator,
    denominator) of its 0-based pixel offsets from CRPIX, and that 0-based
    CRPIX. None for any other WCS."""
    c = wcs.wcs
    if (list(c.ctype) != ["RA---TAN", "DEC--TAN"] or wcs.sip is not None
            or wcs.cpdis1 is not None or wcs.cpdis2 is not None
            or wcs.det2im1 is not None or wcs.det2im2 is not None
            or c.get_pv() or any(str(u) not in ("deg", "") for u in c.cunit)):
        return None
    c.set()
    if c.lonpole != 180.0:
        return None
    return _tan_matrix(c.crval, np.diag(c.get_cdelt()) @ c.get_pc(), c.crpix)


def _tan_matrix(crval, m, crpix):
    """`_plain_tan`'s (matrix, 0-based CRPIX) from CRVAL (degrees), the
    matrix ``M = diag(CDELT) PC`` and the 1-based CRPIX."""
    a0, d0 = math.radians(crval[0]), math.radians(crval[1])
    ca, sa, cd, sd = math.cos(a0), math.sin(a0), math.cos(d0), math.sin(d0)
    east = np.array([-sa, ca, 0.0])
    north = np.array([-sd * ca, -sd * sa, cd])
    centre = np.array([cd * ca, cd * sa, sd])
    # intermediate world (degrees) = (v.east, v.north) * R / (v.centre);
    # pixel offsets = M^-1 of it, with M = diag(CDELT) PC
    k = np.degrees(np.linalg.inv(m)) @ np.stack([east, north])
    return np.column_stack([k.T, centre]), np.asarray(crpix, float) - 1.0


#: Header keys (or key prefixes) that make a WCS more than `_header_tan`
#: reads: rotation, PC/CD matrices, projection parameters, poles,
#: distortions, units, more axes.
_NOT_PLAIN = ("PC", "CD", "PV", "PS", "LONPOLE", "LATPOLE", "WCSAXES", "A_", "B_",
              "AP_", "BP_", "CPDIS", "CQDIS", "DP", "DQ", "D2IM", "CROTA", "CUNIT",
              "CTYPE", "CRVAL", "CRPIX", "CDELT", "CNAME", "CRDER", "CSYER", "NAXIS",
              "SIP", "TPD", "TPV")


def _card_float(h: fits.Header, key: str) -> float:
    """A card's number as written in its 80 characters (as WCSLIB reads it:
    an in-memory value may hold more digits than the card shows)."""
    return float(h.cards[key].image[10:].split("/", 1)[0])


def _header_tan(h: fits.Header):
    """`_plain_tan` of the simplest headers (Montage's mosaics and images:
    ``RA---TAN``/``DEC--TAN``, CDELT1/2, CROTA2 absent or 0, nothing else
    of the WCS kinds above), read from the cards without building an
    astropy WCS (~2 ms); None for anything else."""
    plain = {"NAXIS", "NAXIS1", "NAXIS2", "CTYPE1", "CTYPE2", "CRVAL1", "CRVAL2",
             "CRPIX1", "CRPIX2", "CDELT1", "CDELT2", "CROTA2"}
    try:
        if (any(k.startswith(_NOT_PLAIN) and k not in plain for k in h)
                or h.get("NAXIS") != 2 or h.get("CTYPE1") != "RA---TAN"
                or h.get("CTYPE2") != "DEC--TAN"
                or "CROTA2" in h and _card_float(h, "CROTA2") != 0.0):
            return None
        crval = [_card_float(h, "CRVAL1"), _card_float(h, "CRVAL2")]
        cdelt = [_card_float(h, "CDELT1"), _card_float(h, "CDELT2")]
        crpix = [_card_float(h, "CRPIX1"), _card_float(h, "CRPIX2")]
    except (KeyError, TypeError, ValueError):
        return None
    if not -90.0 < crval[1] < 90.0 or 0.0 in cdelt:    # else another LONPOLE
        return None
    return _tan_matrix(crval, np.diag(cdelt) @ np.eye(2), crpix)


def _tan_pixels(tan, ca, sa, arc_id, basis):
    """`_world_to_pixel` of a `_plain_tan` WCS: a direct gnomonic projection,
    linear in the point's unit vector up to one division, so applied to each
    arc's two basis vectors once and then combined per point."""
    k, crpix = tan
    pb = basis @ k                                   # (narc, 2, 3)
    num = [ca * pb[:, 0, j].take(arc_id) + sa * pb[:, 1, j].take(arc_id)
           for j in range(3)]
    with np.errstate(invalid="ignore", divide="ignore"):
        den = np.where(num[2] > 0.0, num[2], np.nan)    # far hemisphere: none
        return crpix[0] + num[0] / den, crpix[1] + num[1] / den


def _split_runs(x, y, keep):
    """Consecutive kept points as separate (N, 2) arrays (N >= 2)."""
    out = []
    idx = np.flatnonzero(keep)
    if idx.size == 0:
        return out
    breaks = np.flatnonzero(np.diff(idx) > 1) + 1
    for run in np.split(idx, breaks):
        if run.size >= 2:
            out.append(np.column_stack([x[run], y[run]]))
    return out


def footprint_outline(corners, header, *, step=None, split=True,
                      orient: Orientation | None = None) -> list[np.ndarray]:
    """
    Outline of one footprint (4 corners, J2000 RA/Dec degrees) in the
    displayed image of ``header``.

    Parameters
    ----------
    corners : array_like, shape (4, 2)
        Corners in drawing order (1 -> 2 -> 3 -> 4 -> 1).
    header : astropy.io.fits.Header or astropy.wcs.WCS
        The displayed image.
    step : float, optional
        Sampling step in degrees (default ``|CDELT2|/2`` of the display).
    split : bool
        Split the outline where it leaves the image (default); with False,
        mViewer's behaviour: off-image points are dropped and the rest joined.
    orient : Orientation, optional
        Precomputed `orientation` of ``header``.

    Returns
    -------
    list of ndarray
        (N, 2) arrays of displayed 0-based (x, y); usually one closed run.

    Examples
    --------
    >>> h = fits.Header({"NAXIS": 2, "NAXIS1": 20, "NAXIS2": 10,
    ...     "CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRVAL1": 10.0,
    ...     "CRVAL2": 0.0, "CRPIX1": 10.5, "CRPIX2": 5.5,
    ...     "CDELT1": -0.1, "CDELT2": 0.1})
    >>> w = WCS(h)
    >>> pix = np.array([[2.5, 2.5], [12.5, 2.5], [12.5, 7.5], [2.5, 7.5]])
    >>> corners = np.column_stack(w.all_pix2world(pix[:, 0], pix[:, 1], 1))
    >>> (run,) = footprint_outline(corners, h)
    >>> np.round(run[0], 6).tolist(), run.shape
    ([1.5, 7.5], (57, 2))
    """
    h = _header(header)
    w = header if isinstance(header, WCS) else WCS(h, naxis=2)
    o = orient if orient is not None else orientation(h)
    if step is None:
        step = abs(_increments(h)[1]) * 0.5
    return _outline(corners, w, o, step, split)


def _arcs(lon0, lat0, lon1, lat1, step, skip_first):
    """`great_circle_points` for many arcs at once, in a form that projects
    cheaply: ``((cos a, sin a, arc id) per point, basis)``, the point being
    ``cos(a) basis[id, 0] + sin(a) basis[id, 1]`` (unit vectors).

    The sampling is mViewer's (every ``step`` degrees from the start, end
    point included). The basis is the start ``v0`` and the unit tangent
    ``u`` towards the end: the same point mViewer reaches through the start's
    bearing, without going through longitude and latitude. A degenerate arc
    (zero length, or starting at a pole) is its two end points, as mViewer's.
    Arcs with ``skip_first`` lose their first point."""
    d = math.pi / 180.0
    cl0, sl0 = np.cos(lat0 * d), np.sin(lat0 * d)
    cl1, sl1 = np.cos(lat1 * d), np.sin(lat1 * d)
    v0 = np.stack([np.cos(lon0 * d) * cl0, np.sin(lon0 * d) * cl0, sl0], axis=1)
    v1 = np.stack([np.cos(lon1 * d) * cl1, np.sin(lon1 * d) * cl1, sl1], axis=1)
    cth = np.clip(v0[:, 0] * v1[:, 0] + v0[:, 1] * v1[:, 1] + sl0 * sl1, -1.0, 1.0)
    sth = np.sqrt(1.0 - cth * cth)
    theta = np.arccos(cth)
    degenerate = (sth == 0.0) | (cl0 == 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        u = (v1 - cth[:, None] * v0) / sth[:, None]
    u[degenerate] = v1[degenerate]                   # end point = (0, 1)
    n = np.where(theta / d < step, 2, (theta / d / step).astype(np.int64) + 1)
    n[degenerate] = 2
    first = skip_first.astype(np.int64)
    arc_id = np.repeat(np.arange(n.size), n - first)
    start = np.cumsum(n - first) - (n - first)
    i = np.arange(arc_id.size) + (first - start).take(arc_id)
    # cos/sin of i * step for every i once; the last point at the arc's end
    table = np.arange(int(n.max()) if n.size else 0) * step * d
    ca, sa = np.cos(table).take(i), np.sin(table).take(i)
    ends = np.cumsum(n - first) - 1
    ca[ends] = np.where(degenerate, 0.0, np.cos(theta))
    sa[ends] = np.where(degenerate, 1.0, np.sin(theta))
    return (ca, sa, arc_id), np.stack([v0, u], axis=1)


def _outlines(corner_list, w, o, step, split, tan=None):
    """Outlines of many footprints with one WCS transformation (``tan`` as
    `_world_to_pixel`'s)."""
    if not len(corner_list):
        return []
    c = np.asarray(corner_list, float)                 # (nimg, 4, 2)
    nxt = np.roll(c, -1, axis=1)
    # sides 2-4 lose their first point (it is the previous side's end)
    side = np.tile(np.arange(4), c.shape[0])
    arcs = _arcs(c[:, :, 0].ravel(), c[:, :, 1].ravel(), nxt[:, :, 0].ravel(),
                 nxt[:, :, 1].ravel(), step, side != 0)
    sizes = np.bincount(arcs[0][2] // 4, minlength=c.shape[0])
    with np.errstate(invalid="ignore"):
        x0, y0 = _world_to_pixel(w, arcs, tan)
        x0, y0 = np.asarray(x0, float), np.asarray(y0, float)
        # mViewer's test is strict; for true positions points on the image
        # edge (within rounding) are kept so edges are not broken up
        tol = 1e-6 if split else 0.0
        keep = ((x0 >= -0.5 - tol) & (x0 <= o.nx - 0.5 + tol)
                & (y0 >= -0.5 - tol) & (y0 <= o.ny - 0.5 + tol))
    x, y = o.to_display(x0, y0)
    ends = np.cumsum(sizes)[:-1]
    if keep.all():                       # the usual case: one run per image
        return np.split(np.column_stack([x, y]), ends)
    out = []
    for xs, ys, ks in zip(np.split(x, ends), np.split(y, ends), np.split(keep, ends),
                          strict=True):
        if split:
            out.extend(_split_runs(xs, ys, ks))
        elif ks.sum() >= 2:
            out.append(np.column_stack([xs[ks], ys[ks]]))
    return out


def _outline(corners, w, o, step, split):
    return _outlines([corners], w, o, step, split)


#: An image table's corner columns, in drawing order.
_CORNER_COLUMNS = [name for k in range(1, 5) for name in (f"ra{k}", f"dec{k}")]


def _table_corners(table) -> np.ndarray:
    """(nrow, 4, 2) corners of an image table (path or Table): its
    ``ra1..dec4`` columns when it has all eight (from a file, only those
    are read, without an astropy Table), else
    `diffview.geometry.footprints_from_table`'s."""
    from diffview.io import read_table, read_table_columns

    if hasattr(table, "colnames"):
        cols = {c: table[c] for c in _CORNER_COLUMNS if c in table.colnames}
    else:
        cols = read_table_columns(table, _CORNER_COLUMNS, optional=True)
    if len(cols) == len(_CORNER_COLUMNS):
        return np.stack([np.asarray(cols[c], float) for c in _CORNER_COLUMNS],
                        axis=-1).reshape(-1, 4, 2)
    if not hasattr(table, "colnames"):
        table = read_table(table)
    return np.array([fp.corners for fp in footprints_from_table(table)],
                    float).reshape(-1, 4, 2)


def image_outlines(table, wcs, *, rows=None, split=True) -> list[np.ndarray]:
    """
    Outlines of the images of an image table in a displayed image.

    Parameters
    ----------
    table : astropy.table.Table or path
        Image table (``images.tbl``) with corners ``ra1..dec4`` or WCS columns.
    wcs : astropy.io.fits.Header or astropy.wcs.WCS
        The displayed image (its header, or a WCS with ``pixel_shape``).
    rows : sequence of int, optional
        Row positions (0-based) to outline; default all.
    split : bool
        See `footprint_outline`.

    Returns
    -------
    list of ndarray
        (N, 2) arrays of displayed 0-based (x, y), in row order (one per
        image unless an outline leaves the picture).

    Examples
    --------
    >>> from astropy.table import Table
    >>> h = fits.Header({"NAXIS": 2, "NAXIS1": 20, "NAXIS2": 10,
    ...     "CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRVAL1": 10.0,
    ...     "CRVAL2": 0.0, "CRPIX1": 10.5, "CRPIX2": 5.5,
    ...     "CDELT1": -0.1, "CDELT2": 0.1})
    >>> t = Table({"cntr": [0], "ra1": [10.5], "dec1": [-0.3], "ra2": [9.5],
    ...     "dec2": [-0.3], "ra3": [9.5], "dec3": [0.3], "ra4": [10.5],
    ...     "dec4": [0.3]})
    >>> (run,) = image_outlines(t, h)
    >>> np.round(run.min(axis=0), 2).tolist(), np.round(run.max(axis=0), 2).tolist()
    ([4.5, 1.5], [14.5, 7.5])
    """
    h = _header(wcs)
    key = _cache_key(table, h, rows, split)
    cached = _CACHE.get(key) if key is not None else None
    if cached is not None:
        with contextlib.suppress(KeyError):      # evicted meanwhile by a thread
            _CACHE.move_to_end(key)
        return [p.copy() for p in cached]
    tan = None if isinstance(wcs, WCS) else _header_tan(h)
    w = None if tan is not None else wcs if isinstance(wcs, WCS) else WCS(h, naxis=2)
    o = orientation(h)
    corners = _table_corners(table)
    if rows is not None:
        corners = corners[np.asarray(rows, dtype=np.intp).reshape(-1)]
    step = abs(_increments(h)[1]) * 0.5
    lines = _outlines(corners, w, o, step, split, tan)
    if key is not None:
        _CACHE[key] = [p.copy() for p in lines]
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return lines


#: Outlines of the last few (table file, displayed header, rows, split)
#: requests: projecting tens of thousands of great-circle points through the
#: WCS costs more than the rest of an mViewer picture, and the same table is
#: usually drawn over the same mosaic again and again.
_CACHE: OrderedDict = OrderedDict()
_CACHE_SIZE = 8


def _cache_key(table, header: fits.Header, rows, split):
    """Cache key of an `image_outlines` request, or None (not cacheable:
    an in-memory table). A table file is identified by its path, size and
    modification time; the displayed image by all its header cards."""
    if not isinstance(table, (str, os.PathLike)):
        return None
    try:
        st = os.stat(table)
    except OSError:
        return None
    sel = None if rows is None else tuple(int(r) for r in rows)
    return (os.path.abspath(table), st.st_size, st.st_mtime_ns, st.st_ino,
            header.tostring(), sel, bool(split))


def box_outline(bounds, shape=None, *, header=None) -> np.ndarray:
    """
    Closed rectangle around an overlap box, on pixel edges.

    Parameters
    ----------
    bounds : ((jmin, jmax), (imin, imax))
        0-based template rows and columns, ends exclusive (as
        `diffview.geometry.overlap_box`).
    shape : (ny, nx), optional
        Template shape; with ``header`` (or alone, assuming mViewer's usual
        north-up flip) the box is returned in displayed coordinates.
    header : astropy.io.fits.Header, optional
        Template header, for its `orientation`.

    Returns
    -------
    ndarray, shape (5, 2)
        (x, y) corners, first repeated last.

    Examples
    --------
    >>> box_outline(((2, 5), (1, 4))).tolist()
    [[0.5, 1.5], [3.5, 1.5], [3.5, 4.5], [0.5, 4.5], [0.5, 1.5]]
    >>> box_outline(((2, 5), (1, 4)), shape=(10, 8))[:2].tolist()
    [[0.5, 7.5], [3.5, 7.5]]
    """
    (j0, j1), (i0, i1) = bounds
    x = np.array([i0, i1, i1, i0, i0], float) - 0.5
    y = np.array([j0, j0, j1, j1, j0], float) - 0.5
    if header is not None:
        o = orientation(header)
    elif shape is not None:
        o = Orientation(False, True, shape[1], shape[0])
    else:
        return np.column_stack([x, y])
    xd, yd = o.to_display(x, y)
    return np.column_stack([xd, yd])
