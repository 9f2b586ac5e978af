"""A big re-solve runs in the background: browsing goes on, a newer one, a close
or an interrupt stops it, and its result is the synchronous solve's."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time

import numpy as np
import pytest

from diffview.run import _resolve as run_resolve
from diffview.sample import write_sample
from diffview.widgets import Dashboard, Explorer, _resolve


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return write_sample(tmp_path_factory.mktemp("resolve"), "small", quiet=True)


@pytest.fixture
def apart(monkeypatch):
    """Every re-solve, however small, runs in the background."""
    monkeypatch.setattr(_resolve, "RESOLVE_APART", 1)


class Gate:
    """A solve that waits for ``open`` (or its cancel) before solving."""

    def __init__(self):
        self.open, self.entered = threading.Event(), threading.Event()
        self.real = _resolve.solve_apart

    def __call__(self, ws, cancelled, *args, **kw):
        self.entered.set()
        while not (self.open.is_set() or cancelled.is_set()):
            time.sleep(0.01)
        return None if cancelled.is_set() else self.real(ws, cancelled, *args, **kw)


@pytest.fixture
def gate(apart, monkeypatch):
    g = Gate()
    monkeypatch.setattr(_resolve, "solve_apart", g)
    yield g
    g.open.set()


def _slow_solve(*args, **kw):
    time.sleep(120)  # in the forked worker: stopped by cancel or SIGINT


def _worker_started(timeout=30.0) -> list:
    deadline = time.monotonic() + timeout
    while not multiprocessing.active_children():
        assert time.monotonic() < deadline, "no worker started"
        time.sleep(0.02)
    return multiprocessing.active_children()


def _corrections(corr) -> np.ndarray:
    return np.array([(c.id, c.a, c.b, c.c) for c in corr])


def test_the_background_result_is_the_synchronous_solve(sample, apart):
    inline = Explorer(sample)
    inline.flag_image(4)
    inline.flag_pair(inline.order[0])
    want = inline.resolve("montage")
    ex = Explorer(sample)
    ex.flag_image(4)
    ex.flag_pair(ex.order[0])
    seen = []
    ex.on_solved(lambda e, old, new: seen.append((old, new)))
    old = ex.corrections
    job = ex.start_resolve("montage")
    assert job.wait(120) and job.stage == "done", job.text()
    np.testing.assert_allclose(
        _corrections(ex.corrections), _corrections(want), rtol=1e-9
    )
    assert 4 not in [c.id for c in ex.corrections] and ex.solver == "montage"
    for key, q in inline.quality.items():
        assert ex.quality[key].reasons == q.reasons
    assert list(ex.order) == list(inline.order)
    assert seen == [(old, ex.corrections)] and job.old is old
    assert multiprocessing.active_children() == []


def test_next_during_a_big_resolve_returns_at_once(sample, gate):
    d = Dashboard(sample)
    try:
        before = d.explorer.corrections
        d.resolve_button.click()  # returns: the solve waits at the gate
        assert gate.entered.wait(10)
        job = d.explorer.resolve_job
        assert job.stage == "solving" and d.resolve_view.box.layout.display is None
        assert "re-solving" in d.resolve_view.label.value
        assert d.resolve_view.stop.layout.display is None
        first = d.explorer.selected
        t0 = time.perf_counter()
        d.next()
        assert time.perf_counter() - t0 < 5.0
        assert d.explorer.selected == d.explorer.order[1] != first
        assert d.explorer.corrections is before  # not applied yet
        gate.open.set()
        assert d.wait_resolve(120) and job.stage == "done"
        assert d.explorer.corrections is job.new is not before
        assert d.resolve_view.label.value.startswith("re-solved")
        assert d.resolve_view.stop.layout.display == "none"
        assert d.error_text == ""
    finally:
        d.close()


def test_a_second_resolve_cancels_the_first(sample, gate):
    ex = Explorer(sample)
    first = ex.start_resolve("direct")
    assert gate.entered.wait(10)
    ex.flag_image(4)
    second = ex.start_resolve("montage")
    assert first.cancelled and first.wait(10) and first.stage == "cancelled"
    assert "newer" in first.text()
    gate.open.set()
    assert second.wait(120) and second.stage == "done"
    assert ex.resolve_job is second and ex.solver == "montage"
    assert ex.corrections is second.new and first.new is None
    assert 4 not in [c.id for c in ex.corrections]


def test_close_stops_the_worker(sample, apart, monkeypatch):
    monkeypatch.setattr(run_resolve, "solve_and_assess", _slow_solve)
    d = Dashboard(sample)
    before = d.explorer.corrections
    d.resolve()
    _worker_started()
    job = d.explorer.resolve_job
    t0 = time.monotonic()
    d.close()
    assert job.finished and job.stage == "cancelled" and "closed" in job.text()
    assert time.monotonic() - t0 < 10
    assert multiprocessing.active_children() == []
    assert d.explorer.corrections is before


def test_a_kernel_interrupt_stops_the_resolve(sample, apart, monkeypatch):
    monkeypatch.setattr(run_resolve, "solve_and_assess", _slow_solve)
    ex = Explorer(sample)
    before = ex.corrections
    job = ex.start_resolve()
    (worker,) = _worker_started()
    time.sleep(0.5)  # in the task (an interrupt before it is noted too)
    os.kill(worker.pid, signal.SIGINT)  # what a kernel interrupt sends it
    assert job.wait(30) and job.stage == "cancelled", job.text()
    assert "interrupted" in job.text() and ex.corrections is before
    assert multiprocessing.active_children() == []


def test_a_small_resolve_runs_at_once(sample):
    ex = Explorer(sample)
    ex.flag_image(4)
    job = ex.start_resolve()
    assert job.stage == "done" and ex.resolve_job is None
    assert 4 not in [c.id for c in ex.corrections]


def test_a_failed_resolve_is_shown(sample, apart, monkeypatch):
    def broken(*args, **kw):
        raise ValueError("singular system")

    monkeypatch.setattr(_resolve, "solve_apart", broken)
    d = Dashboard(sample)
    try:
        d.resolve()
        assert d.wait_resolve(30)
        assert d.explorer.resolve_job.stage == "failed"
        assert "singular system" in d.error_text
        assert "failed" in d.resolve_view.label.value
    finally:
        d.close()


def test_a_resolve_starts_from_the_last_direct_answer(sample, monkeypatch):
    ex = Explorer(sample)
    ex.direct_solution = None  # as from a corrections table without strengths
    ex.flag_image(4)
    ex.resolve()
    first = ex.direct_solution
    assert first.corrections == ex.corrections and len(first.strengths) == 2
    seen = []
    real = _resolve.solve_and_assess

    def spy(*args, **kw):
        seen.append(kw["start"])
        return real(*args, **kw)

    monkeypatch.setattr(_resolve, "solve_and_assess", spy)
    ex.flag_pair(0)
    ex.resolve()
    assert seen == [first] and ex.direct_solution is not first
    assert ex.direct_solution.corrections == ex.corrections
    second = ex.direct_solution
    ex.resolve("montage")  # no strengths: the direct answer stays the start
    assert ex.solver == "montage" and ex.direct_solution is second


def test_a_background_resolve_keeps_its_start_too(sample, apart):
    ex = Explorer(sample)
    ex.flag_image(4)
    job = ex.start_resolve()
    assert job.wait(120) and job.stage == "done"
    solution = ex.direct_solution
    assert solution.corrections == ex.corrections == job.new
    again = ex.start_resolve()
    assert again.wait(120) and again.stage == "done"
    # started from its own answer, the same fits: the same corrections
    assert max(
        abs(a.c - b.c) for a, b in zip(again.new, solution.corrections, strict=True)
    ) < 1e-3


def test_the_first_resolve_starts_from_the_folder_and_export_keeps_it(
    sample, monkeypatch, tmp_path
):
    from diffview import io
    from diffview.core.background import _evidence

    ex = Explorer(sample)  # no corrections table: solved at open, strengths known
    start = ex.direct_solution
    assert start.corrections == ex.corrections and len(start.strengths) == 2
    assert start.strengths == ex.ws.strengths
    calls = []
    real = _evidence._robust_plain
    monkeypatch.setattr(
        _evidence, "_robust_plain", lambda *a: calls.append(1) or real(*a)
    )
    ex.flag_image(4)
    ex.resolve()
    assert calls == [] and ex.direct_solution.corrections == ex.corrections
    paths = ex.export(tmp_path / "out")
    read, strengths = io.read_corrections_table(paths["corrections"], strengths=True)
    assert strengths == ex.direct_solution.strengths
    assert [c.id for c in read] == [c.id for c in ex.corrections]
    # a folder whose table has them: the same start; without them, none
    folder = tmp_path / "out"
    for name in ("images.tbl", "diffs.tbl", "template.hdr"):
        (folder / name).symlink_to(sample.root / name)
    (folder / "diffs").symlink_to(sample.root / "diffs")
    (folder / "projected").symlink_to(sample.root / "projected")
    again = Explorer(folder)
    assert again.direct_solution.strengths == strengths
    io.write_corrections_table(read, paths["corrections"])
    assert Explorer(folder).direct_solution is None


def test_a_flag_loads_the_solver_in_the_background(tmp_path):
    """In a fresh process: opening a folder with its corrections imports no
    scipy; the first flag imports the solver's libraries in a thread, so the
    re-solve that follows does not wait for them (0.3-0.6 s)."""
    import subprocess
    import sys
    import textwrap

    from diffview import io
    from diffview.run import load_workspace

    s = write_sample(tmp_path, "small", quiet=True)
    ws = load_workspace(s)
    io.write_corrections_table(ws.corrections, s.root / "corrections.tbl", ws.strengths)
    code = textwrap.dedent(
        f"""
        import sys, time
        from diffview.widgets import Explorer
        ex = Explorer({str(s.root)!r})
        assert "scipy.optimize" not in sys.modules
        assert ex.direct_solution is not None  # the strengths in the table
        ex.flag_image(4)
        t = time.monotonic()
        while "threadpoolctl" not in sys.modules:
            assert time.monotonic() - t < 60, "the solver was not loaded"
            time.sleep(0.05)
        assert "scipy.optimize" in sys.modules
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=180)
