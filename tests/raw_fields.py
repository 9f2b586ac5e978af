"""Seeded raw frames for the raw-to-mosaic chain: different WCS, known planes.

``write_raw_field`` renders one analytic sky (smooth sources and nebulosity,
so that interpolation and exact overlap agree closely) into frames with
different centres, sizes and rotations, written as real archives write them:
``CDELT`` + ``CROTA2`` for some, a rotated ``CD`` matrix for others, one as
int16 with ``BSCALE``/``BZERO``. Each frame gets its own background plane in
its own pixels and Gaussian noise.
"""

import math

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

CENTRE = (150.2, 2.3)
SCALE = 1.0 / 3600.0

# (offset x, offset y) in arcsec from CENTRE, rotation (deg), (ny, nx), CD?
LAYOUT = [
    ((-70, -60), 0.0, (110, 100), False),
    ((15, -70), 12.0, (100, 120), True),
    ((90, -45), -8.0, (120, 100), False),
    ((-80, 30), 25.0, (100, 110), True),
    ((0, 35), -15.0, (110, 110), False),
    ((85, 50), 5.0, (100, 100), True),
]


def _header(k, seed_rng, offset, theta, shape, use_cd):
    ny, nx = shape
    dra = offset[0] / 3600 / math.cos(math.radians(CENTRE[1]))
    h = fits.Header()
    h["SIMPLE"], h["BITPIX"], h["NAXIS"] = True, -32, 2
    h["NAXIS1"], h["NAXIS2"] = nx, ny
    h["CTYPE1"], h["CTYPE2"] = "RA---TAN", "DEC--TAN"
    h["CRVAL1"] = CENTRE[0] + dra + seed_rng.uniform(-2, 2) / 3600
    h["CRVAL2"] = CENTRE[1] + offset[1] / 3600 + seed_rng.uniform(-2, 2) / 3600
    h["CRPIX1"] = nx / 2 + 0.5 + seed_rng.uniform(-3, 3)
    h["CRPIX2"] = ny / 2 + 0.5 + seed_rng.uniform(-3, 3)
    if use_cd:
        c, s = math.cos(math.radians(theta)), math.sin(math.radians(theta))
        h["CD1_1"], h["CD1_2"] = -SCALE * c, -SCALE * s
        h["CD2_1"], h["CD2_2"] = -SCALE * s, SCALE * c
    else:
        h["CDELT1"], h["CDELT2"] = -SCALE, SCALE
        h["CROTA2"] = theta
    h["EQUINOX"] = 2000.0
    h["BUNIT"] = "DN"
    h["OBJECT"] = f"frame {k}"
    return h


def sources(rng):
    n = 60
    pos = rng.uniform(-150, 150, size=(n, 2))  # arcsec from CENTRE
    flux = rng.uniform(200, 3000, n)
    blobs = rng.uniform(-120, 120, size=(3, 2))
    return pos, flux, blobs


def sky(world, src):
    pos, flux, blobs = src
    x = (world.ra.deg - CENTRE[0]) * math.cos(math.radians(CENTRE[1])) * 3600
    y = (world.dec.deg - CENTRE[1]) * 3600
    img = np.full(x.shape, 100.0)
    for bx, by in blobs:
        img += 60 * np.exp(-0.5 * (((x - bx) / 60) ** 2 + ((y - by) / 45) ** 2))
    sig = 2.0  # arcsec: smooth enough that interpolation and exact overlap agree
    for (sx, sy), f in zip(pos, flux, strict=True):
        img += f / (2 * math.pi * sig**2) * np.exp(
            -0.5 * ((x - sx) ** 2 + (y - sy) ** 2) / sig**2
        )
    return img


def write_raw_field(folder, *, seed=0, noise=1.0, int16=(2,)):
    """Write the frames of `LAYOUT` into ``folder``; return {file name: plane}."""
    rng = np.random.default_rng(seed)
    src = sources(rng)
    folder.mkdir(parents=True, exist_ok=True)
    planes = {}
    for k, (offset, theta, shape, use_cd) in enumerate(LAYOUT):
        h = _header(k, rng, offset, theta, shape, use_cd)
        jj, ii = np.mgrid[0 : shape[0], 0 : shape[1]]
        img = sky(WCS(h).pixel_to_world(ii, jj), src)
        a, b = rng.uniform(-0.03, 0.03, 2)
        c = rng.uniform(-20, 20)
        img += a * (ii - shape[1] / 2) + b * (jj - shape[0] / 2) + c
        img += rng.normal(0, noise, img.shape)
        name = f"frame{k:02d}.fits"
        planes[name] = (a, b, c)
        if k in int16:
            h["BITPIX"] = 16
            hdu = fits.PrimaryHDU(header=h)
            hdu.data = img.astype(np.float32)
            hdu.scale("int16", bscale=0.05, bzero=1500.0)
            hdu.writeto(folder / name, overwrite=True)
        else:
            fits.PrimaryHDU(img.astype(np.float32), h).writeto(folder / name)
    return planes


def write_bad_files(folder):
    """A text file named .fits and an image without a celestial WCS (bad for
    the image table), and a frame cut short (its header is good, its pixels
    are not: bad for projection); returns the names of the first two."""
    (folder / "notes.fits").write_text("not a FITS file\n")
    fits.PrimaryHDU(np.ones((20, 20), np.float32)).writeto(folder / "nowcs.fits")
    h = fits.getheader(folder / "frame01.fits")
    h["OBJECT"] = "cut short"
    data = fits.PrimaryHDU(np.ones((100, 120), np.float32), h)
    whole = fits.HDUList([data])
    whole.writeto(folder / "short.fits")
    with open(folder / "short.fits", "r+b") as f:
        f.truncate(2880 + 2880 * 2)
    return ["notes.fits", "nowcs.fits"]
