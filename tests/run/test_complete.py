"""The background job that completes an opened work folder (CompletionJob)."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from work_folders import make_work

from diffview.run import CompletionJob, _jobparts, load_workspace, open_workspace

#: Exact in every path; the plane and its rms agree to ~1e-11 between the
#: numpy fit and the compiled one, which a pool's workers and this process
#: may choose differently (`diffview.core.use_compiled` follows what a
#: process has loaded and done).
EXACT = ("npixel", "xmin", "xmax", "boxx", "boxwidth")
PLANE = ("a", "b", "c", "rms")


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    return make_work(tmp_path_factory.mktemp("pristine") / "w", mosaic=False)


@pytest.fixture(scope="module")
def reference(pristine, tmp_path_factory):
    """What the synchronous load computes on the same folder."""
    root = tmp_path_factory.mktemp("ref") / "w"
    shutil.copytree(pristine, root)
    return load_workspace(root)


@pytest.fixture
def work(pristine, tmp_path):
    root = tmp_path / "w"
    shutil.copytree(pristine, root)
    return root


def _same_corrections(ws, reference) -> None:
    assert [c.id for c in ws.corrections] == [c.id for c in reference.corrections]
    ours = [(c.a, c.b, c.c) for c in ws.corrections]
    theirs = [(c.a, c.b, c.c) for c in reference.corrections]
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


def _same_fits(ws, reference) -> None:
    assert set(ws.fits) == set(reference.fits) and len(ws.fits) == 11
    for key, fit in reference.fits.items():
        got = ws.fits[key]
        for name in EXACT:
            assert getattr(got, name) == getattr(fit, name), (key, name)
        for name in PLANE:
            a, b = getattr(got, name), getattr(fit, name)
            assert np.isclose(a, b, rtol=1e-9, atol=1e-12), (key, name)


def _no_workers_left() -> None:
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize("workers", [1, 2])
def test_job_computes_what_the_synchronous_load_does(work, reference, workers):
    ws = open_workspace(work)
    assert len(ws.fits) == 0 and ws.preview is None and ws.corrections == []
    seen = []
    job = CompletionJob(ws, workers=workers, on_update=lambda j, i: seen.append(i))
    assert job.progress.total == 11 and job.status(0) == "pending"
    job.start()
    assert job.wait(120)
    assert job.progress.stage == "done" and job.progress.done == 11
    _same_fits(ws, reference)
    for ov in ws.overlaps:  # the difference files are written, as load_workspace does
        assert (work / "diffs" / ov.diff).exists()
    assert np.array_equal(ws.preview.array, reference.preview.array, equal_nan=True)
    _same_corrections(ws, reference)
    got = np.concatenate([i for i in seen if i is not None])
    assert sorted(got.tolist()) == list(range(11))  # every pair told once
    assert job.progress.rate > 0 and job.progress.eta == 0
    _no_workers_left()


def test_nothing_to_do_when_differences_and_fits_exist(reference):
    ws = open_workspace(reference.folder, fits=list(reference.fits.values()))
    job = CompletionJob(ws, workers=1, solve=False, preview=False)
    assert job.progress.total == 0 and job.status(3) == "ready"
    assert job.run().progress.stage == "done" and job.progress.done == 0


def test_a_bad_image_fails_its_pairs_and_the_others_go_on(work, reference):
    (work / "projected" / "tile_3.fits").write_bytes(b"not a FITS file" * 100)
    ws = open_workspace(work)
    job = CompletionJob(ws, workers=1, solve=False, preview=False).run()
    bad = {k for k in reference.fits if 3 in k}
    assert bad and set(ws.failures) == bad
    assert all("tile_3.fits" in msg for msg in ws.failures.values())
    assert job.progress.failed == len(bad) and job.progress.stage == "done"
    assert set(ws.fits) == set(reference.fits) - bad
    assert job.status(ws.overlaps.index_of(*sorted(bad)[0])) == "failed"


def test_a_pair_asked_for_goes_first(work):
    ws = open_workspace(work)
    order = []
    job = CompletionJob(
        ws,
        workers=1,
        chunk=1,
        preview=False,
        solve=False,
        on_update=lambda j, i: order.extend([] if i is None else i.tolist()),
    )
    assert job.prioritise(9) == "pending"
    job.run()
    assert order[0] == 9 and sorted(order) == list(range(11))


class GatedExecutor(ThreadPoolExecutor):
    """Chunks wait for ``gate`` before they run: a job that stays busy."""

    def __init__(self):
        super().__init__(1)
        self.gate = threading.Event()

    def submit(self, fn, *args):
        def gated(*a):
            self.gate.wait(30)
            return fn(*a)

        return super().submit(gated, *args)


def test_cancel_stops_the_job_and_leaves_no_partial_file(work):
    ws = open_workspace(work)
    with GatedExecutor() as pool:
        job = CompletionJob(ws, executor=pool, chunk=1).start()
        job.cancel("dashboard closed")
        pool.gate.set()
        assert job.wait(30)
    p = job.progress
    assert p.stage == "cancelled" and p.done < 11 and "closed" in p.text()
    left = [k for k in range(11) if job.status(k) == "pending"]
    assert len(left) == 11 - p.done  # waiting again, computable later
    names = sorted(f.name for f in (work / "diffs").iterdir())
    assert all(n.startswith("diff.") and n.endswith(".fits") for n in names)
    assert ws.preview is None and ws.corrections == []


def test_sigint_in_a_worker_stops_its_chunk_after_the_current_pair(work):
    ws = open_workspace(work)
    job = CompletionJob(ws, workers=1)
    job._chunk_size = 11
    tasks = job._next_chunk()
    previous = signal.signal(signal.SIGINT, _jobparts._on_sigint)
    try:
        os.kill(os.getpid(), signal.SIGINT)  # what a kernel interrupt sends
        assert _jobparts._interrupted
        results, interrupted = _jobparts.complete_chunk((tasks, {}))
    finally:
        signal.signal(signal.SIGINT, previous)
        _jobparts._interrupted = False
    assert interrupted and results == []


class InterruptedExecutor(ThreadPoolExecutor):
    """Runs chunks as a worker that has just received SIGINT would."""

    def submit(self, fn, *args):
        def interrupted(*a):
            _jobparts._interrupted = True
            try:
                return fn(*a)
            finally:
                _jobparts._interrupted = False

        return super().submit(interrupted, *args)


def test_an_interrupted_worker_cancels_the_job(work):
    ws = open_workspace(work)
    with InterruptedExecutor(1) as pool:
        job = CompletionJob(ws, executor=pool, chunk=2).run()
    p = job.progress
    assert p.stage == "cancelled" and p.done == 0 and "interrupted" in p.text()
    assert all(job.status(k) == "pending" for k in range(11))
    assert len(ws.fits) == 0 and ws.preview is None


def test_a_big_solve_runs_in_a_process_of_its_own(work, reference, monkeypatch):
    from diffview.run import _complete

    monkeypatch.setattr(_complete, "SOLVE_APART", 1)
    ws = open_workspace(work, fits=list(reference.fits.values()))
    job = CompletionJob(ws, workers=1, preview=False).run()
    assert job.progress.stage == "done"
    _same_corrections(ws, reference)
    _no_workers_left()
    stop = threading.Event()
    stop.set()  # a cancelled job: the worker is stopped, nothing returned
    assert _jobparts.run_apart(max, (1, 2), stop) is None
    _no_workers_left()


def test_a_mosaic_files_preview_comes_before_the_pairs(work, reference):
    from astropy.io import fits

    shape = reference.template_shape
    data = np.arange(float(np.prod(shape))).reshape(shape)
    fits.PrimaryHDU(data, reference.template).writeto(work / "mosaic.fits")
    ws = open_workspace(work)
    stages = []
    job = CompletionJob(
        ws,
        workers=1,
        solve=False,
        on_update=lambda j, i: stages.append(j.progress.stage),
    )
    job.run()
    assert "pairs" in stages, (stages, job.progress)
    assert stages.index("preview") < stages.index("pairs")
    assert np.array_equal(ws.preview.array, data) and len(ws.fits) == 11


def test_a_bad_mosaic_file_is_said_and_the_pairs_go_on(work):
    (work / "mosaic.fits").write_bytes(b"SIMPLE  =" + b" " * 2871)
    ws = open_workspace(work)
    job = CompletionJob(ws, workers=1, solve=False).run()
    assert job.progress.stage == "done" and len(ws.fits) == 11
    assert ws.preview is None and len(ws.problems) == 1
    assert ws.problems[0].startswith("preview: ")
