"""Benchmark and real-data check: raw images to mosaic, diffview vs MontagePy.

Run as a script: ``python tests/benchmarks/bench_chain.py [--set seeded|dss|cfht]``.
For each set it runs MontagePy's tutorial chain (mImgtbl, mMakeHdr, mProjExec,
mImgtbl, mOverlaps, mDiffExec, mFitExec, mBgModel, mBgExec, mAdd with areas)
and ``diffview.make_mosaic`` twice: on MontagePy's template (so that pixels
compare one to one) and on its own. It prints each chain's time in this
process, the shape and frame of the mosaics, and the rms of the difference on
the pixels both cover.

Sets:

* ``seeded``: the rotated, offset TAN frames of ``tests/raw_fields.py``;
* ``dss``: the two overlapping Digitized Sky Survey cut-outs of
  ``/work/shared/data/real/dss_midas`` with their plate solution cards
  (``AMDX*``, ``PLT*`` ...) removed, so that both tools use the same linear
  WCS (with them, Montage uses the plate polynomial and astropy the linear
  approximation, and stars land on different pixels); ``dss-amd`` keeps them;
* ``cfht``: the CFHT Abell 370 frame cut into four overlapping tiles
  (different CRPIX, the frame's rotated CD matrix) with a plane added to each.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

REAL = Path("/work/shared/data/real")
HERE = Path(__file__).resolve().parents[1]


def _seeded(raw: Path) -> None:
    sys.path.insert(0, str(HERE))
    from raw_fields import write_raw_field

    write_raw_field(raw)


def _dss(raw: Path, keep_plate=False) -> None:
    raw.mkdir()
    plate = ("AMDX", "AMDY", "PLT", "PPO", "CNPIX", "XPIXELSZ", "YPIXELSZ")
    for src in sorted((REAL / "dss_midas").glob("*.fits")):
        if keep_plate:
            shutil.copy(src, raw / src.name)
            continue
        with fits.open(src) as hdul:
            h = hdul[0].header.copy()
            for key in [k for k in h if k.startswith(plate)]:
                del h[key]
            fits.PrimaryHDU(hdul[0].data, h).writeto(
                raw / src.name, output_verify="silentfix")


def _cfht(raw: Path) -> None:
    raw.mkdir()
    rng = np.random.default_rng(1)
    with fits.open(REAL / "cfht_a370" / "a370II.fits") as hdul:
        data = hdul[0].data.astype(np.float32)
        header = hdul[0].header
    size, step = 560, 440
    for k, (j0, i0) in enumerate([(300, 300), (300, 300 + step),
                                  (300 + step, 300), (300 + step, 300 + step)]):
        h = header.copy()  # the frame's CD matrix, CRPIX moved to the cut
        h["CRPIX1"] -= i0
        h["CRPIX2"] -= j0
        a, b = rng.uniform(-0.02, 0.02, 2)
        c = rng.uniform(-30, 30)
        jj, ii = np.mgrid[0:size, 0:size]
        tile = data[j0 : j0 + size, i0 : i0 + size] + a * ii + b * jj + c
        for key in ("BSCALE", "BZERO"):
            h.remove(key, ignore_missing=True)
        fits.PrimaryHDU(tile, h).writeto(raw / f"a370_{k}.fits",
                                         output_verify="silentfix")


def montagepy_chain(raw: Path, work: Path) -> float:
    """MontagePy's tutorial chain; returns its wall time."""
    from MontagePy.main import (
        mAdd,
        mBgExec,
        mBgModel,
        mDiffExec,
        mFitExec,
        mImgtbl,
        mMakeHdr,
        mOverlaps,
        mProjExec,
    )

    work.mkdir()
    cwd = os.getcwd()
    os.chdir(work)
    start = time.perf_counter()
    try:
        for d in ("projected", "diffs", "corrected"):
            os.mkdir(d)
        steps = [
            mImgtbl(str(raw), "rimages.tbl"),
            mMakeHdr("rimages.tbl", "template.hdr"),
            mProjExec(str(raw), "rimages.tbl", "template.hdr", projdir="projected"),
            mImgtbl("projected", "images.tbl"),
            mOverlaps("images.tbl", "diffs.tbl"),
            mDiffExec("projected", "diffs.tbl", "template.hdr", "diffs"),
            mFitExec("diffs.tbl", "fits.tbl", "diffs"),
            mBgModel("images.tbl", "fits.tbl", "corrections.tbl"),
            mBgExec("projected", "images.tbl", "corrections.tbl", "corrected"),
            mAdd("corrected", "images.tbl", "template.hdr", "mosaic.fits",
                 haveAreas=True),
        ]
    finally:
        os.chdir(cwd)
    bad = [s for s in steps if s["status"] != "0"]
    if bad:
        raise SystemExit(f"MontagePy failed: {bad}")
    return time.perf_counter() - start


def compare(ours: Path, theirs: Path) -> str:
    a, ha = fits.getdata(ours, header=True)
    b, hb = fits.getdata(theirs, header=True)
    wa, wb = WCS(ha).celestial, WCS(hb).celestial
    frame = (
        list(wa.wcs.ctype) == list(wb.wcs.ctype)
        and np.allclose(wa.wcs.crval, wb.wcs.crval, atol=1e-8)
        and np.allclose(wa.wcs.crpix, wb.wcs.crpix, atol=1e-3)
        and np.allclose(wa.pixel_scale_matrix, wb.pixel_scale_matrix, rtol=1e-6)
    )
    text = f"shape {a.shape} vs {b.shape}, same frame: {frame}"
    if a.shape != b.shape:
        return text
    both = np.isfinite(a) & np.isfinite(b)
    d = (a - b)[both]
    only = (np.isfinite(a) ^ np.isfinite(b)).sum()
    return (
        f"{text}; on {both.sum()} common pixels rms {np.sqrt(np.mean(d**2)):.4f} DN, "
        f"median {np.median(d):+.4f}, 99% |d| < {np.percentile(abs(d), 99):.3f}; "
        f"{only} pixels covered by one mosaic only; data rms {np.nanstd(b):.1f} DN"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", default="seeded",
                        choices=["seeded", "dss", "dss-amd", "cfht"])
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    import diffview

    makers = {"seeded": _seeded, "dss": _dss, "cfht": _cfht,
              "dss-amd": lambda raw: _dss(raw, keep_plate=True)}
    with tempfile.TemporaryDirectory(prefix="bench-mosaic-") as tmp:
        root = Path(tmp)
        makers[args.set](root / "raw")
        t_mp = montagepy_chain(root / "raw", root / "mp")
        diffview.make_mosaic(root / "raw", root / "warm", quiet=True,
                             template=root / "mp" / "template.hdr")  # compile
        start = time.perf_counter()
        diffview.make_mosaic(root / "raw", root / "dv", quiet=True,
                             workers=args.workers,
                             template=root / "mp" / "template.hdr")
        t_dv = time.perf_counter() - start
        diffview.make_mosaic(root / "raw", root / "own", quiet=True,
                             workers=args.workers)
        print(f"set {args.set}: load {os.getloadavg()[0]:.2f}")
        print(f"  MontagePy chain {t_mp:.2f} s; make_mosaic {t_dv:.2f} s "
              f"(warm; ratio {t_dv / t_mp:.1f})")
        print("  on mMakeHdr's template:",
              compare(root / "dv" / "mosaic.fits", root / "mp" / "mosaic.fits"))
        print("  on its own template:",
              compare(root / "own" / "mosaic.fits", root / "mp" / "mosaic.fits"))
        shutil.rmtree(root / "warm")


if __name__ == "__main__":
    main()
