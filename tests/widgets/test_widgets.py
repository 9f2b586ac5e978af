"""Headless tests of the overlap-inspection dashboard (no browser, no kernel)."""

from __future__ import annotations

import os
import tracemalloc

import numpy as np
import pytest
from astropy.io import fits
from matplotlib.backend_bases import MouseEvent
from work_folders import ORIGINS, TILE, TSHAPE, make_work

from conftest import MP
from diffview import io
from diffview.core.fit import fit_residual
from diffview.errors import InputError
from diffview.geometry.overlaps import diff_name
from diffview.models import Overlap
from diffview.widgets import Dashboard, Explorer, explore, find_work
from diffview.widgets._display import PANEL_PIXELS


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return make_work(tmp_path_factory.mktemp("work"))


@pytest.fixture
def dash(work):
    d = explore(work, background=False)
    assert d.error_text == ""
    yield d
    d.close()


def _event(fig, ax, name, x, y, button=None):
    """A real matplotlib mouse event at data (x, y) of ``ax``, processed."""
    fig.canvas.draw()
    px, py = ax.transData.transform((x, y))
    ev = MouseEvent(name, fig.canvas, px, py, button=button)
    fig.canvas.callbacks.process(name, ev)
    return ev


# --------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------


def test_find_work_locates_montage_layout(work):
    f = find_work(work)
    assert f.images_tbl.name == "images.tbl"
    assert f.proj_dir.name == "projected"
    assert f.template.name == "template.hdr"
    assert f.mosaic.name == "mosaic.fits"
    assert f.fits_tbl is None


def test_find_work_missing_folder_is_input_error(tmp_path):
    with pytest.raises(InputError, match="work folder not found"):
        find_work(tmp_path / "nope")
    with pytest.raises(InputError, match="image table"):
        find_work(tmp_path)


def test_explore_computes_missing_diffs_fits_and_preview(dash, work):
    ex = dash.explorer
    assert len(ex.overlaps) == 11
    for ov in ex.overlaps:
        assert (work / "diffs" / ov.diff).exists()
    assert len(ex.ws.fits) == 11 and not ex.ws.failures
    assert ex.ws.preview.array.shape == TSHAPE
    assert len(ex.corrections) == 6
    # the progress bar is hidden once loaded and the table lists every pair
    assert dash.progress.layout.display == "none"
    assert [v for _, v in dash.table.options] == ex.order


def test_progress_reports_every_stage(tmp_path):
    from diffview.widgets import load_workspace

    root = make_work(tmp_path / "w", mosaic=False)
    calls = []
    ws = load_workspace(root, progress=lambda *a: calls.append(a))
    stages = [c[0] for c in calls]
    assert stages[0] == "differences" and stages[-1] == "preview"
    assert ("differences", 11, 11) in calls and ("fits", 11, 11) in calls
    assert ("preview", 6, 6) in calls
    assert len(ws.fits) == 11
    # a second load finds the differences on disk: nothing left to compute
    calls.clear()
    load_workspace(root, progress=lambda *a: calls.append(a))
    assert ("differences", 0, 0) in calls


def test_results_in_memory(dash, work):
    fits_in = list(dash.explorer.ws.fits.values())[:5]
    corr = dash.explorer.corrections[:3]
    d = Dashboard(work, fits=fits_in, corrections=corr)
    ws = d.explorer.ws
    assert all(ws.fits[(f.plus, f.minus)] is f for f in fits_in)
    assert len(ws.fits) == 11  # the others fitted from the differences
    assert d.explorer.corrections == corr
    again = Dashboard(ws)  # an already loaded workspace
    assert again.explorer.ws is ws and again.error_text == ""
    d.close()
    again.close()


def test_load_error_is_shown_in_the_dashboard(tmp_path):
    d = explore(tmp_path / "nope", background=False)
    assert "work folder not found" in d.error_text
    assert d.explorer is None
    d.close()


def test_background_load_without_mosaic_builds_preview(tmp_path):
    root = make_work(tmp_path / "w", mosaic=False)
    d = Dashboard(root, background=True).wait(60)
    try:
        assert d.error_text == ""
        prev = d.explorer.ws.preview
        assert prev.array.shape == TSHAPE
        assert np.isfinite(prev.array[1:72]).all()  # (0, 0) is blank in tile 0
        assert np.isnan(prev.array[72:]).all()
        assert d.mosaic.image.get_array().shape == TSHAPE
    finally:
        d.close()


# --------------------------------------------------------------------------
# Pair browser and panels
# --------------------------------------------------------------------------


def test_ranking_is_sorted_by_measure(dash):
    ex = dash.explorer
    scores = [ex.measures(k)["score"] for k in ex.order]
    assert scores == sorted(scores, reverse=True)
    dash.measure.value = "npixel"
    dash.worst_first.value = False
    npix = [ex.measures(k)["npixel"] for k in ex.order]
    assert npix == sorted(npix)
    assert [v for _, v in dash.table.options] == ex.order
    # the table's pixels column, sorted smallest first, shows the counts
    assert dash.browser.headers["npixel"].description == "pixels▲"
    shown = [int(t.split()[4]) for t, _ in dash.table.options]  # pair, c1 − c2
    assert shown == npix


def test_selecting_a_pair_updates_every_panel(dash, work):
    ex = dash.explorer
    index = ex.order[3]
    dash.select(index)
    ov = ex.overlaps[index]
    assert dash.table.value == index
    assert f"{ov.cntr1} - {ov.cntr2}" in dash.selected.value
    diff = fits.getdata(work / "diffs" / ov.diff)
    crpix = (
        fits.getheader(work / "diffs" / ov.diff)["CRPIX1"],
        fits.getheader(work / "diffs" / ov.diff)["CRPIX2"],
    )
    images = dash.pairs.images
    np.testing.assert_array_equal(np.asarray(images["difference"].get_array()), diff)
    fit = ex.fit(index)
    res = fit_residual((diff, crpix), fit)
    np.testing.assert_allclose(
        np.asarray(images["residual"].get_array()), res.residual, equal_nan=True
    )
    # plus and minus are the two projected images over the difference box
    (j0, j1), (i0, i1) = ex.pair_view().bounds
    plus = fits.getdata(work / "projected" / ov.plus)
    jo, io_ = ORIGINS[ov.cntr1]
    np.testing.assert_array_equal(
        np.asarray(images["plus"].get_array()),
        plus[j0 - jo : j1 - jo, i0 - io_ : i1 - io_],
    )
    assert images["minus"].norm is images["plus"].norm
    for im in images.values():
        assert im.get_extent() == [i0 - 0.5, i1 - 0.5, j0 - 0.5, j1 - 0.5]
    # clipped pixels overlay the residual
    assert dash.pairs.clip.get_array().shape == diff.shape + (4,)
    # histogram: every finite pixel, fitted level marked at the box centre
    assert dash.histogram.steps.get_data().values.sum() == np.isfinite(diff).sum()
    level = fit.a * fit.boxx + fit.b * fit.boxy + fit.c
    assert dash.histogram.level.get_xdata()[0] == pytest.approx(level)
    # mosaic: all 6 outlines yellow, the pair's 2 outlines + overlap box black
    assert len(dash.mosaic.outlines.get_segments()) == 6
    assert tuple(dash.mosaic.outlines.get_edgecolor()[0][:3]) == (1.0, 1.0, 0.0)
    sel = dash.mosaic.selected.get_segments()
    assert len(sel) == 3
    assert tuple(dash.mosaic.selected.get_edgecolor()[0][:3]) == (0.0, 0.0, 0.0)
    box = sel[2]
    assert box[:, 0].min() == i0 - 0.5 and box[:, 0].max() == i1 - 0.5
    assert box[:, 1].min() == j0 - 0.5 and box[:, 1].max() == j1 - 0.5
    # the images' outlines enclose the overlap box
    for outline in sel[:2]:
        assert outline[:, 0].min() <= i0 and outline[:, 0].max() >= i1 - 1


def test_outlines_follow_the_tiles(dash):
    outlines = dash.explorer.outlines_by_image()
    for (j0, i0), (run,) in zip(ORIGINS, outlines, strict=True):
        np.testing.assert_allclose(run.min(axis=0), (i0 - 0.5, j0 - 0.5), atol=0.05)
        np.testing.assert_allclose(
            run.max(axis=0), (i0 + TILE[1] - 0.5, j0 + TILE[0] - 0.5), atol=0.05
        )


def test_next_and_previous_follow_the_ranking(dash):
    ex = dash.explorer
    first = ex.selected
    assert first == ex.order[0]
    before = np.asarray(dash.pairs.images["difference"].get_array()).copy()
    dash.next_button.click()
    assert ex.selected == ex.order[1]
    assert dash.table.value == ex.order[1]
    assert np.asarray(
        dash.pairs.images["difference"].get_array()
    ).shape != before.shape or not np.array_equal(
        np.asarray(dash.pairs.images["difference"].get_array()), before, equal_nan=True
    )
    dash.prev_button.click()
    dash.prev_button.click()
    assert ex.selected == ex.order[-1]
    dash.table.value = ex.order[2]
    assert ex.selected == ex.order[2]


def test_pixel_readout_under_cursor(dash, work):
    ex = dash.explorer
    (j0, j1), (i0, i1) = ex.pair_view().bounds
    x, y = i0 + 3, j0 + 2
    fig, ax = dash.pairs.figs["difference"], dash.pairs.axes["difference"]
    _event(fig, ax, "motion_notify_event", x, y)
    diff = ex.pair_view().difference
    ra, dec = ex.ws.wcs.pixel_to_world_values(x, y)
    text = dash.readout.value
    assert f"template x={x} y={y}" in text
    assert f"RA={float(ra):.6f} Dec={float(dec):+.6f}" in text
    assert f'background:#eef">{diff[2, 3]:.6g}</td>' in text
    fig, ax = dash.pairs.figs["plus"], dash.pairs.axes["plus"]
    _event(fig, ax, "motion_notify_event", x, y)
    assert f">{ex.pair_view().plus[2, 3]:.6g}</td>" in dash.readout.value


def test_panels_share_zoom(dash):
    axes = dash.pairs.axes
    axes["difference"].set_xlim(10, 20)
    assert axes["plus"].get_xlim() == (10, 20)
    assert axes["residual"].get_xlim() == (10, 20)


def test_large_pair_is_averaged_and_zoom_shows_full_resolution():
    from diffview.widgets import DisplaySettings, PairView
    from diffview.widgets._views import PairPanels

    rng = np.random.default_rng(3)
    big = rng.normal(size=(1200, 300))
    view = PairView(
        0, big + 5, big + 4, big, big - 0.5, big > 2.5, ((100, 1300), (50, 350)), None
    )
    panels = PairPanels()
    panels.show(view, DisplaySettings())
    shown = np.asarray(panels.images["difference"].get_array())
    # averaged to the panel's size on screen (196 pixels), not beyond
    screen = panels.screen_pixels
    assert screen == 196 and panels.factor == 7
    assert shown.shape == (172, 43)
    np.testing.assert_allclose(shown[5, 7], big[35:42, 49:56].mean())
    # zoom on 80 x 60 template pixels: the visible part at full resolution
    ax = panels.axes["residual"]
    ax.set_xlim(99.5, 159.5)
    ax.set_ylim(599.5, 679.5)
    assert panels.factor == 1
    np.testing.assert_array_equal(
        np.asarray(panels.images["difference"].get_array()), big[500:580, 50:110]
    )
    np.testing.assert_array_equal(
        np.asarray(panels.images["plus"].get_array()), big[500:580, 50:110] + 5
    )
    assert panels.images["plus"].get_extent() == [99.5, 159.5, 599.5, 679.5]
    assert panels.clip.get_array().shape == (80, 60, 4)
    # zooming out again averages again
    ax.set_xlim(49.5, 349.5)
    ax.set_ylim(99.5, 1299.5)
    assert panels.factor == 7
    panels.close()


def test_mosaic_zoom_reads_the_mosaic_at_finer_resolution(tmp_path):
    from diffview.run._preview import _strip_average
    from diffview.widgets import Preview
    from diffview.widgets._mosaic import MosaicView

    big = np.random.default_rng(5).normal(size=(2000, 1700)).astype(np.float32)
    path = tmp_path / "mosaic.fits"
    fits.PrimaryHDU(big).writeto(path)
    small = _strip_average(path, big.shape, 3)
    ioff, joff = 10, 20  # the mosaic starts at template pixel (10, 20)
    h, w = small.shape
    extent = (ioff - 0.5, ioff - 0.5 + 3 * w, joff - 0.5, joff - 0.5 + 3 * h)
    prev = Preview(small, 3, extent, str(path), (ioff, joff))
    view = MosaicView()
    view.load(prev, [])
    assert np.asarray(view.image.get_array()).shape == (667, 567)
    assert not view.zoomed
    view.ax.set_xlim(ioff + 100 - 0.5, ioff + 300 - 0.5)
    view.ax.set_ylim(joff + 50 - 0.5, joff + 250 - 0.5)
    assert view.zoomed
    np.testing.assert_array_equal(
        np.asarray(view.image.get_array()), big[50:250, 100:300]
    )
    assert view.image.get_extent() == [109.5, 309.5, 69.5, 269.5]
    view.ax.set_xlim(*extent[:2])
    view.ax.set_ylim(*extent[2:])
    assert not view.zoomed
    assert np.asarray(view.image.get_array()).shape == (667, 567)
    view.fig.canvas.close()


def test_large_difference_is_block_averaged_before_imshow(dash):
    from diffview.widgets._display import display_array

    big = np.random.default_rng(1).normal(size=(2000, 900))
    small = display_array(big)
    assert max(small.shape) <= PANEL_PIXELS
    assert small.shape == (400, 180)


# --------------------------------------------------------------------------
# Stretch
# --------------------------------------------------------------------------


def test_default_stretch_is_gaussian_log_minus_2s_max(dash):
    s = dash.explorer.stretch
    assert (s.mode, s.vmin, s.vmax) == ("gaussian-log", "-2s", "max")
    diff = dash.explorer.pair_view().difference
    norm = dash.pairs.images["difference"].norm
    assert norm.vmax == pytest.approx(np.nanmax(diff))


def test_stretch_controls_change_the_norm(dash):
    diff = dash.explorer.pair_view().difference
    old = dash.pairs.images["difference"].norm
    dash.mode.value = "linear"
    dash.vmin.value = "min"
    norm = dash.pairs.images["difference"].norm
    assert norm is not old
    assert norm.vmin == pytest.approx(np.nanmin(diff))
    assert norm.vmax == pytest.approx(np.nanmax(diff))
    # the colour bar follows the stretch, the histogram marks the new range
    assert dash.pairs.colorbar_norm is norm
    np.testing.assert_allclose(
        dash.pairs.colorbar_range, (np.nanmin(diff), np.nanmax(diff))
    )
    assert dash.histogram.lo.get_xdata()[0] == pytest.approx(np.nanmin(diff))
    dash.vmax.value = "1.5"
    assert dash.pairs.images["difference"].norm.vmax == pytest.approx(1.5)
    dash.ct.value = 0
    assert dash.explorer.stretch.ct == 0
    assert dash.error_text == ""


def test_invalid_range_shows_error_and_keeps_last_picture(dash):
    im = dash.pairs.images["difference"]
    norm, data = im.norm, np.asarray(im.get_array()).copy()
    stretch = dash.explorer.stretch
    dash.vmin.value = "bogus"
    assert "bogus" in dash.error_text and "not a valid" in dash.error_text
    assert dash.error.layout.display is None
    assert im.norm is norm
    np.testing.assert_array_equal(np.asarray(im.get_array()), data)
    assert dash.explorer.stretch == stretch
    dash.vmin.value = "-1s"
    assert dash.error_text == ""
    assert dash.error.layout.display == "none"
    assert dash.explorer.stretch.vmin == "-1s"


# --------------------------------------------------------------------------
# Mosaic
# --------------------------------------------------------------------------


def test_click_on_mosaic_selects_overlap_under_cursor(dash):
    ex = dash.explorer
    target = next(k for k in ex.order[1:] if ex.ws.boxes[k] is not None)
    (j0, j1), (i0, i1) = ex.ws.boxes[target]
    # a point inside this box and no smaller one
    xs, ys = np.meshgrid(np.arange(i0, i1), np.arange(j0, j1))
    pts = [
        (x, y)
        for x, y in zip(xs.ravel(), ys.ravel(), strict=True)
        if ex.pick(x, y) == target
    ]
    x, y = pts[len(pts) // 2]
    _event(dash.mosaic.fig, dash.mosaic.ax, "button_press_event", x, y, button=1)
    assert ex.selected == target
    assert dash.table.value == target
    # a click outside every box changes nothing
    _event(dash.mosaic.fig, dash.mosaic.ax, "button_press_event", -5, -5, button=1)
    assert ex.selected == target


def test_colour_by_quality(dash):
    q = dash.mosaic.quality
    assert not q.get_visible()
    dash.quality_toggle.value = True
    assert q.get_visible()
    assert dash.mosaic.ax.get_title().startswith("overlaps coloured by quality score")
    ex = dash.explorer
    assert len(q.get_paths()) == 11
    expected = [ex.measures(k)["score"] for k in dash.mosaic.quality_index]
    np.testing.assert_allclose(np.ma.filled(q.get_array(), np.nan), expected)
    k = dash.mosaic.quality_index[0]
    box = ex.overlap_boxes()[0][1]
    np.testing.assert_array_equal(q.get_paths()[0].vertices, box)
    paths = q.get_paths()
    dash.measure.value = "rms"  # a recolour: the same paths, new values
    assert q.get_paths() is paths
    assert np.ma.filled(q.get_array(), np.nan)[0] == ex.measures(k)["rms"] or (
        np.isnan(ex.measures(k)["rms"])
    )


def test_the_colouring_is_built_when_first_shown(dash):
    q = dash.mosaic.quality
    assert not q.get_visible() and len(q.get_paths()) == 0  # none made yet
    assert len(q.get_array()) == 11  # but coloured, ready to show
    dash.quality_toggle.value = True
    assert len(q.get_paths()) == 11


# --------------------------------------------------------------------------
# Flags, re-solve, export
# --------------------------------------------------------------------------


def test_flag_and_resolve_changes_corrections(dash):
    ex = dash.explorer
    before = {c.id: (c.a, c.b, c.c) for c in ex.corrections}
    dash.select(
        ex.overlaps.index(next(o for o in ex.overlaps if (o.cntr1, o.cntr2) == (1, 4)))
    )
    dash.flag_pair_button.click()
    dash.flag_reason.value = "stars"
    dash.flag_minus_button.click()  # image 4
    assert ex.flags() == [("pair", (1, 4), "bad"), ("image", 4, "stars")]
    assert len(dash.flag_list.options) == 2
    assert (
        "[flagged]" in dash.selected.value
        or "[flagged]" in dash.table.options[0][0]
        or any("[flagged]" in label for label, _ in dash.table.options)
    )
    dash.resolve_button.click()
    assert dash.error_text == ""
    after = {c.id: (c.a, c.b, c.c) for c in ex.corrections}
    assert 4 not in after  # image 4 no longer constrained
    assert any(not np.allclose(before[k], after[k]) for k in after)
    table = ex.residual_table()
    assert list(table["flagged"]).count(True) == 5  # every pair of image 4
    assert not np.allclose(table["before"], table["after"])
    assert "before" in dash.residuals.value and "after" in dash.residuals.value
    # export: Montage-readable tables, below the work folder
    dash.export_path.value = "exports/flag-test"
    dash.export_button.click()
    assert dash.error_text == ""
    out = ex.ws.folder.top / "exports" / "flag-test"
    assert str(out) in dash.message_text
    kept = io.read_fits_table(out / "fits.tbl")
    assert len(kept) == 11 - 5
    corr = io.read_corrections_table(out / "corrections.tbl")
    assert {c.id for c in corr} == set(after)
    flags = io.read_table(out / "flags.tbl")
    assert list(flags["kind"]) == ["pair", "image"]
    assert list(flags["minus"]) == [4, -1]
    # removing a flag
    dash.flag_list.value = ("image", 4)
    dash.unflag_button.click()
    assert ex.flags() == [("pair", (1, 4), "bad")]


def test_callback_errors_appear_in_the_dashboard(dash, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(dash.explorer, "pair_view", boom)
    dash.next_button.click()
    assert "RuntimeError: disk on fire" in dash.error_text
    assert "details" in dash.error.value


def test_memory_does_not_grow_per_pair_visited(dash):
    ex = dash.explorer
    figs = (*dash.pairs.figs.values(), dash.histogram.fig, dash.mosaic.fig)

    def artists():  # images, lines, collections, patches (ticks vary with limits)
        return [
            len(ax.images) + len(ax.lines) + len(ax.collections) + len(ax.patches)
            for fig in figs
            for ax in fig.axes
        ]

    n_artists = artists()
    for _ in range(2):  # warm up caches
        for k in ex.order:
            dash.select(k)
    tracemalloc.start()
    for k in ex.order:
        dash.select(k)
    start = tracemalloc.get_traced_memory()[0]
    visits = 0
    for _ in range(5):
        for k in ex.order:
            dash.select(k)
            visits += 1
    grown = tracemalloc.get_traced_memory()[0] - start
    tracemalloc.stop()
    # one pair's arrays take ~25 kB: keeping them would add that per visit;
    # what remains is matplotlib's bounded text/transform caches filling up
    assert grown / visits < 5000
    assert artists() == n_artists


def test_explorer_without_widgets(work):
    ex = Explorer(work)
    assert ex.select(ex.order[1]) == ex.order[1]
    with pytest.raises(InputError):
        ex.set_stretch(vmax="12q")
    with pytest.raises(InputError):
        ex.ranking("nonsense")
    assert ex.pick(-100, -100) is None


def test_one_user_action_reaches_the_views_once(dash):
    """view -> controller -> state -> views, once per user action."""
    ex = dash.explorer
    calls = []
    ex.subscribe(lambda explorer, changes: calls.append(sorted(changes)))
    dash.next_button.click()
    assert calls == [["selection"]]
    calls.clear()
    dash.vmin.value = "min"
    assert calls == [["display"]]
    calls.clear()
    dash.vmin.value = "bogus"  # refused: the state and the views stay
    assert calls == [] and dash.error_text
    calls.clear()
    dash.measure.value = "rms"
    assert calls == [["ranking"]]
    calls.clear()
    dash.flag_pair_button.click()
    assert calls == [["flags"]]
    calls.clear()
    dash.resolve_button.click()
    assert calls == [["corrections", "ranking"]]
    calls.clear()
    dash.quality_toggle.value = True  # the mosaic's own display choice
    assert calls == []
    assert dash.mosaic.quality.get_visible()
    dash.resolve_button.click()  # the colouring stays on
    assert dash.mosaic.quality.get_visible()


@pytest.mark.montage
def test_exported_fits_table_feeds_montage_bgmodel(work, tmp_path):
    mp = MP
    ex = Explorer(work)
    ex.flag_pair(ex.order[0])
    paths = ex.export(tmp_path)
    out = tmp_path / "montage_corrections.tbl"
    r = mp.mBgModel(str(work / "images.tbl"), paths["fits"], str(out))
    assert r["status"] == "0", r
    corr = io.read_corrections_table(out)
    assert sorted(c.id for c in corr) == list(range(6))
    assert len(io.read_fits_table(paths["fits"])) == 10


def test_failed_pair_is_listed_and_shown_blank(tmp_path):
    root = make_work(tmp_path / "w")
    pairs = io.read_diffs_table(root / "diffs.tbl")
    pairs.append(Overlap(0, 5, "tile_0.fits", "tile_5.fits", diff_name(0, 5)))
    io.write_diffs_table(pairs, root / "diffs.tbl")
    d = explore(root, background=False)
    ex = d.explorer
    assert ex.ws.failures == {(0, 5): "Images don't overlap"}
    index = len(pairs) - 1
    assert ex.measures(index)["failed"] == 1.0
    assert ex.ranking("failed")[0] == index
    d.select(index)
    assert d.error_text == ""
    assert "Images don&#x27;t overlap" in d.selected.value
    assert np.isnan(np.asarray(d.pairs.images["difference"].get_array())).all()
    assert "no fit" in d.fit_text.value
    d.next()
    assert d.error_text == "" and ex.selected != index
    d.close()


@pytest.mark.montage
def test_explore_a_work_folder_made_by_montagepy(tmp_path):
    """pimages.tbl, diffs.tbl, diffs/, fits.tbl, corrections.tbl, region.hdr
    and mosaic.fits all written by MontagePy, as in Montage's tutorials."""
    mp = MP
    src = make_work(tmp_path / "src")
    root = tmp_path / "M17"
    root.mkdir()
    (root / "diffs").mkdir()
    (root / "projected").symlink_to(src / "projected")
    (root / "region.hdr").write_text((src / "template.hdr").read_text())
    cwd = os.getcwd()
    os.chdir(root)
    try:
        steps = [
            mp.mImgtbl("projected", "pimages.tbl"),
            mp.mOverlaps("pimages.tbl", "diffs.tbl"),
            mp.mDiffExec("projected", "diffs.tbl", "region.hdr", "diffs"),
            mp.mFitExec("diffs.tbl", "fits.tbl", "diffs"),
            mp.mBgModel("pimages.tbl", "fits.tbl", "corrections.tbl"),
            mp.mAdd("projected", "pimages.tbl", "region.hdr", "mosaic.fits"),
        ]
    finally:
        os.chdir(cwd)
    assert all(r["status"] == "0" for r in steps), steps
    d = explore(root, background=False)
    try:
        assert d.error_text == ""
        ex = d.explorer
        montage_fits = io.read_fits_table(root / "fits.tbl")
        assert len(ex.overlaps) == len(montage_fits) > 5
        # the fits and corrections shown are Montage's own
        assert {(f.plus, f.minus): f.c for f in montage_fits} == {
            k: f.c for k, f in ex.ws.fits.items()
        }
        assert ex.corrections == io.read_corrections_table(root / "corrections.tbl")
        assert ex.ws.preview.source == str(root / "mosaic.fits")
        assert len(d.mosaic.outlines.get_segments()) == 6
        d.next()
        assert d.error_text == "" and len(d.mosaic.selected.get_segments()) == 3
    finally:
        d.close()


def test_every_pair_of_the_sample_shows_its_images(tmp_path):
    """images.tbl's CRPIX (4 decimals) and the file's (full precision) can
    truncate to offsets one pixel apart: the panels place each image as mDiff
    did, by the file's CRPIX (3 of the 9 pairs of the small sample were blank)."""
    from diffview.run import load_workspace
    from diffview.sample import write_sample
    from diffview.widgets import read_pair_view

    ws = load_workspace(write_sample(tmp_path, "small", workers=1))
    for k in range(len(ws.overlaps)):
        view = read_pair_view(ws, k)
        assert view.error == "", (k, view.error)
        # over the same pixels, the difference is plus - minus (away from
        # the partly covered edge, where areas weigh): 1 pixel off, the
        # median error is the size of the signal
        d = view.plus - view.minus
        both = np.isfinite(d) & np.isfinite(view.difference)
        assert both.sum() > 0.5 * d.size, k
        error = np.median(np.abs(view.difference[both] - d[both]))
        assert error < 1e-5 * np.median(np.abs(view.difference[both])), (k, error)
