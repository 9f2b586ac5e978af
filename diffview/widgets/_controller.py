"""
The dashboard's controller: one state object and the actions that change it.

`Explorer` holds what the user chose over a `Workspace` (ranking measure,
selected pair, display settings, flags, corrections) and answers what the
views draw. An action (`select`, `step`, `ranking`, `set_stretch`,
`flag_pair`, `flag_image`, `unflag`, `resolve`, `start_resolve`) changes the
state and then tells every subscribed view, once, what changed
(`CHANGES`); the views read the state back. Pure Python: neither
matplotlib nor ipywidgets is imported.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from diffview import io
from diffview.core import assess_fits
from diffview.errors import InputError, PairError
from diffview.render import compute_stretch
from diffview.run import Workspace, as_fits_list, load_workspace, resolve_inside
from diffview.widgets._follow import JobFollower
from diffview.widgets._measures import PairMeasures
from diffview.widgets._model import CHANGES, PANELS
from diffview.widgets._queries import ExplorerQueries
from diffview.widgets._resolve import Resolving
from diffview.widgets._settings import DisplaySettings, check_ranges, checked_settings
from diffview.widgets._table import TableState, _locked

__all__ = ["Explorer"]

_STRETCHES = 12  # resolved stretches kept (3 panel groups of 4 pairs)


def _group(panel: str) -> str:
    """Plus and minus share one stretch (resolved on both images)."""
    return "images" if panel in ("plus", "minus") else panel


class Explorer(TableState, JobFollower, Resolving, ExplorerQueries):
    """
    State and actions of the overlap-inspection dashboard.

    Parameters
    ----------
    workspace : Workspace or str or path-like or object
        A loaded `Workspace`, or anything `load_workspace` accepts (loaded
        synchronously).
    assess : bool
        Assess the fits' quality now; False leaves it to the end of the
        background job (`follow`) that completes an opened workspace.

    Attributes
    ----------
    ws : Workspace
        The work folder's data.
    measure : str
        The ranking measure (a key of `MEASURES`).
    column : str
        The table's sorted column (a key of `COLUMNS`; `sort_table`).
    descending : bool
        Largest first.
    table_filter : TableFilter
        Which pairs the table shows (`filter_table`).
    order : RankOrder
        The pairs the table shows (a sequence of int), in its order (all
        of them, ranked by ``measure``, until the table is sorted or
        filtered); next and previous walk it.
    selected : int or None
        Index of the selected pair.
    stretch : DisplaySettings
        How the pair panels are drawn.
    flagged_pairs, flagged_images : dict
        ``(cntr1, cntr2) -> reason`` and ``cntr -> reason``.
    corrections, baseline : list of Correction
        The current corrections and those the workspace came with.
    solver : str or None
        Method of the last re-solve (None before any).
    resolve_job : ResolveJob or None
        The last re-solve run in the background (`start_resolve`).
    quality : dict
        ``(plus, minus) -> FitQuality`` under the current corrections.
    pair_measures : PairMeasures
        Every ranking measure of every pair, as arrays.
    job : diffview.run.CompletionJob or None
        The background job completing the workspace (see `follow`).
    lock : threading.RLock
        Held by every action and by the job's updates.

    Examples
    --------
    >>> import tempfile
    >>> from diffview.sample import write_sample
    >>> ex = Explorer(write_sample(tempfile.mkdtemp(), "small"))
    >>> seen = []
    >>> ex.subscribe(lambda ex, changes: seen.append(sorted(changes)))
    >>> ex.select(ex.order[0]) == ex.order[0]
    True
    >>> ex.pair_label(ex.selected).startswith("pair ")
    True
    >>> seen
    [['selection']]
    """

    def __init__(self, workspace, *, assess: bool = True):
        if not isinstance(workspace, Workspace):
            workspace = load_workspace(workspace)
        super().__init__(workspace)
        self.lock = threading.RLock()
        self.quality: dict = {}
        self.pair_measures = PairMeasures(workspace)
        self.measure = "score"
        self.column = "score"  # the table's sorted column (`sort_table`)
        self.descending = True
        self.stretch = DisplaySettings()
        self.flagged_pairs: dict = {}
        self.flagged_images: dict = {}
        self.corrections = list(workspace.corrections)
        self.baseline = list(workspace.corrections)
        self.solver: str | None = None
        self._take_start()
        self._views: list[Callable] = []
        self._stretches: OrderedDict = OrderedDict()
        if assess:
            self._assess()
        self._rank()
        self.selected = self.order[0] if len(self.order) else None

    # ------------------------------------------------------------------
    # Views
    # ------------------------------------------------------------------

    def subscribe(self, view: Callable) -> None:
        """
        Call ``view(explorer, changes)`` after every action.

        Parameters
        ----------
        view : callable
            Called with this explorer and the frozenset of what the action
            changed (names from `CHANGES`); it reads the state it draws.
        """
        self._views.append(view)

    def notify(self, changes=CHANGES) -> None:
        """
        Tell every subscribed view what changed (default: everything).

        Parameters
        ----------
        changes : iterable of str
            Names from `CHANGES`.
        """
        changes = frozenset(changes)
        with self.lock:
            for view in self._views:
                view(self, changes)

    # ------------------------------------------------------------------
    # Ranking
    # ------------------------------------------------------------------

    def _assess(self, quality: dict | None = None) -> None:
        if quality is None:
            quality = self._quality(as_fits_list(self.ws), self.corrections)
        self.quality = quality
        self.pair_measures.set_quality(self.quality)

    def _quality(self, fits, corrections) -> dict:
        """``(plus, minus) -> FitQuality`` of some fits under some corrections."""
        qual = assess_fits(
            fits, images=self.ws.geometry, corrections=corrections or None
        )
        return {(q.plus, q.minus): q for q in qual}

    # ------------------------------------------------------------------
    # Selection
    # ------------------------------------------------------------------

    @_locked
    def select(self, index: int) -> int:
        """
        Select a pair.

        Parameters
        ----------
        index : int
            Position in the overlap table.

        Returns
        -------
        int
            The selected index.
        """
        self.selected = self._index(index)
        self.notify({"selection"})
        return self.selected

    @_locked
    def step(self, delta: int) -> int:
        """
        Select the next (``+1``) or previous (``-1``) pair in ranked order.

        Parameters
        ----------
        delta : int
            Steps along the ranking (wraps around).

        Returns
        -------
        int
            The selected index.
        """
        if not len(self.order):
            why = (
                "no pair passes the table's filter; clear it"
                if len(self.overlaps)
                else "this work folder has no overlap pairs"
            )
            raise InputError(f"no pair to go to: {why}")
        pos = self.order.index(self.selected) if self.selected in self.order else -1
        return self.select(self.order[(pos + delta) % len(self.order)])

    # ------------------------------------------------------------------
    # Display settings
    # ------------------------------------------------------------------

    def forget_pairs(self, indices) -> None:
        """
        Drop what is kept of some pairs: their arrays and display ranges.

        For pairs whose files changed, e.g. computed in the background while
        a "computing…" view of them was kept (and its display range resolved
        on it: no pixel, so none).

        Parameters
        ----------
        indices : iterable of int
            Positions in the overlap table.

        Examples
        --------
        >>> import tempfile
        >>> from diffview.sample import write_sample
        >>> ex = Explorer(write_sample(tempfile.mkdtemp(), "small"))
        >>> view = ex.pair_view()
        >>> ex.pair_view() is view
        True
        >>> ex.forget_pairs([ex.selected])
        >>> ex.pair_view() is view
        False
        """
        gone = set(indices)
        for k in gone:
            self._pairs.pop(k, None)
        for key in [key for key in self._stretches if key[0] in gone]:
            del self._stretches[key]

    def _resolve(self, panel: str, settings: DisplaySettings, index=None):
        index = self.selected if index is None else index
        key = (index, _group(panel), settings)
        if key in self._stretches:
            self._stretches.move_to_end(key)
            return self._stretches[key]
        view = self.pair_view(index)
        if _group(panel) == "images":
            data = np.concatenate([view.plus.ravel(), view.minus.ravel()])
            data = np.asarray(data, float)
        else:
            data = np.asarray(view.range_data(panel, settings.partial), float)
        stretch = None
        if np.isfinite(data).any():
            s = settings
            stretch = compute_stretch(data, s.vmin, s.vmax, s.mode, beta="2s")
        self._stretches[key] = stretch
        while len(self._stretches) > _STRETCHES:
            self._stretches.popitem(last=False)
        return stretch

    def panel_stretch(self, panel: str, index: int | None = None):
        """
        Resolve the mViewer stretch of a panel of a pair (default: selected).

        Parameters
        ----------
        panel : str
            One of `PANELS`; plus and minus share one stretch resolved on
            both images.
        index : int, optional
            Position in the overlap table; default the selected pair.

        Returns
        -------
        diffview.render.Stretch or None
            None when the panel has no finite pixel.
        """
        return self._resolve(panel, self.stretch, index)

    @_locked
    def prefetch(self, delta: int = 1) -> int | None:
        """
        Read the pair `step` would go to and resolve its stretches now.

        The dashboard calls this once a pair's pictures have shipped, so
        that the next Next finds its arrays and stretches cached. A pair the
        background job has not computed yet is left alone (asking for it
        would reorder the job).

        Parameters
        ----------
        delta : int
            Steps along the ranking from the selected pair.

        Returns
        -------
        int or None
            The pair read, or None (no pair, or not computed yet).
        """
        if self.selected not in self.order or len(self.order) < 2:
            return None
        pos = self.order.index(self.selected)
        index = self.order[(pos + delta) % len(self.order)]
        if self.pending(index):
            return None
        for panel in ("plus", "difference", "residual"):
            self._resolve(panel, self.stretch, index)
        return index

    @_locked
    def set_stretch(self, **changes) -> DisplaySettings:
        """
        Change the display settings; validated on the selected pair first.

        Parameters
        ----------
        **changes
            Fields of `DisplaySettings` (``mode``, ``vmin``, ``vmax``, ``ct``,
            ``partial``).

        Returns
        -------
        DisplaySettings
            The new settings (also ``stretch``).

        Raises
        ------
        diffview.InputError
            An unknown mode or colour table, a range string that is invalid
            or not finite (``nan``, ``inf``), or a range whose min is above
            its max on every panel of the selected pair; the settings and
            the pictures are kept.
        """
        new = checked_settings(replace(self.stretch, **changes))
        resolved = {}
        if self.selected is not None:
            resolved = {p: self._resolve(p, new) for p in PANELS}
        if all(s is None for s in resolved.values()):
            compute_stretch(
                np.arange(4.0).reshape(2, 2),
                vmin=new.vmin,
                vmax=new.vmax,
                mode=new.mode,
            )
        check_ranges(resolved, new)
        self.stretch = new
        self.notify({"display"})
        return new

    # ------------------------------------------------------------------
    # Flags, re-solve, export
    # ------------------------------------------------------------------

    @_locked
    def flag_pair(self, index: int | None = None, reason: str = "bad pair") -> None:
        """
        Flag a pair as bad.

        Parameters
        ----------
        index : int, optional
            Position in the overlap table (default: the selected pair).
        reason : str
            Why (written to ``flags.tbl`` by `export`).
        """
        index = self.selected if index is None else index
        self.flagged_pairs[self.key(index)] = reason
        self._flags_changed()
        self._solve_soon()

    @_locked
    def flag_image(self, cntr: int, reason: str = "bad image") -> None:
        """
        Flag an image as bad: all its pairs are left out of the solve.

        Parameters
        ----------
        cntr : int
            The image's id.
        reason : str
            Why.
        """
        if self._image_row(int(cntr)) is None:
            raise InputError(f"no image {cntr}")
        self.flagged_images[int(cntr)] = reason
        self._flags_changed()
        self._solve_soon()

    @_locked
    def unflag(self, item) -> None:
        """
        Remove a flag.

        Parameters
        ----------
        item : tuple
            ``('pair', (c1, c2))`` or ``('image', cntr)``, as in `flags`.
        """
        kind, key = item
        table = self.flagged_pairs if kind == "pair" else self.flagged_images
        table.pop(tuple(key) if kind == "pair" else int(key), None)
        self._flags_changed()

    def export_folder(self, name) -> Path:
        """
        Resolve an export folder typed in the dashboard, inside the work folder.

        Parameters
        ----------
        name : str
            A folder name relative to the work folder (``diffview-export``,
            ``exports/today``).

        Returns
        -------
        pathlib.Path
            The folder, absolute (shown in full), below the work folder
            (whatever the kernel's current folder is).

        Raises
        ------
        diffview.InputError
            An empty name, an absolute one or one leading outside the work
            folder (``../``).
        """
        name = str(name).strip()
        top = str(self.ws.folder.top)
        if not name:
            raise InputError(f"export folder: type a folder name, created in {top}")
        try:
            return Path(os.path.abspath(resolve_inside(top, name, "export folder")))
        except PairError as exc:
            raise InputError(
                f"{exc}: exports are written inside the work folder; type a "
                "relative name such as diffview-export"
            ) from None

    @_locked
    def export(self, folder) -> dict:
        """
        Write the decision as Montage-readable tables.

        Parameters
        ----------
        folder : str or path-like
            Created if missing; used as given (the dashboard passes the name
            typed by the user through `export_folder`).

        Returns
        -------
        dict
            ``name -> path`` of the files written: ``fits`` (the fits not
            flagged, for mBgModel), ``corrections`` (the current
            corrections, for mBgExec) and ``flags`` (``kind plus minus
            reason``).
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        fits = as_fits_list(self.ws)
        kept = [f for f in fits if not self._flagged_key(f.plus, f.minus)]
        paths = {
            name: folder / f"{name}.tbl" for name in ("fits", "corrections", "flags")
        }
        io.write_fits_table(kept, paths["fits"])
        solution = self.direct_solution  # its strengths, if these are its answer
        strengths = (
            solution.strengths
            if solution is not None and solution.corrections == self.corrections
            else ()
        )
        io.write_corrections_table(self.corrections, paths["corrections"], strengths)
        rows = []
        for kind, key, reason in self.flags():
            plus, minus = key if kind == "pair" else (key, -1)
            rows.append((kind, int(plus), int(minus), reason.replace("|", "/")))
        names = ("kind", "plus", "minus", "reason")
        columns = {n: [r[k] for r in rows] for k, n in enumerate(names)}
        io.write_table(columns, paths["flags"], types=bool(rows))
        return {k: str(v) for k, v in paths.items()}
