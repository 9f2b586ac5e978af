"""Benchmark: a dask LocalCluster against the local process pool.

Run as a script::

    python tests/benchmarks/bench_dask.py [--preset m17] [--grid 20x20]
        [--work DIR] [--repeat 3] [--workers 2]

On the ``m17`` sample (``diffview.sample.write_sample(dir, "m17")``, 101
pairs) and, with ``--work DIR``, on any Montage work folder, it times
``compute_differences`` and ``differences_and_fits`` on a local pool of
``--workers`` processes and on a ``LocalCluster`` of as many single-thread
worker processes, in turns, and prints the medians, the tasks each run
submitted and the overhead ratio (cluster / pool - 1; the target is under
10 %). The cluster's start-up and its first (cold: imports, compiled
kernels) run are printed apart. ``--malloc-trim 134217728`` gives the
workers glibc's usual reuse of freed memory (dask's default setting makes
the one-pass fits about twice as slow in its workers). The load average (``uptime``) is printed
with the figures: on a shared machine they move with it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


class CountingExecutor:
    """Wrap an executor and count the tasks submitted through it."""

    def __init__(self, executor):
        self.executor = executor
        self.submitted = 0

    def submit(self, func, *args, **kwargs):
        self.submitted += 1
        return self.executor.submit(func, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.executor, name)


def _load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def _inputs(args, tmp: Path):
    """(name, proj_dir, diffs_tbl, template) of the folder to time."""
    if args.work:
        from diffview.run import find_work

        work = find_work(args.work)
        if work.diffs_tbl is None:
            sys.exit(f"bench_dask: {args.work}: no diffs.tbl")
        return str(args.work), work.proj_dir, work.diffs_tbl, work.template
    from diffview.sample import PRESETS, write_sample

    name = args.preset
    if args.grid:  # m17's tiles on a bigger grid: many more pairs
        ncols, nrows = (int(n) for n in args.grid.split("x"))
        name = f"m17-{args.grid}"
        PRESETS[name] = dict(PRESETS["m17"], ncols=ncols, nrows=nrows)
    start = time.perf_counter()
    s = write_sample(tmp / name, name, quiet=True)
    print(f"  wrote sample {name} in {time.perf_counter() - start:.0f} s")
    return f"sample {name}", s.proj_dir, s.diffs_tbl, s.template


def _runs(proj, table, template, out: Path):
    """One callable per timed step; each takes executor/workers keywords."""
    from diffview.run import compute_differences, differences_and_fits

    def diffexec(**kw):
        return compute_differences(proj, table, template, out / "d", quiet=True, **kw)

    def difffit(**kw):
        return differences_and_fits(
            proj, table, template, out / "f", out / "fits.tbl", quiet=True, **kw
        )

    (out / "d").mkdir(parents=True, exist_ok=True)
    (out / "f").mkdir(parents=True, exist_ok=True)
    return {"differences": diffexec, "differences+fits": difffit}


def _timed(func, **kw):
    start = time.perf_counter()
    result = func(**kw)
    return result, time.perf_counter() - start


def _compare(name, func, executor, args):
    pool, dask, tasks = [], [], 0
    # warm: this process loads the compiled loops, so that the pool's forked
    # workers start with them, as the cluster's workers have them by now
    func(workers=1)
    for _ in range(args.repeat):
        r1, t = _timed(func, workers=args.workers)
        pool.append(t)
        executor.submitted = 0
        r2, t = _timed(func, executor=executor)
        dask.append(t)
        tasks = executor.submitted
        assert (r1.count, r1.failed) == (r2.count, r2.failed), (r1, r2)
    p, d = statistics.median(pool), statistics.median(dask)
    print(
        f"  {name:18s} pool {p:6.2f} s   cluster {d:6.2f} s   "
        f"overhead {d / p - 1:+6.1%}   {r2.count} pairs in {tasks} tasks"
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="m17")
    parser.add_argument("--work", type=Path, help="a Montage work folder to time")
    parser.add_argument("--grid", help="m17's layout on NxM tiles, e.g. 20x20")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--malloc-trim", type=int, metavar="BYTES",
        help="the workers' MALLOC_TRIM_THRESHOLD_ (dask sets 65536, which "
        "makes glibc map and zero every large array afresh)",
    )
    args = parser.parse_args(argv)
    import dask
    from distributed import Client, LocalCluster

    if args.malloc_trim:
        key = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"
        dask.config.set({key: args.malloc_trim})

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        name, proj, table, template = _inputs(args, tmp)
        runs = _runs(proj, table, template, tmp / "out")
        trim = args.malloc_trim or "dask's default"
        print(
            f"bench_dask: {name}, {args.workers} workers, median of {args.repeat},"
            f" MALLOC_TRIM_THRESHOLD_ {trim}"
        )
        print(f"  load before: {_load()}")
        start = time.perf_counter()
        with (
            LocalCluster(
                n_workers=args.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            ) as cluster,
            Client(cluster) as client,
        ):
            print(f"  cluster start      {time.perf_counter() - start:6.2f} s")
            executor = CountingExecutor(client.get_executor())
            for step, func in runs.items():
                _, t = _timed(func, executor=executor)
                print(f"  {step:18s} first call on the cluster (cold) {t:6.2f} s")
            for step, func in runs.items():
                _compare(step, func, executor, args)
        print(f"  load after:  {_load()}")


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
