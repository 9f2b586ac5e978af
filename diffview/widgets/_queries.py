"""
What the dashboard's views read: the answers of `Explorer` about its state.

`ExplorerQueries` is the read-only half of `Explorer`: pair arrays (cached),
ranking measures and labels, flags, the pixel readout, the pair under a
mosaic click, outlines and the residual table. It reads the state
`Explorer` keeps (``measure``, ``selected``, ``quality``, flags,
corrections) and changes none of it.
"""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
from astropy.table import Table

from diffview.core import check_index, residual_levels
from diffview.errors import InputError
from diffview.geometry import (
    box_outline,
    footprint_outline,
    footprints_from_table,
    orientation,
)
from diffview.run import PairBoxes, PairList, as_fits_list
from diffview.widgets._model import (
    MEASURES,
    PANELS,
    PairView,
    _blank_view,
    format_readout,
    read_pair_view,
)
from diffview.widgets._outlines import image_rectangles, on_template_grid

__all__ = ["ExplorerQueries"]

_CACHE = 3  # pairs whose arrays are kept


class ExplorerQueries:
    """
    The read-only answers of the dashboard's state (the base of `Explorer`).

    Parameters
    ----------
    workspace : Workspace
        The loaded work folder.

    Examples
    --------
    >>> import tempfile
    >>> from diffview.sample import write_sample
    >>> from diffview.widgets import Explorer
    >>> ex = Explorer(write_sample(tempfile.mkdtemp(), "small"))
    >>> ex.pick(-100, -100) is None
    True
    >>> len(ex.image_outlines()) == len(ex.ws.images)
    True
    """

    def __init__(self, workspace):
        self.ws = workspace
        self.job = None  # a CompletionJob computing what the workspace lacks
        self._pairs: OrderedDict = OrderedDict()
        self._outlines: list | None = None
        self._boxes: list | None = None

    @property
    def overlaps(self) -> list:
        """The overlap table (list of `Overlap`)."""
        return self.ws.overlaps

    def key(self, index: int) -> tuple[int, int]:
        """
        Return the image ids of a pair.

        Parameters
        ----------
        index : int
            Position in the overlap table.

        Returns
        -------
        tuple of int
            ``(cntr1, cntr2)``.

        Raises
        ------
        diffview.InputError
            No pair selected (``index`` None) or no such pair.
        """
        index = self._index(index)
        pairs = self.ws.overlaps
        if isinstance(pairs, PairList):  # no Overlap made
            return int(pairs.cntr1[index]), int(pairs.cntr2[index])
        ov = pairs[index]
        return ov.cntr1, ov.cntr2

    def _index(self, index) -> int:
        """Check a pair's position (`InputError` for none or out of range)."""
        n = len(self.ws.overlaps)
        if index is None:
            why = ": this work folder has no overlap pairs" if n == 0 else ""
            raise InputError(f"no pair selected{why}")
        return check_index(index, n, "pair")

    def load_report(self, shown: int = 5) -> str:
        """
        Say what the loaded work folder lacks: no pairs, failed pairs, problems.

        Parameters
        ----------
        shown : int
            Failed pairs named one by one; the others are counted.

        Returns
        -------
        str
            Empty when every pair has a difference and a fit.

        Examples
        --------
        >>> import tempfile
        >>> from diffview.sample import write_sample
        >>> from diffview.widgets import Explorer
        >>> ex = Explorer(write_sample(tempfile.mkdtemp(), "small"))
        >>> ex.load_report()
        ''
        >>> ex.ws.failures[(0, 1)] = "Images don't overlap"
        >>> print(ex.load_report())
        1 of ... pairs failed (rank by 'failed' to list them): 0 - 1: Images ...
        """
        n, failures = len(self.ws.overlaps), self.ws.failures
        parts = []
        if n == 0:
            parts.append(
                "no overlap pairs in this work folder: the images do not overlap "
                "or the overlap table is empty, so there is nothing to compare"
            )
        elif failures:
            items = [f"{a} - {b}: {msg}" for (a, b), msg in failures.items()]
            more = len(items) - shown
            text = "; ".join(items[:shown]) + (f"; and {more} more" if more > 0 else "")
            head = (
                f"every pair failed ({n} of {n})"
                if len(failures) >= n
                else f"{len(failures)} of {n} pairs failed (rank by 'failed' to "
                "list them)"
            )
            parts.append(f"{head}: {text}")
        parts.extend(self.ws.problems)
        return "\n".join(parts)

    def fit(self, index: int):
        """Return the `PlaneFit` of pair ``index``, or None."""
        return self.ws.fits.get(self.key(index))

    def measures(self, index: int) -> dict:
        """
        Every ranking measure of a pair.

        Parameters
        ----------
        index : int
            Position in the overlap table.

        Returns
        -------
        dict
            ``measure -> value`` for every key of `MEASURES` (NaN where not
            defined, or not computed yet).
        """
        index = self._index(index)
        return {m: self.pair_measures.value(index, m) for m in MEASURES}

    def measure_values(self) -> np.ndarray:
        """Return the current ranking measure of every pair, in table order."""
        return self.pair_measures.arrays[self.measure]

    def pending(self, index: int) -> bool:
        """
        Tell whether a pair's difference and fit are still being computed.

        Parameters
        ----------
        index : int
            Position in the overlap table.

        Returns
        -------
        bool
        """
        return self.job is not None and self.job.is_pending(index)

    def pair_label(self, index: int) -> str:
        """
        Short description of a pair, e.g. ``pair 3: 0 - 4 (quality score 1.2)``.

        Parameters
        ----------
        index : int
            Position in the overlap table.

        Returns
        -------
        str
        """
        cntr1, cntr2 = self.key(index)
        flag = " [flagged]" if self.is_flagged(index) else ""
        if self.pending(index):
            return f"pair {index}: {cntr1} - {cntr2} (computing…){flag}"
        value = self.pair_measures.value(index, self.measure)
        return (
            f"pair {index}: {cntr1} - {cntr2} "
            f"({MEASURES[self.measure]} {value:.4g}){flag}"
        )

    def table_rows(self, start: int = 0, stop: int | None = None) -> list:
        """
        Return ``(label, index)`` of the pairs in ranked order (a window of them).

        Parameters
        ----------
        start, stop : int, optional
            Ranks of the first and past the last row (default: every row);
            a table showing a window of a big ranking asks for that window.

        Returns
        -------
        list of tuple
        """
        idx = np.asarray(self.order[start:stop], np.int64)
        if not isinstance(self.ws.overlaps, PairList):
            return [(self.pair_label(k), k) for k in idx.tolist()]
        pairs, name = self.ws.overlaps, MEASURES[self.measure]
        c1, c2 = pairs.cntr1[idx].tolist(), pairs.cntr2[idx].tolist()
        values = self.pair_measures.arrays[self.measure][idx].tolist()
        pend = np.zeros(len(pairs), bool) if self.job is None else self.job.pending()
        flags = self.flagged_pairs or self.flagged_images
        rows = []
        for k, a, b, v, p in zip(
            idx.tolist(), c1, c2, values, pend[idx].tolist(), strict=True
        ):
            flag = " [flagged]" if flags and self._flagged_key(a, b) else ""
            what = "computing…" if p else f"{name} {v:.4g}"
            rows.append((f"pair {k}: {a} - {b} ({what}){flag}", k))
        return rows

    def verdict(self, index: int | None = None) -> str:
        """
        Return a pair's verdict: ``ok`` or the reasons it is suspect.

        Parameters
        ----------
        index : int, optional
            Position in the overlap table (default: the selected pair).

        Returns
        -------
        str
        """
        index = self.selected if index is None else index
        q = self.quality.get(self.key(index))
        return ", ".join(q.reasons) if q and q.reasons else "ok"

    def pair_view(self, index: int | None = None) -> PairView:
        """
        Return the arrays of a pair (default: the selected one); LRU cached.

        Parameters
        ----------
        index : int, optional
            Position in the overlap table.

        Returns
        -------
        PairView
        """
        index = self._index(self.selected if index is None else index)
        if self.pending(index):  # cached until its result comes in (_flush)
            self.job.prioritise(index)
            if index not in self._pairs:
                self._pairs[index] = _blank_view(self.ws, index, "computing…")
        if index in self._pairs:
            self._pairs.move_to_end(index)
            return self._pairs[index]
        view = read_pair_view(self.ws, index)
        self._pairs[index] = view
        while len(self._pairs) > _CACHE:
            self._pairs.popitem(last=False)
        return view

    def value_at(self, panel: str, x: float, y: float) -> float:
        """
        Value of a panel of the selected pair at a template pixel.

        Parameters
        ----------
        panel : str
            One of `PANELS`.
        x, y : float
            Template pixel (column, row), rounded to the nearest.

        Returns
        -------
        float
            NaN outside the pair's box.
        """
        view = self.pair_view()
        (j0, j1), (i0, i1) = view.bounds
        i, j = int(round(x)) - i0, int(round(y)) - j0
        arr = view.panel(panel)
        if 0 <= j < arr.shape[0] and 0 <= i < arr.shape[1]:
            return float(arr[j, i])
        return math.nan

    def readout(self, panel: str, x: float, y: float) -> str:
        """
        Return the readout text for a template pixel of a panel.

        Parameters
        ----------
        panel : str
            One of `PANELS`.
        x, y : float
            Template pixel (column, row).

        Returns
        -------
        str
            See `format_readout`.
        """
        if panel not in PANELS:
            raise InputError(f"unknown panel {panel!r}")
        xi, yi = int(round(x)), int(round(y))
        ra, dec = self.ws.wcs.pixel_to_world_values(xi, yi)
        return format_readout(
            panel, xi, yi, float(ra), float(dec), self.value_at(panel, xi, yi)
        )

    def boxes_at(self, x: float, y: float) -> np.ndarray:
        """
        Mark the pairs whose overlap box holds a template pixel.

        Parameters
        ----------
        x, y : float
            Template pixel (column, row).

        Returns
        -------
        numpy.ndarray of bool
            One per pair, in overlap-table order.

        Examples
        --------
        >>> import tempfile
        >>> from diffview.sample import write_sample
        >>> from diffview.widgets import Explorer
        >>> ex = Explorer(write_sample(tempfile.mkdtemp(), "small"))
        >>> (j0, _), (i0, _) = ex.ws.boxes[0]
        >>> bool(ex.boxes_at(i0, j0)[0]), bool(ex.boxes_at(-9, -9).any())
        (True, False)
        """
        boxes = self._box_table()
        (j0, j1, i0, i1), valid = boxes.array.T, boxes.valid
        inside = valid & (i0 - 0.5 <= x) & (x < i1 - 0.5)
        return inside & (j0 - 0.5 <= y) & (y < j1 - 0.5)

    def pick(self, x: float, y: float) -> int | None:
        """
        Find the pair whose overlap box holds a template pixel.

        Parameters
        ----------
        x, y : float
            Template pixel (column, row).

        Returns
        -------
        int or None
            The smallest box wins where several hold the point; None if no
            box does.
        """
        inside = self.boxes_at(x, y)
        if not inside.any():
            return None
        j0, j1, i0, i1 = self._box_table().array.T
        area = np.where(inside, (j1 - j0) * (i1 - i0), np.iinfo(np.int64).max)
        return int(np.argmin(area))  # the first of equal smallest boxes

    def outlines_by_image(self) -> list[list[np.ndarray]]:
        """Outline runs of each image (table order), (N, 2) template pixel x, y."""
        if self._outlines is None:
            on_grid = on_template_grid(self.ws.images, self.ws.template)
            if on_grid.all():  # projected images: their pixel rectangles
                self._outlines = [[r] for r in image_rectangles(self.ws)]
                return self._outlines
            header = self.ws.template
            orient = orientation(header)
            rects = image_rectangles(self.ws)
            self._outlines = []
            for k, fp in enumerate(footprints_from_table(self.ws.images)):
                if on_grid[k]:
                    self._outlines.append([rects[k]])
                    continue
                runs = footprint_outline(fp.corners, header, orient=orient, split=False)
                self._outlines.append(
                    [np.column_stack(orient.to_fits(r[:, 0], r[:, 1])) for r in runs]
                )
        return self._outlines

    def image_outlines(self) -> list[np.ndarray]:
        """Every image's outline, (N, 2) arrays of template pixel x, y."""
        return [run for runs in self.outlines_by_image() for run in runs]

    def _image_row(self, cntr: int) -> int | None:
        k = np.flatnonzero(self.ws.geometry.cntr == cntr)
        return int(k[0]) if len(k) else None

    def pair_outlines(self, index: int | None = None) -> list[np.ndarray]:
        """
        Return the two images' outlines and the overlap box of a pair.

        Parameters
        ----------
        index : int, optional
            Position in the overlap table (default: the selected pair).

        Returns
        -------
        list of numpy.ndarray
            (N, 2) arrays of template pixel x, y.
        """
        index = self.selected if index is None else index
        out = []
        ov = self.ws.overlaps[index]
        outlines = self.outlines_by_image()
        for cntr in (ov.cntr1, ov.cntr2):
            row = self._image_row(cntr)
            if row is not None and row < len(outlines):
                out.extend(outlines[row])
        box = self.ws.boxes[index]
        if box is not None:
            out.append(box_outline(box))
        return out

    def overlap_boxes(self) -> list[tuple[int, np.ndarray]]:
        """``(index, outline)`` of every overlap box (see `overlap_box_array`)."""
        index, corners = self.overlap_box_array()
        return list(zip(index.tolist(), corners, strict=True))

    def overlap_box_array(self) -> tuple[np.ndarray, np.ndarray]:
        """
        Every overlap box as arrays (computed once).

        Returns
        -------
        index : numpy.ndarray of int
            ``(n,)``: the pair of each box (pairs without a box left out).
        corners : numpy.ndarray
            ``(n, 5, 2)``: x, y of each box's corners in template pixels,
            first repeated last (as `diffview.geometry.box_outline`).
        """
        if self._boxes is None:
            boxes = self._box_table()
            k = np.flatnonzero(boxes.valid)
            j0, j1, i0, i1 = boxes.array[k].T.astype(float) - 0.5
            xy = np.stack(  # as box_outline: (x, y) corners, first repeated last
                [np.stack([i0, i1, i1, i0, i0], 1), np.stack([j0, j0, j1, j1, j0], 1)],
                axis=2,
            )
            self._boxes = (k, xy)
        return self._boxes

    def _box_table(self) -> PairBoxes:
        boxes = self.ws.boxes
        return boxes if isinstance(boxes, PairBoxes) else PairBoxes.from_list(boxes)

    def _flagged_key(self, c1, c2) -> bool:
        return (
            (c1, c2) in self.flagged_pairs
            or c1 in self.flagged_images
            or c2 in self.flagged_images
        )

    def is_flagged(self, index: int) -> bool:
        """Tell whether pair ``index`` is flagged, directly or by an image."""
        return self._flagged_key(*self.key(index))

    def flags(self) -> list[tuple[str, object, str]]:
        """Every flag as ``(kind, key, reason)``, pairs first."""
        return [("pair", k, r) for k, r in self.flagged_pairs.items()] + [
            ("image", k, r) for k, r in self.flagged_images.items()
        ]

    def residual_table(self) -> Table:
        """
        Each overlap's fitted level before and after the corrections.

        Returns
        -------
        astropy.table.Table
            Columns ``plus minus flagged raw before after``: the fit's level
            at its box centre, uncorrected (``raw``), after the first
            corrections (``before``) and after the current ones (``after``).
        """
        fits = as_fits_list(self.ws)
        rows = {
            "plus": [f.plus for f in fits],
            "minus": [f.minus for f in fits],
            "flagged": [self._flagged_key(f.plus, f.minus) for f in fits],
            "raw": residual_levels(fits, []),
            "before": residual_levels(fits, self.baseline),
            "after": residual_levels(fits, self.corrections),
        }
        return Table(rows)
