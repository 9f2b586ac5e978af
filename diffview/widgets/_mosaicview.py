"""
Getting around the mosaic: zoom to the selected pair, follow it, enlarge it.

`MosaicTools` adds to the `MosaicView` a "zoom to pair" button (key ``z``
over the pair panels), a "follow selection" checkbox that zooms to every
pair selected, a "whole mosaic" button and a "large mosaic" toggle that
gives the mosaic the dashboard's whole width, up to the window's height
(`diffview.widgets._layout.figure_sizes`). The toolbar's pan and zoom work
as before; a zoom to the pair is pushed on its history, so Back returns.
"""

from __future__ import annotations

import ipywidgets as W
import numpy as np

from diffview.widgets._textviews import _button

__all__ = ["MosaicTools", "pair_limits", "axes_aspect"]


def axes_aspect(ax) -> float:
    """
    Height over width of the room an Axes is given on its figure, pixels.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        E.g. the mosaic's.

    Returns
    -------
    float

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = Figure(figsize=(4, 2)).add_axes((0, 0, 1, 1))
    >>> axes_aspect(ax)
    0.5
    """
    fig = ax.figure
    pos = ax.get_position(original=True)
    w, h = fig.get_size_inches()
    return float((pos.height * h) / max(pos.width * w, 1e-9))


def pair_limits(outlines, aspect: float = 1.0, margin: float = 0.1) -> tuple:
    """
    Limits that show a pair's outlines whole, with a margin, at an aspect.

    Parameters
    ----------
    outlines : sequence of (N, 2) arrays
        x, y of the pair's image outlines and overlap box.
    aspect : float
        Height over width of the Axes on screen (`axes_aspect`): the
        shorter side is widened so that square pixels fill the Axes.
    margin : float
        Share of the outlines' extent added on each side.

    Returns
    -------
    tuple of float
        ``(left, right, bottom, top)``.

    Examples
    --------
    >>> box = np.array([[0.0, 0], [10, 0], [10, 4], [0, 4], [0, 0]])
    >>> pair_limits([box], aspect=1.0, margin=0.0)
    (0.0, 10.0, -3.0, 7.0)
    """
    xy = np.vstack([np.asarray(o, float).reshape(-1, 2) for o in outlines])
    (x0, y0), (x1, y1) = np.nanmin(xy, 0), np.nanmax(xy, 0)
    w = max(x1 - x0, 1.0) * (1 + 2 * margin)
    h = max(y1 - y0, 1.0) * (1 + 2 * margin)
    if h / w < aspect:
        h = w * aspect
    else:
        w = h / aspect
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return tuple(float(v) for v in (cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2))


class MosaicTools:
    """
    The mosaic's controls: zoom to the pair, follow the selection, enlarge.

    Parameters
    ----------
    mosaic : MosaicView
        The mosaic they act on.

    Attributes
    ----------
    zoom_button, home_button : ipywidgets.Button
        Zoom to the selected pair (CSS class ``dv-zoom-pair``); show the
        whole mosaic (``dv-mosaic-home``).
    follow : ipywidgets.Checkbox
        Zoom to every pair selected (off by default: a zoom redraws the
        whole mosaic, a selection alone is blitted).
    large : ipywidgets.ToggleButton
        The mosaic as large as the dashboard's width and the window allow.
    widget : ipywidgets.HBox
        The controls, to lay out.

    Examples
    --------
    >>> import tempfile
    >>> from diffview.sample import write_sample
    >>> from diffview.widgets import Explorer
    >>> from diffview.widgets._mosaic import MosaicView
    >>> ex = Explorer(write_sample(tempfile.mkdtemp(), "small"))
    >>> view = MosaicView()
    >>> view.render(ex, {"workspace"})
    >>> tools = MosaicTools(view)
    >>> whole = view.ax.get_ylim()  # a tall mosaic: the pair is less tall
    >>> tools.zoom_to_pair(ex)
    >>> y0, y1 = view.ax.get_ylim()
    >>> bool(y1 - y0 < whole[1] - whole[0])
    True
    >>> view.fig.canvas.close()
    """

    def __init__(self, mosaic):
        self.mosaic = mosaic
        self.zoom_button = _button("zoom to pair (z)", "dv-zoom-pair")
        self.home_button = _button("whole mosaic", "dv-mosaic-home")
        self.follow = W.Checkbox(
            value=False, description="follow selection", indent=False
        )
        self.follow.layout.width = "auto"
        self.large = W.ToggleButton(value=False, description="large mosaic")
        self.large.add_class("dv-mosaic-large")
        self.widget = W.HBox(
            [self.zoom_button, self.follow, self.home_button, self.large],
            layout=W.Layout(flex_flow="row wrap"),
        )
        self._explorer = None

    def render(self, explorer, changes) -> None:
        """
        Zoom to a newly selected pair when following (an `Explorer` view).

        Parameters
        ----------
        explorer : Explorer
            The state: the selected pair's outlines.
        changes : frozenset of str
            What changed; only ``selection`` matters, and only while
            ``follow`` is ticked.
        """
        self._explorer = explorer
        if self.follow.value and "selection" in changes:
            if explorer.selected is not None:
                self.zoom_to_pair(explorer)

    def zoom_to_pair(self, explorer) -> None:
        """
        Zoom the mosaic to the selected pair's two images, with a margin.

        The mosaic file is read at the finer resolution of the zoom (as a
        toolbar zoom does); the zoom goes on the toolbar's history.

        Parameters
        ----------
        explorer : Explorer
            The selected pair's outlines (`Explorer.pair_outlines`).
        """
        if explorer.selected is None:
            return
        ax = self.mosaic.ax
        limits = pair_limits(explorer.pair_outlines(), axes_aspect(ax))
        self.set_limits(limits)

    def show_whole(self) -> None:
        """Show the whole mosaic (the preview's extent, else every outline)."""
        preview = self.mosaic.preview
        if preview is not None:
            self.set_limits(tuple(preview.extent))
            return
        segs = self.mosaic.outlines.get_segments()
        if segs:
            self.set_limits(pair_limits(segs, axes_aspect(self.mosaic.ax), 0.02))

    def set_limits(self, limits) -> None:
        """
        Show ``(left, right, bottom, top)`` of the mosaic, in one redraw.

        Parameters
        ----------
        limits : tuple of float
            Template pixels.
        """
        view, ax = self.mosaic, self.mosaic.ax
        toolbar = getattr(view.fig.canvas, "toolbar", None)
        if toolbar is not None and not toolbar._nav_stack():
            toolbar.push_current()  # Home: the view before the first zoom
        view._updating = True  # one read of the mosaic file, not one per axis
        try:
            ax.set_xlim(limits[0], limits[1])
            ax.set_ylim(limits[2], limits[3])
        finally:
            view._updating = False
        view._on_limits(ax)
        if toolbar is not None:
            toolbar.push_current()
        view.fig.canvas.draw_idle()
