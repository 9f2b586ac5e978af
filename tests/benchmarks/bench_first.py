"""
In-process first calls: ``diffview.montage.X`` against ``MontagePy.main.X``.

A notebook or a script that calls one Montage function meets, once per
Python process, the import and the first call (libraries loaded, compiled
loops read, fonts found). This times exactly that: each case runs in a fresh
child interpreter, diffview and MontagePy in turns (A B A B ...), and the
child reports the wall and CPU seconds of ``from <module> import X`` and of the first
``X(...)`` apart. The issue's figures (#17) are the first call after the
import; the import, and both together, are printed beside them:

==================================================  ============
first call                                          target
==================================================  ============
mDiffExec                                           <= 0.25
mViewer, gaussian-log gray mosaic, two outlines     <= 0.03
==================================================  ============

The mViewer command is ``-ct 1 -color yellow -imginfo images.tbl -color
black -imginfo rimages.tbl -gray mosaic.fits min max gaussian-log`` (the
projected and the raw images' outlines on the mosaic).

Fields: the ``m17`` sample (`diffview.sample.write_sample`) and the CFHT
Abell 370 frame of ``/work/shared/data/real`` cut into four overlapping
tiles (``bench_chain.py``'s ``cfht`` set) made into a mosaic by
`diffview.make_mosaic`::

    python tests/benchmarks/bench_first.py [--repeat 5] [--fields m17,cfht]
        [--cases diffexec,viewer] [--work DIR]

``--work`` takes a work folder with ``images.tbl``, ``rimages.tbl``,
``diffs.tbl``, ``template.hdr``, ``projected/`` and ``mosaic.fits``. The
load of the machine is printed with the figures. Time it as installed:
``unset PYTHONDONTWRITEBYTECODE; python -m compileall -q diffview`` first.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_cold import _load  # noqa: E402  (the same load line)

MODULES = {"dv": "diffview.montage", "mp": "MontagePy.main"}

#: The call of each case; {w}: work folder, {o}: a new output folder.
CASES = {
    "diffexec": ("mDiffExec",
                 "mDiffExec('{w}/projected', '{w}/diffs.tbl', '{w}/template.hdr', "
                 "'{o}')"),
    "viewer": ("mViewer",
               "mViewer('-ct 1 -color yellow -imginfo {w}/images.tbl -color black "
               "-imginfo {w}/rimages.tbl -gray {w}/mosaic.fits min max gaussian-log', "
               "'{o}/out.png', mode=2)"),
}

TARGETS = {"diffexec": 0.25, "viewer": 0.03}

#: The child: times the import and the first call apart, prints them as JSON.
CHILD = """\
import json, time
t0, c0 = time.perf_counter(), time.process_time()
from {module} import {func}
t1, c1 = time.perf_counter(), time.process_time()
r = {call}
t2, c2 = time.perf_counter(), time.process_time()
assert r['status'] == '0', r
print(json.dumps([t1 - t0, t2 - t1, c1 - c0, c2 - c1]))
"""


def _in_child(code: str) -> str:
    """Run ``code`` in a fresh interpreter; its standard output."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (str(HERE), os.environ.get("PYTHONPATH")) if p))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True,
                          text=True, env=env)
    if proc.returncode:
        raise RuntimeError(f"child failed: {proc.stderr[-800:]}")
    return proc.stdout.strip()


def _m17(root: Path) -> Path:
    _in_child("from diffview.sample import write_sample; "
              f"write_sample({str(root)!r}, 'm17', quiet=True)")
    return root


def _cfht(root: Path) -> Path:
    """The CFHT frame in four tiles, made into a work folder with a mosaic."""
    _in_child(
        "from pathlib import Path\nfrom bench_chain import _cfht\n"
        "from diffview import make_mosaic\n"
        f"raw = Path({str(root)!r}) / 'raw'\nraw.parent.mkdir()\n_cfht(raw)\n"
        f"make_mosaic(raw, Path({str(root)!r}) / 'work', quiet=True)\n"
    )
    return root / "work"


def first(case: str, work: Path, tmp: Path, repeat: int) -> dict:
    """Alternate diffview and MontagePy fresh children ``repeat`` times (after
    one round that warms the file cache); each side's (import, call) seconds."""
    func, call = CASES[case]
    runs: dict = {"dv": [], "mp": []}
    for k in range(repeat + 1):
        for who, module in MODULES.items():
            out = tmp / f"{case}-{who}-{k}"
            out.mkdir()
            code = CHILD.format(module=module, func=func,
                                call=call.format(w=work, o=out))
            times = json.loads(_in_child(code))
            shutil.rmtree(out, ignore_errors=True)
            if k:
                runs[who].append(times)
    return runs


#: What is timed: the import, the first call, both (wall seconds), and the
#: CPU seconds of the call (all threads; less moved by a loaded machine).
PARTS = {"import": lambda r: r[0], "call": lambda r: r[1],
         "both": lambda r: r[0] + r[1], "call CPU": lambda r: r[3]}


def _report(field: str, case: str, runs: dict) -> None:
    """Medians of each side and the median of the pairwise ratios."""
    print(f"{field} {case} (target for the call: {TARGETS[case]:.2f})")
    for name, part in PARTS.items():
        dv = statistics.median(part(r) for r in runs["dv"])
        mp = statistics.median(part(r) for r in runs["mp"])
        ratio = statistics.median(part(d) / part(m) for d, m in
                                  zip(runs["dv"], runs["mp"], strict=True))
        print(f"  {name:9s} {dv:8.3f} {mp:8.3f} {ratio:8.2f}", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--fields", default="m17,cfht")
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--work", help="a work folder instead of the fields")
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bench-first-"))
    try:
        if args.work:
            fields = {"work": Path(args.work).resolve()}
        else:
            makers = {"m17": _m17, "cfht": _cfht}
            fields = {name: makers[name](tmp / name)
                      for name in args.fields.split(",")}
        print(f"median of {args.repeat}; {_load()}")
        print(f"  {'seconds':9s} {'diffview':>8s} {'MontagePy':>8s} {'ratio':>8s}"
              " (median of the pairs' ratios)")
        for name, work in fields.items():
            for case in args.cases.split(","):
                _report(name, case, first(case, work, tmp, args.repeat))
        print(_load())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
