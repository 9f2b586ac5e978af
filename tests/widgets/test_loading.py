"""The dashboard opens at once and completes its work folder in the background."""

from __future__ import annotations

import multiprocessing
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from work_folders import make_work

from diffview.widgets import Dashboard, Explorer, explore
from diffview.widgets._model import MEASURES


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    return make_work(tmp_path_factory.mktemp("pristine") / "w", mosaic=False)


@pytest.fixture(scope="module")
def synchronous(pristine, tmp_path_factory):
    root = tmp_path_factory.mktemp("sync") / "w"
    shutil.copytree(pristine, root)
    d = explore(root, background=False)
    yield d
    d.close()


@pytest.fixture
def work(pristine, tmp_path):
    root = tmp_path / "w"
    shutil.copytree(pristine, root)
    return root


class GatedExecutor(ThreadPoolExecutor):
    """Chunks wait for ``gate``: the job stays busy while the test acts."""

    def __init__(self):
        super().__init__(1)
        self.gate = threading.Event()
        self.ran: list = []

    def submit(self, fn, *args):
        def gated(arg):
            self.gate.wait(30)
            self.ran.append([t[0] for t in arg[0]])
            return fn(arg)

        return super().submit(gated, *args)


def test_opens_before_anything_is_computed_and_fills_in(work, synchronous):
    with GatedExecutor() as pool:
        d = explore(work, executor=pool)
        try:
            ex = d.explorer
            # usable at once: every pair listed, all still computing
            assert d.error_text == "" and len(ex.overlaps) == 11
            assert [v for _, v in d.table.options] == list(range(11))
            assert all("computing…" in label for label, _ in d.table.options)
            assert d.progress.layout.display is None
            assert d.progress_label.value.startswith("differences and fits 0/11")
            assert "computing…" in d.selected.value
            d.next()  # browsing meanwhile works
            assert ex.selected == 1 and d.error_text == ""
            ex.flag_pair(4)
            rows = [(ex.pair_label(k), k) for k in ex.order]
            assert ex.table_rows() == rows and "[flagged]" in rows[4][0]
            assert ex.table_rows(3, 5) == rows[3:5]
            ex.unflag(("pair", ex.key(4)))
            pool.gate.set()
            d.wait(120)
            assert d.job.progress.stage == "done"
            assert d.progress.layout.display == "none"
            # the same values as a synchronous load
            sync = synchronous.explorer
            for m in MEASURES:
                want, got = sync.measure_values(), None
                ex.ranking(m)
                sync.ranking(m)
                want, got = sync.measure_values(), ex.measure_values()
                assert np.array_equal(want, got, equal_nan=True), m
                assert d.table.options == synchronous.table.options
                rows = [(ex.pair_label(k), k) for k in ex.order]
                assert ex.table_rows() == rows and ex.table_rows(3, 5) == rows[3:5]
                rows = [(sync.pair_label(k), k) for k in sync.order]  # no job
                assert sync.table_rows(3, 5) == rows[3:5]
            assert [(c.id, c.c) for c in ex.corrections] == [
                (c.id, c.c) for c in sync.corrections
            ]
            assert ex.ws.preview is not None
            assert d.mosaic.image.get_array().shape == ex.ws.preview.array.shape
        finally:
            pool.gate.set()
            d.close()


def test_a_selected_pair_is_computed_first(work):
    with GatedExecutor() as pool:
        d = Dashboard(work, background=True, executor=pool)
        try:
            d.select(10)  # while the first chunks wait at the gate
            assert "computing…" in d.selected.value
            pool.gate.set()
            d.wait(120)
            # the pair shown at open (0) first, alone; the one selected (10)
            # alone too, before the pairs still waiting in table order (at
            # most 4 chunks were in flight when it was selected)
            ran = pool.ran
            assert ran[0] == [0] and [10] in ran, ran
            assert ran.index([10]) < next(i for i, c in enumerate(ran) if 7 in c)
            assert sorted(sum(pool.ran, [])) == list(range(11))
            assert "computing…" not in d.selected.value
            assert d.explorer.pair_view(10).error == ""
        finally:
            pool.gate.set()
            d.close()


def test_closing_cancels_and_leaves_no_worker(work):
    d = explore(work, workers=2)
    d.close()
    assert d.job.wait(30)
    assert d.job.progress.stage in ("cancelled", "done")
    assert multiprocessing.active_children() == []


def test_close_while_busy_stops_the_job(work):
    with GatedExecutor() as pool:
        d = explore(work, executor=pool)
        d.close()  # cancels: the gated chunks are dropped
        pool.gate.set()
    assert d.job.progress.stage == "cancelled"
    assert d.job.progress.done < 11


def test_failing_pairs_are_counted_and_shown(work):
    (work / "projected" / "tile_3.fits").write_bytes(b"garbage" * 500)
    d = explore(work, workers=1).wait(120)
    try:
        ex = d.explorer
        bad = [k for k, ov in enumerate(ex.overlaps) if 3 in (ov.cntr1, ov.cntr2)]
        assert bad and d.job.progress.failed == len(bad)
        assert d.error_text == ""
        assert f"{len(bad)} of 11 pairs failed" in d.message_text
        assert ex.measures(bad[0])["failed"] == 1.0
        assert "tile_3.fits" in ex.pair_view(bad[0]).error
    finally:
        d.close()


def test_a_big_table_opens_without_an_object_per_pair(tmp_path, monkeypatch):
    from benchmarks.fields import _header, write_survey_table

    from diffview.run import _pairtable

    s = write_survey_table(tmp_path / "survey", 300)
    hdr = _header(s.layout, s.layout.shape, s.layout.crpix)
    (s.root / "template.hdr").write_text(
        "\n".join(c.image.rstrip() for c in hdr.cards) + "\nEND\n"
    )
    made = []

    def counting(cls):
        class Counted(cls):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                made.append(cls.__name__)

        return Counted

    monkeypatch.setattr(_pairtable, "Overlap", counting(_pairtable.Overlap))
    monkeypatch.setattr(_pairtable, "PlaneFit", counting(_pairtable.PlaneFit))
    from diffview.run import open_workspace

    ws = open_workspace(s.root)
    ex = Explorer(ws, assess=False)
    assert len(ex.overlaps) == len(s.pairs) > 1000
    assert len(made) < 10  # the ranking, labels and boxes come from columns
    worst = ex.ranking("rms")[0]
    assert ex.measure_values()[worst] == np.nanmax(ex.measure_values())
    assert ex.fit(worst).rms == ex.measure_values()[worst]


def test_a_pair_computed_in_the_background_gets_its_own_display_range(work):
    """The selected pair is first shown as "computing…" (no pixel: no stretch);
    once its difference arrives its display range is the one its pixels give,
    not the whole array's (the stretch resolved on the empty view was kept)."""
    d = explore(work, workers=1).wait(120)
    try:
        got = d.explorer.panel_stretch("difference")
        fresh = Explorer(work)  # the files are all there now
        fresh.select(d.explorer.selected)
        want = fresh.panel_stretch("difference")
        assert got is not None and want is not None
        assert (got.vmin, got.vmax) == pytest.approx((want.vmin, want.vmax))
        assert f"{want.vmin:.4g} .. {want.vmax:.4g}" in d.histogram.title
    finally:
        d.close()
