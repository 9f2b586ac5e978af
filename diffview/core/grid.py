"""
Where images sit in the template grid: offsets and overlap boxes.

Pure integer arithmetic on Montage's pixel-grid rules
(``docs/montage-semantics.md`` §1.1, §3.3): an image's offset inside the
template is ``CRPIX_template - CRPIX_image`` truncated toward zero, and boxes
are ``((jstart, jend), (istart, iend))`` in 0-based template pixels (rows
first), ends exclusive.
"""

from __future__ import annotations

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
