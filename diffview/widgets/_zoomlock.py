"""
What a zoom into the pair panels becomes on the next pair: reset, or locked.

By default a new pair is shown whole (its own Home, `reset_history`). With
the lock on, a zoom the user made carries over: ``sky`` keeps the same
template pixels (the same region of sky: the panels' axes are template
pixels), ``relative`` the same part of the pair's box (the upper-left
quarter stays the upper-left quarter). A locked sky region the next pair
does not reach shows that pair whole. Home still shows the pair whole.

`ZoomLock` watches the plus panel's limits: a change made while the
panels draw a new pair is not the user's, every other one is.
"""

from __future__ import annotations

import ipywidgets as W

__all__ = ["ZoomLock", "LOCKS", "carry_limits"]

#: Lock mode -> label.
LOCKS = {
    "off": "new pair: shown whole",
    "sky": "new pair: same sky region",
    "relative": "new pair: same part of the pair",
}


def _extent(bounds) -> tuple:
    (j0, j1), (i0, i1) = bounds
    return (i0 - 0.5, i1 - 0.5, j0 - 0.5, j1 - 0.5)


def _zoomed(limits, extent, tol: float = 1e-6) -> bool:
    x0, x1, y0, y1 = limits
    return (x1 - x0) < (extent[1] - extent[0]) - tol or (y1 - y0) < (
        extent[3] - extent[2]
    ) - tol


def carry_limits(mode: str, limits, old_extent, new_extent):
    """
    Work out the limits a zoom becomes on the next pair.

    Parameters
    ----------
    mode : {'off', 'sky', 'relative'}
        See `LOCKS`.
    limits : tuple of float
        ``(left, right, bottom, top)`` shown on the last pair.
    old_extent, new_extent : tuple of float
        The two pairs' boxes, same order.

    Returns
    -------
    tuple of float or None
        None: show the new pair whole (lock off, no zoom on the last pair,
        or a sky region the new pair does not reach).

    Examples
    --------
    >>> carry_limits("relative", (0, 5, 0, 5), (0, 10, 0, 10), (100, 120, 0, 40))
    (100.0, 110.0, 0.0, 20.0)
    >>> carry_limits("sky", (0, 5, 0, 5), (0, 10, 0, 10), (2, 12, 2, 12))
    (0.0, 5.0, 0.0, 5.0)
    >>> carry_limits("sky", (0, 5, 0, 5), (0, 10, 0, 10), (50, 60, 50, 60)) is None
    True
    """
    if mode == "off" or not _zoomed(limits, old_extent):
        return None
    if mode == "sky":
        x0, x1, y0, y1 = new_extent
        if limits[1] <= x0 or limits[0] >= x1 or limits[3] <= y0 or limits[2] >= y1:
            return None
        return tuple(float(v) for v in limits)
    out = []
    for k in (0, 2):
        a0, a1 = old_extent[k], old_extent[k + 1]
        b0, b1 = new_extent[k], new_extent[k + 1]
        for v in limits[k : k + 2]:
            out.append(float(b0 + (v - a0) / (a1 - a0) * (b1 - b0)))
    return tuple(out)


class ZoomLock:
    """
    Keep or reset the pair panels' zoom on a new pair (an `Explorer` view).

    Subscribed after the pair panels (which show the new pair whole).

    Parameters
    ----------
    panels : PairPanels
        The panels whose zoom is carried over.

    Attributes
    ----------
    mode : ipywidgets.Dropdown
        A key of `LOCKS` (default ``'off'``; CSS class ``dv-zoom-lock``).
    widget : ipywidgets.Widget
        To lay out.

    Examples
    --------
    >>> import numpy as np
    >>> from diffview.widgets import DisplaySettings, PairView
    >>> from diffview.widgets._views import PairPanels
    >>> a = np.zeros((10, 10))
    >>> panels = PairPanels()
    >>> lock = ZoomLock(panels)
    >>> lock.mode.value = "relative"
    >>> panels.show(PairView(0, a, a, a, a, a > 0, ((0, 10), (0, 10)), None),
    ...             DisplaySettings(mode="linear"))
    >>> panels.axes["plus"].set_xlim(-0.5, 4.5)   # the user zooms
    (-0.5, 4.5)
    >>> panels.show(PairView(1, a, a, a, a, a > 0, ((0, 10), (20, 30)), None),
    ...             DisplaySettings(mode="linear"))
    >>> lock.render(None, frozenset({"selection"}))
    >>> [float(v) for v in panels.axes["plus"].get_xlim()]
    [19.5, 24.5]
    >>> panels.close()
    """

    def __init__(self, panels):
        self.panels = panels
        self.mode = W.Dropdown(
            options=[(label, key) for key, label in LOCKS.items()],
            value="off",
            description="zoom lock",
            layout=W.Layout(width="320px"),
        )
        self.mode.add_class("dv-zoom-lock")
        self.widget = self.mode
        self._zoom = None  # (limits, extent) of the user's last zoom or pan
        ax = panels.axes["plus"]
        ax.callbacks.connect("xlim_changed", self._on_limits)
        ax.callbacks.connect("ylim_changed", self._on_limits)

    def _limits(self) -> tuple:
        ax = self.panels.axes["plus"]
        return (*sorted(ax.get_xlim()), *sorted(ax.get_ylim()))

    def _on_limits(self, ax) -> None:
        """Keep the user's zoom or pan (not the panels' own change to a pair)."""
        panels = self.panels
        if panels._updating or panels.view is None:
            return
        self._zoom = (self._limits(), _extent(panels.view.bounds))

    def render(self, explorer, changes) -> None:
        """
        Carry the last zoom over to a new pair, as the lock says.

        Parameters
        ----------
        explorer : Explorer or None
            Unused (the panels hold the pair).
        changes : frozenset of str
            What changed; acts on a new selection.
        """
        zoom, panels = self._zoom, self.panels
        if "selection" not in changes or panels.view is None:
            return
        self._zoom = None
        if zoom is None or self.mode.value == "off":
            return
        new = carry_limits(
            self.mode.value, zoom[0], zoom[1], _extent(panels.view.bounds)
        )
        if new is not None:
            self.apply(new)

    def apply(self, limits) -> None:
        """
        Show ``(left, right, bottom, top)`` in every panel, in one redraw.

        Home (the toolbar) still shows the whole pair; Back, the pair whole.

        Parameters
        ----------
        limits : tuple of float
            Template pixels.
        """
        panels = self.panels
        ax = panels.axes["plus"]
        panels._updating = True
        try:
            ax.set_xlim(limits[0], limits[1])
            ax.set_ylim(limits[2], limits[3])
        finally:
            panels._updating = False
        panels._on_limits(ax)  # the visible pixels, re-cut once
        self._zoom = (self._limits(), _extent(panels.view.bounds))
        panels.toolbar.push_current()
        for canvas in panels.canvases:
            canvas.draw_idle()
