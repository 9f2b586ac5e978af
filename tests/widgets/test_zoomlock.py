"""The pair panels' zoom on the next pair: reset by default, or locked."""

from __future__ import annotations

import numpy as np
import pytest

from diffview.widgets import Dashboard


@pytest.fixture
def dash(dense_sample):
    d = Dashboard(dense_sample)
    yield d
    d.close()


def _limits(ax):
    return (*sorted(ax.get_xlim()), *sorted(ax.get_ylim()))


def _whole(ex):
    (j0, j1), (i0, i1) = ex.pair_view().bounds
    return (i0 - 0.5, i1 - 0.5, j0 - 0.5, j1 - 0.5)


def _zoom(dash, limits):
    """Zoom as the toolbar does: limits set, then pushed on its history."""
    ax = dash.pairs.axes["plus"]
    ax.set_xlim(limits[0], limits[1])
    ax.set_ylim(limits[2], limits[3])
    dash.pairs.toolbar.push_current()


def _box(ex, k):
    (j0, j1), (i0, i1) = ex.ws.boxes[k]
    return (i0 - 0.5, i1 - 0.5, j0 - 0.5, j1 - 0.5)


def _meeting_pairs(ex):
    """Two pairs whose boxes share a region (a 3x3 pixel patch at least)."""
    for a in ex.order:
        for b in ex.order:
            if a == b or ex.ws.boxes[a] is None or ex.ws.boxes[b] is None:
                continue
            p, q = _box(ex, a), _box(ex, b)
            x0, x1 = max(p[0], q[0]), min(p[1], q[1])
            y0, y1 = max(p[2], q[2]), min(p[3], q[3])
            if x1 - x0 >= 6 and y1 - y0 >= 6:
                return a, b, (x0 + 1, x0 + 4, y0 + 1, y0 + 4)
    raise AssertionError("no two pairs share a region")


def _shown(dash):
    """The pixels actually drawn re-cut to the limits: their extent."""
    x0, x1, y0, y1 = dash.pairs.images["difference"].get_extent()
    return (min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1))


def test_default_next_pair_is_shown_whole(dash):
    ex = dash.explorer
    assert dash.zoom_lock.mode.value == "off"
    w = _whole(ex)
    _zoom(dash, (w[0], w[0] + 5, w[2], w[2] + 5))
    dash.next()
    assert _limits(dash.pairs.axes["plus"]) == pytest.approx(_whole(ex))


def test_sky_lock_keeps_the_region_then_home_shows_the_pair(dash):
    ex = dash.explorer
    a, b, region = _meeting_pairs(ex)
    dash.zoom_lock.mode.value = "sky"
    dash.select(a)
    _zoom(dash, region)
    dash.select(b)
    for name, ax in dash.pairs.axes.items():
        assert _limits(ax) == pytest.approx(region), name
    shown = _shown(dash)
    assert shown[0] <= region[0] and region[1] <= shown[1]
    # locked across several pairs that reach it, and back
    dash.select(a)
    assert _limits(dash.pairs.axes["plus"]) == pytest.approx(region)
    dash.pairs.toolbar.home()  # Home: this pair whole
    assert _limits(dash.pairs.axes["plus"]) == pytest.approx(_whole(ex))
    # not zoomed any more: the next pair is whole too
    dash.select(b)
    assert _limits(dash.pairs.axes["plus"]) == pytest.approx(_whole(ex))


def test_sky_lock_shows_a_pair_that_misses_the_region_whole(dash):
    ex = dash.explorer
    dash.zoom_lock.mode.value = "sky"
    first = ex.selected
    w = _whole(ex)
    region = (w[0], w[0] + 4, w[2], w[2] + 4)
    _zoom(dash, region)
    far = next(
        k
        for k in ex.order
        if ex.ws.boxes[k] is not None
        and (_box(ex, k)[0] >= region[1] or _box(ex, k)[2] >= region[3])
        and k != first
    )
    dash.select(far)
    assert _limits(dash.pairs.axes["plus"]) == pytest.approx(_whole(ex))


def test_relative_lock_keeps_the_same_part_of_each_pair(dash):
    ex = dash.explorer
    dash.zoom_lock.mode.value = "relative"
    w = _whole(ex)
    # the upper-left quarter
    quarter = (w[0], (w[0] + w[1]) / 2, (w[2] + w[3]) / 2, w[3])
    _zoom(dash, quarter)
    for _ in range(3):
        dash.next()
        n = _whole(ex)
        want = (n[0], (n[0] + n[1]) / 2, (n[2] + n[3]) / 2, n[3])
        assert _limits(dash.pairs.axes["plus"]) == pytest.approx(want)
        assert np.isfinite(_shown(dash)).all()
    dash.zoom_lock.mode.value = "off"
    dash.next()
    assert _limits(dash.pairs.axes["plus"]) == pytest.approx(_whole(ex))
