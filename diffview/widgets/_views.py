"""
The dashboard's matplotlib figures, built once and updated in place.

Each view owns one figure and its artists; ``show``/``update`` methods only
call ``set_data``, ``set_norm``, ``set_extent``, ``set_segments`` and
``draw_idle``, so visiting pairs creates no new artists (and no memory
growth). Arrays larger than the canvas are block-averaged before ``imshow``.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from ipympl.backend_nbagg import Canvas, FigureManager
from matplotlib.collections import PolyCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from diffview.core.blocks import block_average
from diffview.errors import InputError
from diffview.render.mpl import MViewerNorm, draw_outlines
from diffview.render.mpl import montage_cmap as _montage_cmap
from diffview.widgets._state import PairView, Stretch

__all__ = [
    "PairPanels",
    "HistogramView",
    "MosaicView",
    "make_norm",
    "display_array",
    "histogram_window",
]

PANELS = ("plus", "minus", "difference", "residual")
#: Longest side of an array handed to imshow in the pair panels.
PANEL_PIXELS = 400
_CLIP_RGBA = (1.0, 0.1, 0.1, 0.8)
#: The mosaic's stretch (``mViewer -ct 1 -gray mosaic.fits min max gaussian-log``).
MOSAIC_STRETCH = Stretch(vmin="min", vmax="max")


@functools.lru_cache(maxsize=16)
def montage_cmap(ct: int):
    """mViewer colour table ``ct`` as a colormap (built once per table)."""
    return _montage_cmap(int(ct))


def make_norm(data: np.ndarray, stretch: Stretch) -> Normalize:
    """
    mViewer norm of ``data``; a plain 0..1 norm when it has no finite pixel.

    Examples
    --------
    >>> make_norm(np.full((2, 2), np.nan), Stretch()).vmax
    1.0
    """
    if not np.isfinite(data).any():
        return Normalize(0.0, 1.0)
    return MViewerNorm(data, stretch.vmin, stretch.vmax, stretch.mode)


def display_array(array: np.ndarray, max_pixels: int = PANEL_PIXELS) -> np.ndarray:
    """
    ``array`` block-averaged so its longest side is at most ``max_pixels``.

    Examples
    --------
    >>> display_array(np.ones((1000, 10)), 400).shape
    (334, 4)
    """
    factor = max(1, math.ceil(max(array.shape) / max_pixels))
    return array if factor == 1 else block_average(array, factor)


def _extent(bounds) -> tuple[float, float, float, float]:
    (j0, j1), (i0, i1) = bounds
    return (i0 - 0.5, i1 - 0.5, j0 - 0.5, j1 - 0.5)


_NUM = [1000]


def _figure(size) -> Figure:
    """A figure on its own ipympl canvas, outside pyplot's figure registry."""
    fig = Figure(figsize=size)
    canvas = Canvas(fig)
    _NUM[0] += 1
    FigureManager(canvas, _NUM[0])  # gives the canvas its toolbar
    canvas.header_visible = False
    canvas.footer_visible = False
    canvas.toolbar_position = "left"
    canvas.resizable = False
    return fig


def _clip_rgba(mask: np.ndarray) -> np.ndarray:
    rgba = np.zeros(mask.shape + (4,), dtype=np.float32)
    rgba[mask] = _CLIP_RGBA
    return rgba


class PairPanels:
    """
    Plus | minus | difference | residual, sharing zoom and pan.

    Template pixel coordinates on both axes (pixel centres at integers), so a
    cursor position is a template pixel in every panel. The difference and
    residual follow the user's stretch (the colour bar follows the
    difference's); plus and minus share one norm computed on plus. Pixels the
    fit clipped are drawn red over the residual.
    """

    def __init__(self, figsize=(10.0, 3.2)):
        self.fig = _figure(figsize)
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
        """Name of the panel drawn in ``ax`` (None for other axes)."""
        for name, a in self.axes.items():
            if a is ax:
                return name
        return None

    def show(self, view: PairView, stretch: Stretch) -> None:
        """Draw a pair with a stretch (replaces arrays and norms in place)."""
        self.view = view
        extent = _extent(view.bounds)
        cmap = montage_cmap(stretch.ct)
        both = np.concatenate([view.plus.ravel(), view.minus.ravel()])
        norms = {"plus": make_norm(both, stretch)}  # one norm for both images
        norms["minus"] = norms["plus"]
        norms["difference"] = make_norm(view.difference, stretch)
        norms["residual"] = make_norm(view.residual, stretch)
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
        self.fig.canvas.draw_idle()

    def _aspect(self, ny: int, nx: int, max_stretch: float = 3.0) -> float:
        """
        Pixel aspect that fills a panel, stretching pixels at most
        ``max_stretch`` times (thin strips would otherwise be slivers).
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

    def restretch(self, stretch: Stretch) -> None:
        """Apply a new stretch to the current pair."""
        if self.view is not None:
            self.show(self.view, stretch)


class HistogramView:
    """Histogram of the difference with the fitted level and the display range."""

    def __init__(self, figsize=(4.2, 2.6), bins: int = 100):
        self.fig = _figure(figsize)
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

    def show(self, data: np.ndarray, level: float, vmin: float, vmax: float) -> None:
        """Histogram of ``data`` with the level and the range ``vmin, vmax``."""
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
        self.fig.canvas.draw_idle()


def histogram_window(
    values: np.ndarray, marks=(), optional=(), width: float = 6.0
) -> tuple[float, float]:
    """
    Histogram range: median +- ``width`` robust sigmas, widened to hold
    ``marks``, and ``optional`` values when they are within twice that.

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


class MosaicView:
    """
    The block-averaged mosaic with every outline, the selected pair and,
    optionally, every overlap box coloured by a quality measure.
    """

    def __init__(self, *, color="yellow", selected_color="black", figsize=(6.0, 5.0)):
        self.fig = _figure(figsize)
        self.ax = self.fig.add_axes((0.1, 0.08, 0.88, 0.88))
        self.ax.tick_params(labelsize=7)
        self.image = self.ax.imshow(
            np.zeros((2, 2)), origin="lower", interpolation="nearest"
        )
        self.outlines = draw_outlines(self.ax, [], color, 1.0)
        # animated: left out of full draws, blitted on top (see show_selected)
        self.selected = draw_outlines(self.ax, [], selected_color, 2.0, animated=True)
        self._background = None
        self.fig.canvas.mpl_connect("draw_event", self._on_draw)
        self.quality = PolyCollection(
            [], cmap="RdYlGn_r", alpha=0.6, edgecolors="none", zorder=3
        )
        self.quality.set_visible(False)
        self.ax.add_collection(self.quality)
        self.quality_index: list[int] = []
        self.preview = None
        self.zoomed = False
        self._updating = False
        self.ax.callbacks.connect("xlim_changed", self._on_limits)
        self.ax.callbacks.connect("ylim_changed", self._on_limits)

    def load(self, preview, outlines, stretch: Stretch = MOSAIC_STRETCH) -> None:
        """Show a `Preview` of the mosaic and every image outline."""
        self._updating = True
        try:
            if preview is not None:
                self.preview = preview
                self._show_preview()
                self.image.set_cmap(montage_cmap(stretch.ct))
                self.image.set_norm(_safe_norm(preview.array, stretch))
                self.ax.set_xlim(preview.extent[0], preview.extent[1])
                self.ax.set_ylim(preview.extent[2], preview.extent[3])
            self.outlines.set_segments([np.asarray(o, float) for o in outlines])
        finally:
            self._updating = False
        self.fig.canvas.draw_idle()

    def _show_preview(self) -> None:
        self.image.set_data(self.preview.array)
        self.image.set_extent(self.preview.extent)
        self.zoomed = False

    def _on_limits(self, ax) -> None:
        """Zoomed in: the visible part of the mosaic file, finer than the preview."""
        if self._updating or self.preview is None:
            return
        self._updating = True
        try:
            part = self.preview.region((*ax.get_xlim(), *ax.get_ylim()))
            if part is None:
                if self.zoomed:
                    self._show_preview()
            else:
                self.image.set_data(part[0])
                self.image.set_extent(part[1])
                self.zoomed = True
        finally:
            self._updating = False

    def _on_draw(self, event) -> None:
        """After a full draw: keep the picture without the selection, add it."""
        canvas = self.fig.canvas
        self._background = canvas.copy_from_bbox(self.fig.bbox)
        self.ax.draw_artist(self.selected)

    def show_selected(self, outlines) -> None:
        """
        Replace the highlighted outlines (pair outlines and overlap box).

        Blitted over the last full draw: the mosaic is not re-rendered.
        """
        self.selected.set_segments([np.asarray(o, float) for o in outlines])
        canvas = self.fig.canvas
        if self._background is None:
            canvas.draw_idle()
            return
        canvas.restore_region(self._background)
        self.ax.draw_artist(self.selected)
        canvas.blit(self.fig.bbox)

    def show_quality(
        self, boxes, values, visible: bool = True, label: str = ""
    ) -> None:
        """
        Colour overlap boxes ``[(index, outline)]`` by ``values[index]``
        (green smallest, red largest), titled ``label``.
        """
        self.ax.set_title(
            f"overlaps coloured by {label}: green small, red large" if label else "",
            fontsize=8,
        )
        self.ax.title.set_visible(visible)
        self.quality_index = [k for k, _ in boxes]
        self.quality.set_verts([np.asarray(o, float) for _, o in boxes])
        vals = np.array([values[k] for k in self.quality_index], float)
        self.quality.set_array(np.ma.masked_invalid(vals))
        finite = vals[np.isfinite(vals)]
        if finite.size:
            self.quality.set_clim(float(finite.min()), float(finite.max()) or 1.0)
        self.quality.set_visible(visible)
        self.fig.canvas.draw_idle()

    def set_quality_visible(self, visible: bool) -> None:
        """Show or hide the quality colouring."""
        self.quality.set_visible(visible)
        self.ax.title.set_visible(visible)
        self.fig.canvas.draw_idle()


def _safe_norm(array, stretch) -> Normalize:
    try:
        return make_norm(array, stretch)
    except InputError:
        return Normalize(0.0, 1.0)
