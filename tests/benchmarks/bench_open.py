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


def bench_table(root: Path, images: int) -> None:
    from diffview.run import open_workspace
    from diffview.widgets import Explorer

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


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    p.add_argument("--tiles", type=int, default=400)
    p.add_argument("--images", type=int, default=30_000)
    p.add_argument("--work", type=Path)
    p.add_argument("--sync", action="store_true", help="also time background=False")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = args.work or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        bench_field(root, args.tiles, args.sync)
        bench_table(root, args.images)
    return 0


if __name__ == "__main__":
    sys.exit(main())
