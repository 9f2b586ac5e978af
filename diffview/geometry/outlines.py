"""
Image footprint outlines in a displayed image, as mViewer's ``-imginfo``.

Each image of an image table is outlined by its four sides, each a
great-circle arc from corner to corner sampled every ``|CDELT2|/2`` degrees
of the *displayed* image (end point included), projected through the
displayed image's WCS; points off the image are dropped
(``docs/montage-semantics.md`` §8.9). Corners come from ``ra1..dec4`` when
the table has them, otherwise from its WCS columns
(`diffview.geometry.footprints_from_table`). Tables are taken as read
(astropy Tables or columns); `diffview.render.table_outlines` reads table
files and keeps their outlines.

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
`diffview.montage.mViewer` draws `diffview.geometry.mviewer_outlines`, mViewer's
own arithmetic, or re-applies the shift). And where an outline
leaves the displayed image mViewer joins the remaining points of each side
with a straight chord; here the outline is split into separate runs instead
(``split="sides"`` draws as mViewer does).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from ._orientation import Orientation, _header, _increments, _is_wcs, orientation
from ._tan import _header_tan, _plain_tan, _tan_pixels
from .overlaps import CORNER_COLUMNS, footprints_from_table

if TYPE_CHECKING:  # astropy.wcs loads only where a WCS is built (`_wcs`)
    from astropy.wcs import WCS

__all__ = [
    "Orientation",
    "orientation",
    "great_circle_points",
    "footprint_outline",
    "image_outlines",
    "arc_runs",
    "box_outline",
]


def great_circle_points(lon0, lat0, lon1, lat1, step):
    """
    Sample the great circle from (lon0, lat0) to (lon1, lat1) as mViewer does.

    Points every ``step`` degrees, end point included.

    Parameters
    ----------
    lon0, lat0, lon1, lat1 : float
        The ends, degrees.
    step : float
        Spacing along the arc, degrees.

    Returns
    -------
    lon, lat : ndarray
        The points, degrees (just the two ends for a zero-length arc or one
        starting at a pole).

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


def _wcs(header) -> WCS:
    """Build the celestial WCS of a header (astropy.wcs imported on first use)."""
    from astropy.wcs import WCS

    return WCS(header, naxis=2)


def _world_to_pixel(wcs: WCS | None, arcs, tan=None):
    """
    Project the points of `_arcs` to 0-based pixel coordinates of ``wcs``.

    NaN where a point does not project; ``tan``: its `_plain_tan`, if known
    (then ``wcs`` may be None).
    """
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
    Outline one footprint in the displayed image of ``header``.

    The footprint is 4 corners, J2000 RA/Dec degrees.

    Parameters
    ----------
    corners : array_like, shape (4, 2)
        Corners in drawing order (1 -> 2 -> 3 -> 4 -> 1).
    header : astropy.io.fits.Header or astropy.wcs.WCS
        The displayed image.
    step : float, optional
        Sampling step in degrees (default ``|CDELT2|/2`` of the display).
    split : bool or "sides"
        Split the outline where it leaves the image (default); with False,
        off-image points are dropped and the rest joined; with ``"sides"``,
        mViewer's drawing: each side is a run of its own (off-image points
        dropped, the side's other points joined), as ``mViewer_great_circle``
        draws one curve per side.
    orient : Orientation, optional
        Precomputed `orientation` of ``header``.

    Returns
    -------
    list of ndarray
        (N, 2) arrays of displayed 0-based (x, y); usually one closed run.

    Examples
    --------
    >>> from astropy.io import fits
    >>> h = fits.Header({"NAXIS": 2, "NAXIS1": 20, "NAXIS2": 10,
    ...     "CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRVAL1": 10.0,
    ...     "CRVAL2": 0.0, "CRPIX1": 10.5, "CRPIX2": 5.5,
    ...     "CDELT1": -0.1, "CDELT2": 0.1})
    >>> from astropy.wcs import WCS
    >>> w = WCS(h)
    >>> pix = np.array([[2.5, 2.5], [12.5, 2.5], [12.5, 7.5], [2.5, 7.5]])
    >>> corners = np.column_stack(w.all_pix2world(pix[:, 0], pix[:, 1], 1))
    >>> (run,) = footprint_outline(corners, h)
    >>> np.round(run[0], 6).tolist(), run.shape
    ([1.5, 7.5], (57, 2))
    """
    h = _header(header)
    w = header if _is_wcs(header) else _wcs(h)
    o = orient if orient is not None else orientation(h)
    if step is None:
        step = abs(_increments(h)[1]) * 0.5
    return _outline(corners, w, o, step, split)


def _arcs(lon0, lat0, lon1, lat1, step, skip_first):
    """
    Compute `great_circle_points` for many arcs at once.

    In a form that projects cheaply: ``((cos a, sin a, arc id) per point,
    basis)``, the point being ``cos(a) basis[id, 0] + sin(a) basis[id, 1]``
    (unit vectors).

    The sampling is mViewer's (every ``step`` degrees from the start, end
    point included). The basis is the start ``v0`` and the unit tangent
    ``u`` towards the end: the same point mViewer reaches through the start's
    bearing, without going through longitude and latitude. A degenerate arc
    (zero length, or starting at a pole) is its two end points, as mViewer's.
    Arcs with ``skip_first`` lose their first point.
    """
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
    """
    Outline many footprints with one WCS transformation.

    ``tan`` is as `_world_to_pixel`'s; ``split`` as `footprint_outline`'s.
    """
    if not len(corner_list):
        return []
    sides = split == "sides"
    c = np.asarray(corner_list, float)                 # (nimg, 4, 2)
    nxt = np.roll(c, -1, axis=1)
    # sides 2-4 lose their first point (it is the previous side's end),
    # except when each side is drawn on its own
    side = np.tile(np.arange(4), c.shape[0])
    arcs = _arcs(c[:, :, 0].ravel(), c[:, :, 1].ravel(), nxt[:, :, 0].ravel(),
                 nxt[:, :, 1].ravel(), step, (side != 0) & (not sides))
    arc_id = arcs[0][2]
    with np.errstate(invalid="ignore"):
        x0, y0 = _world_to_pixel(w, arcs, tan)
        x0, y0 = np.asarray(x0, float), np.asarray(y0, float)
        # mViewer's test is strict; for true positions points on the image
        # edge (within rounding) are kept so edges are not broken up
        tol = 1e-6 if split is True else 0.0
        keep = ((x0 >= -0.5 - tol) & (x0 <= o.nx - 0.5 + tol)
                & (y0 >= -0.5 - tol) & (y0 <= o.ny - 0.5 + tol))
    x, y = o.to_display(x0, y0)
    if sides:
        return _side_runs(x, y, keep, arc_id)
    ends = np.cumsum(np.bincount(arc_id // 4, minlength=c.shape[0]))[:-1]
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


def arc_runs(lon0, lat0, lon1, lat1, header, *, orient: Orientation | None = None
             ) -> list[np.ndarray]:
    """
    Draw great-circle arcs in a displayed image, each on its own, as mViewer.

    Each arc from (lon0, lat0) to (lon1, lat1) (J2000 degrees, the image's
    frame) is sampled every ``|CDELT2|/2`` degrees of the displayed image,
    end point included, and projected; points off the image are dropped and
    the arc's other points joined (``docs/montage-semantics.md`` §8.10).

    Parameters
    ----------
    lon0, lat0, lon1, lat1 : array_like
        The arcs' ends, degrees.
    header : astropy.io.fits.Header
        The displayed image.
    orient : Orientation, optional
        Precomputed `orientation` of ``header``.

    Returns
    -------
    list of ndarray
        (N, 2) arrays of displayed 0-based (x, y), one per arc with two
        points or more on the image, in the arcs' order.

    Examples
    --------
    >>> from astropy.io import fits
    >>> h = fits.Header({"NAXIS": 2, "NAXIS1": 20, "NAXIS2": 10,
    ...     "CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRVAL1": 10.0,
    ...     "CRVAL2": 0.0, "CRPIX1": 10.5, "CRPIX2": 5.5,
    ...     "CDELT1": -0.1, "CDELT2": 0.1})
    >>> (run,) = arc_runs([10.3], [0.0], [9.7], [0.0], h)
    >>> run[0].round(3).tolist(), run[-1].round(3).tolist(), len(run)
    ([6.5, 4.5], [12.5, 4.5], 12)
    """
    h = _header(header)
    tan = _header_tan(h)
    w = None if tan is not None else _wcs(h)
    o = orient if orient is not None else orientation(h)
    step = abs(_increments(h)[1]) * 0.5
    lon0, lat0, lon1, lat1 = (np.atleast_1d(np.asarray(v, float))
                              for v in (lon0, lat0, lon1, lat1))
    if not lon0.size:
        return []
    arcs = _arcs(lon0, lat0, lon1, lat1, step, np.zeros(lon0.size, bool))
    with np.errstate(invalid="ignore"):
        x0, y0 = (np.asarray(v, float) for v in _world_to_pixel(w, arcs, tan))
        keep = ((x0 >= -0.5) & (x0 <= o.nx - 0.5) & (y0 >= -0.5) & (y0 <= o.ny - 0.5))
    x, y = o.to_display(x0, y0)
    return _side_runs(x, y, keep, arcs[0][2])


def _side_runs(x, y, keep, arc_id):
    """
    Join the kept points of each side; one run per side with 2 points or more.

    mViewer draws each side of an outline as its own curve
    (``mViewer_great_circle``): points off the image are dropped and the
    side's other points joined, but nothing joins two sides.
    """
    idx = np.flatnonzero(keep)
    ids = arc_id.take(idx)
    breaks = np.flatnonzero(np.diff(ids)) + 1
    xy = np.column_stack([x.take(idx), y.take(idx)])
    return [run for run in np.split(xy, breaks) if len(run) >= 2]


def _outline(corners, w, o, step, split):
    return _outlines([corners], w, o, step, split)


def _table_corners(table) -> np.ndarray:
    """
    Return the (nrow, 4, 2) corners of an image table (Table or mapping of columns).

    Its ``ra1..dec4`` columns when it has all eight, else
    `diffview.geometry.footprints_from_table`'s.
    """
    if isinstance(table, (str, os.PathLike)):
        raise TypeError(f"image_outlines takes a table already read, not the file "
                        f"{os.fspath(table)!r}: use diffview.render.table_outlines "
                        "(or read it with diffview.io.read_table)")
    names = table.colnames if hasattr(table, "colnames") else list(table)
    cols = {c: table[c] for c in CORNER_COLUMNS if c in names}
    if len(cols) == len(CORNER_COLUMNS):
        return np.stack([np.asarray(cols[c], float) for c in CORNER_COLUMNS],
                        axis=-1).reshape(-1, 4, 2)
    if isinstance(table, Mapping) and not hasattr(table, "colnames"):
        missing = sorted(set(CORNER_COLUMNS) - set(cols))
        raise KeyError(f"image table columns lack {missing}")
    return np.array([fp.corners for fp in footprints_from_table(table)],
                    float).reshape(-1, 4, 2)


def image_outlines(table, wcs, *, rows=None, split=True) -> list[np.ndarray]:
    """
    Outlines of the images of an image table in a displayed image.

    Parameters
    ----------
    table : astropy.table.Table or mapping
        Image table (``images.tbl``, read) with corners ``ra1..dec4`` or WCS
        columns, or a mapping of the corner columns (`CORNER_COLUMNS`) to
        arrays. For a table file use `diffview.render.table_outlines`.
    wcs : astropy.io.fits.Header or astropy.wcs.WCS
        The displayed image (its header, or a WCS with ``pixel_shape``).
    rows : sequence of int, optional
        Row positions (0-based) to outline; default all.
    split : bool or "sides"
        See `footprint_outline`.

    Returns
    -------
    list of ndarray
        (N, 2) arrays of displayed 0-based (x, y), in row order (one per
        image unless an outline leaves the picture).

    Examples
    --------
    >>> from astropy.table import Table
    >>> from astropy.io import fits
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
    tan = None if _is_wcs(wcs) else _header_tan(h)
    w = None if tan is not None else wcs if _is_wcs(wcs) else _wcs(h)
    o = orientation(h)
    corners = _table_corners(table)
    if rows is not None:
        corners = corners[np.asarray(rows, dtype=np.intp).reshape(-1)]
    step = abs(_increments(h)[1]) * 0.5
    return _outlines(corners, w, o, step, split, tan)


def box_outline(bounds, shape=None, *, header=None) -> np.ndarray:
    """
    Make a closed rectangle around an overlap box, on pixel edges.

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
