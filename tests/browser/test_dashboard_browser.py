"""
The dashboard in a real browser: JupyterLab + Debian's Chromium + Playwright.

A JupyterLab server is started on 127.0.0.1 (free port, random token) over a
temporary root holding ``dashboard.ipynb`` and a sample work folder; Chromium
opens the notebook, runs every cell, waits for the dashboard, clicks "next"
and checks that the selected pair and the displayed difference change, and
that the browser console stays free of errors. Screenshots go to
``tests/artifacts/``. Without Chromium, JupyterLab or Playwright the test is
skipped, unless ``DIFFVIEW_REQUIRE_BROWSER=1`` (CI), where it fails.
"""

from __future__ import annotations

import time

import pytest
from browserkit import (
    ARTIFACTS,
    CELLS_JS,
    DASHBOARD_S,
    HAS_PAIR,
    NOTEBOOK,
    PANEL_NAMES,
    PANELS_JS,
    RING_JS,
    SELECTED_JS,
    SHOT_PREFIX,
    STEP_S,
    TOP_JS,
    WATCHED_JS,
    all_panels_change,
    blink_frames,
    check_readout,
    front_end_errors,
    lab,
    launch,
    open_dashboard,
    press,
    requirements,
    shot,
    voila,
    wait_canvas_change,
)

pytestmark = pytest.mark.browser


def test_dashboard_in_the_browser(lab):
    from playwright.sync_api import sync_playwright

    base, token, url_path = lab
    SHOT_PREFIX[0] = url_path.split("/")[0]
    errors: list[str] = []
    with sync_playwright() as p:
        browser = launch(p)
        try:
            baseline = front_end_errors(browser, base, token, url_path)
            page = browser.new_page(viewport={"width": 1500, "height": 2000})
            page.set_default_timeout(STEP_S * 1000)
            page.on(
                "console",
                lambda m: (
                    errors.append(f"console: {m.text}") if m.type == "error" else None
                ),
            )
            page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
            try:
                open_dashboard(page, base, token, url_path)
            except Exception:
                shot(page, "dashboard-failure.png")
                raise
            selected, pairs = page.locator(".dv-selected"), page.locator(".dv-pairs")
            first_text = selected.inner_text()
            first_text_raw = selected.evaluate("e => e.textContent")
            first_img = wait_canvas_change(pairs, "", STEP_S)
            assert first_img, "the pair panels never drew"
            shot(page, "dashboard-loaded.png")
            page.locator(".dv-next").click()
            try:
                page.wait_for_function(
                    "t => document.querySelector('.dv-selected').textContent !== t",
                    arg=first_text_raw,
                )
            except Exception:
                shot(page, "dashboard-failure.png")
                raise
            second_text = selected.inner_text()
            second_img = wait_canvas_change(pairs, first_img, STEP_S)
            shot(page, "dashboard-next.png")
            pairs.screenshot(
                path=str(ARTIFACTS / f"{SHOT_PREFIX[0]}-dashboard-pairs.png")
            )
            page.locator(".dv-mosaic").screenshot(
                path=str(ARTIFACTS / f"{SHOT_PREFIX[0]}-dashboard-mosaic.png")
            )
            assert second_text != first_text
            assert second_img != first_img, "the displayed difference did not change"
            check_readout(page)
            assert page.locator(".dv-error").inner_text().strip() == ""
        finally:
            browser.close()
    ours = [e for e in errors if e not in baseline]
    assert ours == [], "\n".join(ours)


def _voila_errors(browser, url: str) -> tuple[list[str], object]:
    errors: list[str] = []
    page = browser.new_page(viewport={"width": 1500, "height": 2000})
    page.remote = []  # what the page asked of any host but the server
    page.on(
        "request",
        lambda r: (
            None
            if r.url.startswith(("http://127.0.0.1", "data:", "blob:"))
            else page.remote.append(r.url)
        ),
    )
    page.set_default_timeout(STEP_S * 1000)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on(
        "console",
        lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None,
    )
    page.goto(url, timeout=DASHBOARD_S * 1000)
    return errors, page


#: True once the toolbar's icon font (Font Awesome, served by the template) loaded
_ICON_FONT_LOADED = """() => Array.from(document.fonts).some(
    f => f.family.replace(/"/g, '').startsWith('Font Awesome')
      && f.status === 'loaded')"""


def test_dashboard_in_voila(voila):
    """Voilà renders the notebook as an app: the dashboard works there too."""
    from playwright.sync_api import sync_playwright

    base, token = voila
    SHOT_PREFIX[0] = "voila"
    with sync_playwright() as p:
        browser = launch(p)
        try:
            baseline, blank = _voila_errors(
                browser, f"{base}/voila/render/blank.ipynb?token={token}"
            )
            blank.wait_for_selector("text=2", timeout=DASHBOARD_S * 1000)
            blank.close()
            errors, page = _voila_errors(
                browser, f"{base}/voila/render/{NOTEBOOK.name}?token={token}"
            )
            try:
                page.wait_for_function(HAS_PAIR, timeout=DASHBOARD_S * 1000)
            except Exception:
                shot(page, "dashboard-failure.png")
                raise
            selected, pairs = page.locator(".dv-selected"), page.locator(".dv-pairs")
            first_text = selected.evaluate("e => e.textContent")
            first_img = wait_canvas_change(pairs, "", STEP_S)
            assert first_img, "the pair panels never drew"
            page.locator(".dv-next").click()
            page.wait_for_function(
                "t => document.querySelector('.dv-selected').textContent !== t",
                arg=first_text,
            )
            second_img = wait_canvas_change(pairs, first_img, STEP_S)
            shot(page, "dashboard-next.png")
            assert second_img != first_img, "the displayed difference did not change"
            assert page.locator(".dv-error").inner_text().strip() == ""
            # offline clusters: everything comes from the server (issue #15, bug 4)
            assert page.remote == [], page.remote
            assert page.evaluate(_ICON_FONT_LOADED)
        finally:
            browser.close()
    ours = [e for e in errors if e not in set(baseline)]
    assert ours == [], "\n".join(ours)


# --------------------------------------------------------------------------
# Keyboard navigation and blink (issue #15)
# --------------------------------------------------------------------------


def _check_keys(page) -> None:
    pairs = page.locator(".dv-pairs")
    img0 = wait_canvas_change(pairs, "", STEP_S, settle_s=0.5)
    cells = page.evaluate(CELLS_JS)
    box = page.locator(".dv-pairs canvas").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function(WATCHED_JS)
    watched, style, colour = page.evaluate(RING_JS)
    assert watched and style == "solid" and colour == "rgb(26, 115, 232)", colour
    # the dashboard opened on pair 0 before the background job's scores
    # ranked the table: start from the first pair of the final ranking
    top = page.evaluate(TOP_JS).replace("\xa0", " ").split()[0]
    if not page.evaluate(SELECTED_JS).startswith(f"pair {top}:"):
        _, img0 = press(page, "Home", pairs, img0)
    first = page.evaluate(SELECTED_JS)
    assert first.startswith(f"pair {top}:"), (first, top)
    panels0 = page.evaluate(PANELS_JS)
    second, img1 = press(page, "ArrowRight", pairs, img0)
    assert second != first and img1 != img0, "ArrowRight did not move to the next pair"
    panels1 = all_panels_change(page, panels0, STEP_S)
    stale = [n for n, a, b in zip(PANEL_NAMES, panels0, panels1, strict=True) if a == b]
    assert not stale, f"panels still showing the last pair: {stale}"
    third, img2 = press(page, "j", pairs, img1)
    assert third not in (first, second) and img2 != img1, "j did not move on"
    back, img3 = press(page, "Home", pairs, img2)
    assert back == first, "Home did not go back to the first pair"
    # b: the plus panel alternates between plus and minus (500 ms a frame);
    # the other panels' canvases are not redrawn
    others = page.evaluate(PANELS_JS)[1:]
    page.keyboard.press("b")
    frames = blink_frames(pairs, 2.2)
    assert page.evaluate(PANELS_JS)[1:] == others, "a blink redrew another panel"
    page.keyboard.press("b")
    assert len(set(frames)) >= 2 and len(frames) >= 3, f"{len(frames)} frames"
    blinked = [f for f in frames if f != img3]
    assert blinked and img3 in frames[1:], "the blink did not alternate"
    assert wait_canvas_change(pairs, blinked[-1], STEP_S, settle_s=0.8) == img3
    # the keys were the dashboard's: JupyterLab's b (insert cell) did nothing
    assert page.evaluate(CELLS_JS) == cells
    # keys typed into a text box are typing, not navigation
    reason = page.locator(".widget-text:has(label:text-is('reason')) input")
    reason.click()
    reason.press("End")
    reason.type("jkb")
    assert reason.input_value().endswith("jkb")
    time.sleep(0.5)
    assert page.evaluate(SELECTED_JS) == first
    assert page.evaluate(CELLS_JS) == cells


def test_keyboard_and_blink_in_the_browser(lab):
    """Arrows, j, Home and b over the panels; typing in a text box is left alone."""
    from playwright.sync_api import sync_playwright

    base, token, url_path = lab
    # Notebook 7's command-mode shortcuts see the keys before ipyevents: the
    # key area's data-lm-suppress-shortcuts (diffview/widgets/_keys.py) keeps
    # them off, so b adds no cell there either
    SHOT_PREFIX[0] = url_path.split("/")[0]
    errors: list[str] = []
    with sync_playwright() as p:
        browser = launch(p)
        try:
            baseline = front_end_errors(browser, base, token, url_path)
            page = browser.new_page(viewport={"width": 1500, "height": 2000})
            page.set_default_timeout(STEP_S * 1000)
            page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
            # JupyterLab: a workspace of its own, only the dashboard's notebook
            path = (
                "lab/workspaces/keys/tree" if url_path.startswith("lab/") else url_path
            )
            open_dashboard(page, base, token, path)
            try:
                _check_keys(page)
            except Exception:
                shot(page, "keys-failure.png")
                raise
            shot(page, "keys.png")
            assert page.locator(".dv-error").inner_text().strip() == ""
        finally:
            browser.close()
    ours = [e for e in errors if e not in baseline]
    assert ours == [], "\n".join(ours)


# --------------------------------------------------------------------------
# Layout on a 1280x800 laptop, file browser open (issue #15)
# --------------------------------------------------------------------------

#: what must be wholly inside the notebook's area: (name, selector)
_PARTS = (
    ("dashboard", ".dv-dashboard"),
    ("pair panels", ".dv-pairs canvas"),
    ("key area", ".dv-keys"),
    ("table", ".dv-table"),
    ("histogram", ".dv-histogram canvas"),
    ("mosaic", ".dv-mosaic canvas"),
    ("export", ".dv-export"),
    ("flag list", ".dv-flag-list"),
)
_BOXES_JS = """parts => {
  const area = document.querySelector('.jp-NotebookPanel-notebook')
    .getBoundingClientRect();
  const out = {area: [area.left, area.right, area.height], parts: []};
  for (const [name, sel] of parts) {
    for (const e of document.querySelectorAll(sel)) {
      const r = e.getBoundingClientRect();
      out.parts.push([name, r.left, r.right, r.height]);
    }
  }
  const o = document.querySelector('.dv-dashboard').closest('.jp-OutputArea-output');
  out.scroll = [o.scrollWidth, o.clientWidth];
  return out;
}"""


def _cut(boxes) -> list[str]:
    left, right, height = boxes["area"]
    cut = []
    for name, x0, x1, h in boxes["parts"]:
        if x0 < left - 0.5 or x1 > right + 0.5:
            cut.append(f"{name}: x {x0:.0f}..{x1:.0f} outside {left:.0f}..{right:.0f}")
        if h > height and name not in ("dashboard", "key area"):
            cut.append(f"{name}: {h:.0f} px tall, taller than the area ({height:.0f})")
    if boxes["scroll"][0] > boxes["scroll"][1]:
        cut.append(f"output scrolls sideways: {boxes['scroll']}")
    return cut


def _settled_boxes(page, want_ok: bool) -> dict:
    """The boxes once the figures follow the width (they resize when told)."""
    deadline = time.monotonic() + STEP_S
    boxes = page.evaluate(_BOXES_JS, [list(p) for p in _PARTS])
    while time.monotonic() < deadline and bool(_cut(boxes)) == want_ok:
        time.sleep(0.3)
        boxes = page.evaluate(_BOXES_JS, [list(p) for p in _PARTS])
    time.sleep(1.0)  # the last resize drawn
    return page.evaluate(_BOXES_JS, [list(p) for p in _PARTS])


def _width(boxes, name: str) -> float:
    return max(x1 - x0 for n, x0, x1, _ in boxes["parts"] if n == name)


def test_layout_fits_a_laptop_and_grows_on_a_large_screen(lab):
    """1280x800, JupyterLab's default layout with the file browser open: no
    panel is cut; on 1920x1080 the panels and the mosaic grow."""
    from playwright.sync_api import sync_playwright

    base, token, url_path = lab
    if not url_path.startswith("lab/"):
        pytest.skip("the laptop layout is checked in JupyterLab")
    SHOT_PREFIX[0] = "lab"
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(STEP_S * 1000)
            open_dashboard(page, base, token, "lab/workspaces/laptop/tree")
            if not page.locator(".jp-FileBrowser").is_visible():
                page.evaluate(
                    "window.jupyterapp.commands.execute('filebrowser:activate')"
                )
            page.locator(".jp-FileBrowser").wait_for(state="visible")
            page.locator(".dv-mosaic canvas").first.wait_for()
            boxes = _settled_boxes(page, want_ok=True)
            shot(page, "laptop-1280x800.png")
            assert _cut(boxes) == [], "\n".join(_cut(boxes))
            assert boxes["area"][1] - boxes["area"][0] < 1000  # the browser is open
            small = {n: _width(boxes, n) for n in ("pair panels", "mosaic")}
            page.set_viewport_size({"width": 1920, "height": 1080})
            deadline = time.monotonic() + STEP_S
            while time.monotonic() < deadline:
                boxes = page.evaluate(_BOXES_JS, [list(p) for p in _PARTS])
                if _width(boxes, "mosaic") > small["mosaic"] * 1.2:
                    break
                time.sleep(0.3)
            boxes = _settled_boxes(page, want_ok=True)
            shot(page, "large-1920x1080.png")
            assert _cut(boxes) == [], "\n".join(_cut(boxes))
            for name, width in small.items():
                assert _width(boxes, name) > 1.2 * width, (name, width, boxes)
        finally:
            browser.close()
