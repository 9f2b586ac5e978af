"""Synthetic mosaics with injected background planes, run through MontagePy.

Shared by the background, quality and fits tests: ``make_mosaic`` writes a
projected field with known planes, ``run_montage`` runs MontagePy's chain on
it, and the readers load Montage's tables as plain dicts.
"""

import os

import numpy as np
from astropy.io import ascii, fits

from conftest import MP
from diffview.models import PlaneFit

WCS = {
    "CTYPE1": "RA---TAN",
    "CTYPE2": "DEC--TAN",
    "CRVAL1": 10.0,
    "CRVAL2": 20.0,
    "CDELT1": -0.001,
    "CDELT2": 0.001,
}


def make_mosaic(
    root, *, ntx=4, nty=3, tile=(60, 80), step=(50, 70), twice=False, noise=1.0, seed=0
):
    """Tiles of one sky plus a random plane each; returns {file base name: plane}."""
    rng = np.random.default_rng(seed)
    (root / "proj").mkdir(parents=True)
    (root / "diffs").mkdir()
    ny = step[0] * (nty - 1) + tile[0] + 10
    nx = step[1] * (ntx - 1) + tile[1] + 10
    tcr = (nx / 2 + 0.5, ny / 2 + 0.5)
    hdr = fits.Header(
        {
            "SIMPLE": True,
            "BITPIX": -64,
            "NAXIS": 2,
            "NAXIS1": nx,
            "NAXIS2": ny,
            **WCS,
            "CRPIX1": tcr[0],
            "CRPIX2": tcr[1],
        }
    )
    (root / "template.hdr").write_text(
        "\n".join(c.image.rstrip() for c in hdr.cards) + "\nEND\n"
    )
    jj, ii = np.mgrid[0:ny, 0:nx]
    sky = 5 * np.sin(ii / 17.0) + 3 * np.cos(jj / 11.0) + 100
    truth = {}
    shifts = [(0, 0)] + ([(step[0] // 2, step[1] // 2)] if twice else [])
    for sj, si in shifts:
        for ty in range(nty):
            for tx in range(ntx):
                j0, i0 = 5 + ty * step[0] + sj, 5 + tx * step[1] + si
                if j0 + tile[0] > ny or i0 + tile[1] > nx:
                    continue
                crpix = (tcr[0] - i0, tcr[1] - j0)
                p = (rng.normal(0, 0.02), rng.normal(0, 0.02), rng.normal(0, 5))
                y, x = np.mgrid[0 : tile[0], 0 : tile[1]]
                data = (
                    sky[j0 : j0 + tile[0], i0 : i0 + tile[1]]
                    + rng.normal(0, noise, tile)
                    + p[0] * (x - crpix[0])
                    + p[1] * (y - crpix[1])
                    + p[2]
                )
                h = fits.Header(
                    {
                        "SIMPLE": True,
                        "BITPIX": -64,
                        "NAXIS": 2,
                        "NAXIS1": tile[1],
                        "NAXIS2": tile[0],
                        **WCS,
                        "CRPIX1": crpix[0],
                        "CRPIX2": crpix[1],
                    }
                )
                name = f"hdu0_img{len(truth):03d}"
                fits.PrimaryHDU(data, h).writeto(root / "proj" / f"{name}.fits")
                fits.PrimaryHDU(np.full(tile, 1e-11), h).writeto(
                    root / "proj" / f"{name}_area.fits"
                )
                truth[name] = p
    return truth


def run_montage(root, modes=(0,)):
    """MontagePy's chain on a mosaic: images.tbl, diffs, fits.tbl, corrections."""
    mBgModel, mDiffExec, mFitExec = MP.mBgModel, MP.mDiffExec, MP.mFitExec
    mImgtbl, mOverlaps = MP.mImgtbl, MP.mOverlaps

    r = str(root)
    assert (
        mImgtbl(
            r + "/proj",
            r + "/images.tbl",
            False,
            False,
            False,
            False,
            True,
            False,
            False,
            "",
            "",
            0,
        )["status"]
        == "0"
    )
    assert mOverlaps(r + "/images.tbl", r + "/diffs.tbl", False, 0)["status"] == "0"
    assert (
        mDiffExec(
            r + "/proj", r + "/diffs.tbl", r + "/template.hdr", r + "/diffs", False, 0
        )["status"]
        == "0"
    )
    assert (
        mFitExec(r + "/diffs.tbl", r + "/fits.tbl", r + "/diffs", False, 0)["status"]
        == "0"
    )
    for mode in modes:
        assert (
            mBgModel(
                r + "/images.tbl",
                r + "/fits.tbl",
                r + f"/corr{mode}.tbl",
                "",
                bool(mode),
                False,
                10000,
                0,
            )["status"]
            == "0"
        )


def read_fits_tbl(path):
    t = ascii.read(str(path), format="ipac")
    return [
        PlaneFit(
            *[
                int(r[c]) if c in ("plus", "minus", "npixel") else float(r[c])
                for c in PlaneFit.columns()
            ]
        )
        for r in t
    ]


def read_corr_tbl(path):
    return {
        int(r["id"]): (float(r["a"]), float(r["b"]), float(r["c"]))
        for r in ascii.read(str(path), format="ipac")
    }


def truth_rms(corrs, truth, images):
    """rms (DN) of correction minus truth over every image, one global plane removed."""
    xs, ys, es = [], [], []
    for row in images:
        cid = int(row["cntr"])
        if cid not in corrs:
            continue
        base = os.path.basename(str(row["fname"]))[:-5]
        a, b, c = np.subtract(corrs[cid], truth[base])
        jj, ii = np.mgrid[0 : int(row["naxis2"]) : 4, 0 : int(row["naxis1"]) : 4]
        x, y = ii - float(row["crpix1"]), jj - float(row["crpix2"])
        xs.append(x.ravel())
        ys.append(y.ravel())
        es.append((a * x + b * y + c).ravel())
    x, y, e = map(np.concatenate, (xs, ys, es))
    m = np.column_stack([x, y, np.ones_like(x)])
    g, *_ = np.linalg.lstsq(m, e, rcond=None)
    return float(np.sqrt(np.mean((e - m @ g) ** 2)))


def as_dict(corrs):
    return {c.id: (c.a, c.b, c.c) for c in corrs}
