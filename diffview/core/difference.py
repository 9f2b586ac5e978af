"""
The difference of two projected images over their overlap (Montage's mDiff).

Arrays in, a `~diffview.models.Difference` out; no files. The per-pixel
rule runs in numpy until the compiled loop (``mdiff`` of
``diffview.core.kernels("diff")``) pays for its loading (`diffview.core.use_compiled`),
and in the loop after, with the same bits. Images sit on a common template
grid (see `diffview.core.grid`); boxes are ``((jstart, jend), (istart,
iend))`` in 0-based template pixels, ends exclusive. The pixel rules are
Montage's (``docs/montage-semantics.md`` §3.4):

* a pixel is blank when its value is NaN or +-inf or its area is <= 0;
* value ``2 (v1 a1 - f v2 a2) / (a1 + a2)``, area ``a1 + a2``;
* the area-consistency filter drops pixels whose ``a1 + a2`` differs from
  ``mean(a1) + mean(a2)`` by more than 33.3 %, with Montage's means (image 1
  over all its valid pixels in the box, image 2 over the common pixels);
* the result is cropped to the bounding box of the valid pixels.
"""

from __future__ import annotations

import numpy as np

from diffview.errors import PairError
from diffview.models import Difference

from . import _mdiff as _numpy_rule
from ._loader import kernels, use_compiled
from .grid import _full_edges, overlap_box, template_offset

__all__ = ["AREA_TOLERANCE", "difference_arrays", "difference_on_grid",
           "difference_in_box"]

#: Montage's area-consistency threshold (mDiff since module version 2.7).
AREA_TOLERANCE = 0.333

#: Seconds per pixel numpy's rule spends beyond the compiled loop (~50 ns): a
#: process differences about ``LOAD_SECONDS / 50 ns`` (10 million) pixels
#: with numpy before loading the loop pays (a CLI run on a few hundred pairs,
#: every mDiff call stay in numpy; big jobs and warm sessions use the loop).
DIFF_SECONDS_PER_PIXEL = 50e-9


def difference_arrays(v1, a1, v2, a2, *, factor=1.0):
    """
    Pixel arithmetic of mDiff on two co-registered boxes.

    Parameters
    ----------
    v1, a1, v2, a2 : numpy.ndarray
        Values and areas of image 1 and image 2 over the same template box
        (same shape). Use ``np.ones`` areas for Montage's no-areas mode.
    factor : float
        Scale applied to image 2 before subtracting (0 means 1, as in mDiff).

    Returns
    -------
    value, area, keep : numpy.ndarray
        ``2 (v1 a1 - f v2 a2) / (a1 + a2)`` (NaN where dropped), ``a1 + a2``
        (0 where dropped) and the boolean mask of kept pixels.

    Examples
    --------
    >>> v, a, keep = difference_arrays(np.array([[3.0]]), np.array([[0.3]]),
    ...                                np.array([[1.0]]), np.array([[1.0]]))
    >>> float(np.round(v[0, 0], 4)), bool(keep[0, 0])
    (-0.1538, True)
    """
    value, area, _ = _mdiff(v1, a1, v2, a2, factor)
    return value, area, area > 0


def _mdiff(v1, a1, v2, a2, factor):
    """Run the compiled ``mdiff`` on any array-likes.

    Returns value, area and the kernel's counts, bounds and extremes.
    """
    factor = 1.0 if factor == 0 else float(factor)
    # the kernel takes writable float64 arrays (read-only ones are copied)
    v1, a1, v2, a2 = (np.require(x, np.float64, ["W"]) for x in (v1, a1, v2, a2))
    value, area = np.empty(v1.shape), np.empty(v1.shape)
    out = _pixel_rule(v1.size)(v1, a1, v2, a2, factor, AREA_TOLERANCE, value, area)
    return value, area, out


def _pixel_rule(pixels: int):
    """Choose the compiled loop once loaded or worth loading, numpy before."""
    if use_compiled(pixels * DIFF_SECONDS_PER_PIXEL, "diff"):
        return kernels("diff").mdiff
    return _numpy_rule.numpy_mdiff


def _crop(value, area, kept, box, template_crpix):
    """Cut the kernel's output to its kept rows and columns."""
    count, r0, r1, c0, c1 = kept
    if count == 0:
        raise PairError("All pixels are blank.")
    (j0, _), (i0, _) = box
    crpix = (float(template_crpix[0] - (i0 + c0)),
             float(template_crpix[1] - (j0 + r0)))
    bounds = ((int(j0 + r0), int(j0 + r1)), (int(i0 + c0), int(i0 + c1)))
    return value[r0:r1, c0:c1], area[r0:r1, c0:c1], crpix, bounds


def _box_slices(box, offset):
    (j0, j1), (i0, i1) = box
    return (slice(j0 - offset[1], j1 - offset[1]),
            slice(i0 - offset[0], i1 - offset[0]))


def _as_pair(image):
    if len(image) == 3:
        data, area, crpix = image
    else:
        (data, crpix), area = image, None
    data = np.asarray(data)
    area = np.ones(data.shape) if area is None else np.asarray(area)
    return data, area, crpix


def difference_on_grid(plus, minus, template_shape, template_crpix, *,
                       no_areas=False, factor=1.0, full_edges=False,
                       ids=(None, None), montage_edges=None) -> Difference:
    """
    Difference of two projected images on a common template (mDiff).

    Parameters
    ----------
    plus, minus : tuple
        ``(data, area, (CRPIX1, CRPIX2))`` or ``(data, (CRPIX1, CRPIX2))``
        (areas 1) for each image; CRPIX is the image's FITS header value
        relative to the same template grid.
    template_shape : tuple of int
        ``(NAXIS2, NAXIS1)`` of the template.
    template_crpix : tuple of float
        ``(CRPIX1, CRPIX2)`` of the template.
    no_areas : bool
        Montage's ``-n``: every area is 1, so the output is ``v1 - f v2`` and
        the output area 2.
    factor : float
        Scale applied to ``minus`` before subtracting.
    full_edges : bool
        Also difference the last template column and row, which Montage's
        mDiff never does (see `overlap_box`). Default: Montage's boxes.
    ids : tuple
        ``(cntr1, cntr2)`` stored in the result.
    montage_edges : bool, optional
        Deprecated: ``montage_edges=False`` is ``full_edges=True``.

    Returns
    -------
    Difference
        Cropped to the bounding box of valid pixels, with ``crpix`` (the
        difference's 1-based ``(CRPIX1, CRPIX2)``) and ``bounds``
        (``((jmin, jmax), (imin, imax))``, 0-based template pixels, max
        exclusive).

    Raises
    ------
    diffview.PairError
        ``"Images don't overlap"`` or ``"All pixels are blank."``.

    Notes
    -----
    As Montage's mDiff, the overlap end is clipped to ``NAXIS - 1`` and then
    treated as exclusive, so the last template column and row are not
    differenced (``docs/montage-semantics.md`` §3.3); ``full_edges=True``
    includes them.

    Examples
    --------
    >>> one = (np.full((4, 6), 5.0), (1.0, 1.0))
    >>> two = (np.full((4, 6), 3.0), (-1.0, 1.0))
    >>> d = difference_on_grid(one, two, (4, 10), (1.0, 1.0))
    >>> d.shape, float(d.array[0, 0]), d.crpix, d.bounds
    ((3, 4), 2.0, (-1.0, 1.0), ((0, 3), (2, 6)))
    >>> difference_on_grid(one, two, (4, 10), (1.0, 1.0), full_edges=True).shape
    (4, 4)
    """
    d1, a1, c1 = _as_pair(plus)
    d2, a2, c2 = _as_pair(minus)
    off1 = template_offset(template_crpix, c1)
    off2 = template_offset(template_crpix, c2)
    box = overlap_box(template_shape, off1, d1.shape, off2, d2.shape,
                      full_edges=_full_edges(full_edges, montage_edges))
    if box is None:
        raise PairError("Images don't overlap")
    s1, s2 = _box_slices(box, off1), _box_slices(box, off2)
    return difference_in_box(d1[s1], a1[s1], d2[s2], a2[s2], box, template_crpix,
                             no_areas=no_areas, factor=factor, ids=ids)


def difference_in_box(v1, a1, v2, a2, box, template_crpix, *, no_areas=False,
                      factor=1.0, ids=(None, None)) -> Difference:
    """
    Difference two boxes already cut to the overlap ``box`` (mDiff).

    This is the step the file pipeline uses after reading only the overlap
    box of each image.

    Parameters
    ----------
    v1, a1, v2, a2 : numpy.ndarray
        Values and areas of the two images over ``box`` (same shape).
    box : tuple
        ``((jstart, jend), (istart, iend))``: the cut in 0-based template
        pixels, ends exclusive (see `overlap_box`).
    template_crpix : tuple of float
        ``(CRPIX1, CRPIX2)`` of the template.
    no_areas, factor, ids : optional
        As in `difference_on_grid`.

    Returns
    -------
    Difference
        As from `difference_on_grid`.

    Raises
    ------
    diffview.PairError
        ``"All pixels are blank."``.

    Examples
    --------
    >>> ones = np.ones((2, 3))
    >>> d = difference_in_box(3 * ones, ones, ones, ones, ((5, 7), (1, 4)),
    ...                       (10.0, 20.0))
    >>> float(d.array.mean()), d.crpix
    (2.0, (9.0, 15.0))
    """
    if no_areas:
        a1 = a2 = np.ones(np.shape(v1))
    value, area, out = _mdiff(v1, a1, v2, a2, factor)
    value, area, crpix, bounds = _crop(value, area, out[:5], box, template_crpix)
    keys = ("min_pixel", "max_pixel", "min_diff", "max_diff")
    stats = {k: float(v) for k, v in zip(keys, out[5:], strict=True)}
    return Difference(value, area, crpix, bounds, ids[0], ids[1], stats)
