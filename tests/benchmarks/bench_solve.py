"""Benchmark: the background solvers at survey scale (no pixels, no files).

Run as a script::

    python tests/benchmarks/bench_solve.py [--sizes 7500 30000]
        [--cases direct direct-plain montage] [--seed 0] [--timeout 600]

A seeded in-memory survey (`make_survey`): two staggered layers of
1000 x 1000 pixel tiles on a jittered grid, every tile overlapping its
neighbours along edges and at corners (about 6 fits per image), each image
with an injected background plane, each fit the difference of the two planes
plus fit noise (about 0.3 DN over its box) and one fit in 200 wild (off by
tens to hundreds of DN). Each case runs in a fresh subprocess that builds the
survey, solves it through the core API (`image_geometry`-style
`ImageGeometry` and a list of `PlaneFit`) and reports:

* the solve's wall time (the survey's construction excluded),
* the process's peak resident memory (``ru_maxrss``, survey included) and the
  memory the survey alone took before the solve,
* the median over images of the rms, over each image's pixels, of the
  correction minus the injected plane (after removing the one plane common
  to all images, which differences cannot determine).

Cases: ``direct`` is `solve_direct` with its defaults (prior with
evidence-estimated strengths, robust weights: what the dashboard uses),
``direct-plain`` is ``solve_direct(regularize=None, robust=False)``,
``montage`` is `solve_montage` (Montage's mBgModel, defaults).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from survey_fields import make_survey, rms_per_image  # noqa: E402

_CASES = {
    "direct": ("solve_direct", {}),
    "direct-plain": ("solve_direct", {"regularize": None, "robust": False}),
    "montage": ("solve_montage", {}),
}


def _child(case: str, nimages: int, seed: int) -> dict:
    import diffview.core as core

    geo, fits, truth = make_survey(nimages, seed)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    name, kwargs = _CASES[case]
    start = time.perf_counter()
    corrections = getattr(core, name)(geo, fits, **kwargs)
    elapsed = time.perf_counter() - start
    rms = rms_per_image(corrections, truth, geo)
    return {
        "case": case,
        "images": len(truth),
        "fits": len(fits),
        "seconds": elapsed,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "survey_mb": before / 1024,
        "median_rms": float(np.nanmedian(rms)),
        "solved": int(np.isfinite(rms).sum()),
    }


def _run(case: str, nimages: int, seed: int, timeout: float) -> dict:
    cmd = [sys.executable, __file__, "--child", case, str(nimages), str(seed)]
    try:
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, env=os.environ
        )
    except subprocess.TimeoutExpired:
        return {"case": case, "images": nimages, "error": f"> {timeout:.0f} s"}
    if done.returncode:
        tail = (done.stderr.strip().splitlines() or ["?"])[-1]
        return {"case": case, "images": nimages, "error": tail}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _row(r: dict) -> str:
    head = f"{r['case']:<13} {r['images']:>7}"
    if "error" in r:
        return f"{head}  failed: {r['error']}"
    return (
        f"{head} {r['fits']:>8} {r['seconds']:9.2f} {r['peak_mb']:9.0f}"
        f" {r['survey_mb']:9.0f} {r['median_rms']:9.3f}"
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[7500, 30000])
    parser.add_argument("--cases", nargs="+", default=list(_CASES), choices=_CASES)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        case, nimages, seed = args.child
        print(json.dumps(_child(case, int(nimages), int(seed))))
        return
    print(f"load average: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(
        f"{'case':<13} {'images':>7} {'fits':>8} {'solve s':>9} {'peak MB':>9}"
        f" {'survey MB':>9} {'rms DN':>9}"
    )
    results = {}
    for nimages in args.sizes:
        for case in args.cases:
            r = _run(case, nimages, args.seed, args.timeout)
            results[(case, nimages)] = r
            print(_row(r), flush=True)
    sizes = sorted(args.sizes)
    for case in args.cases:
        small, large = results[(case, sizes[0])], results[(case, sizes[-1])]
        if len(sizes) > 1 and "seconds" in small and "seconds" in large:
            print(
                f"{case}: {sizes[-1] / sizes[0]:.0f}x the images,"
                f" {large['seconds'] / small['seconds']:.1f}x the time"
            )
    print(f"load average: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
