"""
The selected pair's figures, built once and updated in place.

Plus | minus | difference | residual panels and the difference's histogram.

Each view owns one figure and its artists and draws what the `Explorer`
says (``render(explorer, changes)``, subscribed to its actions); updates
only call ``set_data``, ``set_norm``, ``set_extent`` and ``draw_idle``, so
visiting pairs creates no new artists (and no memory growth). Arrays larger
than the canvas are block-averaged before ``imshow``.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.ticker import MaxNLocator

from diffview.core import block_average
from diffview.widgets._canvas import (
    PANEL_PIXELS,
    _cmap,
    make_norm,
    new_figure,
)
from diffview.widgets._model import PANELS, PairView
from diffview.widgets._settings import DisplaySettings

__all__ = ["PairPanels", "HistogramView", "histogram_window"]

_CLIP_RGBA = (1.0, 0.1, 0.1, 0.8)


def _extent(bounds) -> tuple[float, float, float, float]:
    (j0, j1), (i0, i1) = bounds
    return (i0 - 0.5, i1 - 0.5, j0 - 0.5, j1 - 0.5)


def _reset_history(fig) -> None:
    """
    Make a figure's current view its toolbar's Home.

    The toolbar's view history belongs to the pair shown: without this, Home
    goes back to the first pair's limits, where a later pair has no pixel.
    """
    toolbar = getattr(fig.canvas, "toolbar", None)
    if toolbar is not None:
        toolbar.update()  # forget the views of the last pair
        toolbar.push_current()


def _clip_rgba(mask: np.ndarray) -> np.ndarray:
    rgba = np.zeros(mask.shape + (4,), dtype=np.float32)
    rgba[mask] = _CLIP_RGBA
    return rgba


class PairPanels:
    """
    Plus | minus | difference | residual, sharing zoom and pan.

    Template pixel coordinates on both axes (pixel centres at integers), so a
    cursor position is a template pixel in every panel. Every panel follows
    the display settings (the colour bar follows the difference's); plus and
    minus share one norm resolved on both images. Pixels the fit clipped are
    drawn red over the residual.

    Parameters
    ----------
    figsize : tuple of float
        Figure size, inches.

    Attributes
    ----------
    fig : matplotlib.figure.Figure
        On its own ipympl canvas (``fig.canvas`` is the widget).
    axes, images : dict
        Panel name -> Axes and -> AxesImage.
    clip : matplotlib.image.AxesImage
        The clipped pixels over the residual.
    colorbar : matplotlib.image.AxesImage
        The difference's colours along its data range.

    Examples
    --------
    >>> blank = np.arange(12.0).reshape(3, 4)
    >>> view = PairView(0, blank, blank, blank, blank, blank > 5,
    ...                 ((10, 13), (20, 24)), None)
    >>> panels = PairPanels()
    >>> panels.show(view, DisplaySettings(mode="linear", vmin="min"))
    >>> panels.images["difference"].get_extent()
    [19.5, 23.5, 9.5, 12.5]
    >>> panels.fig.canvas.close()
    """

    def __init__(self, figsize=(10.0, 3.2)):
        self.fig = new_figure(figsize)
        grid = self.fig.add_gridspec(
            2,
            4,
            height_ratios=(1, 0.06),
            hspace=0.35,
            left=0.05,
            right=0.99,
            top=0.92,
            bottom=0.1,
        )
        self.axes: dict = {}
        self.images: dict = {}
        first = None
        for k, name in enumerate(PANELS):
            ax = self.fig.add_subplot(grid[0, k], sharex=first, sharey=first)
            first = first or ax
            ax.set_title(name, fontsize=9)
            ax.tick_params(labelsize=7)
            self.axes[name] = ax
            self.images[name] = ax.imshow(
                np.zeros((2, 2)), origin="lower", interpolation="nearest"
            )
        for ax in list(self.axes.values())[1:]:
            # ticks on the first panel only: tick labels dominate the draw time
            ax.xaxis.set_visible(False)
            ax.yaxis.set_visible(False)
        self.clip = self.axes["residual"].imshow(
            np.zeros((2, 2, 4), np.float32), origin="lower", interpolation="nearest"
        )
        # The colour bar: the difference's norm and colours along a linear
        # data axis, so a non-linear stretch shows as where the colours change
        # (one small image: a third of the draw time of a matplotlib Colorbar).
        self.colorbar_ax = self.fig.add_subplot(grid[1, 2:])
        self.colorbar = self.colorbar_ax.imshow(
            np.linspace(0.0, 1.0, 512)[None, :],
            aspect="auto",
            origin="lower",
            interpolation="nearest",
            extent=(0.0, 1.0, 0.0, 1.0),
        )
        self.colorbar_ax.yaxis.set_visible(False)
        self.colorbar_ax.xaxis.set_major_locator(MaxNLocator(6))
        self.colorbar_ax.tick_params(labelsize=7)
        self.axes["plus"].xaxis.set_major_locator(MaxNLocator(4, integer=True))
        self.axes["plus"].yaxis.set_major_locator(MaxNLocator(4, integer=True))
        self.view: PairView | None = None
        self._region = None
        self._updating = False
        # zoom and pan re-cut the visible pixels (shared: one callback is enough)
        self.axes["plus"].callbacks.connect("xlim_changed", self._on_limits)
        self.axes["plus"].callbacks.connect("ylim_changed", self._on_limits)

    def panel_at(self, ax) -> str | None:
        """
        Name the panel drawn in an Axes.

        Parameters
        ----------
        ax : matplotlib.axes.Axes or None
            E.g. a mouse event's ``inaxes``.

        Returns
        -------
        str or None
            One of `PANELS`, None for other axes.
        """
        for name, a in self.axes.items():
            if a is ax:
                return name
        return None

    def render(self, explorer, changes) -> None:
        """
        Draw the selected pair as the explorer says (an `Explorer` view).

        Parameters
        ----------
        explorer : Explorer
            The state: ``pair_view()``, ``stretch`` and ``panel_stretch``.
        changes : frozenset of str
            What changed (`CHANGES`); redraws on a new selection or display.
        """
        if explorer.selected is None or not changes & {"selection", "display"}:
            return
        resolved = {name: explorer.panel_stretch(name) for name in PANELS}
        self.show(explorer.pair_view(), explorer.stretch, resolved)

    def show(self, view: PairView, settings: DisplaySettings, resolved=None) -> None:
        """
        Draw a pair (replaces arrays and norms in place).

        Parameters
        ----------
        view : PairView
            The pair's arrays.
        settings : DisplaySettings
            Stretch and colour table.
        resolved : dict, optional
            Panel name -> stretch already resolved for it (or None when the
            panel has no finite pixel); computed here when not given.
        """
        self.view = view
        extent = _extent(view.bounds)
        cmap = _cmap(settings.ct)
        resolved = resolved or {}
        both = np.concatenate([view.plus.ravel(), view.minus.ravel()])
        norms = {"plus": make_norm(both, settings, resolved.get("plus"))}
        norms["minus"] = norms["plus"]  # one norm for both images
        for name in ("difference", "residual"):
            norms[name] = make_norm(view.panel(name), settings, resolved.get(name))
        for name in PANELS:
            im = self.images[name]
            im.set_cmap(cmap)
            im.set_norm(norms[name])
        self._show_colorbar(norms["difference"], cmap)
        self._region = None
        self._show_region(extent)
        aspect = self._aspect(*view.difference.shape)
        for a in self.axes.values():
            a.set_aspect(aspect, adjustable="box")
        ax = self.axes["plus"]
        self._updating = True
        try:
            ax.set_xlim(extent[0], extent[1])
            ax.set_ylim(extent[2], extent[3])
        finally:
            self._updating = False
        _reset_history(self.fig)
        self.fig.canvas.draw_idle()

    def _aspect(self, ny: int, nx: int, max_stretch: float = 3.0) -> float:
        """
        Pixel aspect filling a panel, pixels stretched at most ``max_stretch``.

        Thin strips would otherwise be slivers.
        """
        pos = self.axes["plus"].get_position(original=True)
        w, h = self.fig.get_size_inches()
        fill = (pos.height * h) / (pos.width * w) * nx / max(ny, 1)
        return float(np.clip(fill, 1.0 / max_stretch, max_stretch))

    def _show_region(self, limits) -> None:
        """
        Show the pixels inside ``limits`` (left, right, bottom, top).

        Arrays larger than `PANEL_PIXELS` are block-averaged; zooming in
        shows the visible part at up to full resolution.
        """
        view = self.view
        (j0, _), (i0, _) = view.bounds
        ny, nx = view.difference.shape
        x0, x1 = sorted(limits[:2])
        y0, y1 = sorted(limits[2:])
        c0 = int(np.clip(np.floor(x0 + 0.5) - i0, 0, nx - 1))
        c1 = int(np.clip(np.ceil(x1 + 0.5) - i0, c0 + 1, nx))
        r0 = int(np.clip(np.floor(y0 + 0.5) - j0, 0, ny - 1))
        r1 = int(np.clip(np.ceil(y1 + 0.5) - j0, r0 + 1, ny))
        if max(ny, nx) <= PANEL_PIXELS:  # always shown whole, at full resolution
            r0, r1, c0, c1 = 0, ny, 0, nx
        factor = max(1, math.ceil(max(r1 - r0, c1 - c0) / PANEL_PIXELS))
        region = (r0, r1, c0, c1, factor)
        if region == self._region:
            return
        self._region = region
        extent = (i0 + c0 - 0.5, i0 + c1 - 0.5, j0 + r0 - 0.5, j0 + r1 - 0.5)
        for name in PANELS:
            sub = view.panel(name)[r0:r1, c0:c1]
            im = self.images[name]
            im.set_data(sub if factor == 1 else block_average(sub, factor))
            im.set_extent(extent)
        mask = view.clipped[r0:r1, c0:c1]
        if factor > 1:
            mask = block_average(mask.astype(float), factor) > 0
        self.clip.set_data(_clip_rgba(mask))
        self.clip.set_extent(extent)

    def _on_limits(self, ax) -> None:
        if self.view is not None and not self._updating:
            self._updating = True
            try:
                self._show_region((*ax.get_xlim(), *ax.get_ylim()))
            finally:
                self._updating = False

    @property
    def factor(self) -> int:
        """Block-averaging factor of the arrays shown now (1: full resolution)."""
        return self._region[4] if self._region else 1

    def _show_colorbar(self, norm, cmap) -> None:
        lo, hi = float(norm.vmin), float(norm.vmax)
        if not hi > lo:
            hi = lo + 1.0
        self.colorbar.set_data(np.linspace(lo, hi, 512)[None, :])
        self.colorbar.set_extent((lo, hi, 0.0, 1.0))
        self.colorbar.set_cmap(cmap)
        self.colorbar.set_norm(norm)
        self.colorbar_ax.set_xlim(lo, hi)


class HistogramView:
    """
    Histogram of the difference with the fitted level and the display range.

    Parameters
    ----------
    figsize : tuple of float
        Figure size, inches.
    bins : int
        Number of bins.

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
        self.ax = self.fig.add_axes((0.16, 0.2, 0.8, 0.72))
        self.ax.tick_params(labelsize=7)
        self.ax.xaxis.set_major_locator(MaxNLocator(5))
        self.ax.yaxis.set_major_locator(MaxNLocator(4))
        self.ax.set_xlabel(
            "difference (red: fitted level, dashed: display range)", fontsize=7
        )
        self.bins = bins
        self.steps = self.ax.stairs(
            np.zeros(1), np.array([0.0, 1.0]), fill=True, color="0.6"
        )
        self.level = self.ax.axvline(0.0, color="red", lw=1.5, label="fit level")
        self.lo = self.ax.axvline(0.0, color="k", lw=1, ls="--", label="display range")
        self.hi = self.ax.axvline(1.0, color="k", lw=1, ls="--")

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
        self.ax.set_title(
            f"fitted level {level:.4g}, display range {vmin:.4g} .. {vmax:.4g}",
            fontsize=7,
        )
        _reset_history(self.fig)
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
