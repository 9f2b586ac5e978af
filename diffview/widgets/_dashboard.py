"""
The overlap-inspection dashboard: ipywidgets controls over the `Explorer`.

Every observer is wrapped so that an exception lands in the dashboard's error
area instead of a log nobody reads; the views keep their last good picture.
"""

from __future__ import annotations

import functools
import html
import threading
import traceback

import ipywidgets as W
import numpy as np

from diffview.errors import DiffviewError
from diffview.render.stretch import MODES
from diffview.run.workspace import Workspace, load_workspace
from diffview.widgets._state import MEASURES, Explorer, describe_fit
from diffview.widgets._views import HistogramView, MosaicView, PairPanels

__all__ = ["Dashboard", "explore"]

_STAGES = {
    "differences": "computing differences",
    "fits": "fitting planes",
    "preview": "building the mosaic preview",
}
_CT_NAMES = [
    "0 grey",
    "1 reverse grey",
    "2",
    "3",
    "4 thermal",
    "5 reverse thermal",
    "6 log thermal",
    "7 velocity",
    "8 red",
    "9 green",
    "10 blue",
    "11",
    "12",
]


def _guard(method):
    """Run a callback; show any exception in the dashboard's error area."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            result = method(self, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - every error must reach the user
            self.show_error(exc)
            return None
        return result

    return wrapper


def _button(description: str, css: str, **kw) -> W.Button:
    b = W.Button(description=description, layout=W.Layout(width="auto"), **kw)
    b.add_class(css)
    return b


class Dashboard(W.VBox):
    """
    Browse overlap pairs, their differences and fits, and judge the background
    model.

    Parameters
    ----------
    work : str, path-like, object, Workspace or Explorer
        A Montage work folder (see `diffview.widgets.explore`), or data
        already loaded.
    fits, corrections : list, optional
        Fits and corrections already in memory.
    background : bool
        Compute what is missing in a thread (the widget shows a progress bar
        and fills in when done); otherwise before returning.

    Attributes
    ----------
    explorer : Explorer or None
        The controller (None until loaded).
    pairs : PairPanels
    histogram : HistogramView
    mosaic : MosaicView

    Examples
    --------
    >>> import tempfile
    >>> from diffview.datasets import write_sample
    >>> dash = Dashboard(write_sample(tempfile.mkdtemp(), "small", quiet=True))
    >>> dash.next()
    >>> dash.explorer.selected == dash.explorer.order[1]
    True
    """

    def __init__(self, work, *, fits=None, corrections=None, background=False):
        self.explorer: Explorer | None = None
        self._error_text = ""
        self._updating = False
        self._thread: threading.Thread | None = None
        self._build_widgets()
        super().__init__(self._layout())
        self.add_class("dv-dashboard")
        if isinstance(work, (Explorer, Workspace)):
            self._ready(work if isinstance(work, Explorer) else Explorer(work))
        elif background:
            self._thread = threading.Thread(
                target=self._load, args=(work, fits, corrections), daemon=True
            )
            self._thread.start()
        else:
            self._load(work, fits, corrections)

    # ------------------------------------------------------------------
    # Construction
    # ------------------------------------------------------------------

    def _build_widgets(self) -> None:
        self.title = W.HTML("<b>diffview</b>: overlap inspection")
        self.selected = W.HTML("loading…")
        self.selected.add_class("dv-selected")
        self.error = W.HTML("", layout=W.Layout(display="none"))
        self.error.add_class("dv-error")
        self.progress = W.IntProgress(
            value=0, min=0, max=1, description="", layout=W.Layout(width="300px")
        )
        self.progress_label = W.Label("")
        self.measure = W.Dropdown(
            options=[(v, k) for k, v in MEASURES.items()],
            value="score",
            description="rank by",
            layout=W.Layout(width="260px"),
        )
        self.worst_first = W.Checkbox(
            value=True, description="largest first", indent=False
        )
        self.table = W.Select(options=[], rows=14, layout=W.Layout(width="340px"))
        self.table.add_class("dv-table")
        self.prev_button = _button("◀ previous", "dv-prev")
        self.next_button = _button("next ▶", "dv-next")
        self.fit_text = W.HTML("")
        self.readout = W.HTML("move the cursor over a panel")
        self.readout.add_class("dv-readout")
        self.mode = W.Dropdown(
            options=list(MODES),
            value="gaussian-log",
            description="stretch",
            layout=W.Layout(width="220px"),
        )
        self.vmin = W.Text(
            value="-2s",
            description="min",
            continuous_update=False,
            layout=W.Layout(width="160px"),
        )
        self.vmax = W.Text(
            value="max",
            description="max",
            continuous_update=False,
            layout=W.Layout(width="160px"),
        )
        self.ct = W.Dropdown(
            options=[(n, k) for k, n in enumerate(_CT_NAMES)],
            value=1,
            description="colours",
            layout=W.Layout(width="220px"),
        )
        self.apply_button = _button("apply stretch", "dv-apply")
        self.quality_toggle = W.ToggleButton(
            value=False, description="colour by quality"
        )
        self.flag_reason = W.Text(
            value="bad", description="reason", layout=W.Layout(width="200px")
        )
        self.flag_pair_button = _button("flag pair", "dv-flag-pair")
        self.flag_plus_button = _button("flag plus image", "dv-flag-plus")
        self.flag_minus_button = _button("flag minus image", "dv-flag-minus")
        self.flag_list = W.Select(options=[], rows=5, layout=W.Layout(width="300px"))
        self.unflag_button = _button("remove flag", "dv-unflag")
        self.method = W.Dropdown(
            options=["direct", "montage"],
            value="direct",
            description="solver",
            layout=W.Layout(width="200px"),
        )
        self.resolve_button = _button("re-solve without flagged", "dv-resolve")
        self.residuals = W.HTML("")
        self.export_path = W.Text(
            value="diffview-export",
            description="folder",
            layout=W.Layout(width="300px"),
        )
        self.export_button = _button("export tables", "dv-export")
        self.export_text = W.HTML("")
        self.pairs = PairPanels()
        self.pairs.fig.canvas.add_class("dv-pairs")
        self.histogram = HistogramView()
        self.mosaic = MosaicView()
        self.mosaic.fig.canvas.add_class("dv-mosaic")

    def _layout(self) -> list:
        header = W.HBox([self.title, self.progress, self.progress_label])
        browser = W.VBox(
            [
                W.HBox([self.measure, self.worst_first]),
                self.table,
                W.HBox([self.prev_button, self.next_button]),
                self.fit_text,
            ]
        )
        stretch = W.VBox(
            [
                self.mode,
                self.vmin,
                self.vmax,
                self.ct,
                self.apply_button,
                self.histogram.fig.canvas,
            ]
        )
        quality = W.VBox(
            [
                W.HBox([self.flag_reason, self.flag_pair_button]),
                W.HBox([self.flag_plus_button, self.flag_minus_button]),
                self.flag_list,
                W.HBox([self.unflag_button]),
                W.HBox([self.method, self.resolve_button]),
                self.residuals,
                W.HBox([self.export_path, self.export_button]),
                self.export_text,
            ]
        )
        return [
            header,
            self.selected,
            self.error,
            W.HBox([browser, stretch]),
            self.pairs.fig.canvas,
            self.readout,
            W.HBox([W.VBox([self.quality_toggle, self.mosaic.fig.canvas]), quality]),
        ]

    def _connect(self) -> None:
        self.table.observe(self._on_table, names="value")
        self.measure.observe(self._on_measure, names="value")
        self.worst_first.observe(self._on_measure, names="value")
        self.prev_button.on_click(lambda _: self.previous())
        self.next_button.on_click(lambda _: self.next())
        for w in (self.mode, self.vmin, self.vmax, self.ct):
            w.observe(self._on_stretch, names="value")
        self.apply_button.on_click(lambda _: self.apply_stretch())
        self.quality_toggle.observe(self._on_quality, names="value")
        self.flag_pair_button.on_click(lambda _: self.flag_pair())
        self.flag_plus_button.on_click(lambda _: self.flag_image("plus"))
        self.flag_minus_button.on_click(lambda _: self.flag_image("minus"))
        self.unflag_button.on_click(lambda _: self.unflag())
        self.resolve_button.on_click(lambda _: self.resolve())
        self.export_button.on_click(lambda _: self.export())
        self.pairs.fig.canvas.mpl_connect("motion_notify_event", self._on_move)
        self.mosaic.fig.canvas.mpl_connect("button_press_event", self._on_click)

    # ------------------------------------------------------------------
    # Loading
    # ------------------------------------------------------------------

    def _progress(self, stage: str, done: int, total: int) -> None:
        self.progress.max = max(total, 1)
        self.progress.value = min(done, self.progress.max)
        self.progress_label.value = f"{_STAGES.get(stage, stage)} {done}/{total}"

    @_guard
    def _load(self, work, fits, corrections) -> None:
        ws = load_workspace(
            work, fits=fits, corrections=corrections, progress=self._progress
        )
        self._ready(Explorer(ws))

    def _ready(self, explorer: Explorer) -> None:
        self.explorer = explorer
        self.progress.layout.display = "none"
        self.progress_label.value = ""
        ex = explorer
        self.mosaic.load(ex.ws.preview, ex.image_outlines())
        self._refresh_table()
        if ex.selected is not None:
            self._show_selected()
        self._refresh_quality()
        self._connect()  # last: no user action before the views are filled

    def wait(self, timeout: float | None = None) -> Dashboard:
        """Wait for a background load to finish; returns the dashboard."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self

    # ------------------------------------------------------------------
    # Errors
    # ------------------------------------------------------------------

    def show_error(self, exc: BaseException) -> None:
        """Show an exception in the error area (user errors without traceback)."""
        text = f"{type(exc).__name__}: {exc}"
        self._error_text = text
        body = f"<b>Error</b>: {html.escape(text)}"
        if not isinstance(exc, DiffviewError):
            tb = "".join(traceback.format_exception(exc)[-6:])
            body += (
                "<details><summary>details</summary>"
                f"<pre>{html.escape(tb)}</pre></details>"
            )
        self.error.value = (
            f'<div style="color:#a00;background:#fee;padding:4px;'
            f'border:1px solid #a00">{body}</div>'
        )
        self.error.layout.display = None

    def clear_error(self) -> None:
        """Hide the error area."""
        self._error_text = ""
        self.error.value = ""
        self.error.layout.display = "none"

    @property
    def error_text(self) -> str:
        """The error shown (empty when none), as plain text."""
        return self._error_text

    # ------------------------------------------------------------------
    # Pair browser
    # ------------------------------------------------------------------

    def _refresh_table(self) -> None:
        ex = self.explorer
        rows = ex.table_rows()
        self._updating = True
        try:
            self.table.options = rows
            self.table.value = ex.selected
        finally:
            self._updating = False

    def _show_selected(self) -> None:
        ex = self.explorer
        view = ex.pair_view()
        self.pairs.show(view, ex.stretch)
        norm = self.pairs.images["difference"].norm
        self.histogram.show(view.difference, view.level, norm.vmin, norm.vmax)
        self.mosaic.show_selected(ex.pair_outlines())
        ov = ex.overlaps[ex.selected]
        text = (
            f"<b>{html.escape(ex.pair_label(ex.selected))}</b>  {ov.plus} − {ov.minus}"
        )
        if view.error:
            text += f'  <span style="color:#a00">{html.escape(view.error)}</span>'
        self.selected.value = text
        q = ex.quality.get(ex.key(ex.selected))
        reasons = ", ".join(q.reasons) if q and q.reasons else "ok"
        self.fit_text.value = (
            f"{html.escape(describe_fit(view.fit))}<br>verdict: {html.escape(reasons)}"
        )

    @_guard
    def select(self, index: int) -> None:
        """Select a pair by its index in the overlap table."""
        self.clear_error()
        self.explorer.select(index)
        self._sync_selection()

    def _sync_selection(self) -> None:
        self._updating = True
        try:
            self.table.value = self.explorer.selected
        finally:
            self._updating = False
        self._show_selected()

    @_guard
    def next(self) -> None:
        """Select the next pair in ranked order."""
        self.clear_error()
        self.explorer.step(+1)
        self._sync_selection()

    @_guard
    def previous(self) -> None:
        """Select the previous pair in ranked order."""
        self.clear_error()
        self.explorer.step(-1)
        self._sync_selection()

    def _on_table(self, change) -> None:
        if not getattr(self, "_updating", False) and change["new"] is not None:
            self.select(change["new"])

    @_guard
    def _on_measure(self, change) -> None:
        self.explorer.ranking(self.measure.value, self.worst_first.value)
        self._refresh_table()
        self._show_selected()
        self._refresh_quality()

    # ------------------------------------------------------------------
    # Stretch
    # ------------------------------------------------------------------

    def _on_stretch(self, change) -> None:
        self.apply_stretch()

    @_guard
    def apply_stretch(self) -> None:
        """Apply the stretch controls; an invalid range keeps the last picture."""
        self.clear_error()
        ex = self.explorer
        ex.set_stretch(
            mode=self.mode.value,
            vmin=self.vmin.value.strip(),
            vmax=self.vmax.value.strip(),
            ct=int(self.ct.value),
        )
        self._show_selected()

    # ------------------------------------------------------------------
    # Readout and mosaic
    # ------------------------------------------------------------------

    @_guard
    def _on_move(self, event) -> None:
        panel = self.pairs.panel_at(event.inaxes)
        if panel is None or event.xdata is None or self.explorer is None:
            return
        self.readout.value = html.escape(
            self.explorer.readout(panel, event.xdata, event.ydata)
        )

    @_guard
    def _on_click(self, event) -> None:
        toolbar = getattr(self.mosaic.fig.canvas, "toolbar", None)
        if (
            getattr(toolbar, "mode", "") not in ("", None)
            or event.inaxes is not self.mosaic.ax
        ):
            return
        index = self.explorer.pick(event.xdata, event.ydata)
        if index is not None:
            self.select(index)

    def _refresh_quality(self) -> None:
        ex = self.explorer
        values = [ex.measures(k)[ex.measure] for k in range(len(ex.overlaps))]
        self.mosaic.show_quality(
            ex.overlap_boxes(), values, self.quality_toggle.value, MEASURES[ex.measure]
        )

    @_guard
    def _on_quality(self, change) -> None:
        self.mosaic.set_quality_visible(bool(change["new"]))

    # ------------------------------------------------------------------
    # Flags, re-solve, export
    # ------------------------------------------------------------------

    def _refresh_flags(self) -> None:
        ex = self.explorer
        self.flag_list.options = [
            (f"{kind} {key}: {reason}", (kind, key)) for kind, key, reason in ex.flags()
        ]
        self._refresh_table()

    @_guard
    def flag_pair(self) -> None:
        """Flag the selected pair as bad."""
        self.explorer.flag_pair(reason=self.flag_reason.value or "bad")
        self._refresh_flags()

    @_guard
    def flag_image(self, which: str) -> None:
        """Flag the selected pair's ``'plus'`` or ``'minus'`` image as bad."""
        c1, c2 = self.explorer.key(self.explorer.selected)
        self.explorer.flag_image(
            c1 if which == "plus" else c2, reason=self.flag_reason.value or "bad"
        )
        self._refresh_flags()

    @_guard
    def unflag(self) -> None:
        """Remove the flag chosen in the flag list."""
        if self.flag_list.value is not None:
            self.explorer.unflag(self.flag_list.value)
        self._refresh_flags()

    @_guard
    def resolve(self) -> None:
        """Re-solve the background model without the flagged pairs and images."""
        self.clear_error()
        self.explorer.resolve(self.method.value)
        self.residuals.value = _residual_html(self.explorer.residual_table())
        self._refresh_table()
        self._refresh_quality()
        self._show_selected()

    @_guard
    def export(self) -> None:
        """Write fits.tbl, corrections.tbl and flags.tbl to the export folder."""
        self.clear_error()
        paths = self.explorer.export(self.export_path.value)
        self.export_text.value = "written: " + ", ".join(
            html.escape(p) for p in paths.values()
        )

    def close(self) -> None:
        """Close the figures' canvases and the widgets."""
        for view in (self.pairs, self.histogram, self.mosaic):
            view.fig.canvas.close()
        super().close()


def _residual_html(table, limit: int = 200) -> str:
    order = np.argsort(-np.abs(np.asarray(table["before"], float)))[:limit]
    head = (
        "<tr><th>plus</th><th>minus</th><th>flagged</th><th>raw</th>"
        "<th>before</th><th>after</th></tr>"
    )
    rows = []
    for k in order:
        r = table[int(k)]
        rows.append(
            f"<tr><td>{r['plus']}</td><td>{r['minus']}</td>"
            f"<td>{'yes' if r['flagged'] else ''}</td><td>{r['raw']:.4g}</td>"
            f"<td>{r['before']:.4g}</td><td>{r['after']:.4g}</td></tr>"
        )
    return (
        '<div style="max-height:220px;overflow:auto;font-size:90%">'
        "<b>fitted level at box centre (DN)</b>"
        f"<table>{head}{''.join(rows)}</table></div>"
    )


def explore(work, *, fits=None, corrections=None, background=True) -> Dashboard:
    """
    Open the overlap-inspection dashboard on a Montage work folder.

    Parameters
    ----------
    work : str, path-like or object
        A work folder holding the projected images (``projected/`` or next to
        the table), ``images.tbl``, a ``.hdr`` template, and optionally
        ``diffs.tbl``, ``diffs/``, ``fits.tbl``, ``corrections.tbl`` and
        ``mosaic.fits``; or an object with those paths as attributes (e.g.
        `diffview.datasets.write_sample`'s result), or a loaded `Workspace`
        or `Explorer`. Missing differences are computed into ``diffs/``;
        missing fits, corrections and the mosaic preview in memory.
    fits, corrections : list, optional
        Fits (`~diffview.PlaneFit`, e.g. ``difffitexec(...).fits``) and
        corrections (`~diffview.Correction`) already in memory.
    background : bool
        Compute in a thread while the dashboard shows a progress bar.

    Returns
    -------
    Dashboard

    Examples
    --------
    >>> import tempfile
    >>> from diffview.datasets import write_sample
    >>> s = write_sample(tempfile.mkdtemp(), "small", quiet=True)
    >>> dash = explore(s, background=False)
    >>> dash.explorer.selected is not None
    True
    """
    return Dashboard(work, fits=fits, corrections=corrections, background=background)
