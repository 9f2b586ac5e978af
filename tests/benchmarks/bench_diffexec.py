"""
Benchmark: diffview's compute_differences against MontagePy's mDiffExec (m17).

Run by hand (not part of the test run)::

    python tests/benchmarks/bench_diffexec.py [--preset m17] [--repeat 3]

Prints the median wall time of each on the same inputs in the same run, their
ratio (target <= 0.25 on 2 cores), and the peak memory of a one-worker run
(traced numpy/Python allocations) next to the size of the largest pair, to
show that memory follows the largest pair and not the number of pairs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path


def _time_interleaved(runs, repeat, prepare):
    """Median wall and CPU (user + system) times of each ``runs[name](out)``.

    The programs take turns, round after round, so that a slow spell of the
    shared machine hits them alike; before every run (untimed) a new output
    folder is made and the disk cache flushed (``os.sync``), so no run pays
    for writing back the files of the one before. CPU time leaves out waiting
    on the disk, which varies a lot on a shared virtual machine.
    """
    wall = {name: [] for name in runs}
    cpu = {name: [] for name in runs}
    for _ in range(repeat):
        for name, func in runs.items():
            out = prepare(name)
            os.sync()
            t0, c0 = time.perf_counter(), time.process_time()
            func(out)
            wall[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
    return (
        {k: statistics.median(v) for k, v in wall.items()},
        {k: statistics.median(v) for k, v in cpu.items()},
    )


def _fresh(path: Path) -> Path:
    """A new empty output folder beside ``path`` (deleting old outputs is not
    part of either program's work, and the file system's cleanup of a
    just-deleted folder would slow the next run down)."""
    return Path(tempfile.mkdtemp(prefix=path.name, dir=path.parent))


def main(argv=None) -> None:
    from MontagePy.main import mDiffExec

    from diffview import io
    from diffview.core import overlap_box, template_offset
    from diffview.run import compute_differences
    from diffview.sample.datasets import write_sample

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--preset", default="m17")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument(
        "--dir",
        default=None,
        help="where the sample and outputs go (default: the temporary folder); "
        "/dev/shm takes the virtual disk's varying file-creation cost out",
    )
    args = ap.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="bench_diffexec_", dir=args.dir))
    s = write_sample(tmp / "sample", args.preset, quiet=True)
    npairs = len(s.overlaps)
    out_m, out_d = tmp / "m", tmp / "d"

    def run_montage(out):
        res = mDiffExec(
            str(s.proj_dir),
            str(s.diffs_tbl),
            str(s.template),
            str(out),
            False,
            0,
        )
        assert res["status"] == "0" and res["failed"] == 0, res

    def run_diffview(out, workers=args.workers):
        r = compute_differences(
            s.proj_dir,
            s.diffs_tbl,
            s.template,
            out,
            workers=workers,
            quiet=True,
        )
        assert r.failed == 0, r.failures

    run_diffview(_fresh(out_d))  # warm caches and imports for both
    runs = {
        "montage": run_montage,
        "default": run_diffview,
        "one": lambda out: run_diffview(out, 1),
        "two": lambda out: run_diffview(out, 2),
    }
    wall, cpu = _time_interleaved(
        runs, args.repeat, lambda name: _fresh(out_m if name == "montage" else out_d)
    )
    t_m, t_d, t_1, t_2 = (wall[k] for k in runs)
    c_m, c_1 = cpu["montage"], cpu["one"]

    # peak memory of an in-process (1 worker) run vs the largest pair
    tmpl = io.read_template(s.template)
    tshape = (tmpl["NAXIS2"], tmpl["NAXIS1"])
    tcrpix = (tmpl["CRPIX1"], tmpl["CRPIX2"])
    geo = {}
    for ov in s.overlaps:
        for name in (ov.plus, ov.minus):
            if name not in geo:
                from astropy.io import fits

                h = fits.getheader(s.proj_dir / name)
                geo[name] = (
                    template_offset(tcrpix, (h["CRPIX1"], h["CRPIX2"])),
                    (h["NAXIS2"], h["NAXIS1"]),
                )
    largest = 0
    for ov in s.overlaps:
        (o1, sh1), (o2, sh2) = geo[ov.plus], geo[ov.minus]
        box = overlap_box(tshape, o1, sh1, o2, sh2)
        if box:
            largest = max(largest, (box[0][1] - box[0][0]) * (box[1][1] - box[1][0]))
    tracemalloc.start()
    run_diffview(_fresh(out_d), 1)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    print(
        f"preset {args.preset}: {npairs} pairs, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f}, files in {tmp.parent}"
    )
    print(f"MontagePy mDiffExec      : {t_m:8.3f} s")
    print(
        f"compute_differences auto : {t_d:8.3f} s   ratio {t_d / t_m:.3f} "
        "(target <= 0.25)"
    )
    print(f"compute_differences 1   : {t_1:8.3f} s   ratio {t_1 / t_m:.3f}")
    print(f"compute_differences 2   : {t_2:8.3f} s   ratio {t_2 / t_m:.3f}")
    print(
        f"CPU time, one process    : MontagePy {c_m:.3f} s, diffview {c_1:.3f} s, "
        f"ratio {c_1 / c_m:.3f}"
    )
    print(
        f"peak traced memory, 1 worker: {peak / 2**20:.1f} MiB; largest pair box "
        f"{largest} px = {largest * 8 / 2**20:.2f} MiB per float64 array; "
        f"all {npairs} pairs' boxes would be "
        f"{sum(1 for _ in s.overlaps) * largest * 8 / 2**20:.0f} MiB"
    )
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
