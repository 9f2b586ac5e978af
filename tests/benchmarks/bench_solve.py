"""Benchmark: the background solvers at survey scale (no pixels).

Run as a script::

    python tests/benchmarks/bench_solve.py [--sizes 7500 30000]
        [--fields grid table] [--cases direct direct-plain montage]
        [--seed 0] [--timeout 600] [--work DIR]

Two seeded fields, each image with an injected background plane:

* ``grid`` (`survey_fields.make_survey`, in memory): two staggered layers of
  1000 x 1000 pixel tiles on a jittered grid, every tile overlapping its
  neighbours along edges and at corners (about 6 fits per image), each fit
  the difference of the two planes plus fit noise (about 0.3 DN over its
  box) and one fit in 200 wild (off by tens to hundreds of DN);
* ``table`` (`fields.write_survey_table`, Montage's files): projected TAN
  tiles in staggered scans, about 5 fits per image, written as
  ``images.tbl`` and ``fits.tbl`` (in ``--work``, made once per size) and
  read back with `diffview.io` as a user would.

Each case runs in a fresh subprocess that builds or reads the field, solves
it through the core API (`ImageGeometry` and a list of `PlaneFit`) and
reports:

* the solve's wall and CPU time (user + system; the field's construction
  excluded),
* the process's peak resident memory (``VmHWM``, else ``ru_maxrss``; field
  included) and the memory the field alone took before the solve,
* the median over images of the rms, over each image's pixels, of the
  correction minus the injected plane (after removing the one plane common
  to all images, which differences cannot determine).

Then, for each case and field, how the wall and CPU times grow from the
smallest size to the largest (the target: 4x the images in at most 6x the
time). Cases: ``direct`` is `solve_direct` with its defaults (prior with
evidence-estimated strengths, robust weights: what the dashboard's re-solve
uses), ``direct-plain`` is ``solve_direct(regularize=None, robust=False)``,
``montage`` is `solve_montage` (Montage's mBgModel, defaults).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(_HERE, ".."), _HERE]
from survey_fields import make_survey, rms_per_image  # noqa: E402

_CASES = {
    "direct": ("solve_direct", {}),
    "direct-plain": ("solve_direct", {"regularize": None, "robust": False}),
    "montage": ("solve_montage", {}),
}


def _field(field: str, nimages: int, seed: int, work: str):
    """``(ImageGeometry, fits, truth)`` of a seeded field."""
    if field == "grid":
        return make_survey(nimages, seed)
    from diffview import io
    from diffview.core import image_geometry

    root = os.path.join(work, f"table-{nimages}-{seed}")
    geo = image_geometry(io.read_table(os.path.join(root, "images.tbl")))
    fits = io.read_fits_table(os.path.join(root, "fits.tbl"))
    with open(os.path.join(root, "truth.json")) as stream:
        planes = json.load(stream)["planes"]
    return geo, fits, np.array([planes[str(k)] for k in range(len(planes))])


def _peak_mb() -> float:
    """This process's peak resident memory (MB) since it started.

    ``VmHWM``, which starts afresh with the program; ``ru_maxrss`` would
    include the parent's memory at the fork.
    """
    try:
        with open("/proc/self/status") as stream:
            for line in stream:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu() -> float:
    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime + use.ru_stime


def _child(case: str, field: str, nimages: int, seed: int, work: str) -> dict:
    import diffview.core as core

    geo, fits, truth = _field(field, nimages, seed, work)
    before = _peak_mb()
    name, kwargs = _CASES[case]
    start, cpu = time.perf_counter(), _cpu()
    corrections = getattr(core, name)(geo, fits, **kwargs)
    elapsed, cpu = time.perf_counter() - start, _cpu() - cpu
    rms = rms_per_image(corrections, truth, geo)
    return {
        "case": case,
        "field": field,
        "images": len(truth),
        "fits": len(fits),
        "seconds": elapsed,
        "cpu": cpu,
        "peak_mb": _peak_mb(),
        "survey_mb": before,
        "median_rms": float(np.nanmedian(rms)),
        "solved": int(np.isfinite(rms).sum()),
    }


def _run(case: str, field: str, nimages: int, seed: int, args) -> dict:
    cmd = [sys.executable, __file__, "--child", case, field, str(nimages), str(seed)]
    cmd += ["--work", args.work]
    head = {"case": case, "field": field, "images": nimages}
    try:
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=args.timeout, env=os.environ
        )
    except subprocess.TimeoutExpired:
        return {**head, "error": f"> {args.timeout:.0f} s"}
    if done.returncode:
        tail = (done.stderr.strip().splitlines() or ["?"])[-1]
        return {**head, "error": tail}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _row(r: dict) -> str:
    head = f"{r['case']:<13} {r['field']:<6} {r['images']:>7}"
    if "error" in r:
        return f"{head}  failed: {r['error']}"
    return (
        f"{head} {r['fits']:>8} {r['seconds']:8.2f} {r['cpu']:8.2f}"
        f" {r['peak_mb']:8.0f} {r['survey_mb']:9.0f} {r['median_rms']:8.3f}"
    )


def _load() -> str:
    return f"load average: {' '.join(f'{v:.2f}' for v in os.getloadavg())}"


def _growth(results: dict, args) -> None:
    small, large = min(args.sizes), max(args.sizes)
    for field in args.fields:
        for case in args.cases:
            a, b = results[(case, field, small)], results[(case, field, large)]
            if small < large and "seconds" in a and "seconds" in b:
                print(
                    f"{case} {field}: {large / small:.0f}x the images,"
                    f" {b['seconds'] / a['seconds']:.1f}x the wall time,"
                    f" {b['cpu'] / a['cpu']:.1f}x the CPU time"
                )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[7500, 30000])
    parser.add_argument(
        "--fields", nargs="+", default=["grid", "table"], choices=["grid", "table"]
    )
    parser.add_argument("--cases", nargs="+", default=list(_CASES), choices=_CASES)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--work", help="folder for the table field (made once)")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        case, field, nimages, seed = args.child
        print(json.dumps(_child(case, field, int(nimages), int(seed), args.work)))
        return
    args.work = args.work or tempfile.mkdtemp(prefix="bench_solve-")
    if "table" in args.fields:
        from fields import write_survey_table

        for n in args.sizes:
            root = os.path.join(args.work, f"table-{n}-{args.seed}")
            if not os.path.exists(os.path.join(root, "truth.json")):
                write_survey_table(root, n, seed=args.seed)
    print(_load())
    print(
        f"{'case':<13} {'field':<6} {'images':>7} {'fits':>8} {'wall s':>8}"
        f" {'cpu s':>8} {'peak MB':>8} {'field MB':>9} {'rms DN':>8}"
    )
    results = {}
    for nimages in args.sizes:
        for field in args.fields:
            for case in args.cases:
                r = _run(case, field, nimages, args.seed, args)
                results[(case, field, nimages)] = r
                print(_row(r), flush=True)
    _growth(results, args)
    print(_load())


if __name__ == "__main__":
    main()
