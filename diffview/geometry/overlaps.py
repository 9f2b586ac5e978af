"""
Footprints and overlaps: where images sit on the sky, which pairs overlap.

Pixel-grid rules follow Montage (``docs/montage-semantics.md`` §1.1, §5):
image corners sit on the outer pixel edges, pixels ``(0.5, 0.5)`` to
``(NAXIS1 + 0.5, NAXIS2 + 0.5)`` in 1-based FITS pixels. Offsets and overlap
boxes in the template grid are `diffview.core.template_offset` and
`diffview.core.overlap_box`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from diffview.core import check_items
from diffview.errors import InputError
from diffview.models import Overlap

if TYPE_CHECKING:  # astropy.wcs and astropy.coordinates load on first use
    from astropy.wcs import WCS

from ._search import (
    candidate_pairs,
    edge_normals,
    footprint_radii,
    quick_overlaps,
    unit_vectors,
)

__all__ = [
    "CORNER_COLUMNS",
    "FOOTPRINT_COLUMNS",
    "Footprint",
    "footprints_from_table",
    "footprint_from_wcs",
    "find_overlaps",
    "diff_name",
]


def diff_name(cntr1: int, cntr2: int) -> str:
    """
    Montage's difference file name for a pair of ``cntr`` values.

    Parameters
    ----------
    cntr1, cntr2 : int
        ``cntr`` of the plus and the minus image.

    Returns
    -------
    str
        ``diff.%06d.%06d.fits``.

    Examples
    --------
    >>> diff_name(3, 12)
    'diff.000003.000012.fits'
    """
    return f"diff.{cntr1:06d}.{cntr2:06d}.fits"


# --------------------------------------------------------------------------
# Sky footprints
# --------------------------------------------------------------------------


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

    Examples
    --------
    >>> corners = np.array([[10.1, -0.1], [9.9, -0.1], [9.9, 0.1], [10.1, 0.1]])
    >>> fp = Footprint(0, "a.fits", corners, (10.0, 0.0))
    >>> round(float(np.degrees(fp.radius)), 4)
    0.1414
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
        return unit_vectors(self.corners[:, 0], self.corners[:, 1])

    @property
    def center_vector(self) -> np.ndarray:
        """Unit vector of the centre."""
        return unit_vectors(*self.center)

    @property
    def radius(self) -> float:
        """Largest centre-to-corner angle, radians."""
        return float(footprint_radii(self.vectors[None], self.center_vector[None])[0])

    def normals(self) -> np.ndarray:
        """
        Edge normals ``c_i x c_{i+1}``, oriented so the centre is inside.

        Returns
        -------
        numpy.ndarray
            ``(4, 3)``; a unit vector ``v`` is inside the footprint when
            ``normals() @ v >= 0`` for all four edges.
        """
        return edge_normals(self.vectors[None], self.center_vector[None])[0]


def _edge_corners(shape):
    n2, n1 = shape
    return np.array([[0.5, 0.5], [n1 + 0.5, 0.5], [n1 + 0.5, n2 + 0.5],
                     [0.5, n2 + 0.5]])


def _to_icrs(wcs: WCS, pix) -> np.ndarray:
    """Sky positions (RA, Dec in degrees, ICRS/J2000) of 1-based pixels."""
    from astropy.coordinates import SkyCoord

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

    Returns
    -------
    Footprint
        Corners at the outer pixel edges: 1-based pixels ``(0.5, 0.5)`` to
        ``(NAXIS1 + 0.5, NAXIS2 + 0.5)``, in ICRS.

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
    from astropy.wcs import WCS

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


#: An image table's corner columns, in drawing order.
CORNER_COLUMNS = tuple(name for k in range(1, 5) for name in (f"ra{k}", f"dec{k}"))

#: The image-table columns of mOverlaps' quick test on a table with corners:
#: all `find_overlaps` reads of it (``diffview.io.read_table_columns``).
FOOTPRINT_COLUMNS = ("cntr", "fname", "file", "ra", "dec", *CORNER_COLUMNS)


def _colnames(table) -> list[str]:
    """Column names of an astropy Table or of a mapping of columns."""
    return list(table.colnames if hasattr(table, "colnames") else table)


def _nrows(table) -> int:
    if hasattr(table, "colnames"):
        return len(table)
    return len(next(iter(table.values()), ()))


def _as_table(table):
    """Return an astropy Table of a mapping of columns (a Table as it is)."""
    if hasattr(table, "colnames"):
        return table
    from astropy.table import Table

    return Table(dict(table))


def footprints_from_table(table, *, need_wcs=False) -> list[Footprint]:
    """
    Footprints of every row of an image table (``images.tbl``).

    Corners come from the ``ra1 .. dec4`` columns when all eight exist, as in
    Montage; otherwise from the WCS columns (``ctype1/2``, ``naxis1/2`` or
    ``ns/nl``, ``crval1/2``, ``crpix1/2`` and ``cdelt1/2`` + ``crota2`` or the
    CD matrix).

    Parameters
    ----------
    table : astropy.table.Table or mapping
        The image table, as returned by `diffview.io.read_table`, or its
        columns as `diffview.io.read_table_columns` returns them.
    need_wcs : bool
        Also build each row's WCS (exact mode needs it).

    Returns
    -------
    list of Footprint
        One per row, in table order.

    Raises
    ------
    InputError
        Neither corner columns nor a usable WCS (a `ValueError` too).

    Examples
    --------
    >>> from astropy.table import Table
    >>> t = Table({"cntr": [7], "fname": ["a.fits"], "ctype1": ["RA---TAN"],
    ...            "ctype2": ["DEC--TAN"], "ns": [10], "nl": [6],
    ...            "crval1": [10.0], "crval2": [20.0], "crpix1": [5.5],
    ...            "crpix2": [3.5], "cdelt1": [-0.001], "cdelt2": [0.001]})
    >>> [(fp.cntr, fp.fname, fp.shape) for fp in footprints_from_table(t)]
    [(7, 'a.fits', (6, 10))]
    """
    table = _as_table(table)
    names = set(table.colnames)
    has_corners = set(CORNER_COLUMNS) <= names
    has_wcs = {"ctype1", "ctype2", "crval1", "crval2", "crpix1", "crpix2"} <= names
    if len(table) and not (has_corners or has_wcs):
        raise InputError("Not enough information to determine coverages "
                         "(CDELTs or CD matrix)")
    cntrs, fnames = _cntrs(table), _fnames(table)
    if has_corners:
        corners, centers = _corner_arrays(table)
    want_wcs = has_wcs and (need_wcs or not has_corners)
    out = []
    for k in range(len(table)):
        wcs = shape = None
        if want_wcs:
            row = table[k]
            wcs, shape = _wcs_from_row(row, names), _row_shape(row, names)
        if has_corners:
            out.append(Footprint(cntrs[k], fnames[k], corners[k],
                                 tuple(centers[k].tolist()), wcs, shape))
        else:
            center = ((float(row["ra"]), float(row["dec"]))
                      if {"ra", "dec"} <= names else None)
            out.append(footprint_from_wcs(wcs, shape, cntr=cntrs[k],
                                          fname=fnames[k], center=center))
    return out


def _cntrs(table) -> list[int]:
    """Return the ``cntr`` of every row (the row number without a ``cntr`` column)."""
    if "cntr" not in _colnames(table):
        return list(range(_nrows(table)))
    col = np.asarray(table["cntr"])
    if col.dtype.kind in "iub":
        return col.astype(np.int64).tolist()
    try:
        return [int(v) for v in col.tolist()]
    except (TypeError, ValueError, OverflowError):
        raise InputError("column 'cntr' holds a value that is not an integer "
                         "(a blank, NaN or text)") from None


def _fnames(table) -> list[str]:
    names = _colnames(table)
    fcol = "fname" if "fname" in names else ("file" if "file" in names else None)
    if fcol is None:
        return [""] * _nrows(table)
    return [str(v) for v in table[fcol].tolist()]


def _corner_arrays(table) -> tuple[np.ndarray, np.ndarray]:
    """
    Return corners ``(n, 4, 2)`` and centres ``(n, 2)`` of a table.

    Corners from ``ra1 .. dec4``, centres from ``ra, dec`` or else the
    corners' mean direction.
    """

    def col(name):
        return np.asarray(table[name], dtype=float)

    corners = np.stack([np.column_stack([col(f"ra{i}"), col(f"dec{i}")])
                        for i in range(1, 5)], axis=1).reshape(-1, 4, 2)
    if {"ra", "dec"} <= set(_colnames(table)):
        return corners, np.column_stack([col("ra"), col("dec")])
    return corners, _mean_directions(corners)


def _mean_directions(corners) -> np.ndarray:
    v = unit_vectors(corners[..., 0], corners[..., 1]).sum(axis=1)
    v /= np.sqrt((v * v).sum(axis=1))[:, None]
    return np.column_stack([np.degrees(np.arctan2(v[:, 1], v[:, 0])) % 360,
                            np.degrees(np.arcsin(v[:, 2]))])


# --------------------------------------------------------------------------
# Pair tests
# --------------------------------------------------------------------------


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


def _border_hits(k: Footprint, m: Footprint) -> bool:
    """Tell whether k's border comes within half a pixel of m (exact mode)."""
    sky = k.wcs.pixel_to_world(*(_border_points(k.shape) - 1).T)
    x, y = m.wcs.world_to_pixel(sky)
    x, y = np.asarray(x) + 1, np.asarray(y) + 1
    n2, n1 = m.shape
    return bool(np.any((x >= 0) & (x <= n1 + 1) & (y >= 0) & (y <= n2 + 1)))


def _exact_overlap(k: Footprint, m: Footprint) -> bool:
    if k.wcs is None or m.wcs is None:
        raise ValueError("exact mode needs WCS columns in the image table")
    # Montage tests only k's border against m and so misses an image m lying
    # inside an earlier k; diffview tests both ways.
    return _border_hits(k, m) or _border_hits(m, k)


def find_overlaps(images, *, mode="quick") -> list[Overlap]:
    """
    Pairs of images whose footprints overlap, in Montage's ``diffs.tbl`` order.

    Parameters
    ----------
    images : astropy.table.Table, mapping or sequence of Footprint
        An image table (``images.tbl``), its columns as a mapping (with
        corners, `FOOTPRINT_COLUMNS` are enough: see
        `diffview.io.read_table_columns`) or footprints, e.g. from
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

    Raises
    ------
    diffview.InputError
        An unknown ``mode``, or ``images`` neither a table nor a list of
        `Footprint`.

    Notes
    -----
    Like Montage, the test is purely geometric: images that only touch are
    listed, and their differences then fail with "Images don't overlap" or
    "All pixels are blank.". Unlike Montage's exact mode, which misses an
    image lying wholly inside an earlier one, diffview's exact mode tests both
    borders and lists such pairs.

    mOverlaps compares every pair of images; here only the pairs a grid of
    the centres' unit vectors puts near each other are tested, with the same
    tests and bounding circles, so the pairs and their order are Montage's
    and time grows with the number of images, not its square. Whether two
    images whose edges exactly coincide "touch" is decided by rounding, here
    as in Montage, and the two may differ on such zero-area pairs.

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
        raise InputError(f"mode must be 'quick' or 'exact', not {mode!r}")
    if isinstance(images, (list, tuple)):
        images = check_items(images, Footprint, "images")
        cntrs, fnames = [f.cntr for f in images], [f.fname for f in images]
        corners = np.array([f.corners for f in images], float).reshape(-1, 4, 2)
        centers = np.array([f.center for f in images], float).reshape(-1, 2)
    elif not (hasattr(images, "colnames") or isinstance(images, dict)):
        raise InputError(
            f"images: expected an image table (diffview.io.read_table('images.tbl'))"
            f" or a list of Footprint, got {type(images).__name__}"
        )
    elif mode == "quick" and set(CORNER_COLUMNS) <= set(_colnames(images)):
        cntrs, fnames = _cntrs(images), _fnames(images)
        corners, centers = _corner_arrays(images)
    else:
        return find_overlaps(footprints_from_table(images, need_wcs=mode == "exact"),
                             mode=mode)
    vectors = unit_vectors(corners[..., 0], corners[..., 1])
    cvec = unit_vectors(centers[:, 0], centers[:, 1])
    k, m = candidate_pairs(cvec, footprint_radii(vectors, cvec))
    if mode == "quick":
        keep = quick_overlaps(vectors, edge_normals(vectors, cvec), k, m)
    else:
        keep = np.array([_exact_overlap(images[a], images[b])
                         for a, b in zip(k.tolist(), m.tolist(), strict=True)], bool)
    digits = [f"{c:06d}" for c in cntrs]  # diff_name's, once per image
    return [Overlap(cntrs[a], cntrs[b], fnames[a], fnames[b],
                    f"diff.{digits[a]}.{digits[b]}.fits")
            for a, b in zip(k[keep].tolist(), m[keep].tolist(), strict=True)]
