"""
A quick north-up mosaic frame, and the mosaic steps' former home.

`make_template` chooses a north-up TAN frame centred on the images' mean
direction (the sample generator's frame). Montage's own frame, the box of
least area, is `diffview.run.bounding_header` (mMakeHdr); reprojection
(`project_images`, mProjExec) lives in ``run/project.py`` and the coadd
(`add_images`, `coadd`, mAdd) in ``run/add.py``; they are imported here
too so that old ``diffview.run.mosaic`` imports keep working.
"""

from __future__ import annotations

import math

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

from diffview.errors import InputError
from diffview.geometry.overlaps import footprints_from_table

# Former home of these names: old imports keep working.
from .add import coadd  # noqa: F401
from .project import (  # noqa: F401
    ProjectResult,
    pixel_solid_angle,
    project_image,
    project_images,
)

__all__ = ["make_template"]


def make_template(
    images,
    *,
    pixel_scale: float | None = None,
    margin: int = 2,
    projection: str = "TAN",
) -> fits.Header:
    """
    Make a north-up template covering every image of an image table (mMakeHdr).

    Parameters
    ----------
    images : astropy.table.Table
        Image table with corners (``ra1 .. dec4``) or WCS columns.
    pixel_scale : float, optional
        Degrees per pixel; default: the finest ``|cdelt|`` of the images
        (or of their CD matrices).
    margin : int
        Pixels added on every side.
    projection : str
        Three-letter projection code.

    Returns
    -------
    astropy.io.fits.Header
        ``SIMPLE``, ``BITPIX = -64``, ``NAXIS*``, ``CTYPE*``, ``CRVAL*``,
        ``CRPIX*`` (the centre), ``CDELT*``, ``CROTA2 = 0``, ``EQUINOX``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from diffview.sample import write_sample
    >>> from diffview.io import read_table
    >>> s = write_sample(pathlib.Path(tempfile.mkdtemp()), "small")
    >>> h = make_template(read_table(s.raw_images_tbl))
    >>> h["CTYPE1"], h["NAXIS1"] > 100
    ('RA---TAN', True)
    """
    fps = footprints_from_table(images)
    if not fps:
        raise InputError("make_template: the image table has no rows")
    corners = np.concatenate([fp.vectors for fp in fps])
    centre = corners.mean(axis=0)
    centre /= np.linalg.norm(centre)
    ra0 = math.degrees(math.atan2(centre[1], centre[0])) % 360
    dec0 = math.degrees(math.asin(centre[2]))
    if pixel_scale is None:
        pixel_scale = _finest_scale(images)
    w = WCS(naxis=2)
    w.wcs.ctype = [f"RA---{projection}", f"DEC--{projection}"]
    w.wcs.crval = [ra0, dec0]
    w.wcs.cdelt = [-pixel_scale, pixel_scale]
    w.wcs.crpix = [0.0, 0.0]
    ra = np.degrees(np.arctan2(corners[:, 1], corners[:, 0])) % 360
    dec = np.degrees(np.arcsin(np.clip(corners[:, 2], -1, 1)))
    x, y = w.wcs_world2pix(ra, dec, 1)
    nx = int(math.ceil(x.max() - x.min())) + 2 * margin
    ny = int(math.ceil(y.max() - y.min())) + 2 * margin
    crpix1 = -(x.min() - margin) + 0.5
    crpix2 = -(y.min() - margin) + 0.5
    h = fits.Header()
    h["SIMPLE"], h["BITPIX"], h["NAXIS"] = True, -64, 2
    h["NAXIS1"], h["NAXIS2"] = nx, ny
    h["CTYPE1"], h["CTYPE2"] = w.wcs.ctype[0], w.wcs.ctype[1]
    h["EQUINOX"] = 2000.0
    h["CRVAL1"], h["CRVAL2"] = round(ra0, 9), round(dec0, 9)
    h["CRPIX1"], h["CRPIX2"] = round(crpix1, 4), round(crpix2, 4)
    h["CDELT1"], h["CDELT2"] = -pixel_scale, pixel_scale
    h["CROTA2"] = 0.0
    return h


def _finest_scale(images) -> float:
    names = images.colnames
    if "cdelt1" in names and "cdelt2" in names:
        scales = np.minimum(np.abs(images["cdelt1"]), np.abs(images["cdelt2"]))
        return float(np.min(scales))
    raise InputError(
        "make_template: the image table has no cdelt1/cdelt2 columns; give pixel_scale"
    )
