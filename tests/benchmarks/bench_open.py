"""
Dashboard open time, run by hand: ``python tests/benchmarks/bench_open.py``.

1. The 400-tile, ~2,200-pair field with pixels (`fields.write_pixel_field`)
   from a folder without differences or fits: seconds until ``explore``
   returns a usable dashboard (table listed, pair and mosaic views drawn
   once), seconds until its background job has every difference, fit,
   preview and correction, and a Next while it computes. Target: open < 5 s.
   The synchronous load (``background=False``) is timed on a fresh copy
   beside it (``--sync``).
2. A survey table without pixels (`fields.write_survey_table`, 30,000 images
   and ~148,000 pairs, ``fits.tbl`` included): seconds to open the
   dashboard's state (`open_workspace` + `Explorer`, no quality assessment,
   which the background job does) and to rank by a measure.
3. The dashboard on that survey table (``--dashboard``, at 7,500 and at
   ``--images``): seconds to open it once the tables are read, the mosaic's
   full draw, the selection highlight, showing and recolouring the quality
   colouring, the text filter, the process's memory; then a re-solve:
   seconds until the button's callback returns, a Next while it solves, and
   until its result is applied (``--inline`` also times the re-solve run in
   the callback, as before 0.5).

Prints the machine's load beside every figure. Options: ``--tiles N``,
``--images N``, ``--work DIR`` (keeps the generated fields there).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import fields  # noqa: E402


def _load() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def _render(dash) -> None:
    figs = [*dash.pairs.figs.values(), dash.histogram.fig, dash.mosaic.fig]
    for fig in figs:
        fig.canvas.draw()


def bench_field(root: Path, tiles: int, sync: bool) -> None:
    from diffview.widgets import explore

    src = root / "field"
    if not (src / "images.tbl").exists():
        t0 = time.perf_counter()
        f = fields.write_pixel_field(src, tiles)
        print(
            f"{tiles}-tile field, {len(f.pairs)} pairs, written in "
            f"{time.perf_counter() - t0:.1f} s"
        )
    work = root / "open"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(src, work)
    t0 = time.perf_counter()
    dash = explore(work)
    _render(dash)
    opened = time.perf_counter() - t0
    ex = dash.explorer
    print(
        f"explore, background: usable in {opened:.2f} s "
        f"({len(ex.overlaps)} pairs listed, {dash.job.progress.text()}) [{_load()}]"
    )
    time.sleep(2.0)
    t1 = time.perf_counter()
    dash.next()
    _render(dash)
    print(
        f"  Next while computing: {1e3 * (time.perf_counter() - t1):.0f} ms "
        f"server-side with the Agg draw; {dash.job.progress.text()}"
    )
    dash.wait()
    print(
        f"  everything computed {time.perf_counter() - t0:.1f} s after the call: "
        f"{dash.job.progress.text()} [{_load()}]"
    )
    dash.close()
    if sync:
        shutil.rmtree(work)
        shutil.copytree(src, work)
        t0 = time.perf_counter()
        dash = explore(work, background=False)
        _render(dash)
        print(f"explore, synchronous: {time.perf_counter() - t0:.1f} s [{_load()}]")
        dash.close()


def _survey(root: Path, images: int) -> Path:
    src = root / f"survey{images}"
    if not (src / "template.hdr").exists():
        t0 = time.perf_counter()
        s = fields.write_survey_table(src, images)
        hdr = fields._header(s.layout, s.layout.shape, s.layout.crpix)
        (src / "template.hdr").write_text(
            "\n".join(c.image.rstrip() for c in hdr.cards) + "\nEND\n"
        )
        print(
            f"{images}-image survey table written in {time.perf_counter() - t0:.1f} s"
        )
    return src


def bench_table(root: Path, images: int) -> None:
    from diffview.run import open_workspace
    from diffview.widgets import Explorer

    src = _survey(root, images)
    t0 = time.perf_counter()
    ws = open_workspace(src)
    t1 = time.perf_counter()
    ex = Explorer(ws, assess=False)
    t2 = time.perf_counter()
    ex.ranking("rms")
    t3 = time.perf_counter()
    rows = ex.table_rows(0, 50)
    t4 = time.perf_counter()
    print(
        f"{images} images, {len(ws.overlaps)} pairs: open_workspace {t1 - t0:.2f} s, "
        f"Explorer {t2 - t1:.2f} s, rank by rms {1e3 * (t3 - t2):.0f} ms, "
        f"50 table rows {1e3 * (t4 - t3):.1f} ms; worst {rows[0][0]} [{_load()}]"
    )
    bench_sort_filter(ex)


def bench_sort_filter(ex) -> None:
    from diffview.widgets._table import format_rows

    times = {}
    for name, act in [
        ("sort by images", lambda: ex.sort_table("images")),
        ("sort by pixels", lambda: ex.sort_table("npixel")),
        ("filter pixels", lambda: ex.filter_table(min_pixels=100)),
        ("flag a pair", lambda: ex.flag_pair(ex.order[0])),
        ("a page of 12 rows", lambda: format_rows(ex, ex.order[:12])),
    ]:
        t0 = time.perf_counter()
        act()
        times[name] = 1e3 * (time.perf_counter() - t0)
    print("  table: " + ", ".join(f"{k} {v:.0f} ms" for k, v in times.items()))


def _memory() -> str:
    """The process's resident memory now and at its peak (Linux)."""
    fields_ = {}
    with open("/proc/self/status") as f:
        for line in f:
            name, _, value = line.partition(":")
            fields_[name] = value.strip()
    return f"RSS {fields_.get('VmRSS', '?')}, peak {fields_.get('VmHWM', '?')}"


def _ms(func, *args, **kwargs) -> float:
    t0 = time.perf_counter()
    func(*args, **kwargs)
    return 1e3 * (time.perf_counter() - t0)


def bench_dashboard(root: Path, images: int, inline: bool) -> None:
    import statistics

    from diffview.run import open_workspace
    from diffview.widgets import Explorer, explore

    src = _survey(root, images)
    t0 = time.perf_counter()
    ex = Explorer(open_workspace(src), assess=False)
    t1 = time.perf_counter()
    dash = explore(ex)
    t2 = time.perf_counter()
    mosaic = dash.mosaic
    mosaic.fig.canvas.draw()  # a full draw: the highlight blits over it
    t3 = time.perf_counter()
    print(
        f"dashboard, {images} images, {len(ex.overlaps)} pairs: tables read "
        f"{t1 - t0:.2f} s, explore {t2 - t1:.2f} s, mosaic draw {t3 - t2:.2f} s; "
        f"{_memory()} [{_load()}]"
    )
    picks = [ex.order[k] for k in range(1, 6)]
    select = statistics.median(_ms(ex.select, k) for k in picks)
    blit = statistics.median(
        _ms(mosaic.show_selected, ex.pair_outlines(k)) for k in picks
    )
    show = _ms(lambda: (mosaic.set_quality_visible(True), mosaic.fig.canvas.draw()))
    recolour = _ms(lambda: (ex.ranking("rms"), mosaic.fig.canvas.draw()))
    first = _ms(ex.filter_table, text="pair 12")
    again = statistics.median(
        _ms(ex.filter_table, text=t) for t in ("suspect", "ok", "1 - 2")
    )
    ex.filter_table(text="")
    mosaic.set_quality_visible(False)
    print(
        f"  select {select:.0f} ms (mosaic highlight {blit:.1f} ms), colouring "
        f"shown + drawn {show:.0f} ms, recoloured + drawn {recolour:.0f} ms, "
        f"text filter {first:.0f} ms first, {again:.0f} ms after [{_load()}]"
    )
    bench_resolve(dash, inline)
    dash.close()


def bench_resolve(dash, inline: bool) -> None:
    import statistics

    ex = dash.explorer
    ex.flag_pair(ex.order[0], "bench")
    t0 = time.perf_counter()
    dash.resolve()
    started = time.perf_counter() - t0
    job = ex.resolve_job
    time.sleep(1.0)
    nexts = [_ms(dash.next) for _ in range(5)]
    during = job is not None and not job.finished
    dash.wait_resolve()
    total = time.perf_counter() - t0
    print(
        f"  re-solve: callback returns in {1e3 * started:.0f} ms, Next "
        f"{statistics.median(nexts):.0f} ms (median of 5, max {max(nexts):.0f}; "
        f"{'while solving' if during else 'AFTER the solve'}), applied after "
        f"{total:.1f} s: {dash.resolve_view.label.value} [{_load()}]"
    )
    if inline:
        t0 = time.perf_counter()
        ex.resolve("direct")
        print(
            f"  re-solve in the callback (as before): {time.perf_counter() - t0:.1f}"
            f" s, the kernel busy throughout [{_load()}]"
        )


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    p.add_argument("--tiles", type=int, default=400)
    p.add_argument("--images", type=int, default=30_000)
    p.add_argument("--work", type=Path)
    p.add_argument("--sync", action="store_true", help="also time background=False")
    p.add_argument("--dashboard", action="store_true", help="only part 3")
    p.add_argument("--inline", action="store_true", help="time the old re-solve")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = args.work or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        if args.dashboard:
            for n in sorted({7_500, args.images}):
                bench_dashboard(root, n, args.inline)
            return 0
        bench_field(root, args.tiles, args.sync)
        bench_table(root, args.images)
    return 0


if __name__ == "__main__":
    sys.exit(main())
