"""The Explorer's read-ahead: the pair Next goes to is read while idle."""

from __future__ import annotations

import numpy as np

from diffview.sample import write_sample
from diffview.widgets._controller import Explorer


def test_prefetch_reads_the_next_pair_and_its_stretches(tmp_path):
    ex = Explorer(write_sample(tmp_path, "small"))
    ex.select(ex.order[0])
    nxt = ex.order[1]
    assert nxt not in ex._pairs
    assert ex.prefetch() == nxt
    assert nxt in ex._pairs and ex.selected == ex.order[0]  # nothing selected
    cached = dict(ex._stretches)
    ex.step(+1)
    for panel in ("plus", "minus", "difference", "residual"):
        stretch = ex.panel_stretch(panel)  # found, not computed again
        assert any(stretch is s for s in cached.values())
    view = ex.pair_view()
    both = np.concatenate([view.plus.ravel(), view.minus.ravel()])
    assert ex.panel_stretch("plus").vmax <= np.nanmax(both)
    assert dict(ex._stretches).keys() == cached.keys()
