"""
Dashboard speed, run by hand: ``python tests/benchmarks/bench_widgets.py``.

1. Select -> redraw on the ``m17`` sample: server-side time from selecting a
   pair (``Dashboard.select``) to every view updated **and rendered** (the
   Agg draw and PNG of each pair panel, the colour bar and the histogram, and
   the mosaic's blitted frame: what the kernel sends the browser). Target:
   median < 100 ms.
   Memory is measured over repeated visits of every pair (must not grow).
2. Mosaic view of a 5k x 5k mosaic: building the block-averaged preview once,
   and redrawing the view (new selection outlines; a new stretch).
   Target: redraw < 300 ms.

Options: ``--work DIR`` reuses (or creates) the m17 work folder there;
``--rounds N`` visits of every pair.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
from astropy.io import fits

from diffview.run._preview import _preview, _strip_average, preview_factor
from diffview.widgets import DisplaySettings, explore
from diffview.widgets._mosaic import MosaicView


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:7.1f} ms"


def _canvases(dash) -> list:
    return [*dash.pairs.canvases, dash.histogram.fig.canvas, dash.mosaic.fig.canvas]


def _render(dash) -> None:
    """Ship what waits. Without an event loop (this script) the dashboard's
    canvases render and encode their frames inside the action already."""
    for canvas in _canvases(dash):
        canvas.flush()


def _summary(name: str, times: list[float]) -> None:
    times = sorted(times)
    p90 = times[int(0.9 * (len(times) - 1))]
    print(
        f"{name:<44} median {_ms(statistics.median(times))}  p90 {_ms(p90)}  "
        f"max {_ms(times[-1])}  (n={len(times)})"
    )


def bench_select(work: Path, rounds: int) -> None:
    if not (work / "images.tbl").exists():
        from diffview.sample.datasets import write_sample

        t0 = time.perf_counter()
        write_sample(work, "m17")
        print(f"m17 sample written in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    dash = explore(work, background=False)
    if dash.error_text:
        raise SystemExit(dash.error_text)
    for canvas in _canvases(dash):
        # as once a browser has the widget: no PNG copy kept for static export
        canvas.syncing_data_url = False
    _render(dash)
    dash.mosaic.fig.canvas.draw()
    ex = dash.explorer
    print(
        f"explore(m17): {len(ex.overlaps)} pairs, {len(ex.ws.fits)} fits, "
        f"loaded and first drawn in {time.perf_counter() - t0:.2f} s"
    )
    order = list(ex.order)
    update, total, cpu = [], [], []
    for _ in range(rounds):
        for k in order:
            c0, t0 = time.process_time(), time.perf_counter()
            dash.select(k)
            t1 = time.perf_counter()
            _render(dash)
            t2, c2 = time.perf_counter(), time.process_time()
            update.append(t1 - t0)
            total.append(t2 - t0)
            cpu.append(c2 - c0)
    _summary("select -> views updated, rendered, PNG", update)
    _summary("  the same, with anything left shipped", total)
    _summary("  the same, CPU time of this process", cpu)
    tracemalloc.start()
    for k in order:
        dash.select(k)
        _render(dash)
    start = tracemalloc.get_traced_memory()[0]
    for _ in range(2):
        for k in order:
            dash.select(k)
            _render(dash)
    grown = tracemalloc.get_traced_memory()[0] - start
    tracemalloc.stop()
    print(
        f"memory growth over {2 * len(order)} more visits: {grown / 1e3:.1f} kB "
        f"({grown / (2 * len(order)):.0f} B per visit)"
    )
    assert not dash.error_text, dash.error_text
    dash.close()


def _big_mosaic(root: Path, n: int) -> tuple[Path, np.ndarray]:
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32)
    data = (
        100
        + 50 * np.exp(-((xx - n / 2) ** 2 + (yy - n / 2) ** 2) / (n / 4) ** 2)
        + rng.normal(0, 2, (n, n)).astype(np.float32)
    )
    h = fits.Header()
    h["CTYPE1"], h["CTYPE2"] = "RA---TAN", "DEC--TAN"
    h["CRVAL1"], h["CRVAL2"] = 275.1, -16.2
    h["CRPIX1"], h["CRPIX2"] = n / 2, n / 2
    h["CDELT1"], h["CDELT2"] = -2.8e-4, 2.8e-4
    path = root / "mosaic5k.fits"
    fits.PrimaryHDU(data.astype(np.float32), h).writeto(path)
    # outlines of a 20 x 20 grid of tiles
    step = n / 20
    outlines = [
        np.array(
            [[i, j], [i + step, j], [i + step, j + step], [i, j + step], [i, j]], float
        )
        - 0.5
        for i in np.arange(0, n, step)
        for j in np.arange(0, n, step)
    ]
    return path, outlines


def bench_mosaic(n: int = 5000, repeat: int = 7) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path, outlines = _big_mosaic(Path(tmp), n)
        t0 = time.perf_counter()
        factor = preview_factor((n, n))
        preview = _preview(_strip_average(path, (n, n), factor), factor, 0, 0)
        t_prev = time.perf_counter() - t0
        view = MosaicView()
        view.fig.canvas.syncing_data_url = False
        t0 = time.perf_counter()
        view.load(preview, outlines)
        view.fig.canvas.draw()
        t_load = time.perf_counter() - t0
        sel, stretch = [], []
        for k in range(repeat):
            t0 = time.perf_counter()
            view.show_selected(outlines[k : k + 2] + [outlines[k + 5]])  # blits
            sel.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            view.load(
                preview,
                outlines,
                DisplaySettings(
                    mode="gaussian-log" if k % 2 else "linear", vmin="-2s", vmax="max"
                ),
            )
            view.fig.canvas.draw()
            stretch.append(time.perf_counter() - t0)
        print(
            f"{n}x{n} mosaic: preview {preview.array.shape} (factor {factor}) "
            f"built in {t_prev:.2f} s; first load + draw {_ms(t_load)}"
        )
        _summary(f"{n}x{n} mosaic redraw, new selection", sel)
        _summary(f"{n}x{n} mosaic redraw, new stretch", stretch)
        view.fig.canvas.close()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    p.add_argument("--work", type=Path, help="m17 work folder (created if empty)")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--mosaic-size", type=int, default=5000)
    args = p.parse_args(argv)
    if args.work is None:
        with tempfile.TemporaryDirectory() as tmp:
            bench_select(Path(tmp) / "m17", args.rounds)
    else:
        args.work.mkdir(parents=True, exist_ok=True)
        bench_select(args.work, args.rounds)
    bench_mosaic(args.mosaic_size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
