"""The dashboard's figures are handed to `FrameDrawer` (the page-side path is
tested in a real browser: tests/browser/test_frames_in_browser.py)."""

from __future__ import annotations

import pytest

from diffview.sample import write_sample
from diffview.widgets import Dashboard
from diffview.widgets._frames import FrameDrawer
from diffview.widgets._home import widgets_in


@pytest.fixture(scope="module")
def dash(tmp_path_factory):
    d = Dashboard(write_sample(tmp_path_factory.mktemp("frames"), "small"))
    yield d
    d.close()


def test_every_figure_of_the_dashboard_takes_the_short_path(dash):
    figures = [*dash.pairs.canvases, dash.histogram.fig.canvas, dash.mosaic.fig.canvas]
    assert dash.frames.canvases == [c.model_id for c in figures]
    assert len(set(dash.frames.canvases)) == 6


def test_the_frame_drawer_is_displayed_with_the_dashboard(dash):
    # displayed with the dashboard, so that every front end creates it
    assert dash.frames in widgets_in(dash)
    assert isinstance(dash.frames, FrameDrawer)
