"""
What the real-browser tests share: servers, Chromium, and page helpers.

A JupyterLab (or Notebook 7, or Voila) server is started on 127.0.0.1 (free
port, random token) over a temporary root holding ``dashboard.ipynb`` and a
sample work folder. Without Chromium, JupyterLab or Playwright the tests are
skipped, unless ``DIFFVIEW_REQUIRE_BROWSER=1`` (CI), where they fail. Test
modules import the fixtures they use (``from browserkit import lab``).
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

CHROMIUM = "/usr/bin/chromium"
HERE = Path(__file__).parent
ARTIFACTS = HERE.parent / "artifacts"
NOTEBOOK = HERE / "dashboard.ipynb"
SERVER_START_S = 45  # JupyterLab up
DASHBOARD_S = 75  # notebook open, kernel ready, cells run, widgets drawn
STEP_S = 20  # each later step (redraw after "next")
# worst case 45 + 75 + 4 x 20 s: the test ends (and the server is stopped) in
# under 3.5 minutes even when everything hangs; ~25 s normally


def missing() -> str | None:
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} not found (apt-get install chromium)"
    for module in ("jupyterlab", "playwright", "ipykernel"):
        if importlib.util.find_spec(module) is None:
            return f"python package {module} not installed"
    return None


@pytest.fixture(scope="module")
def requirements():
    reason = missing()
    if reason:
        if os.environ.get("DIFFVIEW_REQUIRE_BROWSER") == "1":
            pytest.fail(f"real-browser test required but {reason}")
        pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_data(root: Path) -> None:
    from diffview.sample import write_sample

    write_sample(root / "data", "small", workers=1)


def wait_ready(url: str, proc: subprocess.Popen, log: Path) -> None:
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


def stop(proc: subprocess.Popen) -> None:
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


def launch(playwright):
    """Debian's chromium, headless, as the tests drive it."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
    )


@contextlib.contextmanager
def dashboard_page(lab, viewport=(1500, 2000), init_script=None):
    """
    A page with the dashboard open in ``lab``'s front end (its browser closed
    at the end); screenshots named after the front end. ``init_script`` runs
    in the page before the front end's own scripts.
    """
    from playwright.sync_api import sync_playwright

    base, token, url_path = lab
    SHOT_PREFIX[0] = url_path.split("/")[0]
    with sync_playwright() as p:
        browser = launch(p)
        try:
            width, height = viewport
            page = browser.new_page(viewport={"width": width, "height": height})
            if init_script:
                page.add_init_script(init_script)
            page.set_default_timeout(STEP_S * 1000)
            open_dashboard(page, base, token, url_path)
            yield page
        finally:
            browser.close()


def front_end_errors(browser, base: str, token: str, url_path: str) -> set[str]:
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
    page.wait_for_function(KERNEL_IDLE)
    page.close()
    return errors


def require(module: str, what: str) -> None:
    """Skip (fail in CI) when a front end's package is not installed."""
    try:
        __import__(module)
    except ImportError:
        message = f"{what} (package {module!r}) is not installed"
        if os.environ.get("DIFFVIEW_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)


def served_root(tmp_path_factory, name: str):
    """A temp root holding the notebooks and data; (root, port, token, env)."""
    root = tmp_path_factory.mktemp(name)
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    (root / "blank.ipynb").write_text(BLANK_NOTEBOOK)
    write_data(root)
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
    return root, free_port(), os.urandom(16).hex(), env


@contextlib.contextmanager
def serving(cmd, root: Path, env: dict, ready_path: str, port: int, token: str):
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
        wait_ready(f"{base}{ready_path}?token={token}", proc, log)
        yield base
    finally:
        stop(proc)


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
        require("notebook", "Notebook 7")
    root, port, token, env = served_root(tmp_path_factory, request.param)
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
    with serving(cmd, root, env, "/api/status", port, token) as base:
        yield base, token, url_path


PANEL_NAMES = ("plus", "minus", "difference", "residual")

SHOT_PREFIX = ["lab"]  # prefix of the screenshots of the current test

CANVAS_JS = """el => { const c = el.querySelector('canvas');
                       return c ? c.toDataURL() : ''; }"""


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    name = f"{SHOT_PREFIX[0]}-{name}"
    page.screenshot(path=str(ARTIFACTS / name))
    widget = page.locator(".dv-dashboard")
    if widget.count():  # a failure screenshot must not hide the failure
        widget.screenshot(path=str(ARTIFACTS / name.replace(".png", "-widget.png")))


def wait_canvas_change(
    pairs, before: str, timeout_s: float, settle_s: float = 1.5
) -> str:
    """The panels' pixels once they differ from ``before`` and stop changing."""
    deadline = time.monotonic() + timeout_s
    now, changed_at = before, None
    while time.monotonic() < deadline:
        latest = pairs.evaluate(CANVAS_JS)
        if latest != now:
            now, changed_at = latest, time.monotonic()
        elif changed_at and now != before and time.monotonic() - changed_at > settle_s:
            return now
        time.sleep(0.1)
    return now


KERNEL_IDLE = (
    "() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
    " const k = w && w.sessionContext && w.sessionContext.session"
    " && w.sessionContext.session.kernel; return !!k && k.status === 'idle'; }"
)
# JupyterLab restores the previous page's workspace: blank.ipynb (opened for the
# baseline) comes back next to the dashboard's notebook and, depending on
# which finishes loading last, may be the current notebook, the one
# "run-all-cells" runs. Make the dashboard's notebook current first.
DASHBOARD_IDLE = """name => {
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
HAS_PAIR = (
    "() => { const e = document.querySelector('.dv-selected');"
    " return !!e && e.textContent.includes('pair '); }"
)


def open_dashboard(page, base: str, token: str, url_path: str) -> None:
    """Open the notebook, run every cell, wait for the dashboard (one budget)."""
    deadline = time.monotonic() + DASHBOARD_S

    def left() -> float:
        return max(1000.0, (deadline - time.monotonic()) * 1000)

    page.goto(f"{base}/{url_path}/{NOTEBOOK.name}?token={token}", timeout=left())
    page.wait_for_selector(".jp-Notebook", timeout=left())
    page.wait_for_function(DASHBOARD_IDLE, arg=NOTEBOOK.name, timeout=left())
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(HAS_PAIR, timeout=left())
    page.locator(".dv-pairs").wait_for(timeout=left())
    # explore opens at once and ranks again as its background job brings the
    # quality scores: wait for the job's end (its progress bar hidden)
    page.locator(".dv-progress").wait_for(state="hidden", timeout=left())


def check_readout(page) -> None:
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


@pytest.fixture(scope="module")
def voila(requirements, tmp_path_factory):
    """A Voilà server over a temp root; yields (base_url, token)."""
    require("voila", "Voilà")
    root, port, token, env = served_root(tmp_path_factory, "voila")
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
    with serving(cmd, root, env, "/", port, token) as base:
        yield base, token


SELECTED_JS = "() => document.querySelector('.dv-selected').textContent"
CHANGED_JS = "t => document.querySelector('.dv-selected').textContent !== t"
CELLS_JS = "() => document.querySelectorAll('.jp-Cell').length"
TOP_JS = "() => document.querySelector('.dv-table option').textContent"
WATCHED_JS = "() => !!document.querySelector('.dv-keys.ipyevents-watched')"
#: the key area's outline while it holds the keyboard (ipyevents-watched)
RING_JS = """() => { const e = document.querySelector('.dv-keys');
  const s = getComputedStyle(e);
  return [e.classList.contains('ipyevents-watched'), s.outlineStyle, s.outlineColor];
}"""


def settle(page, script: str, timeout_s: float = STEP_S, quiet_s: float = 1.0):
    """What ``script`` returns once it stopped changing for ``quiet_s``."""
    deadline = time.monotonic() + timeout_s
    now, since = page.evaluate(script), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        latest = page.evaluate(script)
        if latest != now:
            now, since = latest, time.monotonic()
        elif time.monotonic() - since > quiet_s:
            break
    return now


def press(page, key: str, pairs, before_img: str) -> tuple[str, str]:
    """Press a key that changes the pair; the new (title, panels' pixels)."""
    before = page.evaluate(SELECTED_JS)
    page.keyboard.press(key)
    page.wait_for_function(CHANGED_JS, arg=before)
    return page.evaluate(SELECTED_JS), wait_canvas_change(
        pairs, before_img, STEP_S, settle_s=0.5
    )


def blink_frames(pairs, seconds: float) -> list[str]:
    """The panels' pixels sampled every 50 ms, consecutive repeats dropped."""
    frames: list[str] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        img = pairs.evaluate(CANVAS_JS)
        if not frames or img != frames[-1]:
            frames.append(img)
        time.sleep(0.05)
    return frames


#: The pixels of each pair panel's canvas (each panel is its own canvas).
PANELS_JS = """() => ['plus', 'minus', 'difference', 'residual'].map(n => {
  const c = document.querySelector('.dv-panel-' + n + ' canvas');
  return c ? c.toDataURL() : ''; })"""


def all_panels_change(page, before: list, timeout_s: float) -> list:
    """The four panels' pixels once every one differs from ``before``."""
    deadline = time.monotonic() + timeout_s
    now = page.evaluate(PANELS_JS)
    while time.monotonic() < deadline:
        if all(a != b for a, b in zip(now, before, strict=True)):
            return now
        time.sleep(0.1)
        now = page.evaluate(PANELS_JS)
    return now
