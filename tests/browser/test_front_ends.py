"""
The dashboard's layout and state in every front end it supports.

JupyterLab, Notebook 7 and Voilà (issue #15): on a 1280×800 laptop nothing
of the dashboard is cut (no part outside the page's notebook area, no
sideways scroll of its output) and on 1920×1080 the pair panels and the
mosaic grow. JupyterLab is checked with its file browser open (its default
layout).

Then what the user meets after a few clicks: Home after a pair change made
with the panels zoomed in from ipympl's toolbar shows the first pair again
(not empty panels), and every outline of the mosaic is on screen after a
toolbar download and a pair change.
"""

from __future__ import annotations

import ast
import time

import pytest
from browserkit import (
    CHANGED_JS,
    NOTEBOOK,
    PANEL_NAMES,
    PANELS_JS,
    SELECTED_JS,
    SHOT_PREFIX,
    STEP_S,
    all_panels_change,
    lab,
    launch,
    open_dashboard,
    requirements,
    settle,
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


def test_layout_fits_a_laptop_and_grows_on_a_large_screen(lab):
    """JupyterLab (file browser open, its default layout) and Notebook 7 at
    1280×800 and 1920×1080. Notebook 7's column is at most 1200 px wide: on
    the large screen the dashboard keeps its size until View > Enable Full
    Width Notebook, then grows."""
    from playwright.sync_api import sync_playwright

    base, token, url_path = lab
    in_lab = url_path.startswith("lab/")
    SHOT_PREFIX[0] = "lab" if in_lab else "notebook7"
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(STEP_S * 1000)
            if not in_lab:
                open_dashboard(page, base, token, url_path)
                check_laptop_then_large(page, "layout", widen=full_width)
                return
            open_dashboard(page, base, token, "lab/workspaces/laptop/tree")
            if not page.locator(".jp-FileBrowser").is_visible():
                page.evaluate(
                    "window.jupyterapp.commands.execute('filebrowser:activate')"
                )
            page.locator(".jp-FileBrowser").wait_for(state="visible")
            left, right, _ = boxes(page)["area"]
            assert right - left < 1000  # the file browser takes its share
            check_laptop_then_large(page, "layout")
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


# --------------------------------------------------------------------------
# After a few clicks: Home after a pair change, outlines after a Download
# --------------------------------------------------------------------------

#: how many colours the middle of each pair panel shows (1: an empty panel)
COLOURS_JS = """([x0, y0, w0, h0]) =>
  ['plus', 'minus', 'difference', 'residual'].map(n => {
  const c = document.querySelector('.dv-panel-' + n + ' canvas');
  const w = c.width, h = c.height;  // the middle half of the axes (y down)
  const d = c.getContext('2d').getImageData(
    Math.round((x0 + 0.25 * w0) * w), Math.round((1 - y0 - 0.75 * h0) * h),
    Math.max(1, Math.round(0.5 * w0 * w)), Math.max(1, Math.round(0.5 * h0 * h))).data;
  const seen = new Set();
  for (let i = 0; i < d.length; i += 4) seen.add(d[i] << 16 | d[i + 1] << 8 | d[i + 2]);
  return seen.size; })"""
MOSAIC_JS = """() => document.querySelector('.dv-mosaic canvas').toDataURL()"""
#: pixels of the mosaic's canvas that differ between two data URLs
DIFFER_JS = """async ([a, b]) => {
  const load = u => new Promise(r => { const i = new Image();
    i.onload = () => r(i); i.src = u; });
  const [x, y] = [await load(a), await load(b)];
  const px = i => { const c = document.createElement('canvas');
    c.width = i.width; c.height = i.height; const g = c.getContext('2d');
    g.drawImage(i, 0, 0); return g.getImageData(0, 0, i.width, i.height).data; };
  const [p, q] = [px(x), px(y)];
  let n = 0;
  for (let i = 0; i < p.length; i += 4)
    if (p[i] !== q[i] || p[i + 1] !== q[i + 1] || p[i + 2] !== q[i + 2]) n++;
  return n; }"""
#: run Python in the dashboard's kernel (JupyterLab and Notebook 7)
KERNEL_JS = """async ([code, expr]) => {
  const w = window.jupyterapp.shell.currentWidget;
  const reply = await w.sessionContext.session.kernel.requestExecute(
    {code, user_expressions: expr ? {v: expr} : {}}).done;
  const c = reply.content;
  return c.status === 'ok' && expr ? c.user_expressions.v.data['text/plain'] : c.status;
}"""


def kernel(page, code: str, expr: str = "") -> str:
    """Run ``code`` in the dashboard's kernel; ``repr`` of ``expr`` after it."""
    return page.evaluate(KERNEL_JS, [code, expr])


def click_and_wait_pair(page, button: str) -> str:
    """Click previous or next; the new title once the panels settled."""
    before = page.evaluate(SELECTED_JS)
    page.locator(button).click()
    page.wait_for_function(CHANGED_JS, arg=before)
    settle(page, PANELS_JS)
    return page.evaluate(SELECTED_JS)


def drag(page, selector: str, start, end) -> None:
    """A mouse drag over an element, from and to fractions of its box."""
    box = page.locator(selector).first.bounding_box()
    at = [
        (box["x"] + fx * box["width"], box["y"] + fy * box["height"])
        for fx, fy in (start, end)
    ]
    page.mouse.move(*at[0])
    page.mouse.down()
    for k in range(1, 6):
        page.mouse.move(
            at[0][0] + (at[1][0] - at[0][0]) * k / 5,
            at[0][1] + (at[1][1] - at[0][1]) * k / 5,
        )
    page.mouse.up()


def axes_place(page) -> list[float]:
    """The panels' axes in figure fractions (x0, y0, width, height; y up),
    as matplotlib placed them for this pair's aspect (the same in each)."""
    place = "[float(v) for v in dash.pairs.axes['plus'].get_position().bounds]"
    return ast.literal_eval(kernel(page, "", place))


def check_home_after_a_pair_change(page) -> None:
    """Zoom with the toolbar, Next, Home: the new pair whole, as first shown."""
    settle(page, PANELS_JS)
    click_and_wait_pair(page, ".dv-next")
    whole = settle(page, PANELS_JS)
    click_and_wait_pair(page, ".dv-prev")
    zoom = page.locator(".dv-panel-plus [title^='Zoom to rectangle']")
    zoom.click()
    before = page.evaluate(PANELS_JS)
    # a rectangle in the middle of the plus panel's axes
    x0, y0, w, h = axes_place(page)
    start = (x0 + 0.3 * w, 1 - (y0 + 0.7 * h))
    end = (x0 + 0.6 * w, 1 - (y0 + 0.3 * h))
    drag(page, ".dv-panel-plus canvas", start, end)
    zoomed = all_panels_change(page, before, STEP_S)
    assert all(a != b for a, b in zip(zoomed, before, strict=True)), (
        "the zoom changed no panel"
    )
    zoom.click()  # the zoom tool off again
    click_and_wait_pair(page, ".dv-next")
    page.locator(".dv-panel-plus [title='Reset original view']").click()
    home = settle(page, PANELS_JS)
    colours = page.evaluate(COLOURS_JS, axes_place(page))
    empty = [n for n, c in zip(PANEL_NAMES, colours, strict=True) if c < 8]
    assert not empty, f"empty panels after Home: {empty} ({colours} colours)"
    assert home == whole, "Home did not show the pair as it was first shown"


def check_outlines_after_a_download(page) -> None:
    """The mosaic's Download (at a savefig dpi unlike the screen's), Next,
    Next: the mosaic's pixels are those of a full draw (issue #15, bug 2)."""
    dpi = "import matplotlib; matplotlib.rcParams['savefig.dpi'] = "
    assert kernel(page, dpi + "40") == "ok"
    with page.expect_download(timeout=STEP_S * 1000):
        page.locator(".dv-mosaic [title='Download plot']").click()
    kernel(page, dpi + "'figure'")  # matplotlib's default, for later tests
    for _ in range(2):
        click_and_wait_pair(page, ".dv-next")
    after = settle(page, MOSAIC_JS)
    assert kernel(page, "dash.mosaic.fig.canvas.draw()") == "ok"
    time.sleep(1.0)
    fresh = settle(page, MOSAIC_JS)
    differ = page.evaluate(DIFFER_JS, [after, fresh])
    assert differ == 0, f"{differ} mosaic pixels differ from a full draw"


def test_home_and_outlines_after_interaction(lab):
    """Home after a pair change; every outline after Download and Next."""
    from playwright.sync_api import sync_playwright

    base, token, url_path = lab
    SHOT_PREFIX[0] = url_path.split("/")[0]
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 2000})
            page.set_default_timeout(STEP_S * 1000)
            lab_ui = url_path.startswith("lab/")
            path = "lab/workspaces/clicks/tree" if lab_ui else url_path
            open_dashboard(page, base, token, path)
            for check in (
                check_home_after_a_pair_change,
                check_outlines_after_a_download,
            ):
                try:
                    check(page)
                except Exception:
                    shot(page, f"{check.__name__}-failure.png")
                    raise
            assert page.locator(".dv-error").inner_text().strip() == ""
        finally:
            browser.close()
