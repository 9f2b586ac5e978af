"""
The mosaic view in a real browser: zoom to the pair, nested overlaps.

JupyterLab and Notebook 7 (the ``lab`` fixture) serve the sample dashboard;
Chromium clicks "zoom to pair" and presses ``z`` over the pair panels (the
mosaic's pixels change), goes back to the whole mosaic, and clicks where
an overlap box lies over larger ones: the smallest box's pair is selected. The
click position is the template pixel's position on the mosaic's canvas, as
the same figure at the canvas's size draws it in this process.
"""

from __future__ import annotations

import pytest
from browserkit import (
    SELECTED_JS,
    SHOT_PREFIX,
    STEP_S,
    lab,
    launch,
    open_dashboard,
    requirements,
    shot,
    wait_canvas_change,
)

pytestmark = pytest.mark.browser


def _nested_target(tmp_path):
    """A template pixel in several overlap boxes: the pair of the smallest box.

    Chosen where the smallest box is not the first in table order (a pick of
    the first box holding the point would fail), in the middle of the
    largest such shared region (a click lands inside, whatever rounding).
    """
    from diffview.sample import write_sample
    from diffview.widgets import Explorer

    ex = Explorer(write_sample(tmp_path / "data", "small", workers=1))
    boxes = [(k, b) for k, b in enumerate(ex.ws.boxes) if b is not None]
    best = None
    for k, ((a0, a1), (b0, b1)) in boxes:
        for m, ((c0, c1), (d0, d1)) in boxes:
            j0, j1, i0, i1 = max(a0, c0), min(a1, c1), max(b0, d0), min(b1, d1)
            if m <= k or j1 - j0 < 4 or i1 - i0 < 4:
                continue
            x, y = (i0 + i1 - 1) / 2, (j0 + j1 - 1) / 2
            holding = [
                n
                for n, ((e0, e1), (f0, f1)) in boxes
                if f0 - 0.5 <= x < f1 - 0.5 and e0 - 0.5 <= y < e1 - 0.5
            ]
            target = ex.pick(x, y)
            size = (j1 - j0) * (i1 - i0)
            if target != min(holding) and (best is None or size > best[0]):
                best = (size, target, (x, y), holding)
    assert best is not None, "no overlap box lies over a larger, earlier one"
    return ex, best[1], best[2], best[3]


def _canvas_point(ex, size, xy):
    """CSS pixels (from the canvas's top left) of a template pixel."""
    from diffview.widgets._canvas import resize_figure
    from diffview.widgets._model import CHANGES
    from diffview.widgets._mosaic import MosaicView

    view = MosaicView()
    try:
        view.render(ex, CHANGES)
        resize_figure(view.fig, size)
        view.fig.canvas.draw()
        px, py = view.ax.transData.transform(xy)
        height = view.fig.get_size_inches()[1] * view.fig.dpi
        return float(px), float(height - py)
    finally:
        view.fig.canvas.close()


def test_zoom_to_pair_and_nested_click(lab, tmp_path):
    from playwright.sync_api import sync_playwright

    base, token, url_path = lab
    SHOT_PREFIX[0] = url_path.split("/")[0] + "-mosaic"
    ex, target, xy, outer = _nested_target(tmp_path)
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1400})
            page.set_default_timeout(STEP_S * 1000)
            try:
                open_dashboard(page, base, token, url_path)
            except Exception:
                shot(page, "failure.png")
                raise
            mosaic = page.locator(".dv-mosaic")
            whole = wait_canvas_change(mosaic, "", STEP_S)
            assert whole, "the mosaic never drew"
            # the button: the mosaic's pixels change
            page.locator(".dv-zoom-pair").click()
            zoomed = wait_canvas_change(mosaic, whole, STEP_S, settle_s=0.7)
            shot(page, "zoomed.png")
            assert zoomed != whole, "zoom to pair left the mosaic as it was"
            # back to the whole mosaic, then the key z over the pair panels
            page.locator(".dv-mosaic-home").click()
            again = wait_canvas_change(mosaic, zoomed, STEP_S, settle_s=0.7)
            assert again != zoomed
            panel = page.locator(".dv-pairs canvas").first.bounding_box()
            page.mouse.move(
                panel["x"] + panel["width"] / 2, panel["y"] + panel["height"] / 2
            )
            page.keyboard.press("z")
            by_key = wait_canvas_change(mosaic, again, STEP_S, settle_s=0.7)
            assert by_key != again, "the key z did not zoom the mosaic"
            page.locator(".dv-mosaic-home").click()
            home = wait_canvas_change(mosaic, by_key, STEP_S, settle_s=0.7)
            # a click inside the small box selects the small pair
            canvas = mosaic.locator("canvas").first
            box = canvas.bounding_box()
            size = (round(box["width"]), round(box["height"]))
            cx, cy = _canvas_point(ex, size, xy)
            before = page.evaluate(SELECTED_JS)
            assert f"pair {target}:" not in before
            page.mouse.click(box["x"] + cx, box["y"] + cy)
            try:
                page.wait_for_function(
                    "t => document.querySelector('.dv-selected')"
                    ".textContent.includes(t)",
                    arg=f"pair {target}:",
                )
            except Exception:
                shot(page, "nested-failure.png")
                raise
            wait_canvas_change(mosaic, home, STEP_S, settle_s=0.5)
            shot(page, "nested.png")
            assert page.locator(".dv-error").inner_text().strip() == ""
        finally:
            browser.close()
