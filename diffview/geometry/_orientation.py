"""
The display orientation of an image, as mViewer's.

Which axes are reversed so that north is up and east left (`orientation`),
and the coordinate changes between FITS pixels and the displayed picture
(`Orientation`).
"""

from __future__ import annotations

import math
import sys

import numpy as np
from astropy.io import fits

__all__ = ["Orientation", "orientation"]


class Orientation(tuple):
    """
    How an image is displayed: ``(flip_x, flip_y, nx, ny)`` (`orientation`).

    Parameters
    ----------
    flip_x, flip_y : bool
        Columns (rows) reversed for display: displayed column 0 is the
        last FITS column (row 0 at the top is the last FITS row).
    nx, ny : int
        The image's size.

    Examples
    --------
    >>> o = Orientation(False, True, 4, 3)
    >>> x, y = o.to_display([1.0], [0.0])
    >>> o.flip_y, o.ny, x.tolist(), y.tolist()
    (True, 3, [1.0], [2.0])
    """

    __slots__ = ()

    def __new__(cls, flip_x, flip_y, nx, ny):
        return super().__new__(cls, (bool(flip_x), bool(flip_y), int(nx), int(ny)))

    flip_x = property(lambda self: self[0])
    flip_y = property(lambda self: self[1])
    nx = property(lambda self: self[2])
    ny = property(lambda self: self[3])

    def to_display(self, x0, y0):
        """
        Convert 0-based FITS pixel coordinates to displayed coordinates.

        Parameters
        ----------
        x0, y0 : array_like
            0-based FITS column and row.

        Returns
        -------
        x, y : ndarray
            Displayed column from the left and row from the top.
        """
        x, y = np.asarray(x0, float), np.asarray(y0, float)
        x = (self.nx - 1) - x if self.flip_x else x
        y = (self.ny - 1) - y if self.flip_y else y
        return x, y

    def to_fits(self, x, y):
        """
        0-based FITS pixel coordinates of displayed ones.

        Parameters
        ----------
        x, y : array_like
            Displayed column and row.

        Returns
        -------
        x0, y0 : ndarray
            0-based FITS column and row.

        Examples
        --------
        >>> x0, y0 = Orientation(True, True, 4, 3).to_fits([0.0], [0.0])
        >>> x0.tolist(), y0.tolist()
        ([3.0], [2.0])
        """
        return self.to_display(x, y)

    def apply(self, image):
        """
        Reorient a FITS-ordered array for display.

        Parameters
        ----------
        image : ndarray
            Rows along NAXIS2, FITS order.

        Returns
        -------
        ndarray
            A view, row 0 at the top.

        Examples
        --------
        >>> Orientation(False, True, 2, 2).apply(np.array([[1, 2], [3, 4]])).tolist()
        [[3, 4], [1, 2]]
        """
        a = image
        if self.flip_y:
            a = a[::-1]
        if self.flip_x:
            a = a[:, ::-1]
        return a


def _is_wcs(obj) -> bool:
    """
    Tell whether ``obj`` is an astropy WCS, without importing astropy.wcs.

    Nothing is one before astropy.wcs is imported (~0.3 s of a fresh process).
    """
    wcs = sys.modules.get("astropy.wcs")
    return wcs is not None and isinstance(obj, wcs.WCS)


def _header(obj) -> fits.Header:
    if isinstance(obj, fits.Header):
        return obj
    if _is_wcs(obj):
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
    Return the display orientation of an image, as mViewer's.

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

    Returns
    -------
    Orientation

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
