"""
The dashboard's frames take the short path in a real browser; other figures don't.

`diffview.widgets._frames.FrameDrawer` has the page decode each frame of the
dashboard's canvases with ``createImageBitmap`` and draw it at once, instead
of ipympl's ``<img>`` load. Checked in JupyterLab and Notebook 7:

- after a Next, the pair panels' new frames were decoded that way and the
  panels show the new pair;
- a figure of the user's own (a plain ipympl canvas) put in the same page
  still draws, by ipympl's path: no frame of it goes through the short one;
- a Next ships the pictures the kernel drew ahead of time
  (`PairPanels.prepare`), and the page's canvases then hold exactly the
  pixels of a fresh render of the new pair.
"""

from __future__ import annotations

import base64
import io
import time

import numpy as np
import pytest
from browserkit import (
    CHANGED_JS,
    PANELS_JS,
    SELECTED_JS,
    STEP_S,
    dashboard_page,
    lab,
    requirements,
    settle,
    shot,
)
from PIL import Image

pytestmark = pytest.mark.browser

#: Counts the page's ``createImageBitmap`` calls (the short path decodes
#: every frame with it) and the PNG blob URLs made (ipympl's path loads
#: every frame from one; the short path makes none).
COUNT_PATHS = """
window.__dvBitmaps = 0;
window.__dvPngUrls = 0;
const bitmap = window.createImageBitmap;
window.createImageBitmap = function (...args) {
  window.__dvBitmaps += 1;
  return bitmap.apply(this, args);
};
const url = URL.createObjectURL;
URL.createObjectURL = function (obj) {
  if (obj && obj.type === 'image/png') window.__dvPngUrls += 1;
  return url.call(URL, obj);
};
"""

COUNTS_JS = "() => [window.__dvBitmaps, window.__dvPngUrls]"

#: Run code in the notebook's kernel (the dashboard is ``dash`` there).
EXECUTE_JS = """code => {
  const w = window.jupyterapp.shell.currentWidget;
  const kernel = w.sessionContext.session.kernel;
  return kernel.requestExecute({code}).done.then(r => r.content.status);
}"""

#: A figure of the user's own, on ipympl's plain canvas, red all over, shown
#: under the dashboard.
USER_FIGURE = """
from matplotlib.figure import Figure
from ipympl.backend_nbagg import Canvas, FigureManager
user_fig = Figure(figsize=(2, 1), facecolor=(1, 0, 0))
user_canvas = Canvas(user_fig)
FigureManager(user_canvas, 4242)
user_canvas.add_class("user-figure")
user_canvas.header_visible = user_canvas.footer_visible = False
dash.children = (*dash.children, user_canvas)
"""

#: The user's figure turned green (ipympl's round trip: a frame asked for).
GREEN = "user_fig.set_facecolor((0, 0.8, 0)); user_canvas.draw_idle()"

#: The user's figure's centre pixel, once its canvas has a picture.
USER_PIXEL_JS = """() => {
  const c = document.querySelector('.user-figure canvas');
  if (!c || !c.width) return null;
  const [r, g, b, a] = c.getContext('2d').getImageData(
    Math.floor(c.width / 2), Math.floor(c.height / 2), 1, 1).data;
  return a ? [r, g, b] : null;
}"""


GREEN_JS = """() => {
  const c = document.querySelector('.user-figure canvas');
  const [r, g, b] = c.getContext('2d').getImageData(
    Math.floor(c.width / 2), Math.floor(c.height / 2), 1, 1).data;
  return g > 150 && r < 60;
}"""


def _wait(page, script: str, what: str, timeout_s: float = STEP_S):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = page.evaluate(script)
        if value:
            return value
        time.sleep(0.2)
    shot(page, f"frames-{what}.png")
    raise AssertionError(f"{what}: not seen in {timeout_s} s")


def test_frames_take_the_short_path_and_other_figures_do_not(lab):
    with dashboard_page(lab, init_script=COUNT_PATHS) as page:
        before = settle(page, PANELS_JS)
        title = page.evaluate(SELECTED_JS)
        bitmaps, urls = page.evaluate(COUNTS_JS)
        page.locator(".dv-next").click()
        page.wait_for_function(CHANGED_JS, arg=title)
        after = settle(page, PANELS_JS)
        # each of the four pair panels shows a new picture, decoded as a
        # bitmap, none loaded by ipympl's path
        assert [a != b for a, b in zip(after, before, strict=True)] == [True] * 4
        now = page.evaluate(COUNTS_JS)
        assert now[0] - bitmaps >= 4
        assert now[1] == urls

        assert page.evaluate(EXECUTE_JS, USER_FIGURE) == "ok"
        red = _wait(page, USER_PIXEL_JS, "user-figure")
        shot(page, "frames-user-figure.png")
        assert red[0] > 200 and red[1] < 60 and red[2] < 60, red
        # a new picture of it (a frame, not the first picture) comes by
        # ipympl's own path
        assert page.evaluate(EXECUTE_JS, GREEN) == "ok"
        _wait(page, GREEN_JS, "user-figure-green")
        assert page.evaluate(COUNTS_JS)[1] > urls


#: Before the click: the panels' canvases and their prepared-draw counts.
BEFORE_NEXT = """
_dv_canvases = dash.pairs.canvases  # plus, minus, difference, residual
_dv_before = [c.prepared_draws for c in _dv_canvases]
"""

#: After it: each panel shipped the picture drawn ahead of time, and that
#: picture is a fresh render of the figure; the renders are saved for the
#: test to compare with the page's canvases.
AFTER_NEXT = """
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
assert [c.prepared_draws for c in _dv_canvases] == [b + 1 for b in _dv_before]
for _dv_k, _dv_c in enumerate(_dv_canvases):
    _dv_shown = np.asarray(_dv_c.buffer_rgba()).copy()
    FigureCanvasAgg.draw(_dv_c)
    assert (np.asarray(_dv_c.buffer_rgba()) == _dv_shown).all()
    np.save(r'{folder}/panel{{}}.npy'.format(_dv_k), _dv_shown)
"""


def _pixels(data_url: str) -> np.ndarray:
    raw = base64.b64decode(data_url.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(raw)).convert("RGBA"))


def test_next_shows_the_pair_drawn_ahead_exactly(lab, tmp_path):
    """While the user looks at a pair the kernel draws the next one off
    screen; Next ships those pictures. The page must show exactly what a
    fresh render of the new pair draws."""
    with dashboard_page(lab) as page:
        settle(page, PANELS_JS)  # the first pair shown, the next drawn ahead
        assert page.evaluate(EXECUTE_JS, BEFORE_NEXT) == "ok"
        title = page.evaluate(SELECTED_JS)
        page.locator(".dv-next").click()
        page.wait_for_function(CHANGED_JS, arg=title)
        shown = settle(page, PANELS_JS)
        status = page.evaluate(EXECUTE_JS, AFTER_NEXT.format(folder=tmp_path))
        assert status == "ok"
        for k, url in enumerate(shown):
            rendered = np.load(tmp_path / f"panel{k}.npy")
            on_page = _pixels(url)
            assert on_page.shape == rendered.shape
            np.testing.assert_array_equal(on_page[..., :3], rendered[..., :3])
