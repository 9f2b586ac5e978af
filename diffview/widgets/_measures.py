"""
The ranking measures of every pair, as arrays: `PairMeasures`.

One float array per measure of `MEASURES`, one value per pair, filled at
once from the workspace's fit columns (`diffview.run.FitMap.column`) and
updated pair by pair as a background job brings results in; ranking is one
``argsort``. Nothing here makes an object per pair, so a table of 150,000
pairs opens as fast as its columns are read.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from diffview.run import pair_keys
from diffview.widgets._model import MEASURES

__all__ = ["PairMeasures", "RankOrder"]

_FIT_FIELDS = ("rms", "c", "a", "b", "npixel")


def _fit_columns(fits, keys: np.ndarray) -> dict:
    """``field -> array`` of the fits of the pairs ``keys`` (NaN: no fit)."""
    if hasattr(fits, "column"):
        return {n: fits.column(n, keys) for n in _FIT_FIELDS}
    cols = {n: np.full(len(keys), np.nan) for n in _FIT_FIELDS}
    for j, key in enumerate(keys):
        fit = fits.get((int(key) >> 32, int(np.int64(key) & 0xFFFFFFFF)))
        if fit is not None:
            for n in _FIT_FIELDS:
                cols[n][j] = float(getattr(fit, n))
    return cols


class PairMeasures:
    """
    Every ranking measure of every pair, one array per measure.

    Parameters
    ----------
    ws : Workspace
        The work folder (its ``overlaps`` and ``fits``).
    pending : numpy.ndarray of bool, optional
        Pairs whose result is still being computed: ``failed`` is NaN (not
        known yet) rather than 1.

    Attributes
    ----------
    arrays : dict of str to numpy.ndarray
        ``measure -> value of each pair`` (NaN where not defined).
    pending : numpy.ndarray of bool

    Examples
    --------
    >>> import tempfile
    >>> from diffview.run import load_workspace
    >>> from diffview.sample import write_sample
    >>> ws = load_workspace(write_sample(tempfile.mkdtemp(), "small", quiet=True))
    >>> m = PairMeasures(ws)
    >>> ov = ws.overlaps[0]
    >>> bool(m.arrays["rms"][0] == ws.fits[(ov.cntr1, ov.cntr2)].rms)
    True
    >>> m.order("rms", True)[0] == int(np.nanargmax(m.arrays["rms"]))
    True
    """

    def __init__(self, ws, pending=None):
        self.ws = ws
        self.keys = _keys(ws.overlaps)
        n = len(self.keys)
        self.arrays = {m: np.full(n, math.nan) for m in MEASURES}
        self.pending = np.zeros(n, bool) if pending is None else np.array(pending, bool)
        self._fill(np.arange(n), _fit_columns(ws.fits, self.keys))

    def _fill(self, idx: np.ndarray, cols: dict) -> None:
        has = np.isfinite(cols["c"])
        a = self.arrays
        a["rms"][idx] = cols["rms"]
        a["offset"][idx] = np.abs(cols["c"])
        a["slope"][idx] = np.hypot(cols["a"], cols["b"])
        a["npixel"][idx] = np.where(has, cols["npixel"], 0.0)
        failed = np.where(has, 0.0, 1.0)
        a["failed"][idx] = np.where(self.pending[idx], math.nan, failed)

    def update(self, indices, pending=None) -> None:
        """
        Read the fits of some pairs again (their results came in).

        Parameters
        ----------
        indices : array_like of int
            Positions in the overlap table.
        pending : numpy.ndarray of bool, optional
            The pairs still without a result.
        """
        if pending is not None:
            self.pending = np.array(pending, bool)
        idx = np.asarray(indices, np.int64)
        fits = self.ws.fits
        cols = {n: np.full(len(idx), math.nan) for n in _FIT_FIELDS}
        for j, k in enumerate(idx):
            ov = self.ws.overlaps[int(k)]
            fit = fits.get((ov.cntr1, ov.cntr2))
            if fit is not None:
                for n in _FIT_FIELDS:
                    cols[n][j] = float(getattr(fit, n))
        self._fill(idx, cols)

    def mark_pending(self, pending) -> None:
        """
        Say which pairs are still being computed (``failed`` unknown: NaN).

        Parameters
        ----------
        pending : numpy.ndarray of bool
            One per pair.
        """
        self.pending = np.array(pending, bool)
        self.arrays["failed"][self.pending] = math.nan

    def set_quality(self, quality: dict) -> None:
        """
        Take the quality scores and residuals of an assessment.

        Parameters
        ----------
        quality : dict
            ``(plus, minus) -> FitQuality``.
        """
        score = np.full(len(self.keys), math.nan)
        resid = np.full(len(self.keys), math.nan)
        if quality:
            qs = list(quality.values())
            qkeys = pair_keys([q.plus for q in qs], [q.minus for q in qs])
            order = np.argsort(qkeys, kind="stable")
            pos = np.searchsorted(qkeys[order], self.keys)
            pos = np.minimum(pos, len(qkeys) - 1)
            hit = qkeys[order][pos] == self.keys
            rows = order[pos[hit]]
            score[hit] = np.array([qs[r].score for r in rows], float)
            resid[hit] = np.abs(np.array([qs[r].residual for r in rows], float))
        self.arrays["score"], self.arrays["residual"] = score, resid

    def value(self, index: int, measure: str) -> float:
        """
        One measure of one pair.

        Parameters
        ----------
        index : int
            Position in the overlap table.
        measure : str
            A key of `MEASURES`.

        Returns
        -------
        float
        """
        return float(self.arrays[measure][index])

    def order(self, measure: str, descending: bool) -> RankOrder:
        """
        Rank the pairs by a measure, NaN last (ties in table order).

        Parameters
        ----------
        measure : str
            A key of `MEASURES`.
        descending : bool
            Largest first.

        Returns
        -------
        RankOrder
            Pair positions in ranked order.
        """
        values = self.arrays[measure]
        sign = -1.0 if descending else 1.0
        keyed = np.where(np.isfinite(values), sign * values, np.inf)
        return RankOrder(np.argsort(keyed, kind="stable"))


def _keys(overlaps) -> np.ndarray:
    keys = getattr(overlaps, "keys", None)
    if isinstance(keys, np.ndarray):
        return keys
    return pair_keys([o.cntr1 for o in overlaps], [o.cntr2 for o in overlaps])


class RankOrder(Sequence):
    """
    Pair positions in ranked order: a sequence of int over one numpy array.

    Parameters
    ----------
    array : array_like of int

    Examples
    --------
    >>> o = RankOrder([3, 0, 2])
    >>> o[0], o.index(2), 0 in o, o == [3, 0, 2], list(o)
    (3, 2, True, True, [3, 0, 2])
    """

    def __init__(self, array):
        self.array = np.asarray(array, np.int64).reshape(-1)
        self._where = None

    def __len__(self) -> int:
        return len(self.array)

    def __repr__(self) -> str:
        return repr(self.array.tolist())

    def __array__(self, dtype=None, copy=None):
        return self.array if dtype is None else self.array.astype(dtype)

    def __getitem__(self, k):
        if isinstance(k, slice):
            return self.array[k].tolist()
        return int(self.array[k])

    def __iter__(self):
        return iter(self.array.tolist())

    def _positions(self) -> np.ndarray:
        if self._where is None:
            size = int(self.array.max()) + 1 if len(self.array) else 0
            where = np.full(size, -1, np.int64)
            where[self.array] = np.arange(len(self.array))
            self._where = where
        return self._where

    def index(self, value, *args) -> int:
        """
        Position of a pair in the ranking.

        Parameters
        ----------
        value : int
            A pair position in the overlap table.

        Returns
        -------
        int

        Raises
        ------
        ValueError
            Not in the ranking.
        """
        where = self._positions()
        if isinstance(value, (int, np.integer)) and 0 <= value < len(where):
            pos = int(where[value])
            if pos >= 0:
                return pos
        raise ValueError(f"{value} is not in the ranking")

    def __contains__(self, value) -> bool:
        try:
            self.index(value)
        except ValueError:
            return False
        return True

    def __eq__(self, other) -> bool:
        if isinstance(other, RankOrder):
            other = other.array
        elif not isinstance(other, (Sequence, np.ndarray)):
            return NotImplemented
        return len(other) == len(self.array) and bool(
            np.array_equal(self.array, np.asarray(other))
        )

    __hash__ = None
