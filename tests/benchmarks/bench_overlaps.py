"""Benchmark: overlap finding at survey scale, diffview against MontagePy.

Run as a script::

    python tests/benchmarks/bench_overlaps.py [--sizes 7500 30000] [--repeat 3]

Writes the seeded survey tables of `fields.write_survey_table` (no pixels;
reused from ``--work`` when there), then times ``diffview overlaps
images.tbl diffs.tbl`` and MontagePy's ``mOverlaps`` as whole fresh
processes, in turns (A B A B ...), after one untimed run of each. Prints per
size the median wall and CPU (user + system) time and the peak memory
(``/usr/bin/time``'s maximum resident set) of each, the medians of the
pairwise ratios (diffview / MontagePy; lower is better), and the growth of
each tool's time from the smallest to the largest size; checks that both
write the same ``diffs.tbl``. The machine's load average is printed with
every figure: on a shared machine quote medians and ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fields  # noqa: E402  (next to this script)

MONTAGE = "import sys, MontagePy.main as m; r = m.mOverlaps(sys.argv[1], sys.argv[2], False, 0); sys.exit(r['status'] != '0')"  # noqa: E501


def run(argv) -> tuple[float, float, float]:
    """
    Run a command as a fresh process: (wall s, CPU s, peak RSS in MB).

    The peak comes from ``/usr/bin/time`` (a child forked from this big
    process would report this process's size as its own).
    """
    # as installed: modules compiled once (the untimed run writes bytecode)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.NamedTemporaryFile("r") as peak:
        start = time.perf_counter()
        proc = subprocess.Popen(
            ["/usr/bin/time", "-f", "%M", "-o", peak.name, *argv],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            raise SystemExit(f"{argv[:4]} failed: {proc.stderr.read().decode()[-500:]}")
        proc.stderr.close()
        kb = float(peak.read().split()[-1])
    return wall, usage.ru_utime + usage.ru_stime, kb / 1024


def table(work: Path, n: int, seed: int) -> Path:
    """The survey table of n images under work (written once)."""
    root = work / f"survey_{n}_{seed}"
    truth = root / "truth.json"
    if truth.exists() and json.loads(truth.read_text()).get("n") == n:
        return root
    t = time.perf_counter()
    s = fields.write_survey_table(root, n, seed=seed)
    print(f"wrote {n} images, {len(s.pairs)} pairs in {time.perf_counter() - t:.1f} s")
    return root


def versus(root: Path, repeat: int) -> dict:
    """Whole-process runs of both tools in turns; medians and ratios."""
    images = str(root / "images.tbl")
    ours = [sys.executable, "-m", "diffview", "overlaps", images, str(root / "d.tbl")]
    theirs = [sys.executable, "-c", MONTAGE, images, str(root / "m.tbl")]
    run(ours), run(theirs)  # untimed: page cache, compiled bytecode
    if (root / "d.tbl").read_bytes() != (root / "m.tbl").read_bytes():
        raise SystemExit(f"{root}: diffview's diffs.tbl differs from MontagePy's")
    a, b, load = [], [], []
    for _ in range(repeat):
        a.append(run(ours))
        b.append(run(theirs))
        load.append(os.getloadavg()[0])
    med = statistics.median
    return {
        "diffview": [med(x[i] for x in a) for i in range(2)] + [max(x[2] for x in a)],
        "montagepy": [med(x[i] for x in b) for i in range(2)] + [max(x[2] for x in b)],
        "ratio": med(x[0] / y[0] for x, y in zip(a, b, strict=True)),
        "cpu ratio": med(x[1] / y[1] for x, y in zip(a, b, strict=True)),
        "load": (min(load), max(load)),
    }


def main(argv=None) -> None:
    """Time both tools at each size and print the table."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[7500, 30000])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--work", type=Path, help="folder for the tables (kept)")
    args = p.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="bench_overlaps_"))
    print(f"cpus {os.cpu_count()}, python {sys.version.split()[0]}, work {work}")
    rows = {}
    for n in args.sizes:
        rows[n] = r = versus(table(work, n, args.seed), args.repeat)
        (ta, ca, ma), (tb, cb, mb) = r["diffview"], r["montagepy"]
        print(
            f"{n:>7} images: diffview {ta:6.2f} s (cpu {ca:5.2f}) {ma:5.0f} MB | "
            f"MontagePy {tb:6.2f} s (cpu {cb:5.2f}) {mb:5.0f} MB | ratio "
            f"{r['ratio']:.2f} (cpu {r['cpu ratio']:.2f}) | load "
            f"{r['load'][0]:.1f}-{r['load'][1]:.1f}",
            flush=True,
        )
    if len(rows) > 1:
        lo, hi = min(rows), max(rows)
        for tool in ("diffview", "montagepy"):
            wall, cpu = (rows[hi][tool][i] / rows[lo][tool][i] for i in range(2))
            print(f"{tool}: {hi / lo:.0f}x the images, {wall:.1f}x the time "
                  f"(cpu {cpu:.1f}x)")


if __name__ == "__main__":
    main()
