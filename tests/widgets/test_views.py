"""The pair panels' view history and the display ranges of partly covered pixels."""

from __future__ import annotations

import os

import numpy as np
import pytest
from astropy.io import fits

from diffview.sample import write_sample
from diffview.widgets import Dashboard


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return write_sample(tmp_path_factory.mktemp("views"), "small")


def _limits(ax):
    x0, x1 = sorted(ax.get_xlim())
    y0, y1 = sorted(ax.get_ylim())
    return x0, x1, y0, y1


def _intersects(a, b):
    return a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]


def test_home_shows_the_current_pair_whole(sample):
    dash = Dashboard(sample)
    try:
        ex, panels = dash.explorer, dash.pairs
        toolbar = panels.toolbar
        first = ex.selected
        ax = panels.axes["difference"]
        # a zoom as the toolbar makes it: the view before and after on the stack
        toolbar.push_current()
        x0, x1, y0, y1 = _limits(ax)
        ax.set_xlim(x0, x0 + (x1 - x0) / 4)
        ax.set_ylim(y0, y0 + (y1 - y0) / 4)
        toolbar.push_current()
        # another pair whose box does not hold the first one's
        boxes = ex.ws.boxes
        other = next(
            k
            for k in ex.order
            if k != first
            and not _intersects(
                tuple(np.array(boxes[k])[::-1].ravel()),
                tuple(np.array(boxes[first])[::-1].ravel()),
            )
        )
        dash.select(other)
        toolbar.home()
        image = panels.images["difference"]
        extent = tuple(image.get_extent())
        (j0, j1), (i0, i1) = ex.pair_view().bounds
        whole = (i0 - 0.5, i1 - 0.5, j0 - 0.5, j1 - 0.5)
        for name, a in panels.axes.items():
            lim = _limits(a)
            assert lim[0] <= whole[0] + 1e-9 and lim[1] >= whole[1] - 1e-9, name
            assert lim[2] <= whole[2] + 1e-9 and lim[3] >= whole[3] - 1e-9, name
            assert _intersects(lim, extent), name
        assert extent == pytest.approx(whole)
        # the histogram's Home is this pair's window too
        hist = dash.histogram
        window = hist.ax.get_xlim()
        hist.ax.set_xlim(window[0], window[0] + 1e-3)
        hist.fig.canvas.toolbar.push_current()
        hist.fig.canvas.toolbar.home()
        assert hist.ax.get_xlim() == pytest.approx(window)
        # Home again, and back after a zoom on this pair
        ax.set_xlim(whole[0], whole[0] + 2)
        toolbar.push_current()
        toolbar.home()
        assert _limits(ax)[:2] == pytest.approx(whole[:2], abs=1e-9)
    finally:
        dash.close()


def _framed_difference(shape, rng):
    """Interior ~0.002 +- 0.001; a 1-pixel frame ~1000 times larger."""
    diff = rng.normal(0.002, 0.001, shape)
    frame = np.ones(shape, bool)
    frame[1:-1, 1:-1] = False
    diff[frame] = rng.uniform(-2.0, 5.0, frame.sum())
    area = np.full(shape, 2 * 4.7e-11)  # two full pixels, steradians
    area[frame] = rng.uniform(0.7, 1.9, frame.sum()) * 4.7e-11
    return diff, area, frame


def test_partly_covered_frame_does_not_set_the_display_range(tmp_path):
    s = write_sample(tmp_path, "small")
    dash = Dashboard(s)
    try:
        ex = dash.explorer
        index = ex.order[0]
        path = ex.ws.diff_path(ex.ws.overlaps[index])
        with fits.open(path) as hdul:
            header, shape = hdul[0].header.copy(), hdul[0].data.shape
        diff, area, frame = _framed_difference(shape, np.random.default_rng(3))
        fits.writeto(path, diff, header, overwrite=True)
        fits.writeto(path.replace(".fits", "_area.fits"), area, header, overwrite=True)
        ex._pairs.clear()  # read the new files
        ex._stretches.clear()
        inner, edge = diff[~frame], diff
        dash.select(index)
        dash.mode.value, dash.vmin.value, dash.vmax.value = "linear", "min", "max"
        assert ex.stretch.partial is False
        st = ex.panel_stretch("difference")
        assert (st.vmin, st.vmax) == pytest.approx((inner.min(), inner.max()))
        norm = dash.pairs.images["difference"].norm
        assert (norm.vmin, norm.vmax) == pytest.approx((inner.min(), inner.max()))
        h = dash.histogram
        lo, hi = h.ax.get_xlim()  # the interior and the fitted level, padded
        level = ex.pair_view().level
        lo0, hi0 = min(inner.min(), level), max(inner.max(), level)
        pad = 0.05 * (hi0 - lo0)
        assert lo0 - pad <= lo and hi <= hi0 + pad
        assert h.hi.get_xdata()[0] == pytest.approx(inner.max())
        assert h.steps.get_data().values.sum() == inner.size
        # the residual panel follows: its range comes from the interior too
        res = ex.pair_view().residual
        rs = ex.panel_stretch("residual")
        assert rs.vmax == pytest.approx(np.nanmax(np.where(frame, np.nan, res)))
        # the files are untouched
        assert np.array_equal(fits.getdata(path), diff)

        dash.partial.value = True  # the toggle: the frame sets the ranges
        assert ex.stretch.partial is True
        st = ex.panel_stretch("difference")
        assert (st.vmin, st.vmax) == pytest.approx((edge.min(), edge.max()))
        assert h.lo.get_xdata()[0] == pytest.approx(edge.min())
        assert h.hi.get_xdata()[0] == pytest.approx(edge.max())
        assert h.steps.get_data().values.sum() == edge.size

        # without an area file the frame is found by erosion
        os.remove(path.replace(".fits", "_area.fits"))
        ex._pairs.clear()
        ex._stretches.clear()
        dash.partial.value = False
        st = ex.panel_stretch("difference")
        assert (st.vmin, st.vmax) == pytest.approx((inner.min(), inner.max()))
    finally:
        dash.close()


def _square(x0, y0, size):
    return np.array(
        [[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]],
        float,
    )


def _screen(view):
    return np.asarray(view.fig.canvas.buffer_rgba()).copy()


def test_selection_after_an_export_leaves_every_outline_on_screen():
    """The toolbar's Download (a savefig at its own dpi), then Next: the blit
    must not restore the export's pixels (issue #15, bug 2)."""
    import io

    from diffview.widgets._mosaic import MosaicView

    outlines = [_square(10 * i, 10 * i, 30) for i in range(6)]
    view = MosaicView()
    view.fig.canvas.draw_idle = view.fig.canvas.draw  # as the browser answers it
    view.load(None, outlines)
    view.ax.set_xlim(-5, 90)
    view.ax.set_ylim(-5, 90)
    view.fig.canvas.draw()
    view.show_selected(outlines[:2])
    view.fig.savefig(io.BytesIO(), format="png", dpi=40)
    view.show_selected(outlines[2:4])  # Next
    view.show_selected(outlines[4:6])  # Next again, blitted
    after = _screen(view)
    view.fig.canvas.draw()  # reference: a full draw with that selection
    view.show_selected(outlines[4:6])
    reference = _screen(view)
    view.fig.canvas.close()
    assert after.shape == reference.shape
    assert not (after != reference).any(-1).sum()
