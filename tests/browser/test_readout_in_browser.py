"""
The hover readout in a real browser: every pair panel at once, sky coordinates.

Chromium hovers a pair panel of the dashboard in JupyterLab and Notebook 7
(`browserkit.lab`): the readout shows the four panels' values and RA/Dec in
sexagesimal and degrees; hovering the mosaic names the images covering the
point, and the mosaic under the readout does not move while it changes.
"""

from __future__ import annotations

import re
import time

import pytest
from browserkit import (
    SHOT_PREFIX,
    STEP_S,
    lab,
    launch,
    open_dashboard,
    requirements,
    shot,
)

pytestmark = pytest.mark.browser

SEXAGESIMAL = re.compile(r"RA \d\d:\d\d:\d\d\.\d\d Dec [+-]\d\d:\d\d:\d\d\.\d")
NUMBER = re.compile(r"^-?\d[\d.e+-]*$")
CELLS_JS = """() => [...document.querySelectorAll('.dv-readout tr')].map(
    tr => [...tr.children].map(c => c.textContent.trim()))"""


def _hover_until(page, locator, fractions, pattern: str) -> str:
    """Move over ``locator`` at each fraction until the readout holds ``pattern``."""
    box = locator.bounding_box()
    readout = page.locator(".dv-readout")
    deadline = time.monotonic() + STEP_S
    while time.monotonic() < deadline:
        for fx, fy in fractions:
            page.mouse.move(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
            time.sleep(0.3)
            text = readout.inner_text()
            if pattern in text:
                return text
    raise AssertionError(f"readout never showed {pattern!r}: {readout.inner_text()!r}")


def test_hover_reads_every_panel_and_the_sky(lab):
    from playwright.sync_api import sync_playwright

    base, token, url_path = lab
    SHOT_PREFIX[0] = url_path.split("/")[0]
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 2000})
            page.set_default_timeout(STEP_S * 1000)
            open_dashboard(page, base, token, url_path)
            panel = page.locator(".dv-panel-difference canvas").first
            spots = [(0.5, 0.5), (0.45, 0.4), (0.55, 0.6), (0.5, 0.3)]
            try:
                text = _hover_until(page, panel, spots, "template x=")
            except AssertionError:
                shot(page, "readout-failure.png")
                raise
            assert SEXAGESIMAL.search(text), text
            shot(page, "readout-panels.png")
            # the plus panel's toolbar leaves its canvas (the Dec labels) free
            plus = page.locator(".dv-panel-plus")
            bar = plus.locator(".jupyter-matplotlib-toolbar").bounding_box()
            canvas = plus.locator("canvas").first.bounding_box()
            assert canvas["x"] >= bar["x"] + bar["width"] - 1, (bar, canvas)
            assert re.search(r"RA=\d+\.\d{6} Dec=[+-]\d+\.\d{6} deg", text), text
            head, values, pixels = page.evaluate(CELLS_JS)
            assert head[1:] == ["plus", "minus", "difference", "residual"], head
            assert values[0] == "value=" and len(values) == 5, values
            assert all(NUMBER.match(v) for v in values[1:]), values
            assert all(re.match(r"x=-?\d+ y=-?\d+$", c) for c in pixels[1:]), pixels
            mosaic = page.locator(".dv-mosaic canvas").first
            top = mosaic.bounding_box()["y"]
            tall = page.locator(".dv-readout").bounding_box()["height"]
            text = _hover_until(page, mosaic, spots, "images (")
            assert SEXAGESIMAL.search(text) and "value=" in text, text
            # the shorter mosaic text leaves the readout's height: nothing moves
            short = page.locator(".dv-readout").bounding_box()["height"]
            assert mosaic.bounding_box()["y"] == top, (tall, short)
            shot(page, "readout-mosaic.png")
            assert page.locator(".dv-error").inner_text().strip() == ""
        finally:
            browser.close()
