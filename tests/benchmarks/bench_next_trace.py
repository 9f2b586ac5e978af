"""
Where a Next's time goes, between the kernel and the browser, on one clock.

`bench_browser.py` says how long a Next takes from the click to the last
changed paint; this says where the time goes. JupyterLab and Debian's
Chromium as there; the notebook that opens the dashboard first wraps, in the
kernel, the comm's message handler, ``Dashboard.next``, ``PanelCanvas._ship``
and ``PanelCanvas.draw`` (wall and thread CPU time) and ipykernel's IOPub
thread's send to log their wall-clock times, and the page logs the click,
every websocket message (time, size) and every canvas paint. Both logs are
in ``time.time()`` milliseconds (the page's ``performance.timeOrigin +
performance.now()``), so per Next it prints, from the click: the kernel's
receipt, the first and the last pair-panel frame shipped, the first message
at the page and the last pair-panel paint; their medians; each canvas's
draw, wall and CPU ms (beside the browser, against its CPU alone); and the
whole timeline of the first Nexts (``K:`` frame shipped, by canvas; ``S``:
a message over 2 kB leaving the kernel's IOPub thread, kB; ``M``: message
at the page, kB; ``P:`` paint).

    python tests/benchmarks/bench_next_trace.py [--preset small | --work DIR]
        [--repeat 14] [--timelines 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

from bench_browser import (
    CHROMIUM,
    NOTEBOOK,
    WS_HOOK,
    _jupyterlab,
    _load,
    _open,
    field_folder,
    launch,
)

#: Run in the kernel before the dashboard opens: a log of receipts, Nexts,
#: frames drawn and shipped, and messages sent (``TIMES``: kind, ms, detail),
#: each canvas named (``_dv_name``).
KERNEL_LOG = r"""
import threading as _threading, time as _time
import comm.base_comm as _comm
from diffview.widgets import _canvas, _dashboard
TIMES = []

def _logged(kind, method, name=None):
    def wrapper(self, *args, **kwargs):
        TIMES.append((kind, _time.time() * 1e3, name(self) if name else
                      _threading.current_thread().name))
        return method(self, *args, **kwargs)
    return wrapper

_comm.BaseComm.handle_msg = _logged("receipt", _comm.BaseComm.handle_msg)
_dashboard.Dashboard.next = _logged("next", _dashboard.Dashboard.next)
_canvas.PanelCanvas._ship = _logged(
    "ship", _canvas.PanelCanvas._ship, lambda c: getattr(c, "_dv_name", "?"))

_draw = _canvas.PanelCanvas.draw
def _timed_draw(self):
    wall, cpu = _time.perf_counter(), _time.thread_time()
    _draw(self)
    wall, cpu = _time.perf_counter() - wall, _time.thread_time() - cpu
    TIMES.append(("draw", _time.time() * 1e3,
                  (getattr(self, "_dv_name", "?"), wall * 1e3, cpu * 1e3)))
_canvas.PanelCanvas.draw = _timed_draw

import ipykernel.iostream as _iostream
_send = _iostream.IOPubThread._really_send
def _logged_send(self, msg, *args, **kwargs):
    size = sum(len(part) for part in msg)
    if size > 2000:  # frames, not status or small state messages
        TIMES.append(("send", _time.time() * 1e3, size))
    return _send(self, msg, *args, **kwargs)
_iostream.IOPubThread._really_send = _logged_send
"""

NAME_CANVASES = (
    "for _c, _n in zip([*dash.pairs.canvases, dash.histogram.fig.canvas,"
    " dash.mosaic.fig.canvas], ['plus', 'minus', 'difference', 'residual',"
    " 'histogram', 'mosaic']):\n"
    "    _c._dv_name = _n\n"
)

#: The page's own log: each click's wall-clock time.
CLICKS = """() => { window.__dvClicks = [];
  document.addEventListener('click',
    e => window.__dvClicks.push(performance.timeOrigin + e.timeStamp),
    {capture: true}); }"""

#: What the page saw since the mark, in wall-clock ms: [click, paints, messages].
SEEN = """() => {
  const o = performance.timeOrigin, t0 = window.__dvT0;
  return [window.__dvClicks[window.__dvClicks.length - 1],
          window.__dvPaints.filter(p => p[0] >= t0).map(p => [p[0] + o, p[1]]),
          window.__dvMsgs.filter(m => m[0] >= t0).map(m => [m[0] + o, m[1]])];
}"""

PANELS = ("plus", "minus", "difference", "residual")

STEPS = {
    "kernel receipt": lambda r: r["receipt"],
    "first frame shipped": lambda r: r["ships"][0][1] if r["ships"] else None,
    "last panel frame shipped": lambda r: max(
        (t for n, t in r["ships"] if n in PANELS), default=None),
    "first message at the page": lambda r: r["msgs"][0][0] if r["msgs"] else None,
    "last panel paint": lambda r: max(
        (t for t, n in r["paints"] if n == "dv-pairs"), default=None),
}


def _notebook() -> dict:
    nb = json.loads(json.dumps(NOTEBOOK))
    nb["cells"][0]["source"] = [KERNEL_LOG, "from diffview.widgets import explore\n",
                                "dash = explore('data')\n", NAME_CANVASES, "dash"]
    return nb


def _one_next(page) -> tuple:
    page.evaluate("() => { window.__dvT0 = performance.now(); }")
    page.locator(".dv-next").click()
    time.sleep(1.0)  # every frame of it painted, the kernel idle again
    return page.evaluate(SEEN)


def _kernel_times(page, root: Path) -> list:
    """The kernel's log, written next to the notebook."""
    page.evaluate(
        """code => window.jupyterapp.shell.currentWidget.sessionContext.session
                    .kernel.requestExecute({code}).done""",
        "import json; open('times.json', 'w').write(json.dumps(TIMES))")
    return json.loads((root / "times.json").read_text())


def _split(click, paints, msgs, times) -> dict:
    """One Next's events, ms from its click."""
    mine = [e for e in times if click - 5 <= e[1] <= click + 900]
    receipts = [t for kind, t, _ in mine if kind == "receipt"]
    return {
        "receipt": receipts[0] - click if receipts else None,
        "ships": [(name, t - click) for kind, t, name in mine if kind == "ship"],
        "sends": [(t - click, size) for kind, t, size in mine if kind == "send"],
        "draws": [detail for kind, _, detail in mine if kind == "draw"],
        "msgs": [(t - click, size) for t, size in msgs],
        # paints into the dashboard's canvases (not ipympl's offscreen ones)
        "paints": [(t - click, name) for t, name in paints if name],
    }


def _timeline(r: dict) -> str:
    events = ([(t, f"K:{n}") for n, t in r["ships"]]
              + [(t, f"S{size // 1024}k") for t, size in r["sends"]]
              + [(t, f"M{size // 1024}k") for t, size in r["msgs"]]
              + [(t, f"P:{n[3:]}") for t, n in r["paints"]])
    return "  ".join(f"{name}@{t:.0f}" for t, name in sorted(events))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="small", help="sample preset (small, m17)")
    ap.add_argument("--work", help="an existing work folder instead of a sample")
    ap.add_argument("--repeat", type=int, default=14)
    ap.add_argument("--timelines", type=int, default=3)
    args = ap.parse_args(argv)
    if not os.access(CHROMIUM, os.X_OK):
        print(f"needs {CHROMIUM}", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    with field_folder(args.work, args.preset, "bench-next-trace-") as root:
        (root / "bench.ipynb").write_text(json.dumps(_notebook()))
        with _jupyterlab(root) as (base, token), sync_playwright() as p:
            browser = launch(p)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.add_init_script(WS_HOOK)
            _open(page, base, token)  # the paint hook, the dashboard open
            page.evaluate(CLICKS)
            seen = [_one_next(page) for _ in range(args.repeat)]
            times = _kernel_times(page, root)
            browser.close()
        runs = [_split(click, paints, msgs, times) for click, paints, msgs in seen]
        print(f"{args.work or args.preset}, {_load()}: a Next, ms from the click "
              f"(JupyterLab, Chromium; median of {len(runs)})")
        for step, get in STEPS.items():
            values = [v for v in map(get, runs) if v is not None]
            median = f"{statistics.median(values):7.1f}" if values else "      -"
            print(f"  {step:28s} {median}")
        draws = {}
        for name, wall, cpu in (d for r in runs for d in r["draws"]):
            draws.setdefault(name, []).append((wall, cpu))
        print("\neach canvas's draw in the kernel, median ms (wall, thread CPU)")
        for name, values in draws.items():
            wall, cpu = (statistics.median(v) for v in zip(*values, strict=True))
            print(f"  {name:12s} {wall:6.1f} {cpu:6.1f}   ({len(values)} draws)")
        print("\ntimelines (K: frame shipped, S: sent by the IOPub thread, "
              "M: message at the page, P: paint)")
        for r in runs[: args.timelines]:
            print("  " + _timeline(r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
