"""
Pictures drawn ahead of time, used only if the figure still draws them.

While the user looks at a pair, the dashboard draws the next pair's panels
off screen (`PairPanels.prepare`); Next then ships those pictures instead
of rendering four figures while the user waits. A prepared picture is used
only if `figure_state` of the live figure, taken when it is about to draw,
equals the state it was drawn from: anything else (a zoom that carried
over, a blink, a new stretch, an artist another view added) draws as
before. The state lists everything a panel's picture depends on, and says
"unknown" (never equal) for what it cannot vouch for.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axis import Axis
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import Normalize
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle
from matplotlib.spines import Spine
from matplotlib.text import Text

__all__ = ["OffscreenCanvas", "figure_state"]


class OffscreenCanvas(FigureCanvasAgg):
    """
    An Agg canvas drawn only when asked (``draw``), never by ``draw_idle``.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> canvas = OffscreenCanvas(Figure(figsize=(1, 1)))
    >>> canvas.draw_idle(); canvas.draws
    0
    >>> canvas.draw(); canvas.draws
    1
    """

    def __init__(self, figure):
        super().__init__(figure)
        self.draws = 0

    def draw_idle(self, *args, **kwargs) -> None:
        """Do nothing: the picture is drawn when it is wanted."""

    def draw(self) -> None:
        """Render the figure."""
        self.draws += 1
        super().draw()


def figure_state(fig) -> tuple:
    """
    List what a figure's picture depends on, to compare two figures.

    Two figures with equal states draw the same pixels. Artists and
    tickers it does not know make the state unequal to any other.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        On an Agg-based canvas.

    Returns
    -------
    tuple
        Comparable with ``==``; it holds no reference to the figure's
        arrays (their bytes instead).

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> def panel(value):
    ...     fig = Figure(figsize=(1, 1))
    ...     OffscreenCanvas(fig)
    ...     ax = fig.add_axes((0, 0, 1, 1))
    ...     ax.imshow(np.full((2, 2), value), vmin=0, vmax=2)
    ...     ax.set_axis_off()  # tick labels it cannot vouch for
    ...     return fig
    >>> figure_state(panel(1.0)) == figure_state(panel(1.0))
    True
    >>> figure_state(panel(1.0)) == figure_state(panel(2.0))
    False
    """
    parts = [fig.canvas.get_width_height(), fig.dpi, _color(fig.patch.get_facecolor())]
    parts += [_text_state(t) for t in fig.texts]
    if fig.images or fig.lines or fig.patches or fig.legends or fig.subfigs:
        parts.append(_Unknown())
    parts += [_axes_state(ax) for ax in fig.axes]
    return tuple(parts)


class _Unknown:
    """Equal to nothing, itself included."""

    def __eq__(self, other) -> bool:
        return False

    __hash__ = None


def _color(value) -> tuple:
    return tuple(float(v) for v in np.ravel(value))


def _text_state(t: Text, style_only: bool = False) -> tuple:
    return (
        t.get_visible(),
        None if style_only else t.get_text(),
        None if style_only else t.get_position(),
        t.get_fontsize(),
        t.get_rotation(),
        t.get_ha(),
        t.get_va(),
        _color(t.get_color()) if not isinstance(t.get_color(), str) else t.get_color(),
    )


def _axes_state(ax) -> tuple:
    parts = [
        ax.get_visible(),
        tuple(ax.get_position(original=True).bounds),
        ax.get_xlim(),
        ax.get_ylim(),
        ax.get_aspect(),
        ax.get_adjustable(),
        str(ax.get_anchor()),
        ax.axison,
    ]
    for child in ax.get_children():
        if not ax.axison and isinstance(child, (Axis, Spine)):
            parts.append("off")  # not drawn
        else:
            parts.append(_child_state(ax, child))
    return tuple(parts)


def _child_state(ax, child):
    if not child.get_visible():
        return "hidden"
    if isinstance(child, AxesImage):
        return _image_state(child)
    if isinstance(child, Axis):
        return _axis_state(child)
    if isinstance(child, Spine):
        return ("spine", _color(child.get_edgecolor()), child.get_linewidth())
    if isinstance(child, Text):
        return _text_state(child)
    if child is ax.patch and isinstance(child, Rectangle):
        return ("patch", _color(child.get_facecolor()))
    return _Unknown()


def _axis_state(axis: Axis) -> tuple:
    return (
        type(axis).__name__,
        _ticker_state(axis.get_major_locator()),
        _ticker_state(axis.get_major_formatter()),
        _ticker_state(axis.get_minor_locator()),
        _text_state(axis.label),
        _tick_style(axis),
        _text_state(axis.majorTicks[0].label1, style_only=True),  # later
        # ticks copy its style; its text and place are set when drawn
    )


def _tick_style(axis: Axis):
    # matplotlib keeps ``tick_params`` (label size, rotation) here; without
    # it the ticks' look is unknown
    style = getattr(axis, "_major_tick_kw", None)
    if not isinstance(style, dict):
        return _Unknown()
    return tuple(sorted((k, repr(v)) for k, v in style.items()))


def _ticker_state(ticker):
    """Say what a ticker's output depends on (its ``state()``), or unknown."""
    state = getattr(ticker, "state", None)
    if callable(state):
        return (type(ticker).__name__, state())
    if type(ticker).__name__ in ("NullLocator", "NullFormatter"):
        return type(ticker).__name__
    return _Unknown()


def _image_state(im: AxesImage) -> tuple:
    data = im.get_array()
    mask = np.ma.getmaskarray(data) if np.ma.isMaskedArray(data) else None
    cmap = im.get_cmap()
    return (
        "image",
        data.shape,
        data.dtype.str,
        np.ma.getdata(data).tobytes(),
        None if mask is None else mask.tobytes(),
        tuple(im.get_extent()),
        im.get_alpha(),
        im.get_interpolation(),
        im.origin,
        cmap(np.linspace(0.0, 1.0, cmap.N), bytes=True).tobytes(),
        _color(cmap.get_bad()),
        _color(cmap.get_under()),
        _color(cmap.get_over()),
        _norm_state(im.norm),
    )


def _norm_state(norm):
    stretch = getattr(norm, "stretch", None)
    if stretch is None and type(norm) is not Normalize:
        return _Unknown()  # parameters beyond its range
    return (
        type(norm).__name__,
        float(norm.vmin) if norm.vmin is not None else None,
        float(norm.vmax) if norm.vmax is not None else None,
        norm.clip,
        None if stretch is None else _stretch_state(stretch),
    )


#: What a `~diffview.render.Stretch` maps data to grey levels with.
_STRETCH_FIELDS = ("vmin", "vmax", "mode", "logpower", "beta", "thresholds", "saturate")


def _stretch_state(stretch):
    """List a stretch's grey mapping by value (thresholds by their bytes)."""
    values = []
    for name in _STRETCH_FIELDS:
        v = getattr(stretch, name, _Unknown())
        if isinstance(v, np.ndarray):
            v = (v.shape, v.dtype.str, v.tobytes())
        values.append(v)
    return tuple(values)
