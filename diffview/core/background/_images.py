"""The images a background model is solved for: ids, sizes, reference pixels, locks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from diffview.errors import InputError

__all__ = ["ImageGeometry", "image_geometry"]


@dataclass(frozen=True)
class ImageGeometry:
    """
    What the background model needs from ``images.tbl``.

    Attributes
    ----------
    cntr : numpy.ndarray of int
        Image ids (``cntr``, or ``id``).
    naxis1, naxis2 : numpy.ndarray of int
        Image sizes (``ns``/``naxis1``, ``nl``/``naxis2``); 0 when unknown.
    crpix1, crpix2 : numpy.ndarray of float
        Reference pixels.
    locked : numpy.ndarray of bool
        Images whose correction stays zero.

    Examples
    --------
    >>> g = ImageGeometry(np.array([0, 1]), np.array([10, 20]), np.array([8, 8]),
    ...                   np.ones(2), np.ones(2), np.zeros(2, bool))
    >>> g.mean_area
    120.0
    """

    cntr: np.ndarray
    naxis1: np.ndarray
    naxis2: np.ndarray
    crpix1: np.ndarray
    crpix2: np.ndarray
    locked: np.ndarray

    @property
    def mean_area(self) -> float:
        """Mean ``naxis1 * naxis2`` over the images (Montage's ``avearea``)."""
        return float(np.mean(self.naxis1 * self.naxis2)) if len(self.cntr) else 0.0


def _column(table, names, default=None, *, name="images table"):
    for n in names:
        if n in table.colnames:
            return np.asarray(table[n])
    if default is None:
        raise InputError(f"{name}: need column {' or '.join(names)}")
    return default


def image_geometry(
    table,
    *,
    locked: Iterable[int] = (),
    name: str = "images table",
    need_geometry: bool = True,
) -> ImageGeometry:
    """
    Image ids, sizes, reference pixels and locks from an image table.

    Parameters
    ----------
    table : astropy.table.Table or diffview.io.PlainTable
        ``images.tbl`` as read by `diffview.io.read_table` or
        `diffview.io.read_plain_table` (any table with ``colnames`` and
        columns by name).
    locked : iterable of int
        Extra ``cntr`` values to lock (added to a ``locked`` column if any).
    name : str
        File name used in error messages.
    need_geometry : bool
        Require ``ns nl crpix1 crpix2`` (all modes but level-only).

    Returns
    -------
    ImageGeometry

    Examples
    --------
    >>> from astropy.table import Table
    >>> t = Table({"cntr": [0, 1], "fname": ["a", "b"], "ns": [5, 7],
    ...            "nl": [4, 4], "crpix1": [1., 1.], "crpix2": [1., 1.]})
    >>> image_geometry(t, locked=[1]).locked.tolist()
    [False, True]
    """
    cntr = _column(table, ("cntr", "id"), name=name).astype(int)
    n = len(cntr)
    zeros = np.zeros(n) if not need_geometry else None
    naxis1 = _column(table, ("ns", "naxis1"), zeros, name=name).astype(int)
    naxis2 = _column(table, ("nl", "naxis2"), zeros, name=name).astype(int)
    crpix1 = _column(table, ("crpix1",), zeros, name=name).astype(float)
    crpix2 = _column(table, ("crpix2",), zeros, name=name).astype(float)
    lock = _column(table, ("locked",), np.zeros(n), name=name).astype(int) != 0
    lock = lock | np.isin(cntr, list(locked))
    return ImageGeometry(cntr, naxis1, naxis2, crpix1, crpix2, lock)
