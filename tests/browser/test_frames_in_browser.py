"""
The dashboard's frames take the short path in a real browser; other figures don't.

`diffview.widgets._frames.FrameDrawer` has the page decode each frame of the
dashboard's canvases with ``createImageBitmap`` and draw it at once, instead
of ipympl's ``<img>`` load. Checked in JupyterLab and Notebook 7:

- after a Next, the pair panels' new frames were decoded that way and the
  panels show the new pair;
- a figure of the user's own (a plain ipympl canvas) put in the same page
  still draws, by ipympl's path: no frame of it goes through the short one.
"""

from __future__ import annotations

import time

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
