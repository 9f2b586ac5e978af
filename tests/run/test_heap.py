"""Tasks on an executor keep glibc's reuse of freed memory (dask's workers).

dask starts its workers with ``MALLOC_TRIM_THRESHOLD_=65536``: every large
array is then mapped afresh and its pages zeroed again. `keep_heap` lifts the
thresholds for a task and restores them after; these tests count the page
faults in a process started that way, and follow the settings with a fake
libc when tasks overlap.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading

import pytest

from diffview.run import _heap, _parallel

glibc = pytest.mark.skipif(
    _heap._glibc() is None, reason="needs Linux with glibc (mallopt, malloc_trim)"
)

CHURN = textwrap.dedent(
    """
    import json, resource, numpy as np
    from diffview.run._heap import keep_heap

    def faults():
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt

    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize()

    def churn(n):  # what a batch of pairs does: big arrays made and freed
        start = faults()
        for _ in range(n):
            a = np.ones(2**17)  # 1 MiB
            a += 1.0
            del a
        return faults() - start

    def peak(n):  # n MiB held at once, then freed
        held = [np.ones(2**17) for _ in range(n)]
        del held
        return rss()

    churn(5)
    before = rss()
    out = {"plain": churn(200), "kept": keep_heap(churn, 200),
           "after": churn(200), "rss_before": before,
           "rss_after_peak": keep_heap(peak, 48), "rss_end": rss()}
    print(json.dumps(out))
    """
)


def churn_in_process(env: dict) -> dict:
    env = {**os.environ, "PYTHONPATH": os.getcwd(), **env}
    for name in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"):
        if env.get(name) is None:
            env.pop(name, None)
    out = subprocess.run(
        [sys.executable, "-c", CHURN],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(out.stdout.splitlines()[-1])


@glibc
def test_a_task_in_a_dask_like_worker_reuses_freed_memory():
    r = churn_in_process({"MALLOC_TRIM_THRESHOLD_": "65536"})
    # pinned thresholds: every 1 MiB array is 256 fresh pages (200 x 256)
    assert r["plain"] > 200 * 200
    # kept: the first array's pages are reused by the 199 others
    assert r["kept"] < r["plain"] / 20
    # and the process's own settings are back after the task
    assert r["after"] > 200 * 200
    # the 48 MiB a task freed are kept for its next pairs, and go back to
    # the system when it ends
    assert r["rss_after_peak"] - r["rss_before"] > 32 * 2**20
    assert r["rss_end"] - r["rss_before"] < 8 * 2**20


@glibc
def test_processes_without_the_setting_are_left_alone():
    r = churn_in_process({"MALLOC_TRIM_THRESHOLD_": None})
    # glibc's own adaptive thresholds already reuse the arrays' pages
    assert r["plain"] < 200 * 20 and r["kept"] < 200 * 20


class FakeLibc:
    """Records the malloc settings `keep_heap` makes."""

    def __init__(self):
        self.calls: list = []

    def mallopt(self, param, value):
        self.calls.append(("mallopt", param, value.value))
        return 1

    def malloc_trim(self, pad):
        self.calls.append(("trim", pad.value))
        return 1


@pytest.fixture
def fake_libc(monkeypatch):
    """A process started as dask starts its workers, with a recording libc."""
    libc = FakeLibc()
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    monkeypatch.setattr(_heap, "_glibc", lambda: libc)
    return libc


def test_overlapping_tasks_restore_the_settings_once_at_the_end(fake_libc):
    started, release = threading.Barrier(3), threading.Event()  # 2 tasks + this

    def task(_):
        started.wait(timeout=10)
        release.wait(timeout=10)
        return len(fake_libc.calls)

    threads = [
        threading.Thread(target=_heap.keep_heap, args=(task, None)) for _ in range(2)
    ]
    for t in threads:
        t.start()
    started.wait(timeout=10)
    during = list(fake_libc.calls)
    release.set()
    for t in threads:
        t.join(timeout=10)
    trim, mmap = _heap._M_TRIM_THRESHOLD, _heap._M_MMAP_THRESHOLD
    # raised once when the first task starts, kept while the other runs
    assert during == [("mallopt", trim, 64 * 2**20), ("mallopt", mmap, 32 * 2**20)]
    # restored once, after giving the memory back, when the last one ends
    assert fake_libc.calls[2:] == [
        ("trim", 0),
        ("mallopt", trim, 65536),
        ("mallopt", mmap, 128 * 1024),
    ]


def test_a_failing_task_restores_the_settings(fake_libc):
    def fail(_):
        raise ValueError("bad pair")

    with pytest.raises(ValueError, match="bad pair"):
        _heap.keep_heap(fail, None)
    assert fake_libc.calls[-1] == ("mallopt", _heap._M_MMAP_THRESHOLD, 128 * 1024)
    assert _heap._running == 0


def test_a_chosen_mmap_threshold_is_left_alone(fake_libc, monkeypatch):
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "1048576")
    assert _heap.keep_heap(abs, -2) == 2 and fake_libc.calls == []


def test_a_task_on_an_executor_syncs_the_folders_it_wrote(tmp_path):
    from diffview.io import paths, write_file

    def write_two(folder):
        for name in ("a.txt", "b.txt"):  # the second rename waits for a sync
            write_file(folder / name, b"x")
        return sorted(paths._UNSYNCED)

    pending = _parallel._on_executor(write_two, _parallel._Sealed(tmp_path))
    assert pending == [tmp_path] and tmp_path not in paths._UNSYNCED


def test_tasks_keep_the_heap_in_workers_started_as_dask_starts_them(
    small_sample, tmp_path, fake_libc
):
    distributed = pytest.importorskip("distributed")
    from diffview.run import differences_and_fits

    (tmp_path / "local").mkdir()
    (tmp_path / "dask").mkdir()
    args = (small_sample.proj_dir, small_sample.overlaps, small_sample.template)
    local = differences_and_fits(*args, tmp_path / "local", None, quiet=True, workers=1)
    assert fake_libc.calls == []  # this process's own run is left alone
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        dask = differences_and_fits(
            *args, tmp_path / "dask", None, quiet=True, executor=client.get_executor()
        )
    assert dask.fits == local.fits and dask.failed == 0
    # every task ran with glibc's usual thresholds; the last one to end gave
    # the memory back and restored dask's setting
    trim, mmap = _heap._M_TRIM_THRESHOLD, _heap._M_MMAP_THRESHOLD
    assert fake_libc.calls[:2] == [
        ("mallopt", trim, 64 * 2**20),
        ("mallopt", mmap, 32 * 2**20),
    ]
    assert fake_libc.calls[-3:] == [
        ("trim", 0),
        ("mallopt", trim, 65536),
        ("mallopt", mmap, 128 * 1024),
    ]
    assert _heap._running == 0


# a fit's memory, over and over, in the local pool's two workers and in
# this process: a difference and five arrays of its pixels, freed at once
FIT_CHURN = textwrap.dedent(
    """
    import json, os, resource, sys, numpy as np
    from diffview.run._parallel import run_tasks

    def fits(n):
        start = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(n):
            held = [np.ones(2**18) for _ in range(6)]  # 2 MiB each
            del held
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - start

    fits(5)
    if len(sys.argv) > 1:  # as dask's LocalCluster leaves it, for its own workers
        os.environ["MALLOC_TRIM_THRESHOLD_"] = "65536"
    workers = list(run_tasks(fits, [100, 100], workers=2, quiet=True))
    print(json.dumps({"workers": workers, "here": fits(100)}))
    """
)


@glibc
@pytest.mark.parametrize("cluster_beside", [False, True])
def test_the_local_pools_workers_reuse_a_fits_freed_memory(cluster_beside):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    # with a dask cluster beside, this process's os.environ has dask's
    # setting, which its glibc (and the workers forked from it) never read
    args = ["cluster"] if cluster_beside else []
    out = subprocess.run([sys.executable, "-c", FIT_CHURN, *args],
                         env=dict(env, PYTHONPATH=os.getcwd()),
                         capture_output=True, text=True, check=True, timeout=120)
    r = json.loads(out.stdout.splitlines()[-1])
    # glibc's own rule trims the 12 MiB a fit frees: 3,000 fresh pages a fit
    assert r["here"] > 100 * 1000
    # a worker keeps them: only its first fit's pages are new
    assert all(n < r["here"] / 20 for n in r["workers"]), r
