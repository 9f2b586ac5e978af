"""A tiny Montage work folder for the dashboard and loop tests.

``make_work`` writes six projected tiles on a 2 x 3 grid of a TAN template
(with area files), ``images.tbl``, ``template.hdr``, ``diffs.tbl`` (eleven
pairs, no difference files yet) and optionally ``mosaic.fits``.
"""

import numpy as np
from astropy.io import fits

from diffview import io
from diffview.geometry.overlaps import diff_name
from diffview.models import Overlap

TSHAPE = (90, 120)  # template rows, columns
TCRPIX = (60.5, 45.5)
TILE = (40, 50)
ORIGINS = [(0, 0), (0, 35), (0, 70), (32, 0), (32, 35), (32, 70)]  # (j, i)


def _header(shape, crpix):
    h = fits.Header()
    h["SIMPLE"], h["BITPIX"], h["NAXIS"] = True, -64, 2
    h["NAXIS1"], h["NAXIS2"] = shape[1], shape[0]
    h["CTYPE1"], h["CTYPE2"] = "RA---TAN", "DEC--TAN"
    h["CRVAL1"], h["CRVAL2"] = 275.196, -16.171
    h["CRPIX1"], h["CRPIX2"] = crpix
    h["CDELT1"], h["CDELT2"] = -0.000277778, 0.000277778
    h["CROTA2"], h["EQUINOX"] = 0.0, 2000.0
    return h


def _sky(rng):
    jj, ii = np.mgrid[0 : TSHAPE[0], 0 : TSHAPE[1]]
    sky = 50 + 30 * np.exp(-((ii - 70) ** 2 + (jj - 40) ** 2) / 300.0)
    return sky + rng.normal(0, 1.0, TSHAPE)


def make_work(root, *, mosaic=True):
    """Write projected images, images.tbl, template, diffs.tbl (no diffs)."""
    rng = np.random.default_rng(7)
    sky = _sky(rng)
    proj = root / "projected"
    proj.mkdir(parents=True)
    template = _header(TSHAPE, TCRPIX)
    io.write_template(template, root / "template.hdr")
    rows = {
        k: []
        for k in (
            "cntr",
            "ctype1",
            "ctype2",
            "naxis1",
            "naxis2",
            "crval1",
            "crval2",
            "crpix1",
            "crpix2",
            "cdelt1",
            "cdelt2",
            "crota2",
            "equinox",
            "fname",
        )
    }
    planes = {}
    for k, (j0, i0) in enumerate(ORIGINS):
        crpix = (TCRPIX[0] - i0, TCRPIX[1] - j0)
        h = _header(TILE, crpix)
        plane = (rng.normal(0, 0.02), rng.normal(0, 0.02), rng.normal(0, 5.0))
        jj, ii = np.mgrid[0 : TILE[0], 0 : TILE[1]]
        data = (
            sky[j0 : j0 + TILE[0], i0 : i0 + TILE[1]]
            + (
                plane[0] * (ii - crpix[0] + 1)
                + plane[1] * (jj - crpix[1] + 1)
                + plane[2]
            )
            + rng.normal(0, 0.5, TILE)
        )
        data[0, 0] = np.nan
        name = f"tile_{k}.fits"
        fits.PrimaryHDU(data, h).writeto(proj / name)
        fits.PrimaryHDU(np.ones(TILE), h).writeto(proj / f"tile_{k}_area.fits")
        planes[k] = plane
        for key, value in (
            ("cntr", k),
            ("ctype1", "RA---TAN"),
            ("ctype2", "DEC--TAN"),
            ("naxis1", TILE[1]),
            ("naxis2", TILE[0]),
            ("crval1", h["CRVAL1"]),
            ("crval2", h["CRVAL2"]),
            ("crpix1", crpix[0]),
            ("crpix2", crpix[1]),
            ("cdelt1", h["CDELT1"]),
            ("cdelt2", h["CDELT2"]),
            ("crota2", 0.0),
            ("equinox", 2000.0),
            ("fname", name),
        ):
            rows[key].append(value)
    io.write_table(rows, root / "images.tbl")
    pairs = [
        (0, 1),
        (1, 2),
        (3, 4),
        (4, 5),
        (0, 3),
        (1, 4),
        (2, 5),
        (0, 4),
        (1, 3),
        (1, 5),
        (2, 4),
    ]
    io.write_diffs_table(
        [
            Overlap(a, b, f"tile_{a}.fits", f"tile_{b}.fits", diff_name(a, b))
            for a, b in pairs
        ],
        root / "diffs.tbl",
    )
    if mosaic:
        fits.PrimaryHDU(sky, template).writeto(root / "mosaic.fits")
    return root
