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
