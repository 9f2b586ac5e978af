"""The blink of plus and minus (and difference), driven by a Play widget."""

from __future__ import annotations

import numpy as np
import pytest

from diffview.sample import write_sample
from diffview.widgets import _views, explore
from diffview.widgets._blink import CYCLES, RATES


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return write_sample(tmp_path_factory.mktemp("blink"), "small", workers=1)


@pytest.fixture
def dash(sample):
    d = explore(sample, background=False)
    yield d
    d.close()


def _shown(dash, name="plus"):
    return np.ma.filled(dash.pairs.images[name].get_array().astype(float), np.nan)


def _frame(blink, value):
    """What the browser's Play clock sends: a new frame number."""
    blink.play.value = value


def _assert_shows(dash, name):
    """The plus panel shows ``name``'s pixels, with ``name``'s norm."""
    view = dash.explorer.pair_view()
    np.testing.assert_array_equal(_shown(dash), view.panel(name))
    im = dash.pairs.images["plus"]
    assert im.norm is dash.pairs.images[name].norm
    expected = "plus" if name == "plus" else f"blink: {name}"
    assert dash.pairs.title("plus") == expected


def test_plus_and_minus_alternate_at_one_stretch(dash):
    blink = dash.keyboard.blink
    view = dash.explorer.pair_view()
    assert max(view.plus.shape) <= 400  # shown whole: compare whole arrays
    assert not np.allclose(view.plus, view.minus, equal_nan=True)
    blink.start()
    assert blink.playing and blink.toggle.value
    for value, name in [(1, "minus"), (0, "plus"), (1, "minus")]:
        _frame(blink, value)
        assert blink.shown == name
        _assert_shows(dash, name)
    # plus and minus: one norm object, one range
    norm = dash.pairs.images["plus"].norm
    assert norm is dash.pairs.images["minus"].norm
    blink.stop()
    assert not blink.playing and blink.shown == "plus"
    _assert_shows(dash, "plus")


def test_the_three_frame_cycle_shows_the_difference(dash):
    blink = dash.keyboard.blink
    blink.cycle.value = "plus / minus / difference"
    assert blink.play.max == 2 and blink.frames == CYCLES[blink.cycle.value]
    blink.start()
    for value, name in [(1, "minus"), (2, "difference"), (0, "plus")]:
        _frame(blink, value)
        _assert_shows(dash, name)
    _frame(blink, 2)
    blink.cycle.value = "plus / minus"
    assert blink.play.max == 1 and blink.play.value == 1


def test_frames_are_ignored_when_stopped(dash):
    blink = dash.keyboard.blink
    before = _shown(dash)
    _frame(blink, 1)
    assert blink.shown == "plus"
    np.testing.assert_array_equal(_shown(dash), before)


def test_the_toggle_and_rate_drive_the_play_clock(dash):
    blink = dash.keyboard.blink
    blink.toggle.value = True
    assert blink.play.playing
    blink.rate.value = RATES["4 per s"]
    assert blink.play.interval == 250
    blink.play.playing = False  # the Play's own pause button
    assert not blink.toggle.value and blink.shown == "plus"


def test_a_new_pair_keeps_blinking_on_its_own_images(dash):
    blink = dash.keyboard.blink
    blink.start()
    _frame(blink, 1)
    dash.next()
    assert blink.shown == "minus"
    _assert_shows(dash, "minus")  # the new pair's minus, not the old one's
    dash.mode.value = "linear"  # a new stretch: still the frame, new norm
    _assert_shows(dash, "minus")
    blink.stop()
    _assert_shows(dash, "plus")


def test_zoom_while_blinking_shows_the_same_sky_region(dash, monkeypatch):
    # panels of at most 16 pixels: block-averaged whole, re-cut when zoomed
    monkeypatch.setattr(_views, "PANEL_PIXELS", 16)
    dash.next()
    assert dash.pairs.factor > 1
    blink = dash.keyboard.blink
    blink.start()
    _frame(blink, 1)
    np.testing.assert_array_equal(_shown(dash), _shown(dash, "minus"))
    ax = dash.pairs.axes["plus"]
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    before = dash.pairs.images["minus"].get_extent()
    ax.set_xlim(x0, x0 + (x1 - x0) / 4)  # zoomed in: a new cut, finer
    ax.set_ylim(y0, y0 + (y1 - y0) / 4)
    assert dash.pairs.images["minus"].get_extent() != before
    assert blink.shown == "minus"
    np.testing.assert_array_equal(_shown(dash), _shown(dash, "minus"))
    assert dash.pairs.images["plus"].get_extent() == (
        dash.pairs.images["minus"].get_extent()
    )
