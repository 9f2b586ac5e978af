"""Benchmark: the mosaic steps (mMakeHdr, mProjExec, mAdd) against MontagePy.

Run as a script: ``python tests/benchmarks/bench_mosaic.py [--preset small]
[--repeat 3] [--workers 1]``. Makes a sample's raw images, then times, in
turns in this process (warm: imports and first calls done), MontagePy's and
diffview's drop-ins on the same inputs and prints medians and ratios
(diffview / MontagePy; lower is better), with the mosaic's rms difference.
Whole-process figures (imports included) need an outside timer running the
two chains as commands.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path


def _turns(reference, mine, repeat):
    """Median wall times of two calls run in turns (``mine`` once untimed first)."""
    mine()
    times: tuple[list, list] = ([], [])
    for _ in range(repeat):
        for func, bucket in ((reference, times[0]), (mine, times[1])):
            os.sync()
            start = time.perf_counter()
            func()
            bucket.append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def main(argv=None) -> int:
    """Time each step on one sample and print a table; return 0."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--preset", default="small", choices=["small", "m17", "dense"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args(argv)

    import numpy as np
    from astropy.io import fits
    from MontagePy import main as mp

    from diffview import montage as dv
    from diffview.sample import write_sample

    root = Path(tempfile.mkdtemp(prefix="bench_mosaic_"))
    s = write_sample(root / "s", args.preset, quiet=True)
    raw, tbl, hdr = str(s.raw_dir), str(root / "raw.tbl"), str(root / "t.hdr")
    mp.mImgtbl(raw, tbl)
    for d in ("mp", "dp"):
        (root / d).mkdir()
    rows = []

    def step(name, ref, mine):
        t_ref, t_mine = _turns(ref, mine, args.repeat)
        rows.append((name, t_ref, t_mine))

    step(
        "mMakeHdr",
        lambda: mp.mMakeHdr(tbl, hdr),
        lambda: dv.mMakeHdr(tbl, str(root / "d.hdr")),
    )
    step(
        "mProjExec",
        lambda: mp.mProjExec(raw, tbl, hdr, projdir=str(root / "mp")),
        lambda: dv.mProjExec(
            raw, tbl, hdr, projdir=str(root / "dp"), workers=args.workers
        ),
    )
    mp.mImgtbl(str(root / "mp"), str(root / "mp.tbl"))
    mp.mImgtbl(str(root / "dp"), str(root / "dp.tbl"))
    for mode in (0, 1):
        step(
            f"mAdd coadd={mode}",
            lambda m=mode: mp.mAdd(
                str(root / "mp"), str(root / "mp.tbl"), hdr,
                str(root / "m.fits"), haveAreas=True, coadd=m,
            ),
            lambda m=mode: dv.mAdd(
                str(root / "mp"), str(root / "mp.tbl"), hdr,
                str(root / "d.fits"), haveAreas=True, coadd=m,
            ),
        )  # fmt: skip
    dv.mAdd(str(root / "dp"), str(root / "dp.tbl"), hdr, str(root / "c.fits"),
            haveAreas=True)
    mp.mAdd(str(root / "mp"), str(root / "mp.tbl"), hdr, str(root / "m.fits"),
            haveAreas=True)  # fmt: skip
    a, b = fits.getdata(root / "m.fits"), fits.getdata(root / "c.fits")
    both = np.isfinite(a) & np.isfinite(b)
    rms = float(np.sqrt(np.mean((a - b)[both] ** 2)))

    print(f"preset {args.preset}: {len(s.truth)} images, load {os.getloadavg()[0]:.1f}")
    print(f"{'step':<16}{'MontagePy s':>12}{'diffview s':>12}{'ratio':>8}")
    for name, t_ref, t_mine in rows:
        print(f"{name:<16}{t_ref:>12.3f}{t_mine:>12.3f}{t_mine / t_ref:>8.2f}")
    print(f"raw-to-mosaic rms vs MontagePy's chain: {rms:.3g} DN ({a.shape})")
    shutil.rmtree(root)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
