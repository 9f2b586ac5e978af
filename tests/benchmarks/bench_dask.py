"""Benchmark: a dask LocalCluster against the local process pool.

Run as a script::

    python tests/benchmarks/bench_dask.py [--field 400] [--preset m17]
        [--grid 20x20] [--work DIR] [--repeat 3] [--workers 2]

On the ``m17`` sample (``diffview.sample.write_sample(dir, "m17")``, 101
pairs), with ``--field N`` on the seeded pixel field of N tiles
(`fields.write_pixel_field`: 400 tiles, about 2,200 pairs) and with
``--work DIR`` on any Montage work folder, it times the three runs over
pairs -- ``compute_differences`` (diffexec), ``fit_planes`` on the
differences it wrote (fitexec) and ``differences_and_fits`` (difffitexec)
-- on a local pool of ``--workers`` processes and on a ``LocalCluster`` of
as many single-thread worker processes, in turns, and prints the medians,
the tasks each run submitted and the overhead (cluster / pool - 1; the
target is under 10 %). Beside the wall times: the CPU seconds and minor page
faults of the workers during the run (the pool's reaped children; the
cluster's worker processes) and the peak resident memory of one worker and
of this process. The cluster's start-up and its first (cold: imports) run
of each step are printed apart. ``--no-nanny`` starts the workers without
nannies (a ``SubprocessCluster``, scheduler in its own process);
``--quiet-workers`` turns dask's profiler off and its periodic checks down
(`QUIET_WORKERS`); ``--steps`` picks the runs (fitexec needs diffexec's).
``--malloc-trim BYTES`` sets the workers' ``MALLOC_TRIM_THRESHOLD_`` (dask's
default is 65536). The load average is printed with the figures: on a shared
machine they move with it.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def counting_executor(client):
    """The client's executor, counting the tasks submitted through it."""
    from distributed.cfexecutor import ClientExecutor

    class CountingExecutor(ClientExecutor):
        submitted = 0

        def submit(self, func, *args, **kwargs):
            self.submitted += 1
            return super().submit(func, *args, **kwargs)

    return CountingExecutor(client)


def _load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def _inputs(args, tmp: Path):
    """(name, proj_dir, diffs_tbl, template) of the folder to time."""
    if args.field:
        import fields

        start = time.perf_counter()
        field = fields.write_pixel_field(tmp / "field", args.field)
        took = time.perf_counter() - start
        print(f"  wrote a {args.field}-tile field in {took:.0f} s")
        args.work = field.root
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
    from diffview.run import compute_differences, differences_and_fits, fit_planes

    def diffexec(**kw):
        return compute_differences(proj, table, template, out / "d", quiet=True, **kw)

    def fitexec(**kw):  # on the differences diffexec wrote
        return fit_planes(table, None, out / "d", quiet=True, **kw)

    def difffitexec(**kw):
        return differences_and_fits(
            proj, table, template, out / "f", out / "fits.tbl", quiet=True, **kw
        )

    (out / "d").mkdir(parents=True, exist_ok=True)
    (out / "f").mkdir(parents=True, exist_ok=True)
    return {"diffexec": diffexec, "fitexec": fitexec, "difffitexec": difffitexec}


def _usage():
    """This process's (CPU s, minor faults, peak RSS MB); runs in workers too."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime, r.ru_minflt, r.ru_maxrss / 1024


def _children():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime, r.ru_minflt, r.ru_maxrss / 1024


def _cluster_usage(client):
    """(CPU s, faults) summed over the workers, and the largest peak RSS."""
    rows = client.run(_usage).values()
    return sum(r[0] for r in rows), sum(r[1] for r in rows), max(r[2] for r in rows)


def _timed(func, usage, **kw):
    """Run ``func``: (result, wall s, workers' CPU s, faults, peak MB)."""
    cpu0, flt0, _ = usage()
    start = time.perf_counter()
    result = func(**kw)
    wall = time.perf_counter() - start
    cpu1, flt1, peak = usage()
    return result, wall, cpu1 - cpu0, flt1 - flt0, peak


def _same(r1, r2) -> None:
    assert (r1.count, r1.failed) == (r2.count, r2.failed), (r1, r2)
    if hasattr(r1, "fits"):
        assert r1.fits == r2.fits, "the cluster's fits differ from the pool's"
    else:
        assert r1.stats == r2.stats, "the cluster's differences differ"


def _compare(name, func, executor, client, args):
    pool, dask = [], []
    # warm: this process loads the compiled loops, so that the pool's forked
    # workers start with them, as the cluster's workers have them by now
    func(workers=1)
    for _ in range(args.repeat):
        r1, *fig = _timed(func, _children, workers=args.workers)
        pool.append(fig)
        executor.submitted = 0
        r2, *fig = _timed(func, lambda: _cluster_usage(client), executor=executor)
        dask.append(fig)
        _same(r1, r2)
    (p, pcpu, pflt), (d, dcpu, dflt) = (
        [statistics.median(f[k] for f in runs) for k in range(3)]
        for runs in (pool, dask)
    )
    print(
        f"  {name:12s} pool {p:6.2f} s   cluster {d:6.2f} s   overhead "
        f"{d / p - 1:+6.1%}   {r2.count} pairs in {executor.submitted} tasks   "
        f"({_load()})"
    )
    print(
        f"  {'':12s} workers' CPU {pcpu:5.2f} s / {dcpu:5.2f} s, minor faults "
        f"{pflt:8.0f} / {dflt:8.0f}, peak RSS of a worker "
        f"{pool[-1][3]:5.0f} MB / {dask[-1][3]:5.0f} MB"
    )


#: dask settings that take a worker's background work off a busy machine:
#: its statistical profiler samples the task's thread every 10 ms, an event
#: loop check runs every 20 ms and a system monitor every 0.5 s (idle, ~2.5 %
#: of a core per worker and ~3.5 % in the client with its scheduler; ~0.7 %
#: and ~1.6 % with these).
QUIET_WORKERS = {
    "distributed.worker.profile.enabled": "False",
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "1s",
}


def _cluster(args):
    """A LocalCluster of single-thread worker processes, or with ``--no-nanny``
    a SubprocessCluster (scheduler and nanny-less workers in their own
    processes)."""
    if args.no_nanny:
        from distributed.deploy.subprocess import SubprocessCluster

        return SubprocessCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            worker_class="distributed.Worker",
            dashboard_address=None,
        )
    from distributed import LocalCluster

    return LocalCluster(
        n_workers=args.workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="m17")
    parser.add_argument(
        "--field", type=int, metavar="N", help="a seeded pixel field of N tiles"
    )
    parser.add_argument("--work", type=Path, help="a Montage work folder to time")
    parser.add_argument("--grid", help="m17's layout on NxM tiles, e.g. 20x20")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--malloc-trim",
        type=int,
        metavar="BYTES",
        help="the workers' MALLOC_TRIM_THRESHOLD_ (dask sets 65536)",
    )
    parser.add_argument(
        "--no-nanny",
        action="store_true",
        help="workers without nannies, scheduler in its own process "
        "(SubprocessCluster)",
    )
    parser.add_argument(
        "--quiet-workers",
        action="store_true",
        help="workers without dask's statistical profiler, event-loop tick "
        "and system monitor every 1 s (QUIET_WORKERS)",
    )
    parser.add_argument("--steps", default="diffexec,fitexec,difffitexec")
    args = parser.parse_args(argv)
    import dask
    from distributed import Client

    if args.quiet_workers:  # the environment reaches every worker process
        for key, value in QUIET_WORKERS.items():
            name = "DASK_" + key.upper().replace(".", "__").replace("-", "_")
            os.environ[name] = value
        dask.config.refresh()
    if args.malloc_trim:
        key = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"
        dask.config.set({key: args.malloc_trim})

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        name, proj, table, template = _inputs(args, tmp)
        runs = _runs(proj, table, template, tmp / "out")
        runs = {step: runs[step] for step in args.steps.split(",")}
        trim = args.malloc_trim or "dask's default"
        print(
            f"bench_dask: {name}, {args.workers} workers, median of {args.repeat},"
            f" MALLOC_TRIM_THRESHOLD_ {trim}"
            + (", workers without nannies" if args.no_nanny else "")
            + (", quiet workers" if args.quiet_workers else "")
        )
        print(f"  {_load()}")
        start = time.perf_counter()
        with _cluster(args) as cluster, Client(cluster) as client:
            print(f"  cluster start      {time.perf_counter() - start:6.2f} s")
            executor = counting_executor(client)
            for step, func in runs.items():
                start = time.perf_counter()
                func(executor=executor)
                t = time.perf_counter() - start
                print(f"  {step:12s} first call on the cluster (cold) {t:6.2f} s")
            for step, func in runs.items():
                _compare(step, func, executor, client, args)
        _, _, peak = _usage()
        print(f"  peak RSS of this process {peak:.0f} MB; {_load()}")


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
