"""
The dashboard's pixel readout: every pair panel at once, and the mosaic.

Hovering any pair panel shows, for the sky position under the cursor, the
values of plus, minus, difference and residual, the template pixel and each
panel's own file pixel (plus and minus: the projected image's, difference
and residual: the difference file's), and RA/Dec in degrees and
sexagesimal. The panels share the template grid, so one position holds in
all four. Hovering the mosaic shows its pixel, RA/Dec, the value shown and
which images and overlap pairs cover that point.

Pixels are 0-based (as the panels' axes and numpy; FITS and DS9 count from
1). The hover path computes one WCS position and formats it in plain
Python (`diffview.widgets._sexagesimal`): no import, no drawing.
"""

from __future__ import annotations

import html
import math

import numpy as np

from diffview.widgets._model import PANELS
from diffview.widgets._outlines import image_rectangles
from diffview.widgets._sexagesimal import format_dms, format_hms
from diffview.widgets._textviews import _event

__all__ = ["Hover", "PixelReadout", "readout_layout", "sky_text", "value_text"]

_LISTED = 6  # images or pairs named in the mosaic readout at most
#: Compact cells (notebook themes pad table cells), inline: a <style>
#: element in every update would restyle the whole page on each hover.
_CELL = "padding:0 8px 0 0;line-height:1.3;text-align:left"
_HOT = _CELL + ";font-weight:bold;background:#eef"


def readout_layout():
    """
    Make the readout's layout: tall enough for the pair panels' table.

    The mosaic's text is shorter; a readout of fixed height keeps the
    mosaic, under it, from moving while the pointer crosses it.

    Returns
    -------
    ipywidgets.Layout

    Examples
    --------
    >>> readout_layout().min_height
    '8.5em'
    """
    import ipywidgets as W

    return W.Layout(min_height="8.5em")


def value_text(value: float) -> str:
    """
    Format a pixel value (``blank`` for NaN).

    Parameters
    ----------
    value : float

    Returns
    -------
    str

    Examples
    --------
    >>> value_text(0.123456789), value_text(float("nan"))
    ('0.123457', 'blank')
    """
    return f"{value:.6g}" if math.isfinite(value) else "blank"


def sky_text(wcs, x: float, y: float) -> str:
    """
    Format the sky position of a template pixel, sexagesimal and degrees.

    Parameters
    ----------
    wcs : astropy.wcs.WCS or None
        Celestial WCS of the template (None: no sky position).
    x, y : float
        0-based template pixel.

    Returns
    -------
    str
        ``RA 12:34:56.78 Dec +41:16:30.5 (RA=188.736592 Dec=+41.275139 deg)``.

    Examples
    --------
    >>> from astropy.wcs import WCS
    >>> w = WCS(naxis=2)
    >>> w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    >>> w.wcs.crval, w.wcs.crpix = [188.736592, 41.275139], [1.0, 1.0]
    >>> w.wcs.cdelt = [-1 / 3600, 1 / 3600]
    >>> sky_text(w, 0, 0)
    'RA 12:34:56.78 Dec +41:16:30.5 (RA=188.736592 Dec=+41.275139 deg)'
    """
    if wcs is None or not getattr(wcs, "has_celestial", False):
        return "RA= Dec= (no celestial WCS)"
    ra, dec = wcs.pixel_to_world_values(float(x), float(y))
    ra, dec = float(ra) % 360.0, float(dec)
    if not (math.isfinite(ra) and math.isfinite(dec)):
        return "RA= Dec= (outside the projection)"
    return f"RA {format_hms(ra)} Dec {format_dms(dec)} (RA={ra:.6f} Dec={dec:+.6f} deg)"


class PixelReadout:
    """
    The readout texts of the pair panels and of the mosaic.

    Parameters
    ----------
    explorer : Explorer
        The state: the selected pair's arrays, the workspace's WCS, image
        offsets and overlap boxes.

    Examples
    --------
    >>> import tempfile
    >>> from diffview.sample import write_sample
    >>> from diffview.widgets import Explorer
    >>> ex = Explorer(write_sample(tempfile.mkdtemp(), "small"))
    >>> (j0, _), (i0, _) = ex.pair_view().bounds
    >>> text = PixelReadout(ex).pair_html("difference", i0 + 3, j0 + 2)
    >>> f"template x={i0 + 3} y={j0 + 2}" in text, text.count("value=")
    (True, 1)
    """

    def __init__(self, explorer):
        self.explorer = explorer
        self._offsets = (None, {})  # (pair index, panel -> (ioff, joff))
        self._rects = (None, None)  # (workspace, image rectangles)

    def _panel_offsets(self, view) -> dict:
        """Template pixel of each panel's file pixel (0, 0), once per pair."""
        if self._offsets[0] is not view:
            ws, (c1, c2) = self.explorer.ws, self.explorer.key(view.index)
            (j0, _), (i0, _) = view.bounds
            offsets = {"plus": ws.image_offset(c1), "minus": ws.image_offset(c2)}
            offsets["difference"] = offsets["residual"] = (i0, j0)
            self._offsets = (view, offsets)
        return self._offsets[1]

    def pair_html(self, panel: str, x: float, y: float) -> str:
        """
        Describe a template pixel in every pair panel (the hovered one bold).

        Parameters
        ----------
        panel : str
            The hovered panel (one of `PANELS`).
        x, y : float
            Template pixel (column, row), rounded to the nearest.

        Returns
        -------
        str
            HTML: the sky position, the template pixel, and a table of each
            panel's value and own pixel.
        """
        ex = self.explorer
        view = ex.pair_view()
        xi, yi = int(round(x)), int(round(y))
        offsets = self._panel_offsets(view)
        head, values, pixels = (
            ["<th></th>"],
            ["<th>value=</th>"],
            ["<th>file pixel</th>"],
        )
        for name in PANELS:
            bold = f' style="{_HOT if name == panel else _CELL}"'
            off = offsets[name]
            own = "?" if off is None else f"x={xi - off[0]} y={yi - off[1]}"
            head.append(f"<th{bold}>{name}</th>")
            values.append(f"<td{bold}>{value_text(ex.value_at(name, xi, yi))}</td>")
            pixels.append(f"<td{bold}>{own}</td>")
        rows = "".join(f"<tr>{''.join(r)}</tr>" for r in (head, values, pixels))
        return (
            f"<div>{html.escape(sky_text(ex.ws.wcs, xi, yi))} &nbsp; "
            f"template x={xi} y={yi} (0-based)</div>"
            '<table style="font-size:90%;border-collapse:collapse">'
            f"{rows}</table>"
        )

    def covering(self, x: float, y: float) -> tuple[list[int], list[tuple]]:
        """
        Find the images and overlap pairs covering a template pixel.

        Parameters
        ----------
        x, y : float
            Template pixel (column, row).

        Returns
        -------
        images : list of int
            The ``cntr`` of every image whose pixel rectangle holds the point.
        pairs : list of tuple
            ``(cntr1, cntr2)`` of every pair whose overlap box holds it.
        """
        ex = self.explorer
        if self._rects[0] is not ex.ws:
            self._rects = (ex.ws, image_rectangles(ex.ws))
        r = self._rects[1]
        inside = (r[:, 0, 0] <= x) & (x < r[:, 1, 0])
        inside &= (r[:, 0, 1] <= y) & (y < r[:, 2, 1])
        images = [int(c) for c in np.asarray(ex.ws.geometry.cntr)[inside]]
        hit = ex.boxes_at(x, y)
        return images, [ex.key(int(k)) for k in np.flatnonzero(hit)]

    def mosaic_html(self, image, x: float, y: float) -> str:
        """
        Describe a point of the mosaic: pixel, sky, value and coverage.

        Parameters
        ----------
        image : matplotlib.image.AxesImage
            The mosaic as shown (its value is read there: the preview's
            block average, or the file's pixels when zoomed in).
        x, y : float
            Template pixel (column, row).

        Returns
        -------
        str
            HTML.
        """
        xi, yi = int(round(x)), int(round(y))
        value, factor = _shown_value(image, x, y)
        avg = f" (average of {factor}×{factor})" if factor > 1 else ""
        images, pairs = self.covering(x, y)
        cover = (
            f"images ({len(images)}): {_listed([str(c) for c in images])}; "
            f"pairs ({len(pairs)}): {_listed([f'{a}-{b}' for a, b in pairs])}"
        )
        return (
            f"<div>mosaic &nbsp; template x={xi} y={yi} (0-based) &nbsp; "
            f"{html.escape(sky_text(self.explorer.ws.wcs, xi, yi))} &nbsp; "
            f"value={value_text(value)}{avg}</div><div>{html.escape(cover)}</div>"
        )


def _listed(names: list[str]) -> str:
    more = len(names) - _LISTED
    return ", ".join(names[:_LISTED]) + (f" and {more} more" if more > 0 else "")


def _shown_value(image, x: float, y: float) -> tuple[float, int]:
    """Read the value an image shows at data (x, y), and its pixels' size."""
    arr = np.asarray(image.get_array())
    left, right, bottom, top = image.get_extent()
    ny, nx = arr.shape[:2]
    col = int(math.floor((x - left) / (right - left) * nx))
    row = int(math.floor((y - bottom) / (top - bottom) * ny))
    factor = max(1, round(abs(right - left) / nx))
    if 0 <= row < ny and 0 <= col < nx:
        return float(arr[row, col]), factor
    return math.nan, factor


class Hover:
    """
    The dashboard's hover readout (a `Dashboard` base).

    Moving the pointer over a pair panel or the mosaic fills ``readout``
    (an ipywidgets.HTML) from ``pixel_readout`` (a `PixelReadout`); nothing
    is drawn.
    """

    def _connect_hover(self) -> None:
        self.pairs.mpl_connect("motion_notify_event", self._on_move)
        self.mosaic.fig.canvas.mpl_connect("motion_notify_event", self._on_mosaic_move)

    @_event
    def _on_move(self, event) -> None:
        panel = self.pairs.panel_at(event.inaxes)
        if panel is None or event.xdata is None or self.explorer is None:
            return
        self.readout.value = self.pixel_readout.pair_html(
            panel, event.xdata, event.ydata
        )

    @_event
    def _on_mosaic_move(self, event) -> None:
        if event.inaxes is not self.mosaic.ax or event.xdata is None:
            return
        self.readout.value = self.pixel_readout.mosaic_html(
            self.mosaic.image, event.xdata, event.ydata
        )
