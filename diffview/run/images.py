"""
The Python-object front door: arrays + WCS in, `Difference` objects out.

Accepts what astronomers already hold: ``(array, WCS)`` or ``(array, Header)``
pairs, reproject outputs ``(array, footprint, WCS)``, HDUs, or file names of
Montage projected images (``X.fits`` + ``X_area.fits``). All images must be on
one pixel grid (same projection, reference point and scale), as reproject or
mProjExec leave them; they may differ in size and integer CRPIX offsets.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

from diffview import io
from diffview.core import check_index, check_items, image_array, pixel_pair
from diffview.core import difference_on_grid as _difference
from diffview.errors import DiffviewError, InputError, PairError
from diffview.geometry.overlaps import find_overlaps, footprint_from_wcs
from diffview.io.paths import area_name
from diffview.models import Difference, Overlap

from ._pairs import _full_edges

__all__ = [
    "ProjectedImage",
    "as_projected",
    "common_grid",
    "image_overlaps",
    "difference",
    "differences",
]


@dataclass(frozen=True, eq=False)
class ProjectedImage:
    """
    One image on the mosaic grid.

    Parameters
    ----------
    data : numpy.ndarray
        Pixel values; NaN or inf where blank.
    area : numpy.ndarray
        Pixel areas or coverage weights (reproject's footprint works); <= 0
        where blank.
    wcs : astropy.wcs.WCS
        Celestial WCS of ``data``.
    name : str
        A label (file name for files).

    Examples
    --------
    >>> w = WCS(naxis=2); w.wcs.crpix = [3.0, 1.5]
    >>> im = ProjectedImage(np.zeros((2, 4)), np.ones((2, 4)), w, "a")
    >>> im.crpix, im.data.shape
    ((3.0, 1.5), (2, 4))
    """

    data: np.ndarray
    area: np.ndarray
    wcs: WCS
    name: str = ""

    @property
    def crpix(self) -> tuple[float, float]:
        """``(CRPIX1, CRPIX2)`` of the WCS, FITS 1-based (tuple of float)."""
        return tuple(float(c) for c in self.wcs.wcs.crpix)


def _wcs(obj) -> WCS:
    if isinstance(obj, WCS):
        return obj
    if isinstance(obj, fits.Header):
        return WCS(obj)
    raise InputError(f"expected a WCS or a FITS Header, got {type(obj).__name__}")


def _from_file(path: str) -> ProjectedImage:
    # pixels as Montage reads them: float64, BSCALE/BZERO applied, BLANK NaN
    try:
        data, header = io.read_image(path)
        wcs = WCS(header, naxis=2)
        area = (
            io.read_image(area_name(path))[0]
            if os.path.exists(area_name(path))
            else np.ones(data.shape)
        )
    except (DiffviewError, ValueError, AttributeError) as exc:
        raise InputError(f"Image file {path} missing or invalid FITS") from exc
    return ProjectedImage(data, area, wcs, str(path))


def as_projected(obj, *, name="") -> ProjectedImage:
    """
    Turn a file name, HDU or tuple into a `ProjectedImage`.

    Accepted: ``ProjectedImage``; a file name (its ``_area.fits`` is used when
    present); an ``ImageHDU``/``PrimaryHDU``; ``(array, wcs_or_header)``
    (areas 1 where the data are finite); ``(array, area_or_footprint,
    wcs_or_header)`` such as reproject's ``(array, footprint)`` with the
    target WCS.

    Parameters
    ----------
    obj : object
        One of the forms above.
    name : str
        Label of the image (kept by file names as their path).

    Returns
    -------
    ProjectedImage
        Data and areas as float64, and the celestial WCS.

    Raises
    ------
    diffview.InputError
        An unreadable file, an array that is not 2-D numbers, mismatched
        shapes, a missing WCS or an unsupported object.

    Examples
    --------
    >>> w = WCS(naxis=2); w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    >>> im = as_projected((np.ones((3, 4)), w))
    >>> im.area.shape, im.crpix
    ((3, 4), (0.0, 0.0))
    """
    if isinstance(obj, ProjectedImage):
        return obj
    if isinstance(obj, (str, os.PathLike)):
        return _from_file(str(obj))
    label = name or "image"
    if isinstance(obj, (fits.PrimaryHDU, fits.ImageHDU)):
        data = image_array(obj.data, f"{label} (HDU data)")
        return ProjectedImage(data, np.ones(data.shape), WCS(obj.header), name)
    if isinstance(obj, tuple) and len(obj) in (2, 3):
        data = image_array(obj[0], f"{label} data")
        area = (
            np.ones(data.shape)
            if len(obj) == 2
            else image_array(obj[1], f"{label} area")
        )
        if area.shape != data.shape:
            raise InputError(
                f"{name or 'image'}: area shape {area.shape} does not "
                f"match data shape {data.shape}"
            )
        return ProjectedImage(data, area, _wcs(obj[-1]), name)
    raise InputError(
        f"cannot use a {type(obj).__name__} as an image: give a file "
        "name, an HDU, (array, wcs) or (array, footprint, wcs)"
    )


def _template(template) -> tuple[tuple[int, int], tuple[float, float]]:
    """Check a ``(shape, crpix)`` template argument."""
    try:
        shape, crpix = template
        rows, cols = (int(n) for n in shape)
        ok = rows > 0 and cols > 0 and all(float(n) == int(n) for n in shape)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise InputError(
            "template: expected ((rows, columns), (crpix1, crpix2)), got "
            f"{template!r}"
        )
    return (rows, cols), pixel_pair(crpix, "template crpix")


def _grid_key(wcs: WCS):
    w = wcs.wcs
    return (
        tuple(w.ctype),
        tuple(np.round(w.crval, 10)),
        tuple(np.round(wcs.pixel_scale_matrix.ravel(), 14)),
    )


def common_grid(images) -> tuple[tuple[int, int], tuple[float, float]]:
    """
    Find the smallest template grid holding every image: ``(shape, crpix)``.

    Raises `InputError` when the images are not on one grid (different
    projection, reference or scale, or non-integer CRPIX offsets, which would
    silently mis-register pixels).

    Parameters
    ----------
    images : sequence of ProjectedImage
        The images.

    Returns
    -------
    shape : tuple of int
        ``(rows, columns)`` of the grid.
    crpix : tuple of float
        ``(CRPIX1, CRPIX2)`` of the grid: the largest of the images'.

    Examples
    --------
    >>> w1 = WCS(naxis=2); w1.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    >>> w1.wcs.cdelt = [-1e-3, 1e-3]; w1.wcs.crpix = [1, 1]
    >>> w2 = w1.deepcopy(); w2.wcs.crpix = [-4, 1]
    >>> a = as_projected((np.ones((3, 6)), w1)); b = as_projected((np.ones((3, 6)), w2))
    >>> common_grid([a, b])
    ((3, 11), (1.0, 1.0))
    """
    keys = {_grid_key(im.wcs) for im in images}
    if len(keys) > 1:
        raise InputError(
            "images are not on one pixel grid (projection, reference "
            "point or scale differ): reproject them onto a common "
            "template first"
        )
    crpix = np.array([im.crpix for im in images])
    offsets = crpix.max(axis=0) - crpix
    if np.any(np.abs(offsets - np.round(offsets)) > 1e-6):
        bad = [
            im.name or str(k)
            for k, im in enumerate(images)
            if np.any(np.abs(offsets[k] - np.round(offsets[k])) > 1e-6)
        ]
        raise InputError(
            f"non-integer CRPIX offsets for {', '.join(bad)}: the "
            "images are not aligned on one pixel grid"
        )
    ends = np.array(
        [
            (off[1] + im.data.shape[0], off[0] + im.data.shape[1])
            for off, im in zip(np.round(offsets).astype(int), images, strict=True)
        ]
    )
    shape = tuple(int(v) for v in ends.max(axis=0))
    return shape, tuple(float(c) for c in crpix.max(axis=0))


def image_overlaps(images, *, mode="quick") -> list[Overlap]:
    """
    Overlapping pairs of in-memory images (mOverlaps on their WCS).

    ``cntr`` values are the positions in ``images``.

    Parameters
    ----------
    images : sequence
        Anything `as_projected` accepts, one per image.
    mode : str
        ``"quick"`` or ``"exact"``, as in `diffview.geometry.find_overlaps`.

    Returns
    -------
    list of Overlap
        The pairs whose footprints overlap (or touch), named ``imageK``
        unless the images have names.

    Examples
    --------
    >>> w = WCS(naxis=2); w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    >>> w.wcs.cdelt = [-1e-3, 1e-3]; w.wcs.crpix = [1, 1]
    >>> w2 = w.deepcopy(); w2.wcs.crpix = [-2, 1]
    >>> [(o.cntr1, o.cntr2) for o in image_overlaps([(np.ones((4, 5)), w),
    ...                                                (np.ones((4, 5)), w2)])]
    [(0, 1)]
    """
    ims = [as_projected(im) for im in images]
    fps = [
        footprint_from_wcs(
            im.wcs.celestial, im.data.shape, cntr=k, fname=im.name or f"image{k}"
        )
        for k, im in enumerate(ims)
    ]
    return find_overlaps(fps, mode=mode)


def difference(
    plus, minus, *, template=None, no_areas=False, factor=1.0, full_edges=False,
    montage_edges=None,
) -> Difference:
    """
    Difference of two images on one grid (mDiff for Python objects).

    Parameters
    ----------
    plus, minus : object
        Anything `as_projected` accepts.
    template : tuple, optional
        ``(shape, crpix)`` of the mosaic grid; default: `common_grid`.
    no_areas, factor, full_edges
        As in `diffview.core.difference_on_grid`: by default Montage's box,
        which leaves out the grid's last column and row; ``full_edges=True``
        keeps them (with the default `common_grid`, which ends at the last
        image pixel, they are real overlap).
    montage_edges : bool, optional
        Deprecated: ``montage_edges=False`` is ``full_edges=True``.

    Returns
    -------
    Difference

    Examples
    --------
    >>> w = WCS(naxis=2); w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    >>> w.wcs.cdelt = [-1e-3, 1e-3]; w.wcs.crpix = [1, 1]
    >>> w2 = w.deepcopy(); w2.wcs.crpix = [-2, 1]
    >>> d = difference((np.full((4, 5), 3.0), w), (np.ones((4, 5)), w2))
    >>> d.shape, float(d.array.mean())
    ((3, 2), 2.0)
    >>> difference((np.full((4, 5), 3.0), w), (np.ones((4, 5)), w2),
    ...            full_edges=True).shape
    (4, 2)
    """
    a, b = as_projected(plus, name="plus"), as_projected(minus, name="minus")
    shape, crpix = _template(template) if template is not None else common_grid([a, b])
    return _difference(
        (a.data, a.area, a.crpix),
        (b.data, b.area, b.crpix),
        shape,
        crpix,
        no_areas=no_areas,
        factor=factor,
        full_edges=_full_edges(full_edges, montage_edges),
    )


def differences(images, overlaps=None, *, no_areas=False, full_edges=False,
                montage_edges=None):
    """
    Differences of every overlapping pair of in-memory images.

    Parameters
    ----------
    images : sequence
        Anything `as_projected` accepts, one per image.
    overlaps : list of Overlap, optional
        Pairs to difference (``cntr`` = position in ``images``); default:
        `image_overlaps`.
    no_areas, full_edges
        As in `difference`.
    montage_edges : bool, optional
        Deprecated: ``montage_edges=False`` is ``full_edges=True``.

    Returns
    -------
    results : dict
        ``{(cntr1, cntr2): Difference}`` for the pairs that succeeded.
    failures : dict
        ``{(cntr1, cntr2): message}`` for the others (e.g. images that only
        touch).

    Raises
    ------
    diffview.InputError
        An image `as_projected` refuses, images not on one grid, or an
        overlap whose ``cntr1``/``cntr2`` is not a position in ``images``
        (``-1`` is refused, never the last image).

    Examples
    --------
    >>> w = WCS(naxis=2); w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    >>> w.wcs.cdelt = [-1e-3, 1e-3]; w.wcs.crpix = [1, 1]
    >>> w2 = w.deepcopy(); w2.wcs.crpix = [-2, 1]
    >>> ok, bad = differences([(np.ones((4, 5)), w), (np.ones((4, 5)), w2)])
    >>> list(ok), bad
    ([(0, 1)], {})
    """
    full_edges = _full_edges(full_edges, montage_edges)
    if images is None or isinstance(images, (str, bytes)) or not hasattr(
        images, "__iter__"
    ):
        raise InputError(
            f"images: expected a list of images, got {type(images).__name__}"
        )
    ims = [as_projected(im, name=f"image{k}") for k, im in enumerate(images)]
    if overlaps is not None:
        overlaps = check_items(overlaps, Overlap, "overlaps")
        for ov in overlaps:
            check_index(ov.cntr1, len(ims), "cntr1")
            check_index(ov.cntr2, len(ims), "cntr2")
    if not ims:
        return {}, {}
    grid = common_grid(ims)
    overlaps = image_overlaps(ims) if overlaps is None else overlaps
    results, failures = {}, {}
    for ov in overlaps:
        key = (ov.cntr1, ov.cntr2)
        try:
            d = difference(
                ims[ov.cntr1],
                ims[ov.cntr2],
                template=grid,
                no_areas=no_areas,
                full_edges=full_edges,
            )
            results[key] = Difference(d.array, d.area, d.crpix, d.bounds, *key, d.stats)
        except PairError as exc:
            failures[key] = str(exc)
    return results, failures
