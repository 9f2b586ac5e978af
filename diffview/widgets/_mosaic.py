"""
The mosaic figure of the dashboard.

The block-averaged mosaic, every image outline, the selected pair and,
optionally, every overlap box coloured by the ranking measure; zooming in
reads the mosaic file at finer resolution.

An `Explorer` view (``render(explorer, changes)``); a new selection is
blitted over the last full draw, so the mosaic is not re-rendered.
"""

from __future__ import annotations

import numpy as np
from matplotlib.collections import PolyCollection
from matplotlib.colors import Normalize

from diffview.errors import InputError
from diffview.render.mpl import draw_outlines
from diffview.widgets._boxraster import BoxRaster
from diffview.widgets._canvas import new_figure
from diffview.widgets._display import _cmap, make_norm
from diffview.widgets._model import MEASURES
from diffview.widgets._settings import DisplaySettings

__all__ = ["MosaicView", "MOSAIC_SETTINGS", "RASTER_FROM"]

#: Overlap boxes from which the quality colouring is a picture painted at
#: the view's resolution (`BoxRaster`) instead of one polygon per box.
RASTER_FROM = 20_000

#: The mosaic's stretch (``mViewer -ct 1 -gray mosaic.fits min max gaussian-log``).
MOSAIC_SETTINGS = DisplaySettings(vmin="min", vmax="max")


class MosaicView:
    """
    The mosaic with every outline, the selected pair and the quality colouring.

    The block-averaged mosaic with every image outline, the selected pair's
    outlines and, optionally, every overlap box coloured by a measure.

    Parameters
    ----------
    color, selected_color : str
        Colours of every image outline and of the selected pair's.
    figsize : tuple of float
        Figure size, inches.

    Attributes
    ----------
    fig : matplotlib.figure.Figure
        On its own ipympl canvas (``fig.canvas`` is the widget).
    image : matplotlib.image.AxesImage
        The mosaic preview (or the visible part of the file when zoomed).
    outlines, selected : matplotlib.collections.LineCollection
        Every image outline; the selected pair's outlines and overlap box.
    quality : matplotlib.collections.PolyCollection
        The overlap boxes coloured by a measure (its paths made when first
        shown).
    quality_raster : BoxRaster
        The same colouring as a picture at the view's resolution, used
        instead from `RASTER_FROM` boxes.
    quality_index : numpy.ndarray of int
        The pair index of each of its boxes.
    overlays : list of matplotlib.artist.Artist
        Artists blitted over the kept picture with the selection
        (`add_overlay`), such as the outlines of the images a re-solve moved.

    Examples
    --------
    >>> view = MosaicView()
    >>> view.load(None, [np.array([[0.0, 0], [9, 0], [9, 9], [0, 9], [0, 0]])])
    >>> view.show_selected([])
    >>> len(view.outlines.get_segments()), len(view.selected.get_segments())
    (1, 0)
    >>> view.fig.canvas.close()
    """

    def __init__(self, *, color="yellow", selected_color="black", figsize=(6.0, 5.0)):
        self.fig = new_figure(figsize)
        self.ax = self.fig.add_axes((0.1, 0.08, 0.88, 0.88))
        self.ax.tick_params(labelsize=7)
        self.image = self.ax.imshow(
            np.zeros((2, 2)), origin="lower", interpolation="nearest"
        )
        self.outlines = draw_outlines(self.ax, [], color, 1.0)
        # animated: left out of full draws, blitted on top (see show_selected)
        self.selected = draw_outlines(self.ax, [], selected_color, 2.0, animated=True)
        self.overlays: list = []
        self._background = None
        self.fig.canvas.mpl_connect("draw_event", self._on_draw)
        self.quality = PolyCollection(
            [], cmap="RdYlGn_r", alpha=0.6, edgecolors="none", zorder=3
        )
        self.quality.set_visible(False)
        self.ax.add_collection(self.quality)
        self.quality_raster = BoxRaster(self.ax, alpha=None, zorder=3)
        self.quality_raster.set_visible(False)
        self.ax.add_image(self.quality_raster)
        self.quality_index = np.zeros(0, np.int64)
        self._corners, self._built = np.zeros((0, 5, 2)), True
        self._shown = (None, "", None)  # corners, label, values coloured
        self.raster = False
        self.quality_visible = False
        self.preview = None
        self.zoomed = False
        self._updating = False
        self.ax.callbacks.connect("xlim_changed", self._on_limits)
        self.ax.callbacks.connect("ylim_changed", self._on_limits)

    def render(self, explorer, changes) -> None:
        """
        Draw what the explorer says (an `Explorer` view).

        Parameters
        ----------
        explorer : Explorer
            The state: the workspace's preview and outlines, the selected
            pair's outlines, the overlap boxes and the ranking measure.
        changes : frozenset of str
            What changed (`CHANGES`).
        """
        if "workspace" in changes:
            self.load(explorer.ws.preview, explorer.image_outlines())
        if changes & {"workspace", "ranking", "corrections"}:
            self.show_quality(
                explorer.overlap_box_array(),
                explorer.measure_values(),
                label=MEASURES[explorer.measure],
            )
        if explorer.selected is not None and changes & {"workspace", "selection"}:
            self.show_selected(explorer.pair_outlines())

    def load(
        self, preview, outlines, settings: DisplaySettings = MOSAIC_SETTINGS
    ) -> None:
        """
        Show a preview of the mosaic and every image outline.

        Parameters
        ----------
        preview : diffview.run.Preview or None
            The block-averaged mosaic (None: outlines only).
        outlines : sequence of (N, 2) arrays
            Template pixel x, y of every image outline.
        settings : DisplaySettings
            The mosaic's stretch and colour table.
        """
        self._updating = True
        try:
            if preview is not None:
                self.preview = preview
                self._show_preview()
                self.image.set_cmap(_cmap(settings.ct))
                self.image.set_norm(_safe_norm(preview.array, settings))
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
        """
        After a full draw: keep the picture without the selection, add it.

        A draw for an export (``savefig``, the toolbar's Download) gets the
        selection too, but it renders at the export's dpi into the canvas's
        renderer: the background is dropped, so the next selection redraws
        the whole figure instead of blitting over the export's pixels.
        """
        if event.canvas.is_saving():
            self._background = None
        else:
            self._background = event.canvas.copy_from_bbox(self.fig.bbox)
        for artist in (*self.overlays, self.selected):
            artist.draw(event.renderer)

    def show_selected(self, outlines) -> None:
        """
        Replace the highlighted outlines (pair outlines and overlap box).

        Blitted over the last full draw: the mosaic is not re-rendered.

        Parameters
        ----------
        outlines : sequence of (N, 2) arrays
            Template pixel x, y.
        """
        self.selected.set_segments([np.asarray(o, float) for o in outlines])
        self.refresh_overlays()

    def add_overlay(self, artist):
        """
        Draw an artist of the mosaic's axes over the kept picture.

        Like the selection it is left out of full draws and blitted on top,
        so changing it (`refresh_overlays`) does not re-render the mosaic.

        Parameters
        ----------
        artist : matplotlib.artist.Artist
            Already in ``ax``.

        Returns
        -------
        matplotlib.artist.Artist
            The artist.
        """
        artist.set_animated(True)
        self.overlays.append(artist)
        return artist

    def refresh_overlays(self) -> None:
        """Blit the overlays and the selection again (after changing them)."""
        canvas = self.fig.canvas
        if self._background is None:
            canvas.draw_idle()
            return
        canvas.restore_region(self._background)
        for artist in (*self.overlays, self.selected):
            self.ax.draw_artist(artist)
        canvas.blit(self.fig.bbox)

    def show_quality(
        self, boxes, values, visible: bool | None = None, label: str = ""
    ) -> None:
        """
        Colour the overlap boxes by a measure (green smallest, red largest).

        One `PolyCollection` for every box: its paths are made once per set
        of boxes, and only when the colouring is first shown; a new measure
        or new values only recolour it (``set_array``).

        Parameters
        ----------
        boxes : tuple of numpy.ndarray, or sequence of (int, (N, 2) array)
            ``(index, corners)``: the pair index of each box (``(n,)``) and
            its corners (``(n, 5, 2)``, first repeated last), as
            `Explorer.overlap_box_array`; or ``(index, outline)`` pairs.
        values : sequence of float
            The measure of every pair, by index (NaN: not coloured).
        visible : bool, optional
            Show the colouring (default: as it is, see `set_quality_visible`).
        label : str
            Name of the measure, for the title.
        """
        if visible is not None:
            self.quality_visible = bool(visible)
        index, corners = _box_arrays(boxes)
        vals = np.asarray(values, float)[index]
        last, last_label, last_vals = self._shown
        if (
            visible is None
            and corners is last
            and label == last_label
            and np.array_equal(vals, last_vals, equal_nan=True)
        ):
            return  # a sort or a filter: the colours are the same
        self._shown = (corners, label, vals)
        if corners is not self._corners:
            self._corners, self._built = corners, False
            self.raster = len(index) >= RASTER_FROM
            self.quality_raster.set_boxes(corners[:, [0, 1, 0, 2], [0, 0, 1, 1]])
        self.quality_index = index
        self.ax.set_title(
            f"overlaps coloured by {label}: green small, red large" if label else "",
            fontsize=8,
        )
        self.quality.set_array(np.ma.masked_invalid(vals))
        finite = vals[np.isfinite(vals)]
        if finite.size:
            self.quality.set_clim(float(finite.min()), float(finite.max()) or 1.0)
        if self.raster:
            rgba = self.quality.to_rgba(vals, alpha=self.quality.get_alpha())
            self.quality_raster.set_colors(rgba, vals)
        self._show_quality_layer()

    def _show_quality_layer(self) -> None:
        """Show or hide the colouring; its paths are made on first show."""
        visible = self.quality_visible
        shown = self.quality.get_visible() or self.quality_raster.get_visible()
        if visible and not self._built and not self.raster:
            # (n, 4, 2) corners: matplotlib's fast path, one shared path code
            self.quality.set_verts(self._corners[:, :4])
            self._built = True
        self.quality.set_visible(visible and not self.raster)
        self.quality_raster.set_visible(visible and self.raster)
        self.ax.title.set_visible(visible)
        if visible or shown:  # hidden and staying hidden: nothing to draw
            self.fig.canvas.draw_idle()

    def set_quality_visible(self, visible: bool) -> None:
        """
        Show or hide the quality colouring.

        Parameters
        ----------
        visible : bool
            Show it.
        """
        self.quality_visible = bool(visible)
        self._show_quality_layer()


def _box_arrays(boxes) -> tuple[np.ndarray, np.ndarray]:
    """``(index, corners)`` arrays of boxes given as arrays or as pairs."""
    if isinstance(boxes, tuple) and len(boxes) == 2 and hasattr(boxes[1], "ndim"):
        return np.asarray(boxes[0], np.int64), boxes[1]
    index = np.array([k for k, _ in boxes], np.int64)
    corners = np.array([np.asarray(o, float) for _, o in boxes]).reshape(-1, 5, 2)
    return index, corners


def _safe_norm(array, settings) -> Normalize:
    try:
        return make_norm(array, settings)
    except InputError:
        return Normalize(0.0, 1.0)
