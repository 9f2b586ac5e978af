"""The next pair's panels drawn ahead of time: used only when they are the
picture the live figure would draw, pixel for pixel."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from diffview.widgets import explore
from diffview.widgets._model import PANELS, PairView
from diffview.widgets._prerender import OffscreenCanvas, figure_state
from diffview.widgets._settings import DisplaySettings
from diffview.widgets._views import PairPanels


@pytest.fixture
def dash(small_sample):
    d = explore(small_sample, background=False)
    yield d
    d.close()


def _counts(dash, what="prepared_draws"):
    return {n: getattr(dash.pairs.figs[n].canvas, what) for n in PANELS}


def _stale_panels(dash) -> dict:
    """Panels whose shown pixels differ from a full render of their figure now."""
    stale = {}
    for name in PANELS:
        canvas = dash.pairs.figs[name].canvas
        shown = np.asarray(canvas.buffer_rgba()).copy()
        FigureCanvasAgg.draw(canvas)
        fresh = np.asarray(canvas.buffer_rgba())
        changed = int((shown != fresh).any(axis=-1).sum())
        if changed:
            stale[name] = changed
    return stale


def _prepare_next(dash) -> int:
    index = dash.explorer.prefetch(+1)
    dash.pairs.prepare_pair(dash.explorer, index)
    return index


def test_next_ships_the_prepared_pictures_and_they_are_the_render(dash):
    for _ in range(4):  # pairs of other sizes and tick labels
        index = _prepare_next(dash)
        before = _counts(dash)
        dash.next()
        assert dash.explorer.selected == index
        after = _counts(dash)
        assert {n: after[n] - before[n] for n in PANELS} == dict.fromkeys(PANELS, 1)
        assert _stale_panels(dash) == {}


def test_the_axes_are_placed_as_a_render_places_them(dash):
    """A hover maps the pointer through the axes' box, which a draw sets
    (square pixels): the prepared picture must leave it where a draw would."""
    ax = dash.pairs.axes["plus"]
    shapes = set()
    for _ in range(4):
        _prepare_next(dash)
        dash.next()
        placed = ax.get_position().bounds
        shapes.add(dash.explorer.pair_view().difference.shape)
        FigureCanvasAgg.draw(dash.pairs.figs["plus"].canvas)
        assert ax.get_position().bounds == pytest.approx(placed, abs=1e-12)
    assert len(shapes) > 1  # boxes of other shapes: the position moved


@pytest.mark.parametrize(
    "change",
    ["stretch", "zoom lock", "blink", "title", "artist"],
)
def test_a_changed_state_renders_instead(dash, change):
    index = _prepare_next(dash)
    if change == "stretch":
        dash.explorer.set_stretch(mode="linear")
    elif change == "blink":  # showing minus in the plus panel
        dash.keyboard.blink.start()
        dash.keyboard.blink.play.value = 1
    elif change == "title":
        dash.pairs.set_title("minus", "minus (flagged)")
    elif change == "artist":
        dash.pairs.axes["difference"].plot([0, 1], [0, 1])
    else:
        ax = dash.pairs.axes["plus"]
        x0, x1 = sorted(ax.get_xlim())
        y0, y1 = sorted(ax.get_ylim())
        dash.zoom_lock.mode.value = "relative"
        ax.set_xlim(x0, (x0 + x1) / 2)
        ax.set_ylim(y0, (y0 + y1) / 2)
        dash.pairs.toolbar.push_current()
    before, drawn = _counts(dash), _counts(dash, "draws")

    async def in_a_kernel():  # panels draw once the action returns
        dash.explorer.select(index)
        for _ in range(30):
            await asyncio.sleep(0)

    asyncio.run(in_a_kernel())
    used = {n: _counts(dash)[n] - before[n] for n in PANELS}
    assert _counts(dash, "draws") != drawn  # drawn in the loop
    expected_stale = {
        "stretch": set(PANELS),
        "zoom lock": set(PANELS),
        "blink": {"plus"},
        "title": {"minus"},
        "artist": {"difference"},
    }[change]
    assert {n for n in PANELS if not used[n]} >= expected_stale
    if change == "zoom lock":
        (j0, j1), (i0, i1) = dash.explorer.pair_view().bounds
        x0, x1 = sorted(dash.pairs.axes["plus"].get_xlim())
        assert x1 - x0 == pytest.approx((i1 - i0) / 2)  # the lock's zoom
    assert _stale_panels(dash) == {}
    dash.keyboard.blink.stop()


def test_the_dec_labels_keep_one_alignment_on_every_pair(dash):
    """Only the tick labels in view when the sky ticks were installed were
    centred: a pair with a third Dec label drew it off by a few pixels."""
    ax = dash.pairs.axes["plus"]
    seen = 0
    for _ in range(len(dash.explorer.order)):
        dash.next()
        FigureCanvasAgg.draw(dash.pairs.figs["plus"].canvas)
        labels = [t for t in ax.get_yticklabels() if t.get_text()]
        seen = max(seen, len(labels))
        assert {t.get_verticalalignment() for t in labels} <= {"center"}
    assert seen >= 2


def test_pixel_ticks_are_prepared_too():
    """Panels without a celestial WCS (pixel ticks) use prepared pictures."""
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(30, 40)), rng.normal(size=(30, 40))
    view = PairView(0, a, b, a - b, a - b, a > 1.5, ((10, 40), (20, 60)), None)
    settings = DisplaySettings(mode="linear", vmin="min")
    panels = PairPanels()
    try:
        panels.prepare(view, settings)
        panels.show(view, settings)
        assert [panels.figs[n].canvas.prepared_draws for n in PANELS] == [1] * 4
        shown = np.asarray(panels.figs["plus"].canvas.buffer_rgba()).copy()
        FigureCanvasAgg.draw(panels.figs["plus"].canvas)
        np.testing.assert_array_equal(shown, panels.figs["plus"].canvas.buffer_rgba())
        assert panels.axes["plus"].get_xticklabels()[0].get_text() != ""
    finally:
        panels.close()


def _figure(value, **kw):
    fig = Figure(figsize=(1, 1))
    OffscreenCanvas(fig)
    ax = fig.add_axes((0.1, 0.1, 0.8, 0.8))
    ax.imshow(np.full((3, 3), value), vmin=0, vmax=kw.get("vmax", 2))
    ax.set_axis_off()  # matplotlib's own tickers: state unknown
    return fig, ax


def test_figure_state_tells_what_a_picture_depends_on():
    base = figure_state(_figure(1.0)[0])
    assert base == figure_state(_figure(1.0)[0])
    assert base != figure_state(_figure(1.5)[0])  # pixels
    assert base != figure_state(_figure(1.0, vmax=3)[0])  # norm
    fig, ax = _figure(1.0)
    ax.set_xlim(0, 1)
    assert base != figure_state(fig)  # limits
    fig, ax = _figure(1.0)
    fig.set_size_inches(2, 1)
    assert base != figure_state(fig)  # size
    fig, ax = _figure(1.0)
    ax.plot([0, 1])  # an artist it does not know
    assert figure_state(fig) != figure_state(fig)
    fig, ax = _figure(1.0)
    ax.set_axis_on()  # matplotlib's own tickers: unknown too
    assert figure_state(fig) != figure_state(fig)


def test_a_resize_draws_the_pair_ahead_again_at_the_new_size(dash):
    """The page tells its width after the first pair's frames, when the next
    pair was drawn ahead already: that drawing must follow the new size."""
    _prepare_next(dash)
    side = dash.pairs.figs["plus"].canvas.get_width_height()
    assert dash.pairs.fit_width(4 * side[0] + 80, side[0] + 20)
    before = _counts(dash)
    dash.next()
    assert {n: _counts(dash)[n] - before[n] for n in PANELS} == dict.fromkeys(PANELS, 1)
    assert dash.pairs.figs["plus"].canvas.get_width_height() != side
    assert _stale_panels(dash) == {}


def test_a_failed_drawing_ahead_is_no_error_and_next_renders(dash, monkeypatch):
    """Drawing ahead is a head start only: if it fails, the user sees no
    error for a pair they did not ask for, and Next renders as before."""
    _prepare_next(dash)  # an offer from before, withdrawn by the failure

    def broken(*args, **kwargs):
        raise ValueError("no picture")

    monkeypatch.setattr(dash.pairs, "prepare", broken)
    dash._read_ahead(dash.explorer, frozenset({"selection"}))
    assert dash.error_text == ""
    before = _counts(dash)
    dash.next()
    assert _counts(dash) == before  # rendered, none prepared
    assert _stale_panels(dash) == {}
