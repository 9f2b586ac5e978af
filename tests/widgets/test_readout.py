"""The hover readout: every pair panel at once, and the mosaic's coverage."""

from __future__ import annotations

import re

import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from matplotlib.backend_bases import MouseEvent

from diffview.sample import write_sample
from diffview.widgets import Dashboard
from diffview.widgets._model import PANELS


@pytest.fixture(scope="module")
def dash(tmp_path_factory):
    d = Dashboard(write_sample(tmp_path_factory.mktemp("readout"), "small"))
    yield d
    d.close()


def _hover(fig, ax, x, y) -> None:
    """A real motion event at data (x, y) of ``ax``, through the canvas's callbacks."""
    fig.canvas.draw()
    px, py = ax.transData.transform((x, y))
    ev = MouseEvent("motion_notify_event", fig.canvas, px, py)
    fig.canvas.callbacks.process("motion_notify_event", ev)


def _cells(text: str, row: str) -> list[str]:
    line = re.search(f"<tr><th[^>]*>{row}</th>(.*?)</tr>", text).group(1)
    return re.findall(r"<td[^>]*>(.*?)</td>", line)


@pytest.mark.parametrize("panel", ["minus", "residual"])
def test_hovering_one_panel_reads_all_four(dash, panel):
    ex = dash.explorer
    ex.select(ex.order[1])
    view = ex.pair_view()
    (j0, _), (i0, _) = view.bounds
    r, c = 3, 4
    x, y = i0 + c, j0 + r
    _hover(dash.pairs.figs[panel], dash.pairs.axes[panel], x, y)
    text = dash.readout.value
    values = _cells(text, "value=")
    assert values == [f"{view.panel(n)[r, c]:.6g}" for n in PANELS]
    assert np.isfinite([view.panel(n)[r, c] for n in PANELS]).all()
    # each panel's own file pixel: the projected images' and the difference's
    c1, c2 = ex.key(view.index)
    (p0, q0), (m0, n0) = ex.ws.image_offset(c1), ex.ws.image_offset(c2)
    assert _cells(text, "file pixel") == [
        f"x={x - p0} y={y - q0}",
        f"x={x - m0} y={y - n0}",
        f"x={c} y={r}",
        f"x={c} y={r}",
    ]
    assert f"template x={x} y={y}" in text
    # the hovered panel is the highlighted column
    assert re.search(f'<th style="[^"]*">{panel}</th>', text)
    ra, dec = (float(v) for v in ex.ws.wcs.pixel_to_world_values(x, y))
    hms = SkyCoord(ra, dec, unit="deg").to_string("hmsdms", sep=":", precision=2)
    dms = SkyCoord(ra, dec, unit="deg").to_string("hmsdms", sep=":", precision=1)
    assert f"RA {hms.split()[0]} Dec {dms.split()[1]}" in text
    assert f"RA={ra:.6f} Dec={dec:+.6f} deg" in text


def test_hovering_the_mosaic_names_what_covers_the_point(dash):
    ex = dash.explorer
    view = ex.pair_view(ex.order[0])
    (j0, j1), (i0, i1) = view.bounds
    x, y = (i0 + i1) // 2, (j0 + j1) // 2
    _hover(dash.mosaic.fig, dash.mosaic.ax, x, y)
    text = dash.readout.value
    images = []
    for cntr in ex.ws.geometry.cntr:
        (ioff, joff), (rows, cols) = ex.ws.image_offset(cntr), ex.ws.image_shape(cntr)
        if ioff <= x < ioff + cols and joff <= y < joff + rows:
            images.append(int(cntr))
    pairs = [
        ex.key(k)
        for k, b in enumerate(ex.ws.boxes)
        if b is not None and b[1][0] <= x < b[1][1] and b[0][0] <= y < b[0][1]
    ]
    assert len(images) >= 2 and ex.key(view.index) in pairs
    names = ", ".join(str(c) for c in images)
    assert f"images ({len(images)}): {names};" in text
    assert f"pairs ({len(pairs)}): " + ", ".join(f"{a}-{b}" for a, b in pairs) in text
    assert f"template x={x} y={y}" in text
    ra, dec = (float(v) for v in ex.ws.wcs.pixel_to_world_values(x, y))
    hms = SkyCoord(ra, dec, unit="deg").to_string("hmsdms", sep=":", precision=2)
    assert f"RA {hms.split()[0]}" in text and f"RA={ra:.6f}" in text
    pre = ex.ws.preview  # not zoomed: the block-averaged preview is shown
    row = int((y - pre.extent[2]) // pre.factor)
    col = int((x - pre.extent[0]) // pre.factor)
    assert f"value={pre.array[row, col]:.6g}" in text


def test_hover_draws_nothing(dash):
    ex = dash.explorer
    (j0, _), (i0, _) = ex.pair_view().bounds
    fig = dash.pairs.figs["difference"]
    fig.canvas.draw()
    draws = {n: dash.pairs.figs[n].canvas.draws for n in PANELS}
    computed = dash.sky_axes.ticks.computed
    ev = MouseEvent(
        "motion_notify_event",
        fig.canvas,
        *dash.pairs.axes["difference"].transData.transform((i0 + 1, j0 + 1)),
    )
    fig.canvas.callbacks.process("motion_notify_event", ev)
    assert {n: dash.pairs.figs[n].canvas.draws for n in PANELS} == draws
    assert dash.sky_axes.ticks.computed == computed


def test_hover_sends_no_toolbar_message(dash):
    """The readout is the hover's one update: matplotlib's toolbar no longer
    formats the pointer's coordinates for ipympl's hidden footer (a kernel
    message and a page update on every move)."""
    sent = []
    canvases = [dash.pairs.figs[n].canvas for n in PANELS] + [dash.mosaic.fig.canvas]
    for canvas in canvases:
        canvas.send_event = lambda kind, _sent=sent, **kw: _sent.append(kind)
    try:
        view = dash.explorer.pair_view()
        (j0, _), (i0, _) = view.bounds
        before = dash.readout.value
        for name in PANELS:
            _hover(dash.pairs.figs[name], dash.pairs.axes[name], i0 + 1, j0 + 1)
        _hover(dash.mosaic.fig, dash.mosaic.ax, i0 + 2, j0 + 2)
        assert dash.readout.value != before  # the readout did follow
        assert "message" not in sent, sent
        assert all(c._message == "" for c in canvases)
    finally:
        for canvas in canvases:
            del canvas.send_event
