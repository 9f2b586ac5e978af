"""Runs over pairs on a dask.distributed cluster, through ``executor=``.

One 2-worker LocalCluster (threads in this process: starts in about a second
and needs no spawned interpreter) serves every test. The runs on it must give
what the local pool gives, in batches of pairs, with small tasks and results,
counting a bad pair as a failure, and a progress bar that counts pairs.
"""

from __future__ import annotations

import os
import pickle
from dataclasses import replace

import numpy as np
import pytest
from astropy.io import fits

from diffview.run import (
    compute_differences,
    differences_and_fits,
    executor_workers,
    fit_planes,
    split_by_cost,
)

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


class Recording:
    """An executor passing tasks on, keeping their pickled sizes."""

    def __init__(self, executor):
        self.executor = executor
        self.tasks: list[int] = []
        self.results: list[int] = []

    def submit(self, func, *args):
        self.tasks.append(len(pickle.dumps((func, args))))
        fut = self.executor.submit(func, *args)
        fut.add_done_callback(
            lambda f: self.results.append(len(pickle.dumps(f.result())))
        )
        return fut


def pairs_with_a_bad_one(sample):
    """The sample's pairs and one whose minus image does not exist."""
    bad = replace(sample.overlaps[0], minus="missing.fits", diff="diff.bad.fits")
    return [*sample.overlaps, bad]


def files(folder):
    return {n: fits.getdata(folder / n) for n in sorted(os.listdir(folder))}


def three_runs(sample, out, **kwargs):
    """Differences, their fits and one-pass fits of ``sample`` under ``out``."""
    pairs = pairs_with_a_bad_one(sample)
    for name in ("d", "df"):
        (out / name).mkdir(parents=True)
    diffs = compute_differences(
        sample.proj_dir, pairs, sample.template, out / "d", quiet=True, **kwargs
    )
    fitted = fit_planes(pairs, None, out / "d", quiet=True, **kwargs)
    onepass = differences_and_fits(
        sample.proj_dir, pairs, sample.template, out / "df", None, quiet=True,
        keep_all=True, **kwargs,
    )
    return diffs, fitted, onepass


@pytest.fixture
def small_batches(monkeypatch):
    """Batches of about two pairs of the small sample, as big runs have."""
    from diffview.run import _batches

    monkeypatch.setattr(_batches, "TASK_SECONDS", 5e-4)


def test_cluster_gives_the_local_pool_results_in_batches(
    small_sample, tmp_path, client, small_batches
):
    local = three_runs(small_sample, tmp_path / "local", workers=2)
    executor = Recording(client.get_executor())
    dask = three_runs(small_sample, tmp_path / "dask", executor=executor)
    npairs = len(small_sample.overlaps) + 1
    for mine, ref in zip(dask, local, strict=True):
        assert (mine.count, mine.failed) == (ref.count, ref.failed) == (npairs, 1), (
            mine.failures)
        assert [(ov, msg.replace("/dask/", "/local/")) for ov, msg in mine.failures
                ] == ref.failures
    assert dask[0].stats == local[0].stats
    assert dask[1].fits == local[1].fits and dask[2].fits == local[2].fits
    assert len(dask[1].fits) == npairs - 1
    for sub in ("d", "df"):
        ref = files(tmp_path / "local" / sub)
        mine = files(tmp_path / "dask" / sub)
        assert mine.keys() == ref.keys() and len(ref) == 2 * (npairs - 1)
        for name, array in ref.items():
            np.testing.assert_array_equal(mine[name], array)
    # batched: fewer tasks than pairs, several per run (2e-3 s each)
    assert 3 * 2 < len(executor.tasks) < 3 * npairs


def test_failures_are_counted_through_the_cluster(small_sample, tmp_path, client):
    diffs, fitted, onepass = three_runs(
        small_sample, tmp_path, executor=client.get_executor()
    )
    assert diffs.failed == fitted.failed == onepass.failed == 1
    assert "missing.fits" in diffs.failures[0][1]
    assert fitted.missing == 1 and onepass.diff_failed == 1


def test_small_pairs_travel_together_with_paths_not_arrays(
    m17_sample, tmp_path, client
):
    from diffview.run._differences import _pair_seconds  # the pool rule's estimate

    executor = Recording(client.get_executor())
    (tmp_path / "d").mkdir()
    r = compute_differences(
        m17_sample.proj_dir, m17_sample.diffs_tbl, m17_sample.template,
        tmp_path / "d", executor=executor, quiet=True,
    )
    assert (r.count, r.failed) == (101, 0)
    # the batches the shared estimate gives: a tenth of a second of work
    # (by the estimate), so the 101 pairs travel in one or two tasks
    header = fits.Header.fromtextfile(m17_sample.template)
    ctx = {"shape": (header["NAXIS2"], header["NAXIS1"]),
           "crpix": (header["CRPIX1"], header["CRPIX2"])}
    tasks = [(None, str(m17_sample.proj_dir / o.plus),
              str(m17_sample.proj_dir / o.minus), None) for o in m17_sample.overlaps]
    costs = list(_pair_seconds(tasks, ctx))
    expected = split_by_cost(tasks, costs, executor_workers(client.get_executor()))
    assert len(executor.tasks) == len(expected) <= 2
    # a task is its paths, boxes and the template's cards, not pixels: one
    # 256 x 128 tile alone would pickle to 256 kB
    for size, batch in zip(executor.tasks, expected, strict=True):
        assert size < 4_000 + 400 * len(batch)
    assert sum(executor.results) < 600 * r.count


def test_executor_workers_counts_the_cluster(client):
    assert executor_workers(client.get_executor()) == 2
    assert executor_workers(client.get_executor(), 7) == 7


def test_batches_follow_the_estimated_cost():
    costs = [0.01] * 40 + [1.0] * 4  # forty small pairs, four big ones
    batches = split_by_cost(range(44), costs, 2, per_worker=2, least=0.2)
    # each batch holds a quarter of the work (1.1 s): the small pairs travel
    # together, the big ones alone
    assert [len(b) for b in batches] == [41, 1, 1, 1]
    assert sum(batches, []) == list(range(44))
    # one worker, little work: one batch of at least `least` seconds
    assert split_by_cost(range(5), [0.01] * 5, 1, least=0.2) == [list(range(5))]
    # a big run on few workers is cut into tasks of at most 5 s
    assert len(split_by_cost(range(100), [1.0] * 100, 1)) == 20
    assert split_by_cost([], [], 4) == []
    # unknown costs (all 0): one batch a slot
    assert [len(b) for b in split_by_cost(range(9), [0.0] * 9, 1, per_worker=3)] == [
        3, 3, 3]


def test_progress_counts_pairs_as_batches_end(
    small_sample, tmp_path, client, small_batches, monkeypatch
):
    from diffview.run import _parallel

    bars = []
    made = _parallel._progress

    def keep(*args, **kwargs):
        bar = made(*args, **kwargs)
        updates = []
        real = bar.update
        bar.update = lambda n=1: (updates.append(n), real(n))
        bars.append((bar, updates))
        return bar

    monkeypatch.setattr(_parallel, "_progress", keep)
    monkeypatch.setattr(_parallel, "_shows_progress", lambda: True)  # a terminal
    pairs = small_sample.overlaps
    (tmp_path / "d").mkdir()
    r = compute_differences(
        small_sample.proj_dir, pairs, small_sample.template, tmp_path / "d",
        executor=client.get_executor(), quiet=False,
    )
    ((bar, updates),) = bars
    assert r.count == bar.total == bar.n == sum(updates) == len(pairs)
    assert 1 < len(updates) < len(pairs)  # one update a batch, in pairs
    assert bar.unit == "pair" and bar.smoothing == 0
