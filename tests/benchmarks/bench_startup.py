"""
Benchmark: start-up of a fresh process, diffview against MontagePy.

Montage users run one command per step, each a new process, so what counts
is the whole process: interpreter start, imports, exit. Every command below
runs in a fresh interpreter (``subprocess.run``, wall time around it with
``time.perf_counter``), in turns with MontagePy's imports so that a shared
machine's load hits both alike:

* ``python -m diffview --help`` and the ``diffview --help`` console script
  (target < 0.15 s);
* ``import diffview``, ``import diffview.montage`` (target < 0.2 s),
  ``from diffview.montage import mDiffExec``, ``import diffview.core``;
* MontagePy: ``import MontagePy.main`` and
  ``from MontagePy.main import mDiffExec``;
* ``python -c pass``: the interpreter alone;
* a first call: ``from diffview.montage import mDiffExec`` then
  ``mDiffExec(...)`` on the ``small`` sample (6 pairs), against the same with
  MontagePy (compiled loops already in numba's cache, as after installation).

It prints medians, min-max and the ratio to ``import MontagePy.main``, then
the 15 most expensive imports (cumulative, from ``python -X importtime``) of
``diffview --help`` and ``import diffview.montage``.

Run by hand: ``python tests/benchmarks/bench_startup.py [--repeat N]
[--no-bytecode]`` (default 7 rounds). Caches are warm: a first, discarded
round fills the OS file cache and the bytecode caches. Where
``PYTHONDONTWRITEBYTECODE`` is set (so that packages installed without
``.pyc`` files are compiled from source in every process, which no pip-installed
user meets), the processes write their bytecode under a private
``PYTHONPYCACHEPREFIX`` in the temporary folder instead, touching neither the
environment nor the repository; ``--no-bytecode`` measures as the environment
says.
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

PY = sys.executable
ENV = dict(os.environ)


def _console_script() -> str | None:
    here = Path(PY).parent / "diffview"
    return str(here) if here.exists() else shutil.which("diffview")


def commands() -> dict[str, list[str]]:
    """Label -> argv of every timed command."""
    cmds = {
        "python -c pass": [PY, "-c", "pass"],
        "python -m diffview --help": [PY, "-m", "diffview", "--help"],
    }
    script = _console_script()
    if script:
        cmds["diffview --help"] = [script, "--help"]
    for code in (
        "import diffview",
        "import diffview.montage",
        "from diffview.montage import mDiffExec",
        "import diffview.core",
        "import MontagePy.main",
        "from MontagePy.main import mDiffExec",
    ):
        cmds[code] = [PY, "-c", code]
    return cmds


def first_call_commands(root: str) -> dict[str, list[str]]:
    """mDiffExec's import and first call on the small sample, both libraries."""
    from diffview.sample import write_sample

    s = write_sample(root, "small")
    cmds = {}
    for lib, mod in (("diffview", "diffview.montage"), ("MontagePy", "MontagePy.main")):
        out = Path(root) / f"diffs-{lib}"
        out.mkdir()
        code = (f"from {mod} import mDiffExec\n"
                f"r = mDiffExec({str(s.proj_dir)!r}, {str(s.diffs_tbl)!r}, "
                f"{str(s.template)!r}, {str(out)!r})\n"
                "assert r['status'] == '0', r")
        cmds[f"{lib}: mDiffExec first call"] = [PY, "-c", code]
    return cmds


def _run(argv) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=True, env=ENV)
    return time.perf_counter() - t0


def _available(argv) -> bool:
    done = subprocess.run(argv, capture_output=True, env=ENV)
    return done.returncode == 0


def time_commands(cmds: dict, repeat: int) -> dict[str, list[float]]:
    """Wall times of ``repeat`` rounds, every command once per round."""
    cmds = {k: v for k, v in cmds.items() if _available(v)}  # also warms up
    times = {k: [] for k in cmds}
    for _ in range(repeat):
        for label, argv in cmds.items():
            times[label].append(_run(argv))
    return times


def import_costs(argv_tail: list[str], top: int = 15) -> list[tuple[int, int, str]]:
    """The ``top`` imports with the largest cumulative time (us), self time too."""
    done = subprocess.run([PY, "-X", "importtime", *argv_tail],
                          capture_output=True, text=True, env=ENV)
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        self_us, cum_us, name = line.removeprefix("import time:").split("|")
        rows.append((int(cum_us), int(self_us), name.rstrip()))
    rows.sort(reverse=True)
    return rows[:top]


def main(argv=None) -> int:
    """Print the table of start-up times and the import costs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--no-bytecode", action="store_true",
                        help="keep PYTHONDONTWRITEBYTECODE as set")
    args = parser.parse_args(argv)
    if ENV.get("PYTHONDONTWRITEBYTECODE") and not args.no_bytecode:
        del ENV["PYTHONDONTWRITEBYTECODE"]
        ENV["PYTHONPYCACHEPREFIX"] = str(
            Path(tempfile.gettempdir()) / "diffview-bench-pycache")
    prefix = ENV.get("PYTHONPYCACHEPREFIX")
    cache = ("no bytecode written" if ENV.get("PYTHONDONTWRITEBYTECODE")
             else f"bytecode in {prefix}" if prefix else "bytecode in __pycache__")

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, "
          f"load average {load:.2f}; {args.repeat} rounds, fresh processes, warm "
          f"({cache})")
    with tempfile.TemporaryDirectory() as root:
        times = time_commands(commands() | first_call_commands(root), args.repeat)
    ref = statistics.median(times.get("import MontagePy.main", [float("nan")]))
    width = max(len(k) for k in times)
    print(f"\n{'command':<{width}}  median s   min-max s      x MontagePy import")
    for label, ts in times.items():
        med = statistics.median(ts)
        print(f"{label:<{width}}  {med:8.3f}   {min(ts):.3f}-{max(ts):.3f}"
              f"    {med / ref:6.1f}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"(load average after: {load:.2f})")

    script = _console_script()
    for title, tail in (
        ("diffview --help", [script, "--help"] if script else
         ["-m", "diffview", "--help"]),
        ("import diffview.montage", ["-c", "import diffview.montage"]),
    ):
        print(f"\nTop 15 imports of `{title}` (python -X importtime, us):")
        print(f"{'cumulative':>10} {'self':>8}  module")
        for cum, own, name in import_costs(tail):
            print(f"{cum:>10} {own:>8}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
