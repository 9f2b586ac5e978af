"""
The direct gnomonic projection of outline points for plain equatorial TAN images.

Montage's mosaics and images are such images: a unit vector to pixel offsets
is one matrix product and one division, with no astropy WCS call.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from astropy.io import fits

if TYPE_CHECKING:  # astropy.wcs loads only where a WCS is built
    from astropy.wcs import WCS

__all__: list[str] = []


def _plain_tan(wcs: WCS):
    """
    Return the projection matrix and 0-based CRPIX of a plain gnomonic WCS.

    For a plain equatorial gnomonic WCS (``RA---TAN``/``DEC--TAN`` in
    degrees, no SIP, distortion tables, PV cards or other LONPOLE than 180):
    the (3, 3) matrix taking a unit vector to (x numerator, y numerator,
    denominator) of its 0-based pixel offsets from CRPIX, and that 0-based
    CRPIX. None for any other WCS.
    """
    c = wcs.wcs
    if (list(c.ctype) != ["RA---TAN", "DEC--TAN"] or wcs.sip is not None
            or wcs.cpdis1 is not None or wcs.cpdis2 is not None
            or wcs.det2im1 is not None or wcs.det2im2 is not None
            or c.get_pv() or any(str(u) not in ("deg", "") for u in c.cunit)):
        return None
    c.set()
    if c.lonpole != 180.0:
        return None
    return _tan_matrix(c.crval, np.diag(c.get_cdelt()) @ c.get_pc(), c.crpix)


def _tan_matrix(crval, m, crpix):
    """
    Build `_plain_tan`'s (matrix, 0-based CRPIX).

    From CRVAL (degrees), the matrix ``M = diag(CDELT) PC`` and the 1-based
    CRPIX.
    """
    a0, d0 = math.radians(crval[0]), math.radians(crval[1])
    ca, sa, cd, sd = math.cos(a0), math.sin(a0), math.cos(d0), math.sin(d0)
    east = np.array([-sa, ca, 0.0])
    north = np.array([-sd * ca, -sd * sa, cd])
    centre = np.array([cd * ca, cd * sa, sd])
    # intermediate world (degrees) = (v.east, v.north) * R / (v.centre);
    # pixel offsets = M^-1 of it, with M = diag(CDELT) PC
    k = np.degrees(np.linalg.inv(m)) @ np.stack([east, north])
    return np.column_stack([k.T, centre]), np.asarray(crpix, float) - 1.0


#: Header keys (or key prefixes) that make a WCS more than `_header_tan`
#: reads: rotation, PC/CD matrices, projection parameters, poles,
#: distortions, units, more axes.
_NOT_PLAIN = ("PC", "CD", "PV", "PS", "LONPOLE", "LATPOLE", "WCSAXES", "A_", "B_",
              "AP_", "BP_", "CPDIS", "CQDIS", "DP", "DQ", "D2IM", "CROTA", "CUNIT",
              "CTYPE", "CRVAL", "CRPIX", "CDELT", "CNAME", "CRDER", "CSYER", "NAXIS",
              "SIP", "TPD", "TPV")


def _card_float(h: fits.Header, key: str) -> float:
    """
    Read a card's number as written in its 80 characters.

    As WCSLIB reads it: an in-memory value may hold more digits than the card
    shows.
    """
    return float(h.cards[key].image[10:].split("/", 1)[0])


def _header_tan(h: fits.Header):
    """
    Return `_plain_tan` of the simplest headers, read from their cards.

    The simplest headers are Montage's mosaics and images:
    ``RA---TAN``/``DEC--TAN``, CDELT1/2, CROTA2 absent or 0, nothing else
    of the WCS kinds above. They are read from the cards without building an
    astropy WCS; None for anything else.
    """
    plain = {"NAXIS", "NAXIS1", "NAXIS2", "CTYPE1", "CTYPE2", "CRVAL1", "CRVAL2",
             "CRPIX1", "CRPIX2", "CDELT1", "CDELT2", "CROTA2"}
    try:
        if (any(k.startswith(_NOT_PLAIN) and k not in plain for k in h)
                or h.get("NAXIS") != 2 or h.get("CTYPE1") != "RA---TAN"
                or h.get("CTYPE2") != "DEC--TAN"
                or "CROTA2" in h and _card_float(h, "CROTA2") != 0.0):
            return None
        crval = [_card_float(h, "CRVAL1"), _card_float(h, "CRVAL2")]
        cdelt = [_card_float(h, "CDELT1"), _card_float(h, "CDELT2")]
        crpix = [_card_float(h, "CRPIX1"), _card_float(h, "CRPIX2")]
    except (KeyError, TypeError, ValueError):
        return None
    if not -90.0 < crval[1] < 90.0 or 0.0 in cdelt:    # else another LONPOLE
        return None
    return _tan_matrix(crval, np.diag(cdelt) @ np.eye(2), crpix)


def _tan_pixels(tan, ca, sa, arc_id, basis):
    """
    Compute `_world_to_pixel` of a `_plain_tan` WCS.

    A direct gnomonic projection, linear in the point's unit vector up to
    one division, so applied to each arc's two basis vectors once and then
    combined per point.
    """
    k, crpix = tan
    pb = basis @ k                                   # (narc, 2, 3)
    num = [ca * pb[:, 0, j].take(arc_id) + sa * pb[:, 1, j].take(arc_id)
           for j in range(3)]
    with np.errstate(invalid="ignore", divide="ignore"):
        den = np.where(num[2] > 0.0, num[2], np.nan)    # far hemisphere: none
        return crpix[0] + num[0] / den, crpix[1] + num[1] / den
