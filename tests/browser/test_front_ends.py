"""
The dashboard's layout and state in every front end it supports.

JupyterLab, Notebook 7 and Voilà (issue #15): on a 1280×800 laptop nothing
of the dashboard is cut (no part outside the page's notebook area, no
sideways scroll of its output) and on 1920×1080 the pair panels and the
mosaic grow. JupyterLab is checked with its file browser open (its default
layout), in test_dashboard_browser.py; here Notebook 7 and Voilà.

Then what the user meets after a few clicks: Home after a pair change made
with the panels zoomed in from ipympl's toolbar shows the first pair again
(not empty panels), and every outline of the mosaic is on screen after a
toolbar download and a pair change.
"""

from __future__ import annotations

import time

import pytest
from browserkit import (
    NOTEBOOK,
    SHOT_PREFIX,
    STEP_S,
    lab,
    launch,
    open_dashboard,
    requirements,
    shot,
    voila,
)

pytestmark = pytest.mark.browser

#: what must be wholly inside the page's notebook area: (name, selector)
PARTS = (
    ("dashboard", ".dv-dashboard"),
    ("pair panels", ".dv-pairs canvas"),
    ("key area", ".dv-keys"),
    ("table", ".dv-table"),
    ("histogram", ".dv-histogram canvas"),
    ("mosaic", ".dv-mosaic canvas"),
    ("export", ".dv-export"),
    ("flag list", ".dv-flag-list"),
)
#: the notebook's area in each front end: JupyterLab's and Notebook 7's
#: notebook panel; Voilà's page of rendered cells
AREAS = (".jp-NotebookPanel-notebook", "#rendered_cells", "body")
BOXES_JS = """([parts, areas]) => {
  const a = areas.map(s => document.querySelector(s)).find(e => e)
    .getBoundingClientRect();
  const out = {area: [a.left, a.right, Math.min(a.height, window.innerHeight)],
               parts: []};
  for (const [name, sel] of parts) {
    for (const e of document.querySelectorAll(sel)) {
      const r = e.getBoundingClientRect();
      out.parts.push([name, r.left, r.right, r.height]);
    }
  }
  const o = document.querySelector('.dv-dashboard').closest('.jp-OutputArea-output');
  out.scroll = [o.scrollWidth, o.clientWidth];
  out.areaName = areas.find(s => document.querySelector(s));
  out.page = [document.documentElement.scrollWidth, window.innerWidth];
  return out;
}"""


def boxes(page) -> dict:
    return page.evaluate(BOXES_JS, [[list(p) for p in PARTS], list(AREAS)])


def cut(found: dict) -> list[str]:
    """What of the dashboard is outside the area, or scrolls sideways."""
    left, right, height = found["area"]
    out = []
    for name, x0, x1, h in found["parts"]:
        if x0 < left - 0.5 or x1 > right + 0.5:
            out.append(f"{name}: x {x0:.0f}..{x1:.0f} outside {left:.0f}..{right:.0f}")
        if h > height and name not in ("dashboard", "key area"):
            out.append(f"{name}: {h:.0f} px tall, taller than the area ({height:.0f})")
    if found["scroll"][0] > found["scroll"][1]:
        out.append(f"output scrolls sideways: {found['scroll']}")
    if found["page"][0] > found["page"][1]:
        out.append(f"page scrolls sideways: {found['page']}")
    return out


def width(found: dict, name: str) -> float:
    return max(x1 - x0 for n, x0, x1, _ in found["parts"] if n == name)


def settled(page, timeout_s: float = STEP_S) -> dict:
    """The boxes once nothing is cut (the figures follow the width), or at the
    deadline; then a second for the last resize to be drawn."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and cut(boxes(page)):
        time.sleep(0.3)
    time.sleep(1.0)
    return boxes(page)


def grown(page, small: dict) -> dict:
    """The boxes once the mosaic grew (or at the deadline), settled."""
    deadline = time.monotonic() + STEP_S
    while time.monotonic() < deadline:
        if width(boxes(page), "mosaic") > small["mosaic"] * 1.2:
            break
        time.sleep(0.3)
    return settled(page)


def check_laptop_then_large(page, name: str, widen=None) -> None:
    """1280×800: nothing cut; 1920×1080: nothing cut, panels and mosaic grow
    (after ``widen(page)``, for a front end whose column has a fixed width)."""
    page.locator(".dv-mosaic canvas").first.wait_for()
    found = settled(page)
    shot(page, f"{name}-1280x800.png")
    assert cut(found) == [], "\n".join(cut(found))
    small = {n: width(found, n) for n in ("pair panels", "mosaic")}
    page.set_viewport_size({"width": 1920, "height": 1080})
    found = grown(page, small)
    if widen is not None:
        # the column keeps its width: nothing cut, nothing shrunk
        assert cut(found) == [], "\n".join(cut(found))
        assert all(width(found, n) >= w - 1 for n, w in small.items()), found
        widen(page)
        found = grown(page, small)
    shot(page, f"{name}-1920x1080.png")
    assert cut(found) == [], "\n".join(cut(found))
    for part, before in small.items():
        assert width(found, part) > 1.2 * before, (part, before, found)


def full_width(page) -> None:
    """Notebook 7's View > Enable Full Width Notebook."""
    page.evaluate("window.jupyterapp.commands.execute('notebook:toggle-full-width')")


def test_layout_fits_a_laptop_in_notebook_7(lab):
    """Notebook 7 at 1280×800 and 1920×1080. Notebook 7's column is at most
    1200 px wide: on the large screen the dashboard keeps its size until
    View > Enable Full Width Notebook, then grows (JupyterLab, whose
    notebook takes the page's width, is checked in test_dashboard_browser.py)."""
    from playwright.sync_api import sync_playwright

    base, token, url_path = lab
    if url_path.startswith("lab/"):
        pytest.skip("JupyterLab's laptop layout: test_dashboard_browser.py")
    SHOT_PREFIX[0] = "notebook7"
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(STEP_S * 1000)
            open_dashboard(page, base, token, url_path)
            check_laptop_then_large(page, "layout", widen=full_width)
        finally:
            browser.close()


def test_layout_fits_a_laptop_in_voila(voila):
    """Voilà at 1280×800 and 1920×1080."""
    from playwright.sync_api import sync_playwright

    base, token = voila
    SHOT_PREFIX[0] = "voila"
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(STEP_S * 1000)
            page.goto(f"{base}/voila/render/{NOTEBOOK.name}?token={token}")
            page.locator(".dv-pairs canvas").first.wait_for(timeout=75_000)
            page.locator(".dv-progress").wait_for(state="hidden", timeout=75_000)
            check_laptop_then_large(page, "layout")
        finally:
            browser.close()
