"""
The selected pair's histogram, on its own canvas.

The difference's values, its fitted level and the display range.
"""

from __future__ import annotations

import html

import ipywidgets as W
import numpy as np
from matplotlib.ticker import MaxNLocator

from diffview.widgets._axes import fixed_label_positions, reset_history
from diffview.widgets._canvas import new_figure, resize_figure

__all__ = ["CAPTION", "HistogramView", "histogram_window"]

#: Height of the histogram's HTML title, CSS pixels (taken from its figure).
CAPTION = 18


class HistogramView:
    """
    Histogram of the difference with the fitted level and the display range.

    Parameters
    ----------
    figsize : tuple of float
        Figure size, inches.
    bins : int
        Number of bins.

    Attributes
    ----------
    fig, ax : matplotlib Figure and Axes
        The histogram (``fig.canvas`` draws the axes over a kept picture of
        the rest, see `PanelCanvas.layers`).
    title : str
        The fitted level and display range, shown as HTML above the
        histogram (``caption``).
    widget : ipywidgets.VBox
        The caption and the canvas, to lay out.

    Examples
    --------
    >>> h = HistogramView()
    >>> h.show(np.arange(100.0), 40.0, 10.0, 90.0)
    >>> int(h.steps.get_data().values.sum()), float(h.level.get_xdata()[0])
    (100, 40.0)
    >>> h.fig.canvas.close()
    """

    def __init__(self, figsize=(4.2, 2.6), bins: int = 100):
        self.fig = new_figure(figsize)
        self.ax = self.fig.add_axes((0.16, 0.2, 0.8, 0.76))
        self.ax.tick_params(labelsize=7)
        self.ax.xaxis.set_major_locator(MaxNLocator(5))
        # no count labels: the counts say little, and text is most of a draw
        self.ax.yaxis.set_major_locator(MaxNLocator(4))
        self.ax.yaxis.set_ticklabels([])
        # a figure text: part of the picture kept between pairs (layers)
        self.fig.text(
            0.56,
            0.02,
            "difference (red: fitted level, dashed: display range)",
            ha="center",
            va="bottom",
            fontsize=7,
        )
        self.fig.canvas.layers = [self.ax]
        fixed_label_positions(self.ax)
        # the title changes with every pair: HTML, not drawn by matplotlib
        self.title = ""
        self.caption = W.HTML("", layout=W.Layout(height=f"{CAPTION}px"))
        self.caption.add_class("dv-histogram-title")
        self.widget = W.VBox([self.caption, self.fig.canvas])
        self.bins = bins
        self.steps = self.ax.stairs(
            np.zeros(1), np.array([0.0, 1.0]), fill=True, color="0.6"
        )
        self.level = self.ax.axvline(0.0, color="red", lw=1.5, label="fit level")
        self.lo = self.ax.axvline(0.0, color="k", lw=1, ls="--", label="display range")
        self.hi = self.ax.axvline(1.0, color="k", lw=1, ls="--")

    def fit_width(self, width: int, height: int) -> bool:
        """
        Size the caption and the figure to a box (CSS pixels).

        Parameters
        ----------
        width, height : int
            The room given (`diffview.widgets._layout.figure_sizes`); the
            figure leaves `CAPTION` pixels of it to the HTML title.

        Returns
        -------
        bool
            True when the figure changed size.

        Examples
        --------
        >>> h = HistogramView()
        >>> h.fit_width(340, 210), h.fit_width(340, 210)
        (True, False)
        >>> h.fig.canvas.close()
        """
        return resize_figure(self.fig, (int(width), max(80, int(height) - CAPTION)))

    def render(self, explorer, changes) -> None:
        """
        Draw the selected pair's difference (an `Explorer` view).

        Only the pixels the display range is computed from are counted: the
        partly covered ones are left out unless ``explorer.stretch.partial``.

        Parameters
        ----------
        explorer : Explorer
            The state: ``pair_view()``, ``stretch`` and
            ``panel_stretch('difference')``.
        changes : frozenset of str
            What changed (`CHANGES`); redraws on a new selection or display.
        """
        if explorer.selected is None or not changes & {"selection", "display"}:
            return
        view = explorer.pair_view()
        resolved = explorer.panel_stretch("difference")
        vmin, vmax = (resolved.vmin, resolved.vmax) if resolved else (0.0, 1.0)
        data = view.range_data("difference", explorer.stretch.partial)
        self.show(data, view.level, vmin, vmax)

    def show(self, data: np.ndarray, level: float, vmin: float, vmax: float) -> None:
        """
        Histogram of an array with a level and a display range marked.

        Parameters
        ----------
        data : numpy.ndarray
            The values (NaN ignored).
        level : float
            The fitted level (NaN: not drawn).
        vmin, vmax : float
            The display range.
        """
        finite = data[np.isfinite(data)]
        marks = [level] if np.isfinite(level) else []
        lo, hi = histogram_window(finite, marks, (vmin, vmax))
        if finite.size:
            # pixels beyond the window are counted in the end bins
            counts, edges = np.histogram(
                np.clip(finite, lo, hi), bins=self.bins, range=(lo, hi)
            )
        else:
            counts, edges = np.zeros(1), np.array([lo, hi])
        self.steps.set_data(counts, edges)
        self.level.set_xdata([level, level])
        self.level.set_visible(bool(np.isfinite(level)))
        self.lo.set_xdata([vmin, vmin])
        self.hi.set_xdata([vmax, vmax])
        self.ax.set_xlim(lo, hi)
        self.ax.set_ylim(0, max(1.0, float(counts.max())) * 1.08)
        self.title = f"fitted level {level:.4g}, display range {vmin:.4g} .. {vmax:.4g}"
        self.caption.value = (
            f"<span style='font-size:11px'>{html.escape(self.title)}</span>"
        )
        reset_history(self.fig)
        self.fig.canvas.draw_idle()


def histogram_window(
    values: np.ndarray, marks=(), optional=(), width: float = 6.0
) -> tuple[float, float]:
    """
    Choose a histogram's range: the bulk of the values and the marks.

    Parameters
    ----------
    values : numpy.ndarray
        Finite values.
    marks : sequence of float
        Values always inside the range (e.g. the fitted level).
    optional : sequence of float
        Values inside the range when within twice the width (e.g. the
        display range).
    width : float
        Half-width in robust sigmas about the median.

    Returns
    -------
    tuple of float
        ``(lo, hi)``, padded by 3 %.

    Examples
    --------
    >>> v = np.r_[np.random.default_rng(0).normal(0, 1, 1000), 500.0]
    >>> lo, hi = histogram_window(v, marks=[8.0], optional=[500.0])
    >>> bool(v.min() - 1 < lo < v.min()), bool(8 < hi < 9)  # 500 left out
    (True, True)
    """
    if values.size == 0:
        return 0.0, 1.0
    p16, med, p84 = np.percentile(values, (16, 50, 84))
    sigma = (p84 - p16) / 2 or float(np.ptp(values)) / 2 or 1.0
    lo, hi = med - width * sigma, med + width * sigma
    lo = max(lo, float(values.min()))
    hi = min(hi, float(values.max()))
    for x in optional:
        if np.isfinite(x) and abs(x - med) <= 2 * width * sigma:
            lo, hi = min(lo, x), max(hi, x)
    for x in marks:
        lo, hi = min(lo, x), max(hi, x)
    pad = 0.03 * ((hi - lo) or 1.0)
    return float(lo - pad), float(hi + pad)
