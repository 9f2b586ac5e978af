"""The rejected-pixel and blank-pixel markers under every colour table."""

from __future__ import annotations

import numpy as np

from diffview.render import TABLE_NAMES, color_table
from diffview.widgets import DisplaySettings, PairView
from diffview.widgets._views import PairPanels


def _nearest(rgba, ct):
    table = color_table(ct).astype(float)
    rgb = np.asarray(rgba, float)[:3] * 255.0
    return float(np.sqrt(((table - rgb) ** 2).sum(1)).min())


def test_markers_contrast_with_every_colour_table_offered():
    rng = np.random.default_rng(5)
    data = rng.normal(0.0, 1.0, (30, 40))
    data[0, :5] = np.nan  # uncovered
    clipped = np.zeros(data.shape, bool)
    clipped[10:12, 10:14] = True
    view = PairView(0, data, data, data, data, clipped, ((5, 35), (7, 47)), None)
    panels = PairPanels()
    try:
        assert set(TABLE_NAMES) == set(range(13))  # what the dashboard offers
        for ct in TABLE_NAMES:
            panels.show(view, DisplaySettings(mode="linear", vmin="min", ct=ct))
            rgba = np.asarray(panels.clip.get_array())
            marked = rgba[clipped]
            assert (marked[:, 3] == 1).all(), ct
            assert (rgba[~clipped][:, 3] == 0).all(), ct
            assert len({tuple(c) for c in marked.tolist()}) == 1, ct
            assert _nearest(marked[0], ct) > 120, ct
            for name, im in panels.images.items():
                bad = im.get_cmap().get_bad()
                assert _nearest(bad, ct) > 120, (ct, name)
                gap = np.abs(np.asarray(bad[:3]) - marked[0, :3]).max()
                assert gap > 0.3, (ct, name)  # blank is not "rejected"
            # what is drawn: the blank pixels of the residual in that colour
            panels.figs["residual"].canvas.draw()
    finally:
        panels.close()
