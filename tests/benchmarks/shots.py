"""
Screenshots of the dashboard in JupyterLab, for before/after comparisons.

Starts JupyterLab on 127.0.0.1 over a temporary folder holding a copy of a
work folder and a notebook that runs ``explore`` on it, opens it in Debian's
Chromium (Playwright) and writes PNGs to a folder given on the command line:

* ``laptop-*.png``: 1280×800 with JupyterLab's file browser open (the top of
  the dashboard, the pair panels, the mosaic; and the whole dashboard on a
  page as wide and tall enough to hold it);
* ``large-*.png``: the same on 1920×1080.

``--repo PATH`` makes the kernel import diffview from another checkout (its
folder goes first on ``PYTHONPATH``), e.g. an older revision for the
"before" pictures::

    git worktree add /tmp/before <revision>
    python tests/benchmarks/shots.py WORK /tmp/shots-before --repo /tmp/before
    python tests/benchmarks/shots.py WORK /tmp/shots-after
    git worktree remove /tmp/before

Without WORK a sample field is written (``--sample small|m17``). The work
folder is copied first (the dashboard computes what is missing into it), so
both runs start from the same files; ``--in-place`` uses it as it is. Parts
an older revision does not have (its CSS classes) are reported and skipped.
Keep the pictures out of git.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "browser"))

from browserkit import (  # noqa: E402
    DASHBOARD_IDLE,
    HAS_PAIR,
    free_port,
    launch,
    serving,
    wait_canvas_change,
)

NOTEBOOK = "shots.ipynb"
#: (file suffix, selector): parts scrolled into view, one picture each
PARTS = (("panels", ".dv-pairs"), ("mosaic", ".dv-mosaic"))
SIZES = (("laptop", 1280, 800), ("large", 1920, 1080))
TALL_JS = """() => { const n = document.querySelector('.jp-WindowedPanel-outer')
    || document.querySelector('.jp-NotebookPanel-notebook');
  return Math.ceil(n.scrollHeight + window.innerHeight - n.clientHeight + 40); }"""


def notebook(work: Path) -> str:
    import json

    source = [
        "%matplotlib widget\n",
        "from diffview.widgets import explore\n",
        f"dash = explore({str(work)!r})\n",
        "dash",
    ]
    return json.dumps(
        {
            "cells": [
                {
                    "cell_type": "code",
                    "execution_count": None,
                    "id": "shots",
                    "metadata": {},
                    "outputs": [],
                    "source": source,
                }
            ],
            "metadata": {
                "kernelspec": {
                    "display_name": "Python 3",
                    "language": "python",
                    "name": "python3",
                }
            },
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )


def prepare(args, root: Path) -> Path:
    """The work folder the notebook opens (a copy unless --in-place)."""
    if args.work is None:
        from diffview.sample import write_sample

        return write_sample(root / "data", args.sample, workers=1).root
    work = Path(args.work).resolve()
    if not work.is_dir():
        raise SystemExit(f"shots: error: {work}: not a folder")
    if args.in_place:
        return work
    copy = root / work.name
    shutil.copytree(work, copy, symlinks=True)
    return copy


def server_command(root: Path, port: int, token: str) -> list[str]:
    cmd = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
        "--ServerApp.terminals_enabled=False", "--LabApp.news_url=",
        "--LabServerApp.check_for_updates_class="
        "jupyterlab.handlers.announcements.NeverCheckForUpdate",
    ]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    return cmd


def server_env(root: Path, repo: str | None) -> dict:
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(root / ".jupyter"),
        JUPYTER_RUNTIME_DIR=str(root / ".runtime"),
        JUPYTERLAB_WORKSPACES_DIR=str(root / ".workspaces"),
        IPYTHONDIR=str(root / ".ipython"),
    )
    env.pop("JUPYTER_TOKEN", None)
    if repo:
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(Path(repo).resolve()), env.get("PYTHONPATH")) if p
        )
    labconfig = root / ".jupyter" / "labconfig"
    labconfig.mkdir(parents=True, exist_ok=True)
    (labconfig / "page_config.json").write_text(
        '{"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": true}}'
    )
    return env


def open_dashboard(page, base: str, token: str, timeout_s: float) -> None:
    """Open the notebook, run it, wait for a pair and the end of loading."""
    ms = timeout_s * 1000
    page.goto(f"{base}/lab/workspaces/shots/tree/{NOTEBOOK}?token={token}")
    page.wait_for_selector(".jp-Notebook", timeout=ms)
    page.wait_for_function(DASHBOARD_IDLE, arg=NOTEBOOK, timeout=ms)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(HAS_PAIR, timeout=ms)
    progress = page.locator(".dv-progress")
    if progress.count():
        progress.wait_for(state="hidden", timeout=ms)
    if not page.locator(".jp-FileBrowser").is_visible():
        page.evaluate("window.jupyterapp.commands.execute('filebrowser:activate')")


def settle(page, seconds: float = 20.0) -> None:
    """Wait until the pair panels drew and stopped changing."""
    pairs = page.locator(".dv-pairs")
    if pairs.count():
        wait_canvas_change(pairs, "", seconds)
    time.sleep(1.5)  # the figures follow the new width


def take(page, out: Path, name: str, missing: list[str]) -> None:
    """The page, each part scrolled into view, and the whole dashboard."""
    page.screenshot(path=str(out / f"{name}-top.png"))
    for suffix, selector in PARTS:
        part = page.locator(selector).first
        if not part.count():
            missing.append(f"{name}: {selector}")
            continue
        part.scroll_into_view_if_needed()
        time.sleep(0.5)
        page.screenshot(path=str(out / f"{name}-{suffix}.png"))
    if not page.locator(".dv-dashboard").count():
        missing.append(f"{name}: .dv-dashboard")
        return
    # the whole dashboard: a page as tall as the notebook (an element
    # screenshot inside JupyterLab's scrolling panel comes out garbled)
    size = page.viewport_size
    tall = page.evaluate(TALL_JS)
    page.set_viewport_size({"width": size["width"], "height": min(tall, 8000)})
    settle(page)
    page.locator(".dv-dashboard").first.scroll_into_view_if_needed()
    page.screenshot(path=str(out / f"{name}-dashboard.png"))
    page.set_viewport_size(size)
    settle(page)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("work", nargs="?", help="work folder (default: a sample)")
    parser.add_argument("out", nargs="?", help="folder for the PNGs")
    parser.add_argument("--repo", help="import diffview from this checkout")
    parser.add_argument("--sample", default="small", choices=("small", "m17"))
    parser.add_argument("--in-place", action="store_true", help="do not copy WORK")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds")
    args = parser.parse_args(argv)
    if args.out is None:  # one positional: the output folder, on a sample
        args.work, args.out = None, args.work
    if args.out is None:
        parser.error("the output folder is required")
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    missing: list[str] = []
    with tempfile.TemporaryDirectory(prefix="diffview-shots-") as tmp:
        root = Path(tmp)
        work = prepare(args, root)
        (root / NOTEBOOK).write_text(notebook(work))
        port, token = free_port(), os.urandom(16).hex()
        env = server_env(root, args.repo)
        cmd = server_command(root, port, token)
        with serving(cmd, root, env, "/api/status", port, token) as base:
            with sync_playwright() as p:
                browser = launch(p)
                try:
                    page = browser.new_page(viewport={"width": 1280, "height": 800})
                    page.set_default_timeout(args.timeout * 1000)
                    open_dashboard(page, base, token, args.timeout)
                    for name, width, height in SIZES:
                        page.set_viewport_size({"width": width, "height": height})
                        settle(page)
                        take(page, out, name, missing)
                    error = page.locator(".dv-error")
                    if error.count() and error.inner_text().strip():
                        print("dashboard error:", error.inner_text().strip())
                finally:
                    browser.close()
    repo = args.repo or str(HERE.parent.parent)
    print(f"diffview from {repo}: {len(list(out.glob('*.png')))} PNGs in {out}")
    for m in missing:
        print("not found (older revision?):", m)
    return 0


if __name__ == "__main__":
    sys.exit(main())
