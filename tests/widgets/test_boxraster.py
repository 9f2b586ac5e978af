"""The quality colouring as one picture at the view's resolution (BoxRaster)."""

from __future__ import annotations

import matplotlib

matplotlib.use("agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from diffview.widgets import _mosaic, explore  # noqa: E402
from diffview.widgets._boxraster import BoxRaster, paint_boxes  # noqa: E402


def test_overlaps_show_the_largest_and_nan_is_not_painted():
    edges = np.array([[0.0, 5, 0, 5], [3, 8, 3, 8], [6, 10, 0, 2]])
    ranks = paint_boxes(edges, np.array([2, 0, -1]), (0.0, 10, 0, 10), (10, 10))
    assert ranks[4, 4] == 2  # boxes 0 and 1 overlap: box 0 ranks higher
    assert ranks[7, 7] == 0 and ranks[0, 0] == 2
    assert ranks[1, 8] == -1  # box 2 has no value
    assert (ranks >= 0).sum() == 25 + 25 - 4


def test_a_box_smaller_than_a_pixel_still_shows():
    ranks = paint_boxes(
        np.array([[10.2, 10.4, 50.1, 50.3]]),
        np.array([0]),
        (0.0, 100, 0, 100),
        (10, 10),
    )
    assert (ranks == 0).sum() == 1 and ranks[5, 1] == 0


def test_a_zoom_paints_again_at_the_finer_scale():
    fig, ax = plt.subplots(figsize=(2, 2), dpi=50)
    layer = BoxRaster(ax)
    ax.add_image(layer)
    layer.set_boxes(np.array([[0.0, 1, 0, 1], [1, 2, 0, 1]]))
    layer.set_colors(np.array([[1.0, 0, 0, 1], [0, 0, 1, 1]]), np.array([1.0, 2.0]))
    ax.set_xlim(0, 1000)
    ax.set_ylim(0, 1000)
    fig.canvas.draw()
    coarse = layer.get_array()
    assert coarse.shape[:2] == (round(ax.bbox.height), round(ax.bbox.width))
    assert (coarse[..., 3] > 0).sum() == 1  # both boxes in one pixel: blue
    assert coarse[0, 0].tolist() == [0, 0, 1, 1]
    ax.set_xlim(0, 2)
    ax.set_ylim(0, 2)
    fig.canvas.draw()
    fine = layer.get_array()
    w = fine.shape[1]
    assert fine[0, 0].tolist() == [1, 0, 0, 1] and fine[-1, 0][3] == 0
    assert fine[0, w // 2].tolist() == [0, 0, 1, 1]
    plt.close(fig)


@pytest.fixture
def dash(monkeypatch):
    import tempfile

    from diffview.sample import write_sample

    monkeypatch.setattr(_mosaic, "RASTER_FROM", 1)
    d = explore(write_sample(tempfile.mkdtemp(), "small", quiet=True), background=False)
    yield d
    d.close()


def test_many_boxes_are_coloured_as_one_picture(dash):
    m, ex = dash.mosaic, dash.explorer
    dash.quality_toggle.value = True
    assert m.quality_raster.get_visible() and not m.quality.get_visible()
    assert len(m.quality.get_paths()) == 0  # no polygon made
    m.fig.canvas.draw()
    rgba = m.quality_raster.get_array()
    index, corners = ex.overlap_box_array()
    # a pixel of the box of the largest score shows that score's colour
    scores = ex.measure_values()[index]
    k = int(np.nanargmax(scores))
    (x, y) = corners[k, :4].mean(0)
    px, py = m.ax.transData.transform((x, y)) - m.ax.bbox.p0
    want = m.quality.to_rgba(scores[k], alpha=m.quality.get_alpha())
    np.testing.assert_allclose(rgba[int(py), int(px)], want)
    before = rgba.copy()
    dash.measure.value = "rms"  # a recolour repaints
    m.fig.canvas.draw()
    assert not np.array_equal(m.quality_raster.get_array(), before)
