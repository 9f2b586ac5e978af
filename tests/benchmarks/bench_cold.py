"""
Whole-process figures: each background-matching step as a fresh process.

Montage users run one command per step, each a new process, so this times
what they meet: diffview's command line (``diffview diffexec`` ...) against
MontagePy's function in its own fresh interpreter (``python -c "from
MontagePy.main import mDiffExec; mDiffExec(...)"``), in turns (A B A B ...)
so that a shared machine's load hits both alike, each run writing into a new
empty folder. Wall time is measured around the child process; its peak memory
is the child's ``ru_maxrss``. It prints, per step, the medians, their ratio
(the median of the pairwise ratios) and the issue's target:

=============  ============  ===============
step           127 pairs     ~2,100 pairs
=============  ============  ===============
diffexec       <= 0.5        <= 0.25
fitexec        <= 0.5        <= 0.1
difffitexec    <= 0.3        <= 0.1
bgmodel        <= 1.0        <= 0.5
=============  ============  ===============

    python tests/benchmarks/bench_cold.py [--preset m17 | --work DIR] [--repeat 5]

``--work`` takes a Montage work folder (``images.tbl``, ``diffs.tbl``,
``template.hdr``, ``projected/``), e.g. one written by the field generators
of ``tests/benchmarks/fields.py``. ``--warm`` adds a second column: the same
step run again inside one warm Python process (diffview and MontagePy alike).
The load of the machine is printed with the figures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: (diffview's command line, MontagePy's call); {w}: work folder, {o}: output
#: folder of this run, {fits}: a fits table made once beforehand.
STEPS = {
    "diffexec": (
        "diffview diffexec -p {w}/projected {w}/diffs.tbl {w}/template.hdr {o}",
        "mDiffExec('{w}/projected', '{w}/diffs.tbl', '{w}/template.hdr', '{o}')",
    ),
    "fitexec": (
        "diffview fitexec {w}/diffs.tbl {o}/fits.tbl {diffs}",
        "mFitExec('{w}/diffs.tbl', '{o}/fits.tbl', '{diffs}')",
    ),
    "difffitexec": (
        "diffview difffitexec -p {w}/projected {w}/diffs.tbl {w}/template.hdr {o} "
        "{o}/fits.tbl",
        "mDiffFitExec('{w}/projected', '{w}/diffs.tbl', '{w}/template.hdr', '{o}', "
        "'{o}/fits.tbl')",
    ),
    "bgmodel": (
        "diffview bgmodel {w}/images.tbl {fits} {o}/corrections.tbl",
        "mBgModel('{w}/images.tbl', '{fits}', '{o}/corrections.tbl')",
    ),
}

TARGETS = {"diffexec": 0.5, "fitexec": 0.5, "difffitexec": 0.3, "bgmodel": 1.0}
#: The targets of a field of more than `LARGE_PAIRS` pairs (the 400-tile one).
LARGE_TARGETS = {"diffexec": 0.25, "fitexec": 0.1, "difffitexec": 0.1, "bgmodel": 0.5}
LARGE_PAIRS = 1000


def _targets(work: Path) -> dict:
    """The issue's targets for this field's size (rows of its diffs.tbl)."""
    with open(work / "diffs.tbl") as fh:
        rows = sum(1 for line in fh if line[:1] not in "|\\")
    return LARGE_TARGETS if rows > LARGE_PAIRS else TARGETS


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f} (1 min) {five:.1f} (5 min), {os.cpu_count()} cores"


def _create_cost(folder: Path, n: int = 400) -> str:
    """What creating a small file costs on the outputs' file system (median).

    Both tools create two files per pair; on some file systems (seen on this
    project's VM: ext4 mounted with ``discard``) a creation costs 0.4-0.8 ms
    of kernel time instead of ~0.02 ms, which then dominates both figures.
    """
    probe = folder / "create-probe"
    probe.mkdir()
    times = []
    for k in range(n):
        t = time.perf_counter()
        fd = os.open(probe / f"f{k}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        times.append(time.perf_counter() - t)
        os.close(fd)
    shutil.rmtree(probe)
    return f"a file creation takes {statistics.median(times) * 1e3:.2f} ms"


def _run(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one fresh child process."""
    with tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise RuntimeError(f"{argv[:3]} failed: {err.read()[-500:]!r}")
    return wall, usage.ru_maxrss / 1024.0


def _argvs(step: str, names: dict) -> tuple[list[str], list[str]]:
    ours, theirs = STEPS[step]
    diffview = shutil.which("diffview") or "diffview"
    ours = ours.format(**names).split()
    ours[0] = diffview
    func = theirs.split("(")[0]
    code = f"from MontagePy.main import {func}; r = {theirs.format(**names)}; " \
        "assert r['status'] == '0', r"
    return ours, [sys.executable, "-c", code]


def _in_child(code: str) -> str:
    """Run ``code`` in a fresh interpreter (this process stays small: a child's
    peak memory starts from its parent's at fork)."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True,
                          text=True, check=True).stdout.strip()


def _prepare(work: Path, tmp: Path) -> dict:
    """A difference folder and a fits table, made once (fitexec, bgmodel read them)."""
    diffs, fits = tmp / "diffs-once", tmp / "fits-once.tbl"
    diffs.mkdir()
    _in_child(
        "from diffview.montage import mDiffFitExec\n"
        f"r = mDiffFitExec('{work}/projected', '{work}/diffs.tbl', "
        f"'{work}/template.hdr', '{diffs}', '{fits}', keepAll=True)\n"
        "assert r['status'] == '0', r\n"
    )
    return {"w": str(work), "diffs": str(diffs), "fits": str(fits)}


def cold(step: str, names: dict, tmp: Path, repeat: int) -> dict:
    """Alternate diffview and MontagePy ``repeat`` times (after one warm-up each)."""
    ours, theirs, ratios = [], [], []
    for k in range(repeat + 1):
        pair = []
        for who in ("dv", "mp"):
            out = tmp / f"{step}-{who}-{k}"
            out.mkdir()
            argv = _argvs(step, dict(names, o=str(out)))[0 if who == "dv" else 1]
            pair.append(_run(argv))
            shutil.rmtree(out, ignore_errors=True)
        if k:  # the first round warms the file cache
            ours.append(pair[0])
            theirs.append(pair[1])
            ratios.append(pair[0][0] / pair[1][0])
    return {"dv": ours, "mp": theirs, "ratio": ratios}


def warm(step: str, names: dict, tmp: Path, repeat: int) -> tuple[float, float]:
    """Median seconds of the step run again in one warm process, both tools."""
    code = (
        "import sys, time, statistics, os\n"
        "import diffview.montage as D\nimport MontagePy.main as M\n"
        f"call = {STEPS[step][1]!r}\n"
        "func = call.split('(')[0]\n"
        "def go(mod, k):\n"
        f"    o = os.path.join({str(tmp)!r}, f'warm-{step}-{{mod.__name__}}-{{k}}')\n"
        "    os.makedirs(o)\n"
        f"    names = dict({names!r}, o=o)\n"
        "    scope = {func: getattr(mod, func)}\n"
        "    t = time.perf_counter(); eval(call.format(**names), scope)\n"
        "    return time.perf_counter() - t\n"
        "for mod in (D, M): go(mod, -1)\n"
        f"a = [go(D, k) for k in range({repeat})]\n"
        f"b = [go(M, k) for k in range({repeat})]\n"
        "print(statistics.median(a), statistics.median(b))\n"
    )
    out = _in_child(code).split()
    return float(out[0]), float(out[1])


def _median(runs, k) -> float:
    return statistics.median(r[k] for r in runs)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="m17", help="sample preset (small, m17, 2mass)")
    ap.add_argument("--work", help="a Montage work folder instead of a sample")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--steps", default=",".join(STEPS))
    ap.add_argument("--warm", action="store_true", help="add warm in-process figures")
    ap.add_argument("--out", help="folder for the runs' outputs (default: the system's "
                    "temporary folder); e.g. /dev/shm to leave the disk's file "
                    "creation out")
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bench-cold-", dir=args.out))
    try:
        if args.work:
            work = Path(args.work).resolve()
        else:
            work = tmp / "field"
            _in_child("from diffview.sample import write_sample; "
                      f"write_sample({str(work)!r}, {args.preset!r})")
        names = _prepare(work, tmp)
        targets = _targets(work)
        print(f"field: {work}; outputs in {tmp} ({_create_cost(tmp)}); {_load()}")
        print(f"{'step':12s} {'diffview s':>10s} {'MontagePy s':>11s} {'ratio':>6s} "
              f"{'target':>6s} {'dv MB':>6s} {'MP MB':>6s}"
              + ("  warm dv/MP s" if args.warm else ""))
        for step in args.steps.split(","):
            r = cold(step, names, tmp, args.repeat)
            dv, mp = _median(r["dv"], 0), _median(r["mp"], 0)
            line = (f"{step:12s} {dv:10.3f} {mp:11.3f} "
                    f"{statistics.median(r['ratio']):6.2f} {targets[step]:6.2f} "
                    f"{_median(r['dv'], 1):6.0f} {_median(r['mp'], 1):6.0f}")
            if args.warm:
                a, b = warm(step, names, tmp, 3)
                line += f"  {a:.3f}/{b:.3f} ({a / b:.2f})"
            print(line, flush=True)
        print(_load())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
