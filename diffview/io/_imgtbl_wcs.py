"""
What mImgtbl takes from a header: scale, rotation and the cube columns.

Montage reads headers with WCSTools (``wcsinit``), which turns a CD or PC
matrix into ``cdelt1, cdelt2, crota2`` by measuring where north and east lie
in the image at the reference pixel (``wcsrotset``), and copies the cube
keywords as the header writes them (``docs/montage-semantics.md`` §7.3).
"""

from __future__ import annotations

import math

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS, NoConvergence

__all__ = ["CUBE_KEYS", "cube_values", "scale_rotation"]

#: Header keywords mImgtbl copies into its cube columns (``haveCubes``), in order.
CUBE_KEYS = (
    "NAXIS",
    "NAXIS3",
    "CRVAL3",
    "CDELT3",
    "CRPIX3",
    "NAXIS4",
    "CRVAL4",
    "CDELT4",
    "CRPIX4",
)


def _raw_value(header: fits.Header, key: str) -> str:
    """Return the value of a card as the header writes it (CFITSIO's keyword value)."""
    if key not in header:
        return ""
    card = header.cards[key]
    if isinstance(card.value, str):
        return card.value
    return card.image[10:].split("/", 1)[0].strip()


def cube_values(header: fits.Header, defaults: dict | None = None) -> dict:
    """
    Return mImgtbl's cube columns of one header: each keyword's text.

    Parameters
    ----------
    header : astropy.io.fits.Header
        The image HDU's header.
    defaults : dict, optional
        Values for missing keywords (mImgtbl takes those of the file's first
        HDU); else an empty string.

    Returns
    -------
    dict
        Lower-case column name -> the value's text (``''`` when missing).

    Examples
    --------
    >>> h = fits.Header({"NAXIS": 3, "NAXIS3": 5, "CRVAL3": 1.5})
    >>> v = cube_values(h)
    >>> v["naxis"], v["naxis3"], v["crval3"], v["cdelt3"]
    ('3', '5', '1.5', '')
    """
    defaults = defaults or {}
    out = {}
    for key in CUBE_KEYS:
        value = _raw_value(header, key)
        out[key.lower()] = value if value else defaults.get(key.lower(), "")
    return out


def _positive_turn(angle: float) -> float:
    """One turn added or taken, as WCSTools keeps ``rot`` in [0, 360)."""
    if angle < 0.0:
        angle += 360.0
    if angle >= 360.0:
        angle -= 360.0
    return angle


def _rotation_from_sky(
    wcs: WCS, xinc: float, yinc: float
) -> tuple[float, float, float]:
    """WCSTools' ``wcsrotset``: rotation and signed scales from north and east."""
    xc, yc = (float(v) for v in wcs.wcs.crpix)
    lon, lat = (float(v) for v in wcs.all_pix2world([[xc, yc]], 1)[0])
    xinc, yinc = abs(xinc), abs(yinc)
    sky = np.array([[lon + xinc, lat], [lon, lat + yinc]])
    try:
        (xe, ye), (xn, yn) = wcs.all_world2pix(sky, 1)
    except NoConvergence:  # a distortion that does not invert: the linear WCS
        (xe, ye), (xn, yn) = wcs.wcs_world2pix(sky, 1)
    pa_north = math.degrees(math.atan2(yn - yc, xn - xc))
    pa_east = math.degrees(math.atan2(ye - yc, xe - xc))
    pa_north += 360.0 if pa_north < -90.0 else 0.0
    pa_east += 360.0 if pa_east < -90.0 else 0.0
    rot = _positive_turn(pa_north - 90.0)
    turn = pa_east - pa_north
    flipped = -100.0 < turn < -80.0 or 260.0 < turn < 280.0
    return (xinc if flipped else -xinc), yinc, rot


def _wcstools_scale_rotation(h: fits.Header, wcs: WCS, n1: int, n2: int):
    """``xinc, yinc, rot`` of WCSTools' ``wcsinit`` (CD, PC or CDELT+CROTA)."""
    cd_keys = ("CD1_1", "CD1_2", "CD2_1", "CD2_2")
    if any(k in h for k in cd_keys):
        cd11, cd12, cd21, cd22 = (float(h.get(k, 0.0)) for k in cd_keys)
        xinc, yinc = math.hypot(cd11, cd21), math.hypot(cd12, cd22)
    else:
        xinc = float(h["CDELT1"])
        yinc = float(h.get("CDELT2", 0.0)) or -xinc
        if "PC1_1" not in h:  # wcsdeltset: CROTA2 as given
            return xinc, yinc, _positive_turn(float(h.get("CROTA2", 0.0)))
    if n1 < 2 or n2 < 2:  # wcsrotset leaves one-dimensional images alone
        return xinc, yinc, 0.0
    return _rotation_from_sky(wcs, xinc, yinc)


def scale_rotation(h: fits.Header, wcs: WCS) -> tuple[float, float, float]:
    """
    Return mImgtbl's ``cdelt1, cdelt2, crota2`` of a header.

    A CD matrix (or CDELT with a PC matrix) gives the scales as the lengths
    of the matrix's columns and the rotation as the position angle of north
    at the reference pixel, measured through the WCS one pixel north and east
    of it (WCSTools' ``wcsrotset``, used by Montage), so a matrix with skew
    gets Montage's angle. CDELT with CROTA2 is taken as written. Then, as
    mImgtbl does, two positive scales with a rotation beyond ±90° become two
    negative ones and the rotation turns by 180°.

    Parameters
    ----------
    h : astropy.io.fits.Header
        The image header.
    wcs : astropy.wcs.WCS
        Its celestial WCS (two axes).

    Returns
    -------
    tuple of float
        ``cdelt1, cdelt2`` (degrees per pixel) and ``crota2`` (degrees, in
        [0, 360) as WCSTools keeps it).

    Examples
    --------
    >>> h = fits.Header({"NAXIS": 2, "NAXIS1": 10, "NAXIS2": 10,
    ...                  "CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN",
    ...                  "CRVAL1": 10.0, "CRVAL2": 20.0, "CRPIX1": 5.0, "CRPIX2": 5.0,
    ...                  "CD1_1": -1e-4, "CD1_2": 0.0, "CD2_1": 0.0, "CD2_2": 1e-4})
    >>> [round(v, 6) for v in scale_rotation(h, WCS(h))]
    [-0.0001, 0.0001, 0.0]
    """
    n1, n2 = int(h.get("NAXIS1", 0)), int(h.get("NAXIS2", 0))
    cdelt1, cdelt2, rot = _wcstools_scale_rotation(h, wcs, n1, n2)
    if cdelt1 > 0 and cdelt2 > 0 and (rot < -90.0 or rot > 90.0):
        cdelt1, cdelt2, rot = -cdelt1, -cdelt2, rot + 180.0
        while rot >= 360.0:
            rot -= 360.0
        while rot <= -360.0:
            rot += 360.0
    return cdelt1, cdelt2, rot
