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

import contextlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
HERE = Path(__file__).parent
ARTIFACTS = HERE.parent / "artifacts"
NOTEBOOK = HERE / "dashboard.ipynb"
SERVER_START_S = 45  # JupyterLab up
DASHBOARD_S = 75  # notebook open, kernel ready, cells run, widgets drawn
STEP_S = 20  # each later step (redraw after "next")
# worst case 45 + 75 + 4 x 20 s: the test ends (and the server is stopped) in
# under 3.5 minutes even when everything hangs; ~25 s normally


def _missing() -> str | None:
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} not found (apt-get install chromium)"
    for module in ("jupyterlab", "playwright", "ipykernel"):
        if importlib.util.find_spec(module) is None:
            return f"python package {module} not installed"
    return None


@pytest.fixture(scope="module")
def requirements():
    reason = _missing()
    if reason:
        if os.environ.get("DIFFVIEW_REQUIRE_BROWSER") == "1":
            pytest.fail(f"real-browser test required but {reason}")
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_data(root: Path) -> None:
    from diffview.sample import write_sample

    write_sample(root / "data", "small", workers=1)


def _wait_ready(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"JupyterLab exited early:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(
        f"JupyterLab did not start in {SERVER_START_S} s:\n{log.read_text()[-3000:]}"
    )


def _stop(proc: subprocess.Popen) -> None:
    """Stop the server and its kernels (its own process group)."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(5)


BLANK_NOTEBOOK = (
    '{"cells": [{"cell_type": "code", "execution_count": null, "id": "a1",'
    ' "metadata": {}, "outputs": [], "source": ["1 + 1"]}],'
    ' "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",'
    ' "name": "python3"}}, "nbformat": 4, "nbformat_minor": 5}'
)


def _launch(playwright):
    """Debian's chromium, headless, as the tests drive it."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
    )


def _front_end_errors(browser, base: str, token: str, url_path: str) -> set[str]:
    """Errors the front end itself logs on a blank notebook (not diffview's).

    Notebook 7.6 with JupyterLab 4.6 logs "Cannot read properties of undefined
    (reading 'schema')" on any notebook; such errors are not held against the
    dashboard, every other one is.
    """
    errors: set[str] = set()
    page = browser.new_page()
    page.on("pageerror", lambda e: errors.add(f"page error: {e}"))
    page.on(
        "console",
        lambda m: errors.add(f"console: {m.text}") if m.type == "error" else None,
    )
    page.goto(f"{base}/{url_path}/blank.ipynb?token={token}")
    page.wait_for_selector(".jp-Notebook")
    page.wait_for_function(_KERNEL_IDLE)
    page.close()
    return errors


def _require(module: str, what: str) -> None:
    """Skip (fail in CI) when a front end's package is not installed."""
    try:
        __import__(module)
    except ImportError:
        message = f"{what} (package {module!r}) is not installed"
        if os.environ.get("DIFFVIEW_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)


def _served_root(tmp_path_factory, name: str):
    """A temp root holding the notebooks and data; (root, port, token, env)."""
    root = tmp_path_factory.mktemp(name)
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    (root / "blank.ipynb").write_text(BLANK_NOTEBOOK)
    _write_data(root)
    # the first use after installing compiles diffview's pixel loops (~10 s,
    # once); the notebook kernels then load them from numba's cache, so the
    # dashboard's own start-up is what the time limits measure
    from diffview.core import kernels

    kernels()
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(root / ".jupyter"),
        JUPYTER_RUNTIME_DIR=str(root / ".runtime"),
        JUPYTERLAB_WORKSPACES_DIR=str(root / ".workspaces"),
        IPYTHONDIR=str(root / ".ipython"),
        MPLBACKEND="agg",
    )
    env.pop("JUPYTER_TOKEN", None)
    return root, _free_port(), os.urandom(16).hex(), env


@contextlib.contextmanager
def _serving(cmd, root: Path, env: dict, ready_path: str, port: int, token: str):
    """Run a server command, wait until it answers; always stop it."""
    log = root / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_ready(f"{base}{ready_path}?token={token}", proc, log)
        yield base
    finally:
        _stop(proc)


#: The front ends the dashboard is checked in: (app, URL of a notebook, app class).
FRONT_ENDS = {
    "jupyterlab": ("lab", "lab/tree", "LabApp"),
    "notebook7": ("notebook", "notebooks", "JupyterNotebookApp"),
}


@pytest.fixture(scope="module", params=sorted(FRONT_ENDS))
def lab(request, requirements, tmp_path_factory):
    """A JupyterLab or Notebook 7 server over a temp root; yields
    (base_url, token, notebook URL path)."""
    app, url_path, app_class = FRONT_ENDS[request.param]
    if app == "notebook":
        _require("notebook", "Notebook 7")
    root, port, token, env = _served_root(tmp_path_factory, request.param)
    labconfig = root / ".jupyter" / "labconfig"
    labconfig.mkdir(parents=True)
    if app == "lab":  # no "get notified about Jupyter news?" toast on screenshots
        (labconfig / "page_config.json").write_text(
            '{"disabledExtensions": '
            '{"@jupyterlab/apputils-extension:announcements": true}}'
        )
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        app,
        "--no-browser",
        "--ServerApp.open_browser=False",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        f"--{app_class}.expose_app_in_browser=True",
        "--LabApp.extension_manager=readonly",
        "--ServerApp.terminals_enabled=False",
        "--LabApp.news_url=",
        "--LabServerApp.check_for_updates_class="
        "jupyterlab.handlers.announcements.NeverCheckForUpdate",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers, CI
        cmd.append("--allow-root")
    with _serving(cmd, root, env, "/api/status", port, token) as base:
        yield base, token, url_path


PANEL_NAMES = ("plus", "minus", "difference", "residual")

_FRONT_END = ["lab"]  # prefix of the screenshots of the current test

_CANVAS_JS = """el => { const c = el.querySelector('canvas');
                       return c ? c.toDataURL() : ''; }"""


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    name = f"{_FRONT_END[0]}-{name}"
    page.screenshot(path=str(ARTIFACTS / name))
    widget = page.locator(".dv-dashboard")
    if widget.count():  # a failure screenshot must not hide the failure
        widget.screenshot(path=str(ARTIFACTS / name.replace(".png", "-widget.png")))


def _wait_canvas_change(
    pairs, before: str, timeout_s: float, settle_s: float = 1.5
) -> str:
    """The panels' pixels once they differ from ``before`` and stop changing."""
    deadline = time.monotonic() + timeout_s
    now, changed_at = before, None
    while time.monotonic() < deadline:
        latest = pairs.evaluate(_CANVAS_JS)
        if latest != now:
            now, changed_at = latest, time.monotonic()
        elif changed_at and now != before and time.monotonic() - changed_at > settle_s:
            return now
        time.sleep(0.1)
    return now


_KERNEL_IDLE = (
    "() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
    " const k = w && w.sessionContext && w.sessionContext.session"
    " && w.sessionContext.session.kernel; return !!k && k.status === 'idle'; }"
)
# JupyterLab restores the previous page's workspace: blank.ipynb (opened for the
# baseline) comes back next to the dashboard's notebook and, depending on
# which finishes loading last, may be the current notebook, the one
# "run-all-cells" runs. Make the dashboard's notebook current first.
_DASHBOARD_IDLE = """name => {
  const app = window.jupyterapp;
  const w = app && app.shell.currentWidget;
  if (!(w && w.context && w.context.path.endsWith(name))) {
    for (const m of (app ? app.shell.widgets('main') : [])) {
      if (m.context && m.context.path.endsWith(name)) {
        app.shell.activateById(m.id);
        break;
      }
    }
    return false;
  }
  const k = w.sessionContext && w.sessionContext.session
    && w.sessionContext.session.kernel;
  return !!k && k.status === 'idle';
}"""
_HAS_PAIR = (
    "() => { const e = document.querySelector('.dv-selected');"
    " return !!e && e.textContent.includes('pair '); }"
)


def _open_dashboard(page, base: str, token: str, url_path: str) -> None:
    """Open the notebook, run every cell, wait for the dashboard (one budget)."""
    deadline = time.monotonic() + DASHBOARD_S

    def left() -> float:
        return max(1000.0, (deadline - time.monotonic()) * 1000)

    page.goto(f"{base}/{url_path}/{NOTEBOOK.name}?token={token}", timeout=left())
    page.wait_for_selector(".jp-Notebook", timeout=left())
    page.wait_for_function(_DASHBOARD_IDLE, arg=NOTEBOOK.name, timeout=left())
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(_HAS_PAIR, timeout=left())
    page.locator(".dv-pairs").wait_for(timeout=left())
    # explore opens at once and ranks again as its background job brings the
    # quality scores: wait for the job's end (its progress bar hidden)
    page.locator(".dv-progress").wait_for(state="hidden", timeout=left())


def _check_readout(page) -> None:
    """Hovering the panels fills the pixel readout (x, y, RA, Dec, value)."""
    canvas = page.locator(".dv-pairs canvas").first
    box = canvas.bounding_box()
    readout = page.locator(".dv-readout")
    deadline = time.monotonic() + STEP_S
    while time.monotonic() < deadline:
        for fx in (0.14, 0.38, 0.62, 0.86):
            page.mouse.move(
                box["x"] + fx * box["width"], box["y"] + 0.4 * box["height"]
            )
            time.sleep(0.3)
            text = readout.inner_text()
            if "RA=" in text:
                assert " x=" in text and "Dec=" in text and "value=" in text, text
                return
    raise AssertionError(f"no pixel readout after hovering: {readout.inner_text()!r}")


def test_dashboard_in_the_browser(lab):
    from playwright.sync_api import sync_playwright

    base, token, url_path = lab
    _FRONT_END[0] = url_path.split("/")[0]
    errors: list[str] = []
    with sync_playwright() as p:
        browser = _launch(p)
        try:
            baseline = _front_end_errors(browser, base, token, url_path)
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
                _open_dashboard(page, base, token, url_path)
            except Exception:
                _shot(page, "dashboard-failure.png")
                raise
            selected, pairs = page.locator(".dv-selected"), page.locator(".dv-pairs")
            first_text = selected.inner_text()
            first_text_raw = selected.evaluate("e => e.textContent")
            first_img = _wait_canvas_change(pairs, "", STEP_S)
            assert first_img, "the pair panels never drew"
            _shot(page, "dashboard-loaded.png")
            page.locator(".dv-next").click()
            try:
                page.wait_for_function(
                    "t => document.querySelector('.dv-selected').textContent !== t",
                    arg=first_text_raw,
                )
            except Exception:
                _shot(page, "dashboard-failure.png")
                raise
            second_text = selected.inner_text()
            second_img = _wait_canvas_change(pairs, first_img, STEP_S)
            _shot(page, "dashboard-next.png")
            pairs.screenshot(
                path=str(ARTIFACTS / f"{_FRONT_END[0]}-dashboard-pairs.png")
            )
            page.locator(".dv-mosaic").screenshot(
                path=str(ARTIFACTS / f"{_FRONT_END[0]}-dashboard-mosaic.png")
            )
            assert second_text != first_text
            assert second_img != first_img, "the displayed difference did not change"
            _check_readout(page)
            assert page.locator(".dv-error").inner_text().strip() == ""
        finally:
            browser.close()
    ours = [e for e in errors if e not in baseline]
    assert ours == [], "\n".join(ours)


@pytest.fixture(scope="module")
def voila(requirements, tmp_path_factory):
    """A Voilà server over a temp root; yields (base_url, token)."""
    _require("voila", "Voilà")
    root, port, token, env = _served_root(tmp_path_factory, "voila")
    cmd = [
        sys.executable,
        "-m",
        "voila",
        str(root),
        "--no-browser",
        "--Voila.ip=127.0.0.1",
        f"--Voila.port={port}",
        "--Voila.port_retries=0",
        # diffview's template: the lab template without its CDN stylesheets
        "--template=diffview",
        f"--token={token}",
        "--show_tracebacks=True",
    ]
    with _serving(cmd, root, env, "/", port, token) as base:
        yield base, token


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
    f => f.family.replace(/"/g, '').startsWith('Font Awesome') && f.status === 'loaded')"""


def test_dashboard_in_voila(voila):
    """Voilà renders the notebook as an app: the dashboard works there too."""
    from playwright.sync_api import sync_playwright

    base, token = voila
    _FRONT_END[0] = "voila"
    with sync_playwright() as p:
        browser = _launch(p)
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
                page.wait_for_function(_HAS_PAIR, timeout=DASHBOARD_S * 1000)
            except Exception:
                _shot(page, "dashboard-failure.png")
                raise
            selected, pairs = page.locator(".dv-selected"), page.locator(".dv-pairs")
            first_text = selected.evaluate("e => e.textContent")
            first_img = _wait_canvas_change(pairs, "", STEP_S)
            assert first_img, "the pair panels never drew"
            page.locator(".dv-next").click()
            page.wait_for_function(
                "t => document.querySelector('.dv-selected').textContent !== t",
                arg=first_text,
            )
            second_img = _wait_canvas_change(pairs, first_img, STEP_S)
            _shot(page, "dashboard-next.png")
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

_SELECTED_JS = "() => document.querySelector('.dv-selected').textContent"
_CHANGED_JS = "t => document.querySelector('.dv-selected').textContent !== t"
_CELLS_JS = "() => document.querySelectorAll('.jp-Cell').length"
_TOP_JS = "() => document.querySelector('.dv-table option').textContent"
_WATCHED_JS = "() => !!document.querySelector('.dv-keys.ipyevents-watched')"
#: the key area's outline while it holds the keyboard (ipyevents-watched)
_RING_JS = """() => { const e = document.querySelector('.dv-keys');
  const s = getComputedStyle(e);
  return [e.classList.contains('ipyevents-watched'), s.outlineStyle, s.outlineColor];
}"""


def _press(page, key: str, pairs, before_img: str) -> tuple[str, str]:
    """Press a key that changes the pair; the new (title, panels' pixels)."""
    before = page.evaluate(_SELECTED_JS)
    page.keyboard.press(key)
    page.wait_for_function(_CHANGED_JS, arg=before)
    return page.evaluate(_SELECTED_JS), _wait_canvas_change(
        pairs, before_img, STEP_S, settle_s=0.5
    )


def _blink_frames(pairs, seconds: float) -> list[str]:
    """The panels' pixels sampled every 50 ms, consecutive repeats dropped."""
    frames: list[str] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        img = pairs.evaluate(_CANVAS_JS)
        if not frames or img != frames[-1]:
            frames.append(img)
        time.sleep(0.05)
    return frames


#: The pixels of each pair panel's canvas (each panel is its own canvas).
_PANELS_JS = """() => ['plus', 'minus', 'difference', 'residual'].map(n => {
  const c = document.querySelector('.dv-panel-' + n + ' canvas');
  return c ? c.toDataURL() : ''; })"""


def _all_panels_change(page, before: list, timeout_s: float) -> list:
    """The four panels' pixels once every one differs from ``before``."""
    deadline = time.monotonic() + timeout_s
    now = page.evaluate(_PANELS_JS)
    while time.monotonic() < deadline:
        if all(a != b for a, b in zip(now, before, strict=True)):
            return now
        time.sleep(0.1)
        now = page.evaluate(_PANELS_JS)
    return now


def _check_keys(page) -> None:
    pairs = page.locator(".dv-pairs")
    img0 = _wait_canvas_change(pairs, "", STEP_S, settle_s=0.5)
    cells = page.evaluate(_CELLS_JS)
    box = page.locator(".dv-pairs canvas").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function(_WATCHED_JS)
    watched, style, colour = page.evaluate(_RING_JS)
    assert watched and style == "solid" and colour == "rgb(26, 115, 232)", colour
    # the dashboard opened on pair 0 before the background job's scores
    # ranked the table: start from the first pair of the final ranking
    top = page.evaluate(_TOP_JS).replace("\xa0", " ").split()[0]
    if not page.evaluate(_SELECTED_JS).startswith(f"pair {top}:"):
        _, img0 = _press(page, "Home", pairs, img0)
    first = page.evaluate(_SELECTED_JS)
    assert first.startswith(f"pair {top}:"), (first, top)
    panels0 = page.evaluate(_PANELS_JS)
    second, img1 = _press(page, "ArrowRight", pairs, img0)
    assert second != first and img1 != img0, "ArrowRight did not move to the next pair"
    panels1 = _all_panels_change(page, panels0, STEP_S)
    stale = [n for n, a, b in zip(PANEL_NAMES, panels0, panels1, strict=True) if a == b]
    assert not stale, f"panels still showing the last pair: {stale}"
    third, img2 = _press(page, "j", pairs, img1)
    assert third not in (first, second) and img2 != img1, "j did not move on"
    back, img3 = _press(page, "Home", pairs, img2)
    assert back == first, "Home did not go back to the first pair"
    # b: the plus panel alternates between plus and minus (500 ms a frame);
    # the other panels' canvases are not redrawn
    others = page.evaluate(_PANELS_JS)[1:]
    page.keyboard.press("b")
    frames = _blink_frames(pairs, 2.2)
    assert page.evaluate(_PANELS_JS)[1:] == others, "a blink redrew another panel"
    page.keyboard.press("b")
    assert len(set(frames)) >= 2 and len(frames) >= 3, f"{len(frames)} frames"
    blinked = [f for f in frames if f != img3]
    assert blinked and img3 in frames[1:], "the blink did not alternate"
    assert _wait_canvas_change(pairs, blinked[-1], STEP_S, settle_s=0.8) == img3
    # the keys were the dashboard's: JupyterLab's b (insert cell) did nothing
    assert page.evaluate(_CELLS_JS) == cells
    # keys typed into a text box are typing, not navigation
    reason = page.locator(".widget-text:has(label:text-is('reason')) input")
    reason.click()
    reason.press("End")
    reason.type("jkb")
    assert reason.input_value().endswith("jkb")
    time.sleep(0.5)
    assert page.evaluate(_SELECTED_JS) == first
    assert page.evaluate(_CELLS_JS) == cells


def test_keyboard_and_blink_in_the_browser(lab):
    """Arrows, j, Home and b over the panels; typing in a text box is left alone."""
    from playwright.sync_api import sync_playwright

    base, token, url_path = lab
    # Notebook 7's command-mode shortcuts see the keys before ipyevents: the
    # key area's data-lm-suppress-shortcuts (diffview/widgets/_keys.py) keeps
    # them off, so b adds no cell there either
    _FRONT_END[0] = url_path.split("/")[0]
    errors: list[str] = []
    with sync_playwright() as p:
        browser = _launch(p)
        try:
            baseline = _front_end_errors(browser, base, token, url_path)
            page = browser.new_page(viewport={"width": 1500, "height": 2000})
            page.set_default_timeout(STEP_S * 1000)
            page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
            # JupyterLab: a workspace of its own, only the dashboard's notebook
            path = (
                "lab/workspaces/keys/tree" if url_path.startswith("lab/") else url_path
            )
            _open_dashboard(page, base, token, path)
            try:
                _check_keys(page)
            except Exception:
                _shot(page, "keys-failure.png")
                raise
            _shot(page, "keys.png")
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
    _FRONT_END[0] = "lab"
    with sync_playwright() as p:
        browser = _launch(p)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(STEP_S * 1000)
            _open_dashboard(page, base, token, "lab/workspaces/laptop/tree")
            if not page.locator(".jp-FileBrowser").is_visible():
                page.evaluate(
                    "window.jupyterapp.commands.execute('filebrowser:activate')"
                )
            page.locator(".jp-FileBrowser").wait_for(state="visible")
            page.locator(".dv-mosaic canvas").first.wait_for()
            boxes = _settled_boxes(page, want_ok=True)
            _shot(page, "laptop-1280x800.png")
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
            _shot(page, "large-1920x1080.png")
            assert _cut(boxes) == [], "\n".join(_cut(boxes))
            for name, width in small.items():
                assert _width(boxes, name) > 1.2 * width, (name, width, boxes)
        finally:
            browser.close()
