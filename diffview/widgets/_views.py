"""
The selected pair's figures, built once and updated in place.

Plus | minus | difference | residual panels and the difference's colour
bar (HTML: `diffview.widgets._colorbar`; its histogram:
`diffview.widgets._histview`).

Each panel is a figure on its own canvas, so that a change ships only the
pictures that changed (a blink redraws the plus panel alone) and the browser
decodes small images side by side. Each view owns its figures and artists
and draws what the `Explorer` says (``render(explorer, changes)``,
subscribed to its actions); updates only call ``set_data``, ``set_norm``,
``set_extent`` and ``draw_idle``, so visiting pairs creates no new artists
(and no memory growth). Arrays larger than a panel on screen are
block-averaged to its size before ``set_data``.
"""

from __future__ import annotations

import math

import ipywidgets as W
import numpy as np
from matplotlib.figure import Figure

from diffview.core import block_average
from diffview.widgets._axes import fixed_label_positions, reset_history
from diffview.widgets._canvas import held_draws, new_figure, resize_figure
from diffview.widgets._colorbar import colorbar_html
from diffview.widgets._display import PANEL_PIXELS, make_norm, panel_units
from diffview.widgets._model import PANELS, PairView
from diffview.widgets._overlay import marker_rgba, panel_cmap, rejected_rgba
from diffview.widgets._prerender import OffscreenCanvas, figure_state
from diffview.widgets._settings import DisplaySettings
from diffview.widgets._wcsaxes import install_sky_ticks

__all__ = ["PairPanels", "reset_history"]


#: Size of one pair panel, inches (its own canvas).
PANEL_SIZE = (2.45, 2.45)

#: The axes box of every panel, the same in each so one zoom fits them all
#: (room on the left and below for the plus panel's tick labels).
_PANEL_RECT = (0.17, 0.1, 0.8, 0.8)

#: A panel's title: a figure text centred over the axes box, so that it is
#: part of the picture each canvas keeps (`PanelCanvas.layers`) and is not
#: drawn again for every pair.
_TITLE_XY = (
    _PANEL_RECT[0] + _PANEL_RECT[2] / 2,
    _PANEL_RECT[1] + _PANEL_RECT[3] + 0.015,
)
_TITLE_STYLE = {"ha": "center", "va": "bottom", "fontsize": 9}


def _extent(bounds) -> tuple[float, float, float, float]:
    (j0, j1), (i0, i1) = bounds
    return (i0 - 0.5, i1 - 0.5, j0 - 0.5, j1 - 0.5)


class PairPanels:
    """
    Plus | minus | difference | residual, sharing zoom and pan.

    Template pixel coordinates on both axes (pixel centres at integers), so a
    cursor position is a template pixel in every panel; square pixels (the
    sky's aspect ratio). Every panel follows the display settings; plus and
    minus share one norm resolved on both images. Pixels the fit clipped are
    drawn over the residual in a colour none of the colour table's, and
    blank pixels in another (`diffview.widgets._overlay`). A colour bar
    under the panels shows the difference's colours along its display
    range, labelled with the unit (``BUNIT``), the stretch and its range.

    Parameters
    ----------
    size : tuple of float
        Size of one panel, inches.
    offscreen : bool
        Draw on plain Agg canvases, with no widgets (``colorbar`` and
        ``widget`` are None): the twin `prepare` draws the next pair on.

    Attributes
    ----------
    figs, axes, images : dict
        Panel name -> Figure (each on its own ipympl canvas), Axes and
        AxesImage.
    clip : matplotlib.image.AxesImage
        The clipped pixels over the residual.
    colorbar : ipywidgets.HTML
        The difference's colours along its display range, with ticks and
        its label (CSS class ``dv-colorbar``; `colorbar_html`).
    colorbar_norm : matplotlib.colors.Normalize or None
        The norm it shows (the difference panel's).
    colorbar_range : tuple of float
        Its low and high ends.
    colorbar_text : str
        Its label: unit, stretch and range.
    titles : dict
        Panel name -> its title (a figure text, see `set_title`).
    widget : ipywidgets.VBox
        The panels and the colour bar, to lay out (CSS class ``dv-pairs``).

    Examples
    --------
    >>> blank = np.arange(12.0).reshape(3, 4)
    >>> view = PairView(0, blank, blank, blank, blank, blank > 5,
    ...                 ((10, 13), (20, 24)), None)
    >>> panels = PairPanels()
    >>> panels.show(view, DisplaySettings(mode="linear", vmin="min"), units="DN")
    >>> panels.images["difference"].get_extent()
    [19.5, 23.5, 9.5, 12.5]
    >>> panels.colorbar_text
    'difference (DN), linear stretch min .. max: 0 .. 11'
    >>> panels.close()
    """

    def __init__(self, size=PANEL_SIZE, offscreen: bool = False):
        self.figs: dict = {}
        self.axes: dict = {}
        self.images: dict = {}
        self.titles: dict = {}
        first = None
        for name in PANELS:
            if offscreen:
                fig = Figure(figsize=size)
                OffscreenCanvas(fig)
            else:  # one toolbar (Home, zoom, pan) for the four: shared limits
                fig = new_figure(size, toolbar=first is None)
            ax = fig.add_axes(_PANEL_RECT, sharex=first, sharey=first)
            first = first or ax
            ax.tick_params(labelsize=7)
            self.figs[name], self.axes[name] = fig, ax
            self.titles[name] = fig.text(*_TITLE_XY, name, **_TITLE_STYLE)
            self.images[name] = ax.imshow(
                np.zeros((2, 2)), origin="lower", interpolation="nearest"
            )
            if not offscreen:
                fig.canvas.layers = [ax]  # the title is drawn once, not per pair
                fig.canvas.add_class(f"dv-panel-{name}")
        for ax in list(self.axes.values())[1:]:
            # ticks on the first panel only: tick labels dominate the draw time
            ax.xaxis.set_visible(False)
            ax.yaxis.set_visible(False)
        self.clip = self.axes["residual"].imshow(
            np.zeros((2, 2, 4), np.float32), origin="lower", interpolation="nearest"
        )
        self.colorbar = None
        if not offscreen:
            self.colorbar = W.HTML("", layout=W.Layout(align_self="flex-end"))
            self.colorbar.add_class("dv-colorbar")
        self.colorbar_norm = None
        self.colorbar_range = (0.0, 1.0)
        self._bar_cmap = None  # the bar's colour table (its norm: colorbar_norm)
        self._bar_width = round(2 * size[0] * self.figs["plus"].dpi)
        install_sky_ticks(self.axes["plus"], None)  # pixel ticks until a WCS
        fixed_label_positions(self.axes["plus"])
        self.colorbar_text = ""
        self.view: PairView | None = None
        self._region = None
        self._clip_color = rejected_rgba(0)
        self._updating = False
        self._units = (None, "")
        # zoom and pan re-cut the visible pixels (shared: one callback is enough)
        self.axes["plus"].callbacks.connect("xlim_changed", self._on_limits)
        self.axes["plus"].callbacks.connect("ylim_changed", self._on_limits)
        self._sky = None  # the celestial WCS of the RA/Dec ticks (`label_sky`)
        self._twin = None  # off-screen panels the next pair is drawn on
        self._ahead = None  # what was drawn on them (`prepare`'s arguments)
        self.widget = None
        if not offscreen:
            row = W.HBox([self.figs[name].canvas for name in PANELS])
            self.widget = W.VBox([row, self.colorbar])
            self.widget.add_class("dv-pairs")

    @property
    def canvases(self) -> list:
        """The four panels' canvases (the colour bar is HTML)."""
        return [self.figs[n].canvas for n in PANELS]

    @property
    def toolbar(self):
        """The panels' toolbar (on the plus panel; the others follow its zoom)."""
        return self.figs["plus"].canvas.toolbar

    def mpl_connect(self, name: str, callback) -> list:
        """
        Connect a matplotlib event of every panel's canvas.

        Parameters
        ----------
        name : str
            E.g. ``'motion_notify_event'``.
        callback : callable
            Called with the event (``event.inaxes`` names the panel, see
            `panel_at`).

        Returns
        -------
        list of int
            The connection ids, one per panel.
        """
        return [self.figs[n].canvas.mpl_connect(name, callback) for n in PANELS]

    def close(self) -> None:
        """Close every canvas and the layout."""
        self._twin = self._ahead = None
        if self.widget is None:  # off screen: no widget to close
            return
        for canvas in self.canvases:
            canvas.close()
        self.widget.close()

    def label_sky(self, wcs):
        """
        Put RA/Dec ticks of a celestial WCS on the plus panel (None: pixels).

        Parameters
        ----------
        wcs : astropy.wcs.WCS or None
            Celestial WCS of the template.

        Returns
        -------
        SkyTicks or None
            The ticks, None for pixel ticks.
        """
        self._sky = wcs
        return install_sky_ticks(self.axes["plus"], wcs)

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

    def title(self, name: str) -> str:
        """
        Return a panel's title.

        Parameters
        ----------
        name : str
            One of `PANELS`.

        Returns
        -------
        str
        """
        return self.titles[name].get_text()

    def set_title(self, name: str, text: str) -> None:
        """
        Title a panel (e.g. the blink's ``'blink: minus'``).

        The canvas keeps one picture per title (`PanelCanvas.layers`), so
        alternating titles costs no text drawing after the first of each.

        Parameters
        ----------
        name : str
            One of `PANELS`.
        text : str
            The title.
        """
        self.titles[name].set_text(text)

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
        units = self._units_of(explorer.ws)
        self.show(explorer.pair_view(), explorer.stretch, resolved, units)

    def prepare_pair(self, explorer, index: int) -> None:
        """
        Draw a pair ahead of time as `render` would draw it (see `prepare`).

        Parameters
        ----------
        explorer : Explorer
            The state: the pair's arrays, the stretch and its ranges.
        index : int
            Position in the overlap table (e.g. the pair Next goes to).
        """
        with explorer.lock:  # a background job may drop cached pairs
            resolved = {n: explorer.panel_stretch(n, index) for n in PANELS}
            view = explorer.pair_view(index)
        self.prepare(view, explorer.stretch, resolved, self._units_of(explorer.ws))

    def _units_of(self, ws) -> str:
        """`panel_units` of a work folder, read once per folder."""
        if self._units[0] is not ws:
            self._units = (ws, panel_units(ws))
        return self._units[1]

    def prepare(
        self,
        view: PairView,
        settings: DisplaySettings,
        resolved=None,
        units: str = "",
    ) -> None:
        """
        Draw a pair off screen, so that showing it ships pictures at once.

        The pair is drawn on twin figures of the same size, titles and
        ticks; each panel's canvas is offered its picture
        (`PanelCanvas.offer`) and ships it instead of rendering when it
        draws exactly that state (the same arrays, stretch, limits, size
        and titles), e.g. after `show` of the same pair with nothing else
        changed. The panels shown now are not touched.

        Parameters
        ----------
        view, settings, resolved, units
            As for `show`.

        Examples
        --------
        >>> a = np.arange(12.0).reshape(3, 4)
        >>> view = PairView(0, a, a, a, a, a > 5, ((10, 13), (20, 24)), None)
        >>> panels = PairPanels()
        >>> settings = DisplaySettings(mode="linear", vmin="min")
        >>> panels.prepare(view, settings)
        >>> [c.prepared_draws for c in panels.canvases]
        [0, 0, 0, 0]
        >>> panels.show(view, settings)
        >>> [c.prepared_draws for c in panels.canvases]  # shipped, not rendered
        [1, 1, 1, 1]
        >>> panels.close()
        """
        self._ahead = (view, settings, resolved, units)  # again on a resize
        twin = self._twin_now()
        twin.show(view, settings, resolved, units)
        for name in PANELS:
            fig = twin.figs[name]
            fig.canvas.draw()
            picture = np.array(fig.canvas.buffer_rgba())
            self.figs[name].canvas.offer(figure_state(fig), picture)

    def forget_prepared(self) -> None:
        """Drop the pictures drawn ahead (`prepare`): the next draws render."""
        self._ahead = None
        for canvas in self.canvases:
            canvas.offer(None, None)

    def _twin_now(self) -> PairPanels:
        """Return the off-screen twin, given these panels' sizes, titles and ticks."""
        if self._twin is None:
            self._twin = PairPanels(offscreen=True)
        twin = self._twin
        for name in PANELS:
            live, fig = self.figs[name], twin.figs[name]
            if fig.dpi != live.dpi:
                fig.set_dpi(live.dpi)
            size = live.get_size_inches()
            if tuple(fig.get_size_inches()) != tuple(size):
                fig.set_size_inches(size, forward=False)
            twin.titles[name].set_text(self.titles[name].get_text())
        if twin._sky is not self._sky:
            twin.label_sky(self._sky)
        return twin

    def show(
        self,
        view: PairView,
        settings: DisplaySettings,
        resolved=None,
        units: str = "",
    ) -> None:
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
        units : str
            The pixel unit, for the colour bar's label ('' when unknown).
        """
        with held_draws():  # shared limits ask every panel to draw, twice
            self._show(view, settings, resolved or {}, units)

    def _show(self, view, settings, resolved, units) -> None:
        self.view = view
        extent = _extent(view.bounds)
        cmap = panel_cmap(settings.ct)  # blank pixels: a colour not in it
        self._clip_color = rejected_rgba(settings.ct)
        both = np.concatenate([view.plus.ravel(), view.minus.ravel()])
        norms = {"plus": make_norm(both, settings, resolved.get("plus"))}
        norms["minus"] = norms["plus"]  # one norm for both images
        for name in ("difference", "residual"):
            norms[name] = make_norm(view.panel(name), settings, resolved.get(name))
        for name in PANELS:
            im = self.images[name]
            im.set_cmap(cmap)
            im.set_norm(norms[name])
        self._show_colorbar(norms["difference"], cmap, settings, units)
        self._region = None
        ax = self.axes["plus"]
        self._updating = True
        try:
            ax.set_aspect(1.0, adjustable="box")  # shared: every panel
            ax.set_xlim(extent[0], extent[1])
            ax.set_ylim(extent[2], extent[3])
        finally:
            self._updating = False
        self._show_region(extent)
        for name in PANELS:
            reset_history(self.figs[name])
            self.figs[name].canvas.draw_idle()

    def fit_width(self, width: int, height: int) -> bool:
        """
        Size the four panels and the colour bar to a width (CSS pixels).

        Parameters
        ----------
        width, height : int
            Room for the row of panels (the toolbar excluded) and its
            height: each panel is square, a quarter of the width at most.

        Returns
        -------
        bool
            True when the panels changed size (the shown pixels are re-cut
            for the new size).

        Examples
        --------
        >>> panels = PairPanels()
        >>> panels.fit_width(800, 300), panels.fit_width(800, 300)
        (True, False)
        >>> fig = panels.figs["minus"]
        >>> round(fig.get_size_inches()[0] * fig.dpi)
        196
        >>> panels.close()
        """
        side = max(96, min(int(width) // 4 - 4, int(height)))
        changed = False
        for fig in self.figs.values():
            changed |= resize_figure(fig, (side, side))
        if abs(self._bar_width - 2 * side) >= 2:
            self._bar_width = 2 * side
            self._draw_colorbar()
        if changed:
            self._region = None
            self._on_limits(self.axes["plus"])
            for canvas in self.canvases:
                canvas.draw_idle()
            if self._ahead is not None:  # the pair drawn ahead, at this size
                self.prepare(*self._ahead)
        return changed

    @property
    def screen_pixels(self) -> int:
        """Longest side of a panel's axes on screen, pixels (at most PANEL_PIXELS)."""
        fig = self.figs["plus"]
        pos = self.axes["plus"].get_position(original=True)
        w, h = fig.get_size_inches() * fig.dpi
        side = round(max(pos.width * w, pos.height * h))
        return int(min(PANEL_PIXELS, max(64, side)))

    def _show_region(self, limits) -> None:
        """
        Show the pixels inside ``limits`` (left, right, bottom, top).

        Arrays larger than the panel on screen are block-averaged; zooming
        in shows the visible part at up to full resolution.
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
        screen = self.screen_pixels
        if max(ny, nx) <= screen:  # always shown whole, at full resolution
            r0, r1, c0, c1 = 0, ny, 0, nx
        factor = max(1, math.ceil(max(r1 - r0, c1 - c0) / screen))
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
        self.clip.set_data(marker_rgba(mask, self._clip_color))
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

    def _show_colorbar(self, norm, cmap, settings, units) -> None:
        lo, hi = float(norm.vmin), float(norm.vmax)
        if not hi > lo:
            hi = lo + 1.0
        self.colorbar_norm, self.colorbar_range = norm, (lo, hi)
        unit = f" ({units})" if units else " (no BUNIT)"
        self.colorbar_text = (
            f"difference{unit}, {settings.mode} stretch "
            f"{settings.vmin} .. {settings.vmax}: {lo:.4g} .. {hi:.4g}"
        )
        self._bar_cmap = cmap
        self._draw_colorbar()

    def _draw_colorbar(self) -> None:
        """Write the colour bar's HTML for what it shows and its width."""
        if self.colorbar_norm is None or self.colorbar is None:
            return
        self.colorbar.value = colorbar_html(
            self.colorbar_norm,
            self._bar_cmap,
            self.colorbar_range,
            self._bar_width,
            self.colorbar_text,
        )
