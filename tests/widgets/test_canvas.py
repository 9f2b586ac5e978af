"""The dashboard's canvases: frames drawn in the kernel, bursts merged, the
last state always reaching the browser; which canvas redraws for what."""

from __future__ import annotations

import asyncio
import contextlib
import html
import io
import threading
import time

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from PIL import Image

from diffview.sample import write_sample
from diffview.widgets import Dashboard
from diffview.widgets._canvas import ACK_TIMEOUT, held_draws, new_figure
from diffview.widgets._model import PANELS


def _browser_canvas():
    """A canvas as on a page: a browser took its first frame, a loop runs."""
    fig = new_figure((1.0, 1.0))
    canvas = fig.canvas
    canvas.syncing_data_url = False  # ipympl: the front end said 'initialized'
    image = fig.add_axes((0, 0, 1, 1)).imshow(np.zeros((2, 2)), vmin=0, vmax=9)
    drawn = []  # the image's data at each render
    canvas.mpl_connect("draw_event", lambda e: drawn.append(image.get_array()[0, 0]))
    return canvas, image, drawn


def test_a_burst_is_one_frame_then_the_last_state_after_the_answer():
    """ipympl dropped a redraw asked while a picture was in flight (a stale
    picture after fast Next); here requests wait and the last one is drawn."""

    async def scenario():
        canvas, image, drawn = _browser_canvas()
        for k in (1, 2, 3):  # one action, three changes: one frame
            image.set_data(np.full((2, 2), k))
            canvas.draw_idle()
        assert canvas.draws == 0  # drawn when the action returns
        await asyncio.sleep(0)
        assert drawn == [3] and canvas.sends == 1
        assert canvas._sent_at is None  # a lone frame asks for no answer
        for k in (4, 5, 6):  # a burst: 4 asks for an answer, 5 and 6 wait
            image.set_data(np.full((2, 2), k))
            canvas.draw_idle()
            await asyncio.sleep(0.01)
        assert drawn == [3, 4]
        canvas.handle_draw({"type": "draw"})  # the browser's answer to frame 4
        assert drawn == [3, 4, 6]
        canvas.handle_draw({"type": "draw"})  # answer to frame 6: nothing new
        await asyncio.sleep(0.01)
        assert drawn == [3, 4, 6] and canvas.sends == 3
        # nothing in flight: the next request is drawn at once
        image.set_data(np.full((2, 2), 7))
        canvas.draw_idle()
        await asyncio.sleep(0)
        assert drawn == [3, 4, 6, 7]
        # no answer to frame 7 (a closed tab): the next goes after the timeout
        image.set_data(np.full((2, 2), 8))
        canvas.draw_idle()
        await asyncio.sleep(0.01)
        assert drawn == [3, 4, 6, 7]
        t0 = time.monotonic()
        while drawn[-1] != 8 and time.monotonic() - t0 < 3 * ACK_TIMEOUT:
            await asyncio.sleep(0.05)
        assert drawn == [3, 4, 6, 7, 8]
        assert time.monotonic() - t0 > 0.5 * ACK_TIMEOUT
        canvas.close()

    asyncio.run(scenario())


def test_a_blit_ships_the_buffer_without_rendering():
    fig = new_figure((1.0, 1.0))
    fig.canvas.draw()
    fig.canvas.blit(fig.bbox)
    assert (fig.canvas.draws, fig.canvas.sends) == (1, 2)
    with held_draws():  # a render asked with a blit: one render
        fig.canvas.blit(fig.bbox)
        fig.canvas.draw_idle()
    assert (fig.canvas.draws, fig.canvas.sends) == (2, 3)
    fig.canvas.close()


def test_frames_are_whole_pngs():
    fig = new_figure((1.0, 0.5))
    fig.add_axes((0.1, 0.1, 0.8, 0.8)).imshow(np.arange(12.0).reshape(3, 4))
    fig.canvas.draw()
    fig.canvas._png_is_old = True
    png = fig.canvas.get_diff_image()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and fig.canvas._current_image_mode == "full"
    with Image.open(io.BytesIO(png)) as im:  # the rendered pixels, exactly
        shown = np.asarray(im)
    assert np.array_equal(shown, np.asarray(fig.canvas.get_renderer().buffer_rgba()))
    assert fig.canvas.get_diff_image() is None  # nothing new
    fig.canvas.close()


@pytest.fixture(scope="module")
def dash(tmp_path_factory):
    d = Dashboard(write_sample(tmp_path_factory.mktemp("canvas"), "small"))
    yield d
    d.close()


def _counts(dash):
    return {
        **{n: dash.pairs.figs[n].canvas.draws for n in PANELS},
        "histogram": dash.histogram.fig.canvas.draws,
        "mosaic": dash.mosaic.fig.canvas.draws,
    }


def _redrawn(dash, action):
    before = _counts(dash)
    action()
    after = _counts(dash)
    return {k: after[k] - before[k] for k in after if after[k] != before[k]}


def test_next_redraws_each_panel_once_and_the_mosaic_not_at_all(dash):
    redrawn = _redrawn(dash, dash.next)
    assert redrawn == {**dict.fromkeys(PANELS, 1), "histogram": 1}
    view = dash.explorer.pair_view()
    for name in PANELS:  # the small sample's pairs fit a panel: full resolution
        np.testing.assert_array_equal(
            np.ma.filled(dash.pairs.images[name].get_array().astype(float), np.nan),
            view.panel(name),
        )


def test_a_blink_frame_redraws_the_plus_panel_only(dash):
    blink = dash.keyboard.blink
    blink.start()
    try:
        redrawn = _redrawn(dash, lambda: setattr(blink.play, "value", 1))
    finally:
        blink.stop()
    assert redrawn == {"plus": 1}


def test_a_zoom_redraws_the_four_panels(dash):
    ax = dash.pairs.axes["residual"]
    x0, x1 = ax.get_xlim()
    with held_draws():  # as one toolbar zoom, merged by the kernel's loop
        redrawn = _redrawn(dash, lambda: ax.set_xlim(x0, (x0 + x1) / 2))
    assert redrawn == {}  # held
    after = _counts(dash)
    assert {n: after[n] for n in PANELS} != {}  # drawn at the end
    assert dash.pairs.axes["plus"].get_xlim() == pytest.approx((x0, (x0 + x1) / 2))


def test_colour_bar_has_units_stretch_and_range(dash):
    ex = dash.explorer
    ex.ws.template["BUNIT"] = "DN"
    dash.pairs._units = (None, "")  # read the units again
    dash.apply_stretch()  # nothing changed: no redraw
    dash.vmin.value = "min"
    norm = dash.pairs.images["difference"].norm
    lo, hi = float(norm.vmin), float(norm.vmax)
    diff = ex.pair_view().range_data("difference")  # no partly covered edge
    assert (lo, hi) == pytest.approx((np.nanmin(diff), np.nanmax(diff)))
    assert dash.pairs.colorbar_range == pytest.approx((lo, hi))
    label = dash.pairs.colorbar_text
    stretch = f"gaussian-log stretch min .. max: {lo:.4g} .. {hi:.4g}"
    assert label == f"difference (DN), {stretch}"
    _check_colour_bar_html(dash, norm, lo, hi)
    del ex.ws.template["BUNIT"]
    dash.pairs._units = (None, "")
    dash.vmin.value = "-2s"
    assert "(no BUNIT)" in dash.pairs.colorbar_text


def _check_colour_bar_html(dash, norm, lo, hi):
    """The bar's strip holds the panel's colours from lo to hi, its ticks the
    values where they sit, its label the text (HTML: no canvas frame)."""
    import base64
    import io
    import re

    from PIL import Image

    page = dash.pairs.colorbar.value
    src = re.search(r"src='data:image/png;base64,([^']+)'", page).group(1)
    strip = np.asarray(Image.open(io.BytesIO(base64.b64decode(src))))[0]
    cmap = dash.pairs.images["difference"].get_cmap()
    want = (np.asarray(cmap(norm(np.linspace(lo, hi, len(strip))))) * 255 + 0.5)
    np.testing.assert_array_equal(strip, want.astype(np.uint8))
    ticks = re.findall(r"left:([\d.]+)%[^>]*>\|<br>([^<]+)</span>", page)
    assert len(ticks) >= 2
    for left, text in ticks:
        assert lo <= float(text) <= hi
        where = (float(text) - lo) / (hi - lo)
        assert float(left) / 100 == pytest.approx(where, abs=0.02)
    assert html.escape(dash.pairs.colorbar_text) in page
    assert dash.pairs.canvases == [dash.pairs.figs[n].canvas for n in PANELS]


def test_pixels_are_square(dash):
    for ax in dash.pairs.axes.values():
        assert ax.get_aspect() == 1.0
    bbox = dash.pairs.axes["difference"].get_window_extent()
    (x0, x1), (y0, y1) = (
        dash.pairs.axes["difference"].get_xlim(),
        dash.pairs.axes["difference"].get_ylim(),
    )
    dash.pairs.figs["difference"].canvas.draw()
    bbox = dash.pairs.axes["difference"].get_window_extent()
    per_x, per_y = bbox.width / abs(x1 - x0), bbox.height / abs(y1 - y0)
    assert per_x == pytest.approx(per_y, rel=0.02)


def _canvases(dash):
    return {
        **{n: dash.pairs.figs[n].canvas for n in PANELS},
        "histogram": dash.histogram.fig.canvas,
        "mosaic": dash.mosaic.fig.canvas,
    }


def _delta(dash, action, attr):
    canvases = _canvases(dash)
    before = {k: getattr(c, attr) for k, c in canvases.items()}
    action()
    out = {k: getattr(c, attr) - before[k] for k, c in canvases.items()}
    return {k: v for k, v in out.items() if v}


def test_next_ships_one_frame_per_changed_canvas_and_draws_no_text_again(dash):
    dash.next()  # every kept picture made
    sent = _delta(dash, dash.next, "sends")
    assert sent == dict.fromkeys(_canvases(dash), 1)  # the mosaic: its highlight
    assert _delta(dash, dash.next, "full_draws") == {}  # no title drawn again


def test_a_blink_frame_ships_the_plus_panel_alone_from_a_kept_picture(dash):
    blink = dash.keyboard.blink
    blink.start()
    try:
        for value in (1, 0):  # each title's picture made once
            blink.play.value = value
        canvas = dash.pairs.figs["plus"].canvas
        full = canvas.full_draws
        sent = _delta(dash, lambda: setattr(blink.play, "value", 1), "sends")
        assert sent == {"plus": 1} and canvas.full_draws == full
        assert dash.pairs.title("plus") == "blink: minus"
    finally:
        blink.stop()


def test_a_layered_frame_has_the_pixels_of_a_full_draw(dash):
    """What a canvas ships after a Next equals rendering its whole figure."""
    dash.next()
    for name, canvas in _canvases(dash).items():
        if not canvas.layers:
            continue
        canvas.draw()
        shipped = np.array(canvas.get_renderer().buffer_rgba())
        FigureCanvasAgg.draw(canvas)
        full = np.asarray(canvas.get_renderer().buffer_rgba())
        assert (shipped != full).any(axis=-1).sum() == 0, name


def test_the_table_page_is_sent_again_only_when_its_rows_change(dash):
    changed = []
    dash.table.observe(lambda c: changed.append(c["name"]), names="options")
    try:
        ex = dash.explorer
        dash.select(ex.order[0])
        changed.clear()
        assert len(ex.order) > 2 and dash.browser.rows > 2
        dash.next()  # rows 1 and 2 of the first page: the page stays
        dash.previous()
        assert changed == [] and dash.table.value == ex.order[0]
        dash.sort_table("npixel")  # new row order: the page is sent again
        assert changed == ["options"]
    finally:
        dash.table.unobserve_all("options")
        dash.sort_table("score")


class _Page:
    """Stands for a browser on a canvas's websocket list: records messages."""

    def __init__(self, name, log):
        self.name, self.log = name, log

    def send_json(self, content):
        self.log.append((self.name, content["type"]))

    def send_binary(self, data):
        self.log.append((self.name, "frame"))


@contextlib.contextmanager
def _pages(dash, log):
    """Every canvas of the dashboard on a `_Page` writing into ``log``."""
    saved = {}
    for name, canvas in _canvases(dash).items():
        saved[name] = canvas.manager.web_sockets
        canvas.manager.web_sockets = [_Page(name, log)]
        canvas.syncing_data_url = False
    try:
        yield
    finally:
        for name, canvas in _canvases(dash).items():
            canvas.manager.web_sockets = saved[name]
            canvas._sent_at = None


def test_a_next_sends_the_page_one_frame_per_canvas_and_nothing_else(dash):
    log = []
    with _pages(dash, log):
        dash.next()
        dash.next()  # lone frames (the test is not a burst): wait out BURST
        log.clear()
        time.sleep(0.35)
        dash.next()
    # no 'history_buttons' (ipympl's page ignores them), no 'draw' answer
    # asked for a lone frame
    assert sorted(log) == sorted((name, "frame") for name in _canvases(dash))


def test_idle_work_waits_for_the_frames_and_views_do_not():
    # in a kernel, a view drawn after the frames runs as soon as they have
    # shipped; reading ahead runs IDLE_AFTER later, while the browser takes
    # the frames in
    from diffview.widgets._canvas import IDLE_AFTER, after_frames

    seen = []
    explorer = type("Ex", (), {"lock": threading.RLock()})()
    view = after_frames(lambda ex, changes: seen.append(("view", time.monotonic())))
    ahead = after_frames(lambda ex, changes: seen.append(("ahead", time.monotonic())),
                         idle=True)

    async def scenario():
        t0 = time.monotonic()
        ahead(explorer, {"selection"})
        view(explorer, {"selection"})
        for _ in range(5):
            await asyncio.sleep(0)
        assert [name for name, _ in seen] == ["view"]
        await asyncio.sleep(IDLE_AFTER + 0.1)
        assert [name for name, _ in seen] == ["view", "ahead"]
        assert seen[1][1] - t0 >= IDLE_AFTER - 0.01

    asyncio.run(scenario())
    # no event loop (a script): views at once, reading ahead not at all
    seen.clear()
    ahead(explorer, {"selection"})
    view(explorer, {"selection"})
    assert [name for name, _ in seen] == ["view"]


def test_in_a_kernel_the_table_names_the_new_pair_as_soon_as_next_returns(dash):
    # code reads the table right after an action (notebook 03 does): its
    # texts are written by the action, not deferred after the frames, which
    # were tried there and gained nothing measurable
    log = []
    state = {}

    async def next_in_a_kernel():
        dash.next()
        state["label"] = dash.browser.selected.value
        state["selected"] = dash.explorer.pair_label(dash.explorer.selected)
        for _ in range(30):  # the loop runs what the action asked for
            await asyncio.sleep(0)

    with _pages(dash, log):
        time.sleep(0.35)  # a lone frame, not a burst
        asyncio.run(next_in_a_kernel())
    assert html.escape(state["selected"]) in state["label"]
    frames = [name for name, kind in log if kind == "frame"]
    assert set(PANELS) <= set(frames)
