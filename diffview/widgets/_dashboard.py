"""
The overlap-inspection dashboard: layout and wiring.

The dashboard lays out the controls and the views and connects them: a user
action (a click, a choice in a list, a typed range) calls one action of the
`Explorer`, which changes its state and tells every view what changed; the
views read the state and redraw. Every action is guarded so that an
exception lands in the dashboard's error area instead of a log nobody reads;
the views keep their last good picture.
"""

from __future__ import annotations

import html
import threading

import ipywidgets as W

from diffview.render import TABLE_NAMES
from diffview.run import CompletionJob, Workspace
from diffview.widgets._build import is_raw_folder
from diffview.widgets._canvas import after_frames
from diffview.widgets._controller import Explorer
from diffview.widgets._histview import HistogramView
from diffview.widgets._home import Home
from diffview.widgets._keys import KeyArea
from diffview.widgets._layout import dashboard_layout
from diffview.widgets._loading import Loading
from diffview.widgets._model import MEASURES, STRETCH_MODES
from diffview.widgets._mosaic import MosaicView
from diffview.widgets._pairtable import PairTable
from diffview.widgets._progress import ProgressView
from diffview.widgets._readout import Hover, PixelReadout, readout_layout
from diffview.widgets._resolveview import ResolveActions, ResolveView
from diffview.widgets._settings import DisplaySettings
from diffview.widgets._textviews import (
    FlagPanel,
    MessageArea,
    _action,
    _button,
    _text,
)
from diffview.widgets._tools import DashboardTools
from diffview.widgets._views import PairPanels
from diffview.widgets._wcsaxes import SkyAxes

__all__ = ["Dashboard", "explore"]


class Dashboard(Loading, ResolveActions, DashboardTools, Hover, W.VBox):
    """
    The overlap-inspection dashboard: pairs, differences, fits, background model.

    Browse the overlap pairs in ranked order, see each one's images,
    difference and fit, flag the bad ones, re-solve the background model
    without them and export the decision.

    Parameters
    ----------
    work : str, path-like, object, Workspace or Explorer
        A Montage work folder or a folder of raw images (see `explore`), or
        data already loaded.
    fits, corrections : list, optional
        Fits and corrections already in memory.
    background : bool
        Open at once and compute what is missing (differences, fits, the
        preview, corrections) in the background while the user browses
        (`diffview.run.CompletionJob`: a progress bar with pairs/s and time
        left, the table and mosaic filling in, a selected pair computed
        first); otherwise compute it all before returning.
    work_dir : str or path-like, optional
        Where the work folder of raw images is built (see `explore`).
    executor : concurrent.futures.Executor, optional
        Where the background job's chunks run (default: a process pool
        when it pays).
    workers : int, optional
        Size of that pool (1: the job's own thread).

    Attributes
    ----------
    explorer : Explorer or None
        The state and its actions (None until loaded).
    pairs : PairPanels
    keyboard : KeyArea
        The pair panels in a box that takes key presses (``box``), with
        the blink (``keyboard.blink``).
    histogram : HistogramView
    mosaic : MosaicView
    browser : PairTable
        The pair table, sortable by column and filtered (``box``), one
        page at a time (``table``: the rows of the page), the selected
        pair's title (``selected``) and fit (``fit_text``), also attributes
        of the dashboard.
    flags_view : FlagPanel
        The flag list (``flag_list``) and the residual table
        (``residuals``), also attributes of the dashboard.
    resolve_view : ResolveView
        A background re-solve's progress and stop button.
    probe : WidthProbe
        Reports the width the dashboard is given; the figures follow it
        (`diffview.widgets._layout`).
    frames : FrameDrawer
        Has the page draw every figure's frames as soon as they are
        decoded (`diffview.widgets._frames`).
    messages : MessageArea
        The error box (``error``, ``error_text``: what went wrong with the
        last action) and the note line (``message``, ``message_text``:
        failed pairs, no pairs, where an export went).

    Examples
    --------
    >>> import tempfile
    >>> from diffview.sample import write_sample
    >>> dash = Dashboard(write_sample(tempfile.mkdtemp(), "small"))
    >>> dash.next()
    >>> dash.explorer.selected == dash.explorer.order[1] == dash.table.value
    True
    >>> dash.close()
    """

    def __init__(
        self,
        work,
        *,
        fits=None,
        corrections=None,
        background=False,
        work_dir=None,
        executor=None,
        workers=None,
    ):
        self.home = Home()  # this thread: every message and view runs here
        self.explorer: Explorer | None = None
        self.job: CompletionJob | None = None
        self._work_dir, self._built = work_dir, ""
        self._thread: threading.Thread | None = None
        self._syncing = False  # a control set by the dashboard, not the user
        self._build_views()
        self._build_controls()
        super().__init__(dashboard_layout(self), layout=W.Layout(width="100%"))
        self.add_class("dv-dashboard")
        self.home.adopt(self, self.keyboard.event)
        if isinstance(work, (Explorer, Workspace)):
            self._ready(work if isinstance(work, Explorer) else Explorer(work))
        elif background and is_raw_folder(work):  # a build takes minutes
            self._thread = threading.Thread(
                target=self._open,
                args=(work, fits, corrections, executor, workers),
                daemon=True,
            )
            self._thread.start()
        elif background:
            self._open(work, fits, corrections, executor, workers)
        else:
            self._load(work, fits, corrections)

    # ------------------------------------------------------------------
    # Layout
    # ------------------------------------------------------------------

    def _build_views(self) -> None:
        self.browser = PairTable()
        self.table, self.selected = self.browser.table, self.browser.selected
        self.fit_text = self.browser.fit_text
        self.pairs = PairPanels()
        self.sky_axes = SkyAxes(self.pairs)  # RA/Dec ticks (template WCS)
        self.keyboard = KeyArea(self)  # key presses, blink; holds the panels
        self.histogram = HistogramView()
        self.mosaic = MosaicView()
        self.mosaic.fig.canvas.add_class("dv-mosaic")
        self.flags_view = FlagPanel()
        self.flag_list = self.flags_view.flag_list
        self.residuals = self.flags_view.residuals
        # as tall as its longest text: hovering the mosaic must not move it
        self.readout = W.HTML("move the cursor over a panel", layout=readout_layout())
        self.readout.add_class("dv-readout")
        self.export_text = W.HTML("")
        self.messages = MessageArea()
        self.error, self.message = self.messages.error, self.messages.message
        self.progress_view = ProgressView()
        self.progress = self.progress_view.bar
        self.progress_label = self.progress_view.label
        self.resolve_view = ResolveView()
        self._build_tools()  # mosaic tools, zoom lock, change explainer

    def _build_controls(self) -> None:
        settings = DisplaySettings()
        self.measure = W.Dropdown(
            options=[(v, k) for k, v in MEASURES.items()],
            value="score",
            description="rank by",
            layout=W.Layout(width="260px"),
        )
        self.worst_first = W.Checkbox(
            value=True, description="largest first", indent=False
        )
        self.prev_button = _button("◀ previous", "dv-prev")
        self.next_button = _button("next ▶", "dv-next")
        self.mode = W.Dropdown(
            options=list(STRETCH_MODES),
            value=settings.mode,
            description="stretch",
            layout=W.Layout(width="220px"),
        )
        self.vmin = _text(settings.vmin, "min", "160px", continuous_update=False)
        self.vmax = _text(settings.vmax, "max", "160px", continuous_update=False)
        self.ct = W.Dropdown(
            options=[(f"{k} {n}", k) for k, n in TABLE_NAMES.items()],
            value=settings.ct,
            description="colours",
            layout=W.Layout(width="300px"),
        )
        self.partial = W.Checkbox(
            value=settings.partial,
            description="range includes partly covered edge pixels",
            indent=False,
        )
        self.apply_button = _button("apply stretch", "dv-apply")
        self.quality_toggle = W.ToggleButton(
            value=False, description="colour by quality"
        )
        self.flag_reason = _text("bad", "reason", "200px")
        self.flag_pair_button = _button("flag pair", "dv-flag-pair")
        self.flag_plus_button = _button("flag plus image", "dv-flag-plus")
        self.flag_minus_button = _button("flag minus image", "dv-flag-minus")
        self.unflag_button = _button("remove flag", "dv-unflag")
        self.method = W.Dropdown(
            options=["direct", "montage"],
            value="direct",
            description="solver",
            layout=W.Layout(width="200px"),
        )
        self.resolve_button = _button("re-solve without flagged", "dv-resolve")
        self.export_path = _text("diffview-export", "folder", "300px")
        self.export_button = _button("export tables", "dv-export")

    # ------------------------------------------------------------------
    # Wiring: each user action calls one action of the explorer
    # ------------------------------------------------------------------

    def _connect(self) -> None:
        self.browser.on_choose(self.select)
        self.browser.on_sort(self.sort_table)
        self.browser.on_filter(self._on_filter)
        self.measure.observe(self._on_measure, names="value")
        self.worst_first.observe(self._on_measure, names="value")
        self.prev_button.on_click(lambda _: self.previous())
        self.next_button.on_click(lambda _: self.next())
        for w in (self.mode, self.vmin, self.vmax, self.ct, self.partial):
            w.observe(lambda _: self.apply_stretch(), names="value")
        self.apply_button.on_click(lambda _: self.apply_stretch())
        self.quality_toggle.observe(self._on_quality, names="value")
        self.flag_pair_button.on_click(lambda _: self.flag_pair())
        self.flag_plus_button.on_click(lambda _: self.flag_image("plus"))
        self.flag_minus_button.on_click(lambda _: self.flag_image("minus"))
        self.unflag_button.on_click(lambda _: self.unflag())
        self.resolve_button.on_click(lambda _: self.resolve())
        self.export_button.on_click(lambda _: self.export())
        self.mosaic.fig.canvas.mpl_connect("button_press_event", self._on_click)
        self._connect_tools()
        self._connect_hover()

    def _ready(self, explorer: Explorer) -> None:
        self.explorer = explorer
        self.pixel_readout = PixelReadout(explorer)
        self.progress_view.hide()
        for view in (
            self.browser,  # at once: code reads the table right after an action
            self.sky_axes,  # before the panels draw
            self.pairs,
            self.zoom_lock,  # after the panels: a locked zoom carries over
            self.keyboard,  # after the panels: a blinking panel keeps its frame
            self.explain,  # before the mosaic: a full draw of it shows them too
            self.flags_view,
        ):
            explorer.subscribe(self.home.view(view.render, self.show_error))
        # after the panels' frames; the tools after the mosaic (follow zooms it)
        home = self.home
        for view in (self.histogram, self.mosaic, self.mosaic_tools):
            explorer.subscribe(after_frames(view.render, self.show_error, home=home))
        explorer.subscribe(
            after_frames(self._read_ahead, self.show_error, idle=True, home=home)
        )
        explorer.notify()  # everything is new
        self._show_report()
        self._connect()  # last: no user action before the views are filled

    def _read_ahead(self, explorer, changes) -> None:
        """
        Once an action's frames are out, read and draw the pair Next goes to.

        After any change: a new selection, stretch or ranking (a background
        job's results reorder the pairs) changes which pair that is or how
        it looks.
        """
        index = explorer.prefetch(+1)  # its arrays and stretches
        if index is None:
            return
        try:  # its pictures: Next ships them at once
            self.pairs.prepare_pair(explorer, index)
        except Exception:  # noqa: BLE001 - only a head start: Next renders
            # (and reports what is wrong) as it would without it
            self.pairs.forget_prepared()

    # ------------------------------------------------------------------
    # Errors
    # ------------------------------------------------------------------

    def show_error(self, exc: BaseException) -> None:
        """
        Show an exception in the error area.

        Parameters
        ----------
        exc : BaseException
            A `DiffviewError` (a user error) is shown without its traceback,
            anything else with the traceback under "details".
        """
        self.messages.show_error(exc)

    def clear_error(self) -> None:
        """Hide the error area."""
        self.messages.clear_error()

    @property
    def error_text(self) -> str:
        """The error shown (empty when none), as plain text."""
        return self.messages.error_text

    @property
    def message_text(self) -> str:
        """The note shown (pairs that failed, no pairs, an export), as text."""
        return self.messages.message_text

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    @_action
    def select(self, index: int) -> None:
        """
        Select a pair.

        Parameters
        ----------
        index : int
            Position in the overlap table.
        """
        self.explorer.select(index)

    @_action
    def next(self) -> None:
        """Select the next pair in ranked order."""
        self.explorer.step(+1)

    @_action
    def previous(self) -> None:
        """Select the previous pair in ranked order."""
        self.explorer.step(-1)

    @_action
    def _on_measure(self, change) -> None:
        if self._syncing:
            return
        self.explorer.ranking(self.measure.value, self.worst_first.value)

    @_action
    def sort_table(self, column: str) -> None:
        """Sort the pair table by a column (again: the other way round)."""
        self.explorer.sort_table(column)
        if column in MEASURES:  # the ranking controls follow, not re-ranking
            self._syncing = True
            self.measure.value = column
            self.worst_first.value = self.explorer.descending
            self._syncing = False

    @_action
    def _on_filter(self, values: dict) -> None:
        self.explorer.filter_table(**values)

    @_action
    def apply_stretch(self) -> None:
        """Apply the stretch controls; an invalid range keeps the last picture."""
        self.explorer.set_stretch(
            mode=self.mode.value,
            vmin=self.vmin.value.strip(),
            vmax=self.vmax.value.strip(),
            ct=int(self.ct.value),
            partial=bool(self.partial.value),
        )

    @_action
    def flag_pair(self) -> None:
        """Flag the selected pair as bad (the reason typed in ``flag_reason``)."""
        self.explorer.flag_pair(reason=self.flag_reason.value or "bad")

    @_action
    def flag_image(self, which: str) -> None:
        """
        Flag one image of the selected pair as bad.

        Parameters
        ----------
        which : {'plus', 'minus'}
            The pair's plus or minus image.
        """
        c1, c2 = self.explorer.key(self.explorer.selected)
        self.explorer.flag_image(
            c1 if which == "plus" else c2, reason=self.flag_reason.value or "bad"
        )

    @_action
    def unflag(self) -> None:
        """Remove the flag chosen in the flag list."""
        if self.flag_list.value is not None:
            self.explorer.unflag(self.flag_list.value)

    @_action
    def export(self) -> None:
        """Write fits.tbl, corrections.tbl and flags.tbl below the work folder.

        The folder typed in ``export_path`` is relative to the work folder
        (never the kernel's current folder); an absolute name or one leading
        outside (``../``) is refused in the error area.
        """
        folder = self.explorer.export_folder(self.export_path.value)
        paths = self.explorer.export(folder)
        self.export_text.value = "written: " + ", ".join(
            html.escape(p) for p in paths.values()
        )
        names = ", ".join(f"{k}.tbl" for k in paths)
        self.messages.show_message(f"exported {names} to {folder}")

    def close(self) -> None:
        """Stop the background jobs (no worker left), close canvases and widgets."""
        if self.job is not None:
            self.job.cancel("dashboard closed")
            self.job.wait(10)
        self._stop_resolve()
        self.pairs.close()
        for view in (self.histogram, self.mosaic):
            view.fig.canvas.close()
        super().close()


def explore(
    work,
    *,
    fits=None,
    corrections=None,
    background=True,
    work_dir=None,
    executor=None,
    workers=None,
) -> Dashboard:
    """
    Open the overlap-inspection dashboard on a Montage work folder.

    Parameters
    ----------
    work : str, path-like or object
        A work folder holding the projected images (``projected/`` or next to
        the table), ``images.tbl``, a ``.hdr`` template, and optionally
        ``diffs.tbl``, ``diffs/``, ``fits.tbl``, ``corrections.tbl`` and
        ``mosaic.fits``; or an object with those paths as attributes (e.g.
        `diffview.sample.write_sample`'s result), or a loaded `Workspace`
        or `Explorer`, or a folder of raw images (see ``work_dir``). Missing
        differences are computed into ``diffs/``; missing fits, corrections
        and the mosaic preview in memory.
    fits, corrections : list, optional
        Fits (`~diffview.PlaneFit`, e.g. ``differences_and_fits(...).fits``) and
        corrections (`~diffview.Correction`) already in memory.
    background : bool
        Open at once and compute what is missing in the background while
        the dashboard shows its progress (see `Dashboard`).
    executor : concurrent.futures.Executor, optional
        Where the background job's chunks run (e.g. a dask client's
        executor).
    workers : int, optional
        Size of the local process pool of the background job.
    work_dir : str or path-like, optional
        When ``work`` is a folder of raw FITS images (no image table): the
        work folder built from them with `diffview.run.make_mosaic`
        (template, reprojection, tables, differences, fits, background
        model, mosaic), with a progress bar; default ``<raw>-work`` beside
        it. Built once: the next call finds it up to date.

    Returns
    -------
    Dashboard

    Examples
    --------
    >>> import tempfile
    >>> from diffview.sample import write_sample
    >>> s = write_sample(tempfile.mkdtemp(), "small")
    >>> dash = explore(s, background=False)
    >>> dash.explorer.selected is not None
    True
    >>> dash.close()
    """
    return Dashboard(
        work,
        fits=fits,
        corrections=corrections,
        background=background,
        work_dir=work_dir,
        executor=executor,
        workers=workers,
    )
