"""The mosaic view: zoom to the pair, follow, large mosaic, nested picks, exports."""

from __future__ import annotations

import os

import numpy as np
import pytest
from matplotlib.backend_bases import MouseEvent

from diffview.sample import write_sample
from diffview.widgets import Dashboard
from diffview.widgets._layout import figure_sizes


@pytest.fixture
def dash(dense_sample):
    d = Dashboard(dense_sample)
    yield d
    d.close()


def _limits(ax):
    return (*sorted(ax.get_xlim()), *sorted(ax.get_ylim()))


def _holds(limits, outlines):
    xy = np.vstack(outlines)
    x0, y0 = xy.min(0)
    x1, y1 = xy.max(0)
    return limits[0] <= x0 and x1 <= limits[1] and limits[2] <= y0 and y1 <= limits[3]


def _tall(limits):
    """Height shown: the mosaic is tall, the pair's two images are not."""
    return limits[3] - limits[2]


def _click(fig, ax, x, y):
    fig.canvas.draw()
    px, py = ax.transData.transform((x, y))
    ev = MouseEvent("button_press_event", fig.canvas, px, py, button=1)
    fig.canvas.callbacks.process("button_press_event", ev)


def test_zoom_to_pair_by_key_and_button(dash):
    ex, ax = dash.explorer, dash.mosaic.ax
    whole = _limits(ax)
    dash.keyboard.press("z")
    assert dash.error_text == ""
    zoomed = _limits(ax)
    assert _holds(zoomed, ex.pair_outlines())
    assert _tall(zoomed) < 0.6 * _tall(whole)
    # the zoom is on the toolbar's history: Back shows the whole mosaic again
    dash.mosaic.fig.canvas.toolbar.back()
    assert _limits(ax) == pytest.approx(whole)
    # another pair, the button
    dash.next()
    dash.mosaic_tools.zoom_button.click()
    assert _holds(_limits(ax), ex.pair_outlines())
    assert _limits(ax) != pytest.approx(zoomed)
    dash.mosaic_tools.home_button.click()
    assert _limits(ax) == pytest.approx(whole)


def test_follow_selection_zooms_to_every_pair_only_when_ticked(dash):
    ex, ax = dash.explorer, dash.mosaic.ax
    whole = _limits(ax)
    dash.next()
    assert _limits(ax) == pytest.approx(whole)  # not following: left alone
    dash.mosaic_tools.follow.value = True
    assert _holds(_limits(ax), ex.pair_outlines())
    for _ in range(3):
        dash.next()
        assert _holds(_limits(ax), ex.pair_outlines())
        assert _tall(_limits(ax)) < 0.6 * _tall(whole)
    dash.mosaic_tools.follow.value = False
    before = _limits(ax)
    dash.next()
    assert _limits(ax) == pytest.approx(before)


def test_large_mosaic_takes_the_width_and_the_window_height(dash):
    fig = dash.mosaic.fig
    dash.probe.width, dash.probe.height = 1500, 1100
    normal = tuple(round(v) for v in fig.get_size_inches() * fig.dpi)
    assert normal == figure_sizes(1500)["mosaic"]
    dash.mosaic_tools.large.value = True
    large = tuple(round(v) for v in fig.get_size_inches() * fig.dpi)
    assert large == figure_sizes(1500, True, 1100)["mosaic"]
    assert large[0] > normal[0] and large[1] > normal[1]
    assert large[1] <= 1100 - 140  # room for its controls in the window
    dash.probe.height = 700  # a short window: never smaller than normal
    assert fig.get_size_inches()[1] * fig.dpi == pytest.approx(normal[1], abs=1)
    dash.probe.height = 2000  # a tall screen: as wide as the dashboard
    tall = tuple(round(v) for v in fig.get_size_inches() * fig.dpi)
    assert tall[0] == 1500 - 8 - 44
    dash.mosaic_tools.large.value = False
    back = tuple(round(v) for v in fig.get_size_inches() * fig.dpi)
    assert back == normal


def test_click_picks_the_smallest_of_nested_overlaps(dash):
    ex = dash.explorer
    n = len(ex.overlaps)
    assert n >= 3
    # three nested boxes ((j0, j1), (i0, i1)): big > middle > small, listed
    # with the small one last (not found first by position)
    boxes = [None] * n
    boxes[0] = ((0, 200), (0, 100))
    boxes[1] = ((50, 150), (20, 80))
    boxes[2] = ((90, 110), (40, 60))
    ex.ws.boxes = boxes
    assert ex.pick(50, 100) == 2
    assert ex.pick(30, 100) == 1
    assert ex.pick(10, 100) == 0
    assert ex.pick(50, 300) is None
    fig, ax = dash.mosaic.fig, dash.mosaic.ax
    _click(fig, ax, 50, 100)
    assert ex.selected == 2
    _click(fig, ax, 30, 60)
    assert ex.selected == 1
    _click(fig, ax, 95, 10)
    assert ex.selected == 0


def test_export_message_shows_the_full_path(tmp_path, monkeypatch):
    sample = write_sample(tmp_path / "work", "dense")  # its own: exports land in it
    monkeypatch.chdir(sample.root.parent)
    dash = Dashboard(os.path.basename(sample.root))  # a relative work folder
    try:
        dash.export_path.value = "exports/today"
        dash.export_button.click()
        assert dash.error_text == ""
        out = os.path.join(os.path.abspath(sample.root), "exports", "today")
        assert f"to {out}" in dash.message_text
        assert os.path.join(out, "fits.tbl") in dash.export_text.value
        assert os.path.exists(os.path.join(out, "corrections.tbl"))
    finally:
        dash.close()
