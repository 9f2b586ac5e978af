"""
The dashboard's layout: boxes that wrap, figures sized to the page.

The rows wrap (``flex-flow: row wrap``): on a laptop with JupyterLab's file
browser open, the stretch controls go under the table and the flag and
export controls under the mosaic; on a large screen they sit side by side.
ipympl figures have a size in pixels, so the dashboard measures the width it
is given (`WidthProbe`, a hidden anywidget that reports its own width and
every change of it) and sizes the figures from it (`figure_sizes`,
`fit_figures`): nothing is cut on a 1280×800 laptop and the panels and the
mosaic grow on a large screen. Without a browser (tests, scripts) the
figures keep the laptop's sizes (`DEFAULT_WIDTH`).
"""

from __future__ import annotations

import anywidget
import ipywidgets as W
import traitlets

from diffview.widgets._canvas import resize_figure
from diffview.widgets._frames import FrameDrawer

__all__ = [
    "DEFAULT_WIDTH",
    "WidthProbe",
    "figure_sizes",
    "fit_figures",
    "dashboard_layout",
]

#: Width (CSS px) assumed until the browser tells: a notebook's output on a
#: 1280×800 laptop with JupyterLab's file browser open (about 870 px).
DEFAULT_WIDTH = 860
_TOOLBAR = 44  # ipympl's toolbar on the left of a canvas, with margins
_SIDE = 470  # the flag and export column beside the mosaic
_MOSAIC_MAX_HEIGHT = 560  # under a laptop's notebook area (about 680 px)

_PROBE_ESM = """
function render({ model, el }) {
  el.style.width = "100%";
  el.style.height = "0px";
  const send = () => {
    const width = Math.round(el.getBoundingClientRect().width);
    const height = Math.round(window.innerHeight || 0);
    if (Math.abs(height - model.get("height")) >= 8) {
      model.set("height", height);
    }
    if (width > 0 && Math.abs(width - model.get("width")) >= 8) {
      model.set("width", width);
    }
    model.save_changes();
  };
  const watch = new ResizeObserver(send);
  watch.observe(el);
  window.addEventListener("resize", send);
  send();
  return () => {
    watch.disconnect();
    window.removeEventListener("resize", send);
  };
}
export default { render };
"""


class WidthProbe(anywidget.AnyWidget):
    """
    A hidden widget that reports the width it is laid out in.

    Attributes
    ----------
    width : int
        CSS pixels; 0 until a browser shows it, then updated on every
        change of 8 px or more (window resized, side panel opened).
    height : int
        The browser window's inner height, CSS pixels (0 until shown): how
        tall the large mosaic may be.

    Examples
    --------
    >>> WidthProbe().width, WidthProbe().height
    (0, 0)
    """

    _esm = _PROBE_ESM
    width = traitlets.Int(0).tag(sync=True)
    height = traitlets.Int(0).tag(sync=True)


def figure_sizes(
    width: int, large_mosaic: bool = False, height: int = 0
) -> dict[str, tuple[int, int]]:
    """
    Size the dashboard's figures (pixels) for the width it is given.

    Parameters
    ----------
    width : int
        CSS pixels available to the dashboard (0: `DEFAULT_WIDTH`).
    large_mosaic : bool
        The mosaic takes the whole width (the flag column goes under it),
        as tall as the window allows.
    height : int
        The window's height, CSS pixels (0: unknown, the mosaic's height
        follows its width).

    Returns
    -------
    dict
        ``'pairs'``, ``'histogram'``, ``'mosaic'`` -> ``(width, height)``,
        each canvas plus its toolbar within ``width``. The mosaic sits
        beside the flag column when both fit, else above it.

    Examples
    --------
    >>> laptop, large = figure_sizes(860), figure_sizes(1500)
    >>> laptop["pairs"][0] + 44 <= 860, large["pairs"][0] > laptop["pairs"][0]
    (True, True)
    >>> large["mosaic"][0] > laptop["mosaic"][0]
    True
    >>> figure_sizes(1500, large_mosaic=True, height=1100)["mosaic"]
    (1152, 960)
    """
    usable = max(int(width or DEFAULT_WIDTH), 400) - 8
    pairs = min(max(usable - _TOOLBAR, 360), 1800)
    side_by_side = usable - _TOOLBAR - _SIDE >= 640
    cap = 1000 if side_by_side else int(_MOSAIC_MAX_HEIGHT * 6 / 5)
    mosaic = min(usable - _TOOLBAR - (_SIDE if side_by_side else 0), cap)
    histogram = min(340 if usable < 1000 else 420, usable - _TOOLBAR)
    mosaic_size = (mosaic, round(mosaic * 5 / 6))
    if large_mosaic:
        mosaic_size = _large_mosaic(usable - _TOOLBAR, height, mosaic_size[1])
    return {
        "pairs": (pairs, round(pairs * 0.32)),
        "histogram": (histogram, round(histogram * 26 / 42)),
        "mosaic": mosaic_size,
    }


def _large_mosaic(width: int, height: int, normal: int) -> tuple[int, int]:
    """Size the large mosaic: the whole width, the window's height less controls.

    Never less tall than the ``normal`` mosaic.
    """
    tall = round(width * 5 / 6)
    if height > 0:
        tall = max(min(tall, height - 140), normal)
    return (min(width, round(tall * 6 / 5)), tall)


def fit_figures(dashboard, width: int) -> dict[str, tuple[int, int]]:
    """
    Size the dashboard's figures for a width (see `figure_sizes`).

    Parameters
    ----------
    dashboard : Dashboard
        Its ``pairs``, ``histogram`` and ``mosaic`` views: a view with a
        ``fit_width(width, height)`` method sizes itself, else its ``fig``
        is resized.
    width : int
        CSS pixels available.

    Returns
    -------
    dict
        The sizes given.

    Examples
    --------
    >>> import tempfile
    >>> from diffview.sample import write_sample
    >>> from diffview.widgets import Dashboard
    >>> dash = Dashboard(write_sample(tempfile.mkdtemp(), "small"))
    >>> sizes = fit_figures(dash, 1500)
    >>> width = dash.mosaic.fig.get_size_inches()[0] * dash.mosaic.fig.dpi
    >>> round(width) == sizes["mosaic"][0]
    True
    >>> dash.close()
    """
    height = getattr(getattr(dashboard, "probe", None), "height", 0)
    large = bool(getattr(dashboard, "mosaic_large", False))
    sizes = figure_sizes(width, large, height)
    for name, size in sizes.items():
        view = getattr(dashboard, name)
        if hasattr(view, "fit_width"):
            view.fit_width(*size)
        elif hasattr(view, "fig"):
            resize_figure(view.fig, size)
    return sizes


def _wrap(children, **layout) -> W.HBox:
    return W.HBox(children, layout=W.Layout(flex_flow="row wrap", **layout))


def dashboard_layout(d) -> list:
    """
    Lay out a dashboard's views and controls.

    Parameters
    ----------
    d : Dashboard
        Its views and controls (built before).

    Returns
    -------
    list of ipywidgets.Widget
        The dashboard's rows; rows wrap on a narrow page. The last two are
        hidden: the dashboard's `WidthProbe` (``d.probe``), whose width the
        figures follow (`fit_figures`), and its `FrameDrawer` (``d.frames``),
        which has the page draw the figures' frames at once.

    Examples
    --------
    >>> import tempfile
    >>> from diffview.sample import write_sample
    >>> from diffview.widgets import Dashboard
    >>> dash = Dashboard(write_sample(tempfile.mkdtemp(), "small"))
    >>> dash.children[-2:] == (dash.probe, dash.frames)
    True
    >>> dash.close()
    """
    d.histogram.fig.canvas.add_class("dv-histogram")
    d.flag_list.add_class("dv-flag-list")
    d.worst_first.layout.width = "auto"
    title = W.HTML("<b>diffview</b>: overlap inspection")
    header = _wrap([title, d.progress, d.progress_label, d.progress_view.stop])
    browser = W.VBox(
        [
            _wrap([d.measure, d.worst_first]),
            d.browser.box,
            W.HBox([d.prev_button, d.next_button]),
            d.fit_text,
        ],
        layout=W.Layout(width="450px", max_width="100%", margin="0 8px 0 0"),
    )
    stretch = W.VBox(
        [d.mode, d.vmin, d.vmax, d.ct, d.partial, d.apply_button]
        + [d.histogram.widget],
        layout=W.Layout(max_width="100%"),
    )
    quality = W.VBox(
        [
            _wrap([d.flag_reason, d.flag_pair_button]),
            _wrap([d.flag_plus_button, d.flag_minus_button]),
            d.flag_list,
            W.HBox([d.unflag_button]),
            _wrap([d.method, d.resolve_button]),
            d.resolve_view.box,
            d.explain.widget,
            d.residuals,
            _wrap([d.export_path, d.export_button]),
            d.export_text,
        ],
        layout=W.Layout(max_width="100%"),
    )
    tools = _wrap([d.quality_toggle, d.mosaic_tools.widget])
    mosaic = W.VBox([tools, d.mosaic.fig.canvas])
    d.probe = WidthProbe()
    # every figure of the dashboard: frames drawn as soon as they are decoded
    d.frames = FrameDrawer(
        [*d.pairs.canvases, d.histogram.fig.canvas, d.mosaic.fig.canvas]
    )
    fit_figures(d, DEFAULT_WIDTH)  # until the browser tells its width

    def follow(change):
        try:
            fit_figures(d, d.probe.width)
        except Exception as exc:  # noqa: BLE001 - shown, as every callback's
            d.show_error(exc)

    d.probe.observe(follow, names=["width", "height"])
    return [
        header,
        d.selected,
        d.error,
        d.message,
        _wrap([browser, stretch]),
        d.zoom_lock.widget,
        d.keyboard.box,
        d.readout,
        _wrap([mosaic, quality]),
        d.probe,
        d.frames,
    ]
