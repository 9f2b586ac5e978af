"""
Footprints and overlaps: where images sit in the template grid and on the sky.

Pixel-grid rules follow Montage (``montage-semantics.md`` §1.1, §3.3, §5):
offsets of an image inside the template are ``CRPIX_template - CRPIX_image``
truncated toward zero, and image corners sit on the outer pixel edges.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from astropy.coordinates import SkyCoord
from astropy.wcs import WCS

from diffview.models import Overlap

__all__ = [
    "Footprint",
    "template_offset",
    "overlap_box",
    "footprints_from_table",
    "footprint_from_wcs",
    "find_overlaps",
    "diff_name",
]


def template_offset(template_crpix, image_crpix) -> tuple[int, int]:
    """
    Offset ``(ioff, joff)`` of an image's first pixel in the template grid.

    ``CRPIX_template - CRPIX_image``, truncated toward zero as Montage's C code
    stores it in an ``int`` (an offset of 2.5 becomes 2, -2.5 becomes -2).

    Examples
    --------
    >>> template_offset((100.5, 50.0), (10.5, 20.0))
    (90, 30)
    >>> template_offset((3.0, 3.0), (0.5, 5.5))
    (2, -2)
    """
    return (int(np.trunc(template_crpix[0] - image_crpix[0])),
            int(np.trunc(template_crpix[1] - image_crpix[1])))


def overlap_box(template_shape, offset1, shape1, offset2, shape2, *,
                montage_edges=False):
    """
    Intersection of two images in the template grid.

    Parameters
    ----------
    template_shape : tuple of int
        ``(NAXIS2, NAXIS1)`` of the template.
    offset1, offset2 : tuple of int
        ``(ioff, joff)`` of each image (see `template_offset`).
    shape1, shape2 : tuple of int
        ``(rows, columns)`` of each image.
    montage_edges : bool
        Reproduce Montage's mDiff, which never differences the last template
        column and row (it clips the overlap end to ``NAXIS - 1`` and uses it
        as exclusive). diffview includes them by default.

    Returns
    -------
    tuple or None
        ``((jstart, jend), (istart, iend))`` in 0-based template pixels, ends
        exclusive, or None when the images do not overlap.

    Examples
    --------
    >>> overlap_box((10, 20), (0, 0), (10, 12), (5, 2), (10, 15))
    ((2, 10), (5, 12))
    >>> overlap_box((10, 20), (0, 0), (10, 20), (5, 0), (10, 15),
    ...             montage_edges=True)
    ((0, 9), (5, 19))
    >>> overlap_box((10, 20), (0, 0), (4, 4), (4, 0), (4, 4)) is None
    True
    """
    edge = 1 if montage_edges else 0
    istart = max(offset1[0], offset2[0], 0)
    iend = min(offset1[0] + shape1[1], offset2[0] + shape2[1],
               template_shape[1] - edge)
    jstart = max(offset1[1], offset2[1], 0)
    jend = min(offset1[1] + shape1[0], offset2[1] + shape2[0],
               template_shape[0] - edge)
    if iend - istart <= 0 or jend - jstart <= 0:
        return None
    return (jstart, jend), (istart, iend)


def diff_name(cntr1: int, cntr2: int) -> str:
    """
    Montage's difference file name for a pair of ``cntr`` values.

    Examples
    --------
    >>> diff_name(3, 12)
    'diff.000003.000012.fits'
    """
    return f"diff.{cntr1:06d}.{cntr2:06d}.fits"


# --------------------------------------------------------------------------
# Sky footprints
# --------------------------------------------------------------------------


def _unit(ra, dec):
    ra, dec = np.radians(ra), np.radians(dec)
    return np.stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra),
                     np.sin(dec)], axis=-1)


@dataclass(frozen=True, eq=False)
class Footprint:
    """
    An image's outline on the sky, as Montage's mOverlaps models it.

    Parameters
    ----------
    cntr : int
        ``cntr`` of the image.
    fname : str
        File name from the image table.
    corners : numpy.ndarray
        ``(4, 2)`` array of (RA, Dec) in degrees, J2000, in polygon order.
    center : tuple of float
        (RA, Dec) of the centre.
    wcs : astropy.wcs.WCS or None
        The image's WCS, when known (exact mode needs it).
    shape : tuple of int or None
        ``(NAXIS2, NAXIS1)``.
    """

    cntr: int
    fname: str
    corners: np.ndarray
    center: tuple[float, float]
    wcs: WCS | None = None
    shape: tuple[int, int] | None = None

    @property
    def vectors(self) -> np.ndarray:
        """Unit vectors of the four corners, shape (4, 3)."""
        return _unit(self.corners[:, 0], self.corners[:, 1])

    @property
    def center_vector(self) -> np.ndarray:
        """Unit vector of the centre."""
        return _unit(*self.center)

    @property
    def radius(self) -> float:
        """Largest centre-to-corner angle, radians."""
        dots = np.clip(self.vectors @ self.center_vector, -1, 1)
        return float(np.arccos(dots).max())

    def normals(self) -> np.ndarray:
        """Edge normals ``c_i x c_{i+1}``, oriented so the centre is inside."""
        v = self.vectors
        n = np.cross(v, np.roll(v, -1, axis=0))
        sign = np.sign(n @ self.center_vector)
        sign[sign == 0] = 1
        return n * sign[:, None]


def _edge_corners(shape):
    n2, n1 = shape
    return np.array([[0.5, 0.5], [n1 + 0.5, 0.5], [n1 + 0.5, n2 + 0.5],
                     [0.5, n2 + 0.5]])


def _to_icrs(wcs: WCS, pix) -> np.ndarray:
    """Sky positions (RA, Dec in degrees, ICRS/J2000) of 1-based pixels."""
    world = wcs.pixel_to_world(pix[:, 0] - 1, pix[:, 1] - 1)
    if not isinstance(world, SkyCoord):  # pragma: no cover - non-celestial
        raise ValueError("WCS is not celestial")
    world = world.transform_to("icrs") if world.frame.name not in (
        "icrs", "fk5") else world
    return np.column_stack([world.spherical.lon.deg, world.spherical.lat.deg])


def footprint_from_wcs(wcs: WCS, shape, *, cntr=0, fname="", center=None
                       ) -> Footprint:
    """
    Footprint of an image from its WCS and shape, corners on pixel edges.

    Parameters
    ----------
    wcs : astropy.wcs.WCS
        Celestial WCS of the image.
    shape : tuple of int
        ``(NAXIS2, NAXIS1)``.
    cntr : int, optional
        Identifier stored in the footprint.
    fname : str, optional
        File name stored in the footprint.
    center : tuple of float, optional
        (RA, Dec) of the centre; default: pixel ``(NAXIS1/2, NAXIS2/2)`` as
        Montage uses.

    Examples
    --------
    >>> from astropy.wcs import WCS
    >>> w = WCS(naxis=2); w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    >>> w.wcs.crval = [10, 20]; w.wcs.cdelt = [-0.001, 0.001]
    >>> w.wcs.crpix = [5.5, 3.5]
    >>> fp = footprint_from_wcs(w, (6, 10))
    >>> fp.corners.shape
    (4, 2)
    """
    corners = _to_icrs(wcs, _edge_corners(shape))
    if center is None:
        center = tuple(_to_icrs(wcs, np.array([[shape[1] / 2, shape[0] / 2]]))[0])
    return Footprint(int(cntr), str(fname), corners, tuple(center), wcs,
                     tuple(shape))


def _wcs_from_row(row, names) -> WCS:
    w = WCS(naxis=2)
    w.wcs.ctype = [str(row["ctype1"]), str(row["ctype2"])]
    w.wcs.crval = [float(row["crval1"]), float(row["crval2"])]
    w.wcs.crpix = [float(row["crpix1"]), float(row["crpix2"])]
    if "cd1_1" in names:
        w.wcs.cd = [[float(row["cd1_1"]), float(row["cd1_2"])],
                    [float(row["cd2_1"]), float(row["cd2_2"])]]
    else:
        w.wcs.cdelt = [float(row["cdelt1"]), float(row["cdelt2"])]
        w.wcs.crota = [0.0, float(row["crota2"]) if "crota2" in names else 0.0]
    if "equinox" in names:
        try:
            w.wcs.equinox = float(row["equinox"])
        except (TypeError, ValueError):
            pass
    w.wcs.set()
    return w


def _row_shape(row, names):
    n1 = int(row["naxis1"] if "naxis1" in names else row["ns"])
    n2 = int(row["naxis2"] if "naxis2" in names else row["nl"])
    return n2, n1


_CORNER_COLS = [f"{c}{k}" for k in range(1, 5) for c in ("ra", "dec")]


def footprints_from_table(table, *, need_wcs=False) -> list[Footprint]:
    """
    Footprints of every row of an image table (``images.tbl``).

    Corners come from the ``ra1 .. dec4`` columns when all eight exist, as in
    Montage; otherwise from the WCS columns (``ctype1/2``, ``naxis1/2`` or
    ``ns/nl``, ``crval1/2``, ``crpix1/2`` and ``cdelt1/2`` + ``crota2`` or the
    CD matrix).

    Parameters
    ----------
    table : astropy.table.Table
        The image table, as returned by `diffview.io.read_table`.
    need_wcs : bool
        Also build each row's WCS (exact mode needs it).

    Returns
    -------
    list of Footprint
    """
    names = set(table.colnames)
    has_corners = set(_CORNER_COLS) <= names
    has_wcs = {"ctype1", "ctype2", "crval1", "crval2", "crpix1", "crpix2"} <= names
    fcol = "fname" if "fname" in names else ("file" if "file" in names else None)
    out = []
    for k, row in enumerate(table):
        cntr = int(row["cntr"]) if "cntr" in names else k
        fname = str(row[fcol]) if fcol else ""
        wcs = _wcs_from_row(row, names) if has_wcs and (need_wcs or not has_corners) else None
        shape = _row_shape(row, names) if wcs is not None else None
        if has_corners:
            corners = np.array([[float(row[f"ra{i}"]), float(row[f"dec{i}"])]
                                for i in range(1, 5)])
            if {"ra", "dec"} <= names:
                center = (float(row["ra"]), float(row["dec"]))
            else:
                center = tuple(_mean_direction(corners))
            out.append(Footprint(cntr, fname, corners, center, wcs, shape))
        elif wcs is not None:
            center = ((float(row["ra"]), float(row["dec"]))
                      if {"ra", "dec"} <= names else None)
            out.append(footprint_from_wcs(wcs, shape, cntr=cntr, fname=fname,
                                          center=center))
        else:
            raise ValueError("Not enough information to determine coverages "
                             "(CDELTs or CD matrix)")
    return out


def _mean_direction(corners):
    v = _unit(corners[:, 0], corners[:, 1]).sum(axis=0)
    v /= np.linalg.norm(v)
    return (float(np.degrees(np.arctan2(v[1], v[0])) % 360),
            float(np.degrees(np.arcsin(v[2]))))


# --------------------------------------------------------------------------
# Pair tests
# --------------------------------------------------------------------------


def _corner_inside(k: Footprint, l: Footprint) -> bool:
    """Some corner of k inside (or on the boundary of) l."""
    return bool(np.any(np.all(k.vectors @ l.normals().T >= 0, axis=1)))


def _on_arc(p, a, b, n) -> bool:
    return np.dot(np.cross(a, p), n) >= 0 and np.dot(np.cross(p, b), n) >= 0


def _arcs_cross(a1, a2, b1, b2) -> bool:
    na, nb = np.cross(a1, a2), np.cross(b1, b2)
    p = np.cross(na, nb)
    norm = np.linalg.norm(p)
    if norm < 1e-15:  # same great circle: left to the corner tests
        return False
    p = p / norm
    return any(_on_arc(q, a1, a2, na) and _on_arc(q, b1, b2, nb) for q in (p, -p))


def _edges_cross(k: Footprint, l: Footprint) -> bool:
    vk, vl = k.vectors, l.vectors
    for i in range(4):
        for j in range(4):
            if _arcs_cross(vk[i], vk[(i + 1) % 4], vl[j], vl[(j + 1) % 4]):
                return True
    return False


def _quick_overlap(k: Footprint, l: Footprint) -> bool:
    return _corner_inside(k, l) or _corner_inside(l, k) or _edges_cross(k, l)


def _border_points(shape) -> np.ndarray:
    n2, n1 = shape
    j = np.arange(n2 + 1) + 0.5
    i = np.arange(n1 + 1) + 0.5
    return np.concatenate([
        np.column_stack([np.full_like(j, 0.5), j]),
        np.column_stack([np.full_like(j, n1 + 0.5), j]),
        np.column_stack([i, np.full_like(i, 0.5)]),
        np.column_stack([i, np.full_like(i, n2 + 0.5)]),
    ])


def _border_hits(k: Footprint, l: Footprint) -> bool:
    """Some point of k's border within half a pixel of l (Montage exact mode)."""
    sky = k.wcs.pixel_to_world(*(_border_points(k.shape) - 1).T)
    x, y = l.wcs.world_to_pixel(sky)
    x, y = np.asarray(x) + 1, np.asarray(y) + 1
    n2, n1 = l.shape
    return bool(np.any((x >= 0) & (x <= n1 + 1) & (y >= 0) & (y <= n2 + 1)))


def _exact_overlap(k: Footprint, l: Footprint) -> bool:
    if k.wcs is None or l.wcs is None:
        raise ValueError("exact mode needs WCS columns in the image table")
    # Montage tests only k's border against l and so misses an image l lying
    # inside an earlier k; diffview tests both ways.
    return _border_hits(k, l) or _border_hits(l, k)


def _candidates(fps: Sequence[Footprint]):
    centers = np.array([f.center_vector for f in fps])
    radii = np.array([f.radius for f in fps])
    dist = np.arccos(np.clip(centers @ centers.T, -1, 1))
    ok = dist <= radii[:, None] + radii[None, :]
    k, l = np.nonzero(np.triu(ok, 1))
    return zip(k.tolist(), l.tolist(), strict=True)


def find_overlaps(images, *, mode="quick") -> list[Overlap]:
    """
    Pairs of images whose footprints overlap, in Montage's ``diffs.tbl`` order.

    Parameters
    ----------
    images : astropy.table.Table or sequence of Footprint
        An image table (``images.tbl``) or footprints, e.g. from
        `footprint_from_wcs`.
    mode : {'quick', 'exact'}
        ``'quick'`` is mOverlaps' great-circle test (corner inside the other
        image, or crossing edges) and gives Montage's pairs. ``'exact'`` walks
        each image's border through the other's WCS with half a pixel of
        tolerance, like ``mOverlaps -e``.

    Returns
    -------
    list of Overlap
        Pairs ``(k, l)`` with k before l in table order, named
        ``diff.%06d.%06d.fits`` from the ``cntr`` values.

    Notes
    -----
    Like Montage, the test is purely geometric: images that only touch are
    listed, and their differences then fail with "Images don't overlap" or
    "All pixels are blank.". Unlike Montage's exact mode, which misses an
    image lying wholly inside an earlier one, diffview's exact mode tests both
    borders and lists such pairs.

    Examples
    --------
    >>> from astropy.wcs import WCS
    >>> def tile(ra):
    ...     w = WCS(naxis=2); w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    ...     w.wcs.crval = [ra, 0]; w.wcs.cdelt = [-0.001, 0.001]
    ...     w.wcs.crpix = [50.5, 25.5]
    ...     return w
    >>> fps = [footprint_from_wcs(tile(ra), (50, 100), cntr=k, fname=f"t{k}.fits")
    ...        for k, ra in enumerate([10.0, 10.08, 10.3])]
    >>> [(o.cntr1, o.cntr2, o.diff) for o in find_overlaps(fps)]
    [(0, 1, 'diff.000000.000001.fits')]
    """
    if mode not in ("quick", "exact"):
        raise ValueError(f"mode must be 'quick' or 'exact', not {mode!r}")
    if not isinstance(images, (list, tuple)):
        images = footprints_from_table(images, need_wcs=(mode == "exact"))
    test = _quick_overlap if mode == "quick" else _exact_overlap
    pairs = sorted(_candidates(images))
    out = []
    for k, l in pairs:
        a, b = images[k], images[l]
        if test(a, b):
            out.append(Overlap(a.cntr, b.cntr, a.fname, b.fname,
                               diff_name(a.cntr, b.cntr)))
    return out
