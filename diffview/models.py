"""
Plain result objects shared by every layer of diffview.

Conventions used throughout the package
---------------------------------------
* **Template pixels.** Bounds are ``((jmin, jmax), (imin, imax))`` in 0-based
  template pixels, numpy (row, column) order, maximum exclusive (reproject's
  ``bounds`` semantics).
* **Plane coordinates** follow Montage: ``x = i - CRPIX1`` and ``y = j - CRPIX2``
  with ``i``, ``j`` the 0-based column and row of the file the plane refers to
  and ``CRPIX`` its (1-based) FITS header value. Because every projected image
  and every difference keeps CRPIX consistent with the template, this is one
  global frame for the whole mosaic.
* **Blank pixels** are NaN or +-inf in data, or have area <= 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy loads with the first array, not with diffview
    import numpy as np

__all__ = ["Overlap", "Difference", "PlaneFit", "Correction"]

Bounds = tuple[tuple[int, int], tuple[int, int]]


@dataclass(frozen=True)
class Overlap:
    """
    One row of Montage's ``diffs.tbl``: a pair of images that may overlap.

    Parameters
    ----------
    cntr1, cntr2 : int
        ``cntr`` values of the two images in the image table.
    plus, minus : str
        File names of the two projected images, as in the image table.
    diff : str
        Output name of the difference, ``diff.%06d.%06d.fits``.

    Examples
    --------
    >>> Overlap(0, 3, "a.fits", "b.fits", "diff.000000.000003.fits").cntr2
    3
    """

    cntr1: int
    cntr2: int
    plus: str
    minus: str
    diff: str


@dataclass(frozen=True, eq=False)
class Difference:
    """
    The difference of two projected images over their overlap (``mDiff``).

    Parameters
    ----------
    array : numpy.ndarray
        ``2 (v1 a1 - v2 a2) / (a1 + a2)``, float64, cropped to the bounding box
        of valid pixels; NaN where blank.
    area : numpy.ndarray
        ``a1 + a2`` (2.0 in no-areas mode); 0 where blank.
    crpix : tuple of float
        ``(CRPIX1, CRPIX2)`` of the cropped difference, FITS 1-based.
    bounds : tuple
        ``((jmin, jmax), (imin, imax))``: where ``array`` sits in the template,
        0-based, maximum exclusive.
    plus, minus : int or None
        ``cntr`` of the two images, when known.
    stats : dict
        ``min_pixel``, ``max_pixel``, ``min_diff``, ``max_diff`` as mDiff
        reports them (``min_diff``/``max_diff`` are min and max of ``|diff|``).

    Examples
    --------
    >>> import numpy as np
    >>> d = Difference(np.zeros((2, 3)), np.full((2, 3), 2.0), (1.0, 1.0),
    ...                ((0, 2), (0, 3)))
    >>> d.shape, int(d.footprint.sum())
    ((2, 3), 6)
    """

    array: np.ndarray
    area: np.ndarray
    crpix: tuple[float, float]
    bounds: Bounds
    plus: int | None = None
    minus: int | None = None
    stats: dict = field(default_factory=dict)

    @property
    def footprint(self) -> np.ndarray:
        """Boolean mask of the valid pixels (area > 0)."""
        return self.area > 0

    @property
    def shape(self) -> tuple[int, int]:
        """Shape of the cropped difference, (rows, columns)."""
        return self.array.shape


@dataclass(frozen=True)
class PlaneFit:
    """
    A plane ``a x + b y + c`` fitted to a difference, one row of ``fits.tbl``.

    Coordinates are Montage's plane coordinates, ``x = i - CRPIX1`` with ``i``
    the 0-based column (see the module notes). Field names and meanings are
    those of the columns Montage's mFitExec writes
    (``docs/montage-semantics.md`` §4).

    Parameters
    ----------
    plus, minus : int
        ``cntr`` of the two images of the pair (``cntr1``, ``cntr2`` of
        ``diffs.tbl``); -1 when unknown.
    a, b, c : float
        The plane's coefficients.
    crpix1, crpix2 : float
        ``CRPIX1``, ``CRPIX2`` of the difference (FITS, 1-based).
    xmin, xmax, ymin, ymax : float
        Extremes of the plane coordinates ``x``, ``y`` over the pixels of the
        last fit.
    xcenter, ycenter : float
        Mean of ``x`` and ``y`` over the pixels of the last fit.
    npixel : int
        Number of pixels of the last rms pass.
    rms : float
        Root mean square of the difference about the plane.
    boxx, boxy : float
        Centre of the rotated bounding box of the valid pixels, in plane
        coordinates.
    boxwidth, boxheight : float
        Extent of that box along and across the hull edge it is aligned with.
    boxang : float
        Angle of that edge, degrees.

    Examples
    --------
    >>> f = PlaneFit(0, 1, 0.0, 0.0, 2.5, 1.0, 1.0, 0, 3, 0, 2, 1.5, 1.0, 12,
    ...              0.1, 1.5, 1.0, 3.0, 2.0, 0.0)
    >>> f.c, f.npixel
    (2.5, 12)
    """

    plus: int
    minus: int
    a: float
    b: float
    c: float
    crpix1: float
    crpix2: float
    xmin: float
    xmax: float
    ymin: float
    ymax: float
    xcenter: float
    ycenter: float
    npixel: int
    rms: float
    boxx: float
    boxy: float
    boxwidth: float
    boxheight: float
    boxang: float

    @classmethod
    def columns(cls) -> list[str]:
        """Names of the ``fits.tbl`` columns, in Montage's order."""
        return [f.name for f in fields(cls)]


@dataclass(frozen=True)
class Correction:
    """
    The background plane to subtract from one image (a row of ``corrections.tbl``).

    ``a x + b y + c`` in Montage's plane coordinates of that image.

    Parameters
    ----------
    id : int
        ``cntr`` of the image in the image table.
    a, b, c : float
        The plane's coefficients.

    Examples
    --------
    >>> Correction(3, 0.0, 0.0, 1.5).c
    1.5
    """

    id: int
    a: float
    b: float
    c: float
