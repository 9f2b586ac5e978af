"""
Image outlines exactly as mViewer draws them (``-imginfo``).

`diffview.geometry.image_outlines` gives the outlines' true positions. mViewer
(``docs/montage-semantics.md`` §8.9) computes them with WCSTools, and where
the outlines of projected tiles lie on pixel edges the last bit of each
coordinate decides which pixels its lines touch. `mviewer_outlines` repeats
mViewer's arithmetic operation for operation (``diffview.geometry._wcstools``,
compiled on first use): corners from the ``ra1..dec4`` columns, or rebuilt
from the WCS columns through the header mViewer prints for each row
(``CRVAL``, ``CRPIX``, ``CROTA2`` as ``%11.6f``, ``CDELT`` as ``%14.9f``);
every side a great circle sampled every ``|CDELT2|/2``, projected by
``wcs2pix``, points off the picture dropped. The points come back in
mViewer's drawing frame, as its line drawer receives them.

Only plain equatorial J2000 gnomonic pictures and tables are ported (what
Montage's mosaics and ``images.tbl`` hold); anything else returns None and the
caller draws `image_outlines` instead.
"""

from __future__ import annotations

import numpy as np
from astropy.io import fits

from ._tan import _NOT_PLAIN, _card_float
from .overlaps import CORNER_COLUMNS

__all__ = ["mviewer_outlines", "MVIEWER_COLUMNS"]

#: The WCS columns mViewer reads when a table has no corners.
_WCS = ("ctype1", "ctype2", "crval1", "crval2", "crpix1", "crpix2", "cdelt1",
        "cdelt2", "crota2")

#: Columns of an image table that `mviewer_outlines` reads.
MVIEWER_COLUMNS = CORNER_COLUMNS + _WCS + ("ns", "nl", "naxis1", "naxis2", "equinox")

_PLAIN = {"NAXIS", "NAXIS1", "NAXIS2", "CTYPE1", "CTYPE2", "CRVAL1", "CRVAL2",
          "CRPIX1", "CRPIX2", "CDELT1", "CDELT2", "CROTA2", "CD1_1", "CD1_2",
          "CD2_1", "CD2_2"}


def _number(h: fits.Header, key: str, default=None):
    return _card_float(h, key) if key in h else default


def _j2000(h: fits.Header) -> bool:
    """Whether WCSTools reads the header's frame as FK5 J2000."""
    sys = str(h.get("RADESYS", h.get("RADECSYS", "FK5"))).strip().upper()
    if sys != "FK5":
        return False
    if "EQUINOX" in h:
        return _card_float(h, "EQUINOX") == 2000.0
    return "EPOCH" not in h or _card_float(h, "EPOCH") == 2000.0


def _picture_wcs(h: fits.Header):
    """`wcstools_tan` of a plain J2000 gnomonic header, else None."""
    from ._wcstools import wcstools_tan

    try:
        if (h.get("NAXIS") != 2 or h.get("CTYPE1") != "RA---TAN"
                or h.get("CTYPE2") != "DEC--TAN" or not _j2000(h)
                or any(k.startswith(_NOT_PLAIN) and k not in _PLAIN for k in h)):
            return None
        crval = (_number(h, "CRVAL1", 0.0), _number(h, "CRVAL2", 0.0))
        crpix = (_number(h, "CRPIX1", 1.0), _number(h, "CRPIX2", 1.0))
        shape = (int(h["NAXIS1"]), int(h["NAXIS2"]))
        if any(k in h for k in ("CD1_1", "CD1_2", "CD2_1", "CD2_2")):
            cd = [_number(h, k) for k in ("CD1_1", "CD1_2", "CD2_1", "CD2_2")]
            if None in cd or cd[0] * cd[3] - cd[1] * cd[2] >= 0:
                return None                    # mirrored: WCSTools' imflip
            return wcstools_tan(crval, crpix, shape, cd=cd)
        cdelt = (_number(h, "CDELT1"), _number(h, "CDELT2", 0.0))
        if cdelt[0] is None or not cdelt[0] * cdelt[1] < 0:
            return None
        return wcstools_tan(crval, crpix, shape, cdelt=cdelt,
                            crota=_number(h, "CROTA2", 0.0))
    except (KeyError, TypeError, ValueError):
        return None


def _row_corners(cols: dict):
    """Corners of a table's rows as mViewer takes them, or None (not ported)."""
    if all(c in cols for c in CORNER_COLUMNS):
        c = np.stack([np.asarray(cols[k], float) for k in CORNER_COLUMNS], axis=-1)
        return c.reshape(-1, 4, 2)[~np.isnan(c).any(axis=1)]
    ns = cols.get("ns", cols.get("naxis1"))
    nl = cols.get("nl", cols.get("naxis2"))
    if ns is None or nl is None or not all(k in cols for k in _WCS):
        return None
    return _wcs_corners(cols, ns, nl)


def _wcs_corners(cols: dict, ns, nl):
    """Corners from WCS columns, through the header mViewer prints per row."""
    from ._wcstools import tan_corners, wcstools_tan

    n = len(ns)
    if any(str(cols["ctype1"][k]).strip() != "RA---TAN"
           or str(cols["ctype2"][k]).strip() != "DEC--TAN" for k in range(n)):
        return None
    if "equinox" in cols and any(int(float(v)) != 2000 for v in cols["equinox"]):
        return None

    def printed(name, fmt):
        return [float(fmt % float(v)) for v in cols[name]]

    crval1, crval2, crpix1, crpix2, crota = (printed(k, "%11.6f") for k in (
        "crval1", "crval2", "crpix1", "crpix2", "crota2"))
    cdelt1, cdelt2 = printed("cdelt1", "%14.9f"), printed("cdelt2", "%14.9f")
    shapes = np.column_stack([np.asarray(ns, np.int64), np.asarray(nl, np.int64)])
    params = []
    for k in range(n):
        p, _ = wcstools_tan((crval1[k], crval2[k]), (crpix1[k], crpix2[k]),
                            shapes[k], cdelt=(cdelt1[k], cdelt2[k]), crota=crota[k])
        params.append(np.full(18, np.nan) if p is None else p)
    if not params:
        return np.empty((0, 4, 2))
    return tan_corners(np.array(params), shapes)


def mviewer_outlines(columns, header: fits.Header, *, flip: bool = True):
    """
    Outline the images of a table as mViewer's ``-imginfo`` draws them.

    Parameters
    ----------
    columns : mapping
        The image table's columns (`MVIEWER_COLUMNS`, those it has), as
        `diffview.io.read_table_columns` reads them.
    header : astropy.io.fits.Header
        The displayed image.
    flip : bool
        mViewer's ``flipY`` (rows flipped for display).

    Returns
    -------
    list of ndarray or None
        One (N, 2) array per side with two points or more on the picture, in
        mViewer's drawing frame: x and y as ``wcs2pix`` returns them (1-based;
        y counted from the bottom row of the picture). None when the picture
        or the table is not plain J2000 gnomonic: draw `image_outlines`.

    Examples
    --------
    >>> h = fits.Header({"NAXIS": 2, "NAXIS1": 20, "NAXIS2": 10,
    ...     "CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRVAL1": 10.0,
    ...     "CRVAL2": 0.0, "CRPIX1": 10.5, "CRPIX2": 5.5,
    ...     "CDELT1": -0.1, "CDELT2": 0.1})
    >>> cols = {"ctype1": ["RA---TAN"], "ctype2": ["DEC--TAN"], "ns": [4],
    ...     "nl": [2], "crval1": [10.0], "crval2": [0.0], "crpix1": [2.5],
    ...     "crpix2": [1.5], "cdelt1": [-0.1], "cdelt2": [0.1], "crota2": [0.0]}
    >>> sides = mviewer_outlines(cols, h)
    >>> [np.round(s[[0, -1]], 6).tolist() for s in sides[:2]]
    [[[8.5, 4.5], [12.5, 4.5]], [[12.5, 4.5], [12.5, 6.5]]]
    """
    from ._wcstools import mviewer_points

    picture = _picture_wcs(header)
    if picture is None or picture[0] is None:
        return None
    corners = _row_corners(columns)
    if corners is None:
        return None
    x, y, side = mviewer_points(corners, picture[0], picture[1], flip)
    breaks = np.flatnonzero(np.diff(side)) + 1
    runs = np.split(np.column_stack([x, y]), breaks)
    return [r for r in runs if len(r) >= 2]
