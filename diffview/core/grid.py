"""
Where images sit in the template grid: offsets and overlap boxes.

Pure integer arithmetic on Montage's pixel-grid rules
(``docs/montage-semantics.md`` §1.1, §3.3): an image's offset inside the
template is ``CRPIX_template - CRPIX_image`` truncated toward zero, and boxes
are ``((jstart, jend), (istart, iend))`` in 0-based template pixels (rows
first), ends exclusive.
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["template_offset", "overlap_box"]


def template_offset(template_crpix, image_crpix) -> tuple[int, int]:
    """
    Offset ``(ioff, joff)`` of an image's first pixel in the template grid.

    ``CRPIX_template - CRPIX_image``, truncated toward zero as Montage's C code
    stores it in an ``int`` (an offset of 2.5 becomes 2, -2.5 becomes -2).

    Parameters
    ----------
    template_crpix : tuple of float
        ``(CRPIX1, CRPIX2)`` of the template.
    image_crpix : tuple of float
        ``(CRPIX1, CRPIX2)`` of the image, on the template's projection.

    Returns
    -------
    tuple of int
        ``(ioff, joff)``: the template column and row of the image's pixel
        ``(0, 0)``.

    Examples
    --------
    >>> template_offset((100.5, 50.0), (10.5, 20.0))
    (90, 30)
    >>> template_offset((3.0, 3.0), (0.5, 5.5))
    (2, -2)
    """
    return (int(np.trunc(template_crpix[0] - image_crpix[0])),
            int(np.trunc(template_crpix[1] - image_crpix[1])))


def _full_edges(full_edges, montage_edges, stacklevel=3):
    """
    Resolve ``full_edges`` and the deprecated ``montage_edges`` keyword.

    ``montage_edges`` (diffview 0.2, where full edges were the default) still
    works for one release, with a `DeprecationWarning`:
    ``montage_edges=True`` is the default now, ``montage_edges=False`` is
    ``full_edges=True``.
    """
    if montage_edges is None:
        return bool(full_edges)
    warnings.warn(
        "montage_edges is deprecated: Montage's boxes are the default now; "
        "pass full_edges=True to difference the last template column and row",
        DeprecationWarning,
        stacklevel=stacklevel,
    )
    return not montage_edges


def overlap_box(template_shape, offset1, shape1, offset2, shape2, *,
                full_edges=False, montage_edges=None):
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
    full_edges : bool
        Let the box reach the last template column and row. By default the
        box is Montage's (mDiff clips the overlap end to ``NAXIS - 1`` and
        uses it as exclusive, so that column and row are never differenced,
        ``docs/montage-semantics.md`` §3.3). Full edges use every pixel the
        two images share, which matters when the template is no larger than
        the images' union (the pixels of the last column and row are then
        real overlap that Montage throws away); the boxes then differ from
        Montage's.
    montage_edges : bool, optional
        Deprecated: ``montage_edges=False`` is ``full_edges=True``.

    Returns
    -------
    tuple or None
        ``((jstart, jend), (istart, iend))`` in 0-based template pixels, ends
        exclusive, or None when the images do not overlap.

    Examples
    --------
    >>> overlap_box((10, 20), (0, 0), (10, 12), (5, 2), (10, 15))
    ((2, 9), (5, 12))
    >>> overlap_box((10, 20), (0, 0), (10, 20), (5, 0), (10, 15))
    ((0, 9), (5, 19))
    >>> overlap_box((10, 20), (0, 0), (10, 20), (5, 0), (10, 15),
    ...             full_edges=True)
    ((0, 10), (5, 20))
    >>> overlap_box((10, 20), (0, 0), (4, 4), (4, 0), (4, 4)) is None
    True
    """
    full_edges = _full_edges(full_edges, montage_edges)
    edge = 0 if full_edges else 1
    istart = max(offset1[0], offset2[0], 0)
    iend = min(offset1[0] + shape1[1], offset2[0] + shape2[1],
               template_shape[1] - edge)
    jstart = max(offset1[1], offset2[1], 0)
    jend = min(offset1[1] + shape1[0], offset2[1] + shape2[0],
               template_shape[0] - edge)
    if iend - istart <= 0 or jend - jstart <= 0:
        return None
    return (jstart, jend), (istart, iend)
