"""
The pair table's model: its columns, sorting, filtering and pages.

Pure Python and numpy, no widgets. `TableState` is the part of `Explorer`
that orders the pairs: the sorted column (any of `COLUMNS`, a ranking
measure or not), the direction, and the filter (`TableFilter`: flagged
only, a text, a minimum pixel count). Its ``order`` is what the table shows
and what next/previous walk. Every column is computed once per change of
ranking, flags, corrections or background results, as arrays over the
explorer's `PairMeasures` (no object per pair), so sorting and filtering
150,000 pairs costs milliseconds; only the visible page is formatted
(`format_rows`). Every action holds the explorer's lock (`_locked`): a
background job re-ranks too.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace

import numpy as np

from diffview.errors import InputError
from diffview.run import pair_keys
from diffview.widgets._measures import RankOrder
from diffview.widgets._model import MEASURES

__all__ = [
    "COLUMNS",
    "QUALITY_LEGEND",
    "TableFilter",
    "TableState",
    "format_rows",
    "header_text",
]

#: Table columns: name -> (header, width in characters, explanation). The
#: names shared with `MEASURES` sort the same way as the ranking.
COLUMNS = {
    "pair": ("pair", 5, "position of the pair in the overlap table (diffs.tbl)"),
    "images": ("images", 10, "plus − minus: the ids (cntr) of the two images"),
    "npixel": ("pixels", 7, "pixels of the plane fit"),
    "rms": ("rms", 7, "rms of the plane fit's residual (DN): noise and structure"),
    "offset": ("offset", 7, "|c|: level of the fitted plane at the reference (DN)"),
    "slope": ("slope", 7, "|(a, b)|: gradient of the fitted plane (DN per pixel)"),
    "residual": (
        "resid",
        7,
        "|fit − solved corrections|, mean over the box (DN): what the background "
        "model leaves of this pair's difference",
    ),
    "score": (
        "score",
        7,
        "quality score: the worst quality test over its limit; above 1 the pair "
        "is suspect (!)",
    ),
    "flag": ("flag", 4, "F: flagged by you (left out of the re-solve)"),
}

#: What the quality score and the mosaic's colouring mean, for the legend.
QUALITY_LEGEND = (
    "<b>score</b> = the worst of five tests over its limit: <i>noisy</i> (fit rms "
    "over the expected noise), <i>few pixels</i>, <i>thin strip</i>, "
    "<i>extrapolates</i> (the plane's error at the images' far corners), "
    "<i>disagrees</i> (fit minus solved corrections); above 1 = suspect (!). "
    "<b>colour by quality</b> paints every overlap on the mosaic by the "
    "<i>rank by</i> measure: "
    '<span style="background:linear-gradient(90deg,#1a9850,#ffffbf,#d73027);'
    'padding:0 14px">&nbsp;</span> green small, red large.'
)

_NBSP = "\u00a0"  # option texts collapse ordinary spaces


def _locked(method):
    """Run an action holding the explorer's lock (a background job writes too)."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self.lock:
            return method(self, *args, **kwargs)

    return wrapper


@dataclass(frozen=True)
class TableFilter:
    """
    Which pairs the table shows.

    Attributes
    ----------
    flagged_only : bool
        Only the pairs flagged (themselves or through an image).
    text : str
        Only the rows whose pair number, images, verdict or flag reason
        contain this text (case-insensitive; empty: all).
    min_pixels : int
        Only the pairs whose fit has at least this many pixels.

    Examples
    --------
    >>> TableFilter().active
    False
    >>> TableFilter(min_pixels=100).active
    True
    """

    flagged_only: bool = False
    text: str = ""
    min_pixels: int = 0

    @property
    def active(self) -> bool:
        """True when some pair may be hidden."""
        return self.flagged_only or bool(self.text.strip()) or self.min_pixels > 0


def _fmt(value: float, width: int) -> str:
    """Format a number in at most ``width`` characters (3, 2 or 1 digits)."""
    if not math.isfinite(value):
        return "–"
    for digits in (3, 2, 1):
        text = f"{value:.{digits}g}"
        if len(text) <= width:
            return text
    return f"{value:.0e}"


def format_rows(state, indices) -> list[tuple[str, int]]:
    """
    Format table rows: ``(text, index)`` with the columns aligned.

    Parameters
    ----------
    state : TableState
        The explorer (its ``columns`` arrays).
    indices : sequence of int
        The pairs to format (the visible page).

    Returns
    -------
    list of (str, int)
        Column texts padded with non-breaking spaces (to be shown in a
        monospaced font).

    Examples
    --------
    >>> import tempfile
    >>> from diffview.sample import write_sample
    >>> from diffview.widgets import Explorer
    >>> ex = Explorer(write_sample(tempfile.mkdtemp(), "small"))
    >>> text, index = format_rows(ex, ex.order[:1])[0]
    >>> index == ex.order[0] and text.startswith(str(index))
    True
    """
    rows = []
    for k in indices:
        names = _PENDING if state.pending(k) else COLUMNS
        widths = [COLUMNS[n][1] if n in COLUMNS else _PENDING_WIDTH for n in names]
        cells = [
            _cell(state, n, k, w).ljust(w) for n, w in zip(names, widths, strict=True)
        ]
        rows.append(("".join(cells).rstrip().replace(" ", _NBSP), int(k)))
    return rows


#: The columns of a pair still being computed (its measures: one text).
_PENDING = ("pair", "images", "computing", "flag")
_PENDING_WIDTH = sum(COLUMNS[n][1] for n in COLUMNS if n not in _PENDING)


def _cell(state, name: str, k: int, width: int) -> str:
    """Return the text of one cell (images' ids: from the pair keys)."""
    if name == "computing":
        return "computing…"
    if name == "images":
        return "{} − {}".format(*state.key(k))
    value = state.columns[name][k]
    if name == "flag":
        return "F" if value else ""
    if name in ("pair", "npixel"):
        return str(int(value))
    cell = _fmt(float(value), width - 2)
    return cell + "!" if name == "score" and value > 1 else cell


def header_text(name: str, column: str, descending: bool) -> str:
    """
    Return the header of a column, with an arrow on the sorted one.

    Parameters
    ----------
    name : str
        A key of `COLUMNS`.
    column : str
        The sorted column.
    descending : bool
        Largest first.

    Returns
    -------
    str

    Examples
    --------
    >>> header_text("rms", "rms", True), header_text("pair", "rms", True)
    ('rms▼', 'pair')
    """
    head = COLUMNS[name][0]
    if name != column:
        return head
    return head + ("▼" if descending else "▲")


class TableState:
    """
    Sorting and filtering of the pairs (a base of `Explorer`).

    Uses the explorer's ``pair_measures``, ``lock``, ``key``, ``verdict``
    and flags; sets ``column``, ``descending``, ``table_filter``,
    ``columns`` and ``order``.

    Examples
    --------
    >>> import tempfile
    >>> from diffview.sample import write_sample
    >>> from diffview.widgets import Explorer
    >>> ex = Explorer(write_sample(tempfile.mkdtemp(), "small"))
    >>> order = ex.sort_table("pair", descending=False)
    >>> order == sorted(order)
    True
    >>> ex.filter_table(min_pixels=10**9)
    []
    """

    column: str = "score"
    descending: bool = True
    table_filter: TableFilter = TableFilter()
    columns: dict | None = None

    def _columns(self) -> dict:
        """Every column as an array: the measures are `PairMeasures`' own."""
        cols = dict(self.pair_measures.arrays)
        cols["pair"] = np.arange(len(self.pair_measures.keys), dtype=float)
        cols["flag"] = self._flag_column()
        return cols

    def _cntrs(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the two image ids of every pair, from the pair keys."""
        keys = self.pair_measures.keys
        return keys >> 32, keys & 0xFFFFFFFF

    def _flag_column(self) -> np.ndarray:
        keys = self.pair_measures.keys
        flag = np.zeros(len(keys), bool)
        if self.flagged_pairs:
            c1, c2 = zip(*self.flagged_pairs, strict=True)
            flag |= np.isin(keys, pair_keys(c1, c2))
        if self.flagged_images:
            images = np.fromiter(self.flagged_images, np.int64)
            for cntr in self._cntrs():
                flag |= np.isin(cntr, images)
        return flag.astype(float)

    def _sort_values(self) -> np.ndarray:
        if self.column == "images":
            c1, c2 = self._cntrs()
            ranks = np.empty(len(c1), float)
            ranks[np.lexsort((c2, c1))] = np.arange(len(c1))
            return ranks
        return np.asarray(self.columns[self.column], float)

    def _visible(self) -> np.ndarray:
        f, cols = self.table_filter, self.columns
        keep = np.ones(len(cols["pair"]), bool)
        if f.flagged_only:
            keep &= cols["flag"] > 0
        if f.min_pixels > 0:
            keep &= np.nan_to_num(cols["npixel"]) >= f.min_pixels
        text = f.text.strip().lower()
        if text:
            (k,) = np.nonzero(keep)
            labels = self._row_texts()
            keep[k] = [text in labels[j] for j in k.tolist()]
        return keep

    def _row_texts(self) -> list[str]:
        """
        Return every row's lowercase text for the filter.

        Made again after a flag or a new quality assessment, not for each
        text typed.
        """
        stamp = (self.quality, getattr(self, "_flag_version", 0))
        cached = getattr(self, "_texts", None)
        if cached is not None and cached[0][0] is stamp[0] and cached[0][1] == stamp[1]:
            return cached[1]
        verdicts = {
            k: ", ".join(q.reasons) for k, q in self.quality.items() if q.reasons
        }
        c1, c2 = self._cntrs()
        texts = []
        for k, (a, b) in enumerate(zip(c1.tolist(), c2.tolist(), strict=True)):
            reason = self.flagged_pairs.get((a, b), "")
            reason += " ".join(
                self.flagged_images.get(c, "")
                for c in (a, b)
                if c in self.flagged_images
            )
            verdict = verdicts.get((a, b), "ok")
            texts.append(f"pair {k} {a} - {b} {a} − {b} {verdict} {reason}".lower())
        self._texts = (stamp, texts)
        return texts

    def _rank(self, fresh: bool = True) -> None:
        """Order the pairs (sorted, filtered; NaN last).

        ``fresh``: compute the columns again first (the measures changed:
        loaded, re-solved); a sort or a filter reuses them.
        """
        if fresh or self.columns is None:
            self.columns = self._columns()
        values = self._sort_values()
        sign = -1.0 if self.descending else 1.0
        keyed = np.where(np.isfinite(values), sign * values, np.inf)
        ranked = np.argsort(keyed, kind="stable")
        keep = self._visible()
        self.order = RankOrder(ranked[keep[ranked]])
        self.shown_all = len(self.order) == len(keep)

    @_locked
    def sort_table(self, column: str, descending: bool | None = None) -> list[int]:
        """
        Sort the table by a column (a measure also becomes the ranking).

        Parameters
        ----------
        column : str
            A key of `COLUMNS` or `MEASURES`.
        descending : bool, optional
            Largest first (default: reverse the direction when the column is
            already the sorted one, else largest first for measures and
            smallest first for ``pair`` and ``images``).

        Returns
        -------
        list of int
            The pairs shown, in order (also ``order``).
        """
        if column not in COLUMNS and column not in MEASURES:
            raise InputError(
                f"unknown column {column!r}; use one of " + ", ".join(COLUMNS)
            )
        if descending is None:
            if column == self.column:
                descending = not self.descending
            else:
                descending = column not in ("pair", "images")
        if column in MEASURES:
            self.measure = column
        self.column, self.descending = column, bool(descending)
        self._rank(fresh=False)
        self.notify({"ranking"})
        return self.order

    @_locked
    def ranking(
        self, measure: str | None = None, descending: bool | None = None
    ) -> list[int]:
        """
        Rank the pairs by a measure (NaN last); sets the current order.

        Parameters
        ----------
        measure : str, optional
            One of `MEASURES` (default: the current one).
        descending : bool, optional
            Largest first (worst first for every measure but ``npixel``;
            default: as before).

        Returns
        -------
        list of int
            Pair indices in ranked order (also ``order``), filtered as the
            table is (`filter_table`).
        """
        measure = self.measure if measure is None else measure
        if measure not in MEASURES:
            raise InputError(
                f"unknown measure {measure!r}; use one of " + ", ".join(MEASURES)
            )
        if descending is None:
            descending = self.descending
        return self.sort_table(measure, descending)

    @_locked
    def filter_table(self, **changes) -> list[int]:
        """
        Choose which pairs the table shows (and next/previous walk).

        Parameters
        ----------
        **changes
            Fields of `TableFilter`: ``flagged_only``, ``text``,
            ``min_pixels``.

        Returns
        -------
        list of int
            The pairs shown, in order (also ``order``); the selection is
            kept even when its pair is hidden.

        Raises
        ------
        diffview.InputError
            An unknown field or a negative or non-integer pixel count.
        """
        unknown = set(changes) - {"flagged_only", "text", "min_pixels"}
        if unknown:
            raise InputError(f"unknown table filter {sorted(unknown)}")
        pixels = changes.get("min_pixels", self.table_filter.min_pixels)
        try:
            pixels = int(str(pixels).strip() or 0)
        except ValueError:
            raise InputError(
                f"minimum pixels {pixels!r} is not a whole number"
            ) from None
        if pixels < 0:
            raise InputError(f"minimum pixels {pixels} is negative")
        changes["min_pixels"] = pixels
        changes["text"] = str(changes.get("text", self.table_filter.text))
        changes["flagged_only"] = bool(
            changes.get("flagged_only", self.table_filter.flagged_only)
        )
        self.table_filter = replace(self.table_filter, **changes)
        self._rank(fresh=False)
        self.notify({"ranking"})
        return self.order

    def _flags_changed(self) -> None:
        """After a flag: re-rank when the table depends on flags."""
        changes = {"flags"}
        self._flag_version = getattr(self, "_flag_version", 0) + 1
        self.columns["flag"] = self._flag_column()
        if self.column == "flag" or self.table_filter.active:
            self._rank(fresh=False)
            changes.add("ranking")
        self.notify(changes)
