"""
The dashboard's controller: pure Python, testable without a browser.

`Explorer` holds what the user chose (ranking measure, selected pair,
stretch, flags) over a `Workspace`, and answers what the views draw: the
ranked pair table, the four arrays of the selected pair, the outlines, the
pair under a mosaic click, the readout text, the before/after residuals of a
re-solve, and the exported tables. It imports neither matplotlib nor
ipywidgets.
"""

from __future__ import annotations

import math
import os
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from astropy.table import Table

from diffview import io
from diffview.core.background import predicted_residuals, solve_direct, solve_montage
from diffview.core.fit import fit_residual
from diffview.core.quality import assess_fits
from diffview.errors import InputError
from diffview.geometry.outlines import box_outline, footprint_outline, orientation
from diffview.geometry.overlaps import footprints_from_table, template_offset
from diffview.render.stretch import MODES, compute_stretch
from diffview.run.fits import read_difference_file
from diffview.run.workspace import Workspace, as_fits_list, load_workspace

__all__ = [
    "Explorer",
    "PairView",
    "Stretch",
    "MEASURES",
    "STRETCH_MODES",
    "format_readout",
    "describe_fit",
]

#: Ranking measures: name -> (label, worst first when sorted descending).
MEASURES = {
    "score": "quality score",
    "rms": "fit rms",
    "offset": "offset |c|",
    "slope": "slope |(a, b)|",
    "npixel": "pixel count",
    "residual": "residual after correction",
    "failed": "failed",
}
#: mViewer stretch modes offered by the dashboard.
STRETCH_MODES = MODES
_PANELS = ("plus", "minus", "difference", "residual")
_CACHE = 3


@dataclass(frozen=True)
class Stretch:
    """
    A stretch in mViewer's vocabulary: ``mode``, ``vmin``/``vmax`` range
    strings and colour table ``ct``.

    Examples
    --------
    >>> Stretch()
    Stretch(mode='gaussian-log', vmin='-2s', vmax='max', ct=1)
    """

    mode: str = "gaussian-log"
    vmin: str = "-2s"
    vmax: str = "max"
    ct: int = 1


@dataclass(frozen=True, eq=False)
class PairView:
    """
    The arrays of one pair, all on the difference's grid.

    Attributes
    ----------
    index : int
        Position in the overlap table.
    plus, minus, difference, residual : numpy.ndarray
        The two images over the difference box, the difference, and the
        difference minus its fitted plane (NaN where blank).
    clipped : numpy.ndarray of bool
        Pixels the fit clipped.
    bounds : tuple
        ``((j0, j1), (i0, i1))`` of the arrays in template pixels.
    fit : PlaneFit or None
    error : str
        Why the pair has no difference (empty when it has one).

    Examples
    --------
    >>> import tempfile
    >>> from diffview.datasets import write_sample
    >>> ex = Explorer(write_sample(tempfile.mkdtemp(), "small"))
    >>> v = ex.pair_view()
    >>> v.plus.shape == v.minus.shape == v.difference.shape == v.residual.shape
    True
    """

    index: int
    plus: np.ndarray
    minus: np.ndarray
    difference: np.ndarray
    residual: np.ndarray
    clipped: np.ndarray
    bounds: tuple
    fit: object
    error: str = ""

    def panel(self, name: str) -> np.ndarray:
        """The array shown in panel ``name`` (``plus``, ``minus``, ...)."""
        return getattr(self, name)

    @property
    def level(self) -> float:
        """The fitted plane at the centre of its box (NaN without a fit)."""
        f = self.fit
        if f is None:
            return math.nan
        return f.a * f.boxx + f.b * f.boxy + f.c


def format_readout(
    panel: str, x: float, y: float, ra: float, dec: float, value: float
) -> str:
    """
    The pixel readout line.

    Parameters
    ----------
    panel : str
        Panel name.
    x, y : float
        0-based template pixel (column, row).
    ra, dec : float
        Sky position, degrees.
    value : float
        Pixel value (NaN for blank).

    Examples
    --------
    >>> format_readout("difference", 12, 7, 275.1, -16.2, 0.25)
    'difference  x=12 y=7  RA=275.100000 Dec=-16.200000  value=0.25'
    >>> format_readout("plus", 1, 2, 10.0, 20.0, float("nan"))
    'plus  x=1 y=2  RA=10.000000 Dec=20.000000  value=blank'
    """
    text = "blank" if not np.isfinite(value) else f"{value:.6g}"
    return f"{panel}  x={int(x)} y={int(y)}  RA={ra:.6f} Dec={dec:.6f}  value={text}"


def describe_fit(fit) -> str:
    """
    One line describing a plane fit.

    Examples
    --------
    >>> from diffview.models import PlaneFit
    >>> f = PlaneFit(0, 1, 1e-3, 0., 2.5, 1., 1., 0, 9, 0, 7, 4.5, 3.5, 80,
    ...              0.1, 4.5, 3.5, 9., 7., 0.)
    >>> describe_fit(f)
    'a=0.001 b=0 c=2.5 rms=0.1 npixel=80'
    >>> describe_fit(None)
    'no fit'
    """
    if fit is None:
        return "no fit"
    return (
        f"a={fit.a:.4g} b={fit.b:.4g} c={fit.c:.4g} rms={fit.rms:.4g} "
        f"npixel={fit.npixel}"
    )


def _level(f) -> float:
    return f.a * f.boxx + f.b * f.boxy + f.c


class Explorer:
    """
    State and answers of the overlap-inspection dashboard.

    Parameters
    ----------
    workspace : Workspace or str or path-like or object
        A loaded `Workspace`, or anything `load_workspace` accepts (loaded
        synchronously).

    Examples
    --------
    >>> import tempfile
    >>> from diffview.datasets import write_sample
    >>> ex = Explorer(write_sample(tempfile.mkdtemp(), "small", quiet=True))
    >>> ex.select(ex.order[0]) == ex.order[0]
    True
    >>> ex.pair_label(ex.selected).startswith("pair ")
    True
    """

    def __init__(self, workspace):
        if not isinstance(workspace, Workspace):
            workspace = load_workspace(workspace)
        self.ws = workspace
        self.measure = "score"
        self.descending = True
        self.stretch = Stretch()
        self.flagged_pairs: dict = {}
        self.flagged_images: dict = {}
        self.corrections = list(workspace.corrections)
        self.baseline = list(workspace.corrections)
        self._cache: OrderedDict = OrderedDict()
        self._outlines: list | None = None
        self._assess()
        self.order = self.ranking()
        self.selected = self.order[0] if self.order else None

    # ------------------------------------------------------------------
    # Table and ranking
    # ------------------------------------------------------------------

    @property
    def overlaps(self) -> list:
        """The overlap table."""
        return self.ws.overlaps

    def key(self, index: int) -> tuple[int, int]:
        """``(cntr1, cntr2)`` of a pair."""
        ov = self.ws.overlaps[index]
        return ov.cntr1, ov.cntr2

    def fit(self, index: int):
        """The fit of a pair, or None."""
        return self.ws.fits.get(self.key(index))

    def _assess(self) -> None:
        fits = as_fits_list(self.ws)
        qual = assess_fits(
            fits, images=self.ws.geometry, corrections=self.corrections or None
        )
        self.quality = {(q.plus, q.minus): q for q in qual}

    def measures(self, index: int) -> dict:
        """Every ranking measure of a pair (NaN where not defined)."""
        f, q = self.fit(index), self.quality.get(self.key(index))
        nan = math.nan
        return {
            "score": q.score if q else nan,
            "rms": f.rms if f else nan,
            "offset": abs(f.c) if f else nan,
            "slope": math.hypot(f.a, f.b) if f else nan,
            "npixel": f.npixel if f else 0,
            "residual": abs(q.residual) if q else nan,
            "failed": 0.0 if f else 1.0,
        }

    def ranking(
        self, measure: str | None = None, descending: bool | None = None
    ) -> list[int]:
        """
        Pair indices sorted by a measure (NaN last); sets the current order.

        Parameters
        ----------
        measure : str
            One of `MEASURES`.
        descending : bool
            Largest first (worst first for every measure but ``npixel``).
        """
        if measure is not None:
            if measure not in MEASURES:
                raise InputError(
                    f"unknown measure {measure!r}; use one of " + ", ".join(MEASURES)
                )
            self.measure = measure
        if descending is not None:
            self.descending = bool(descending)
        values = np.array(
            [self.measures(k)[self.measure] for k in range(len(self.ws.overlaps))],
            float,
        )
        sign = -1.0 if self.descending else 1.0
        keyed = np.where(np.isfinite(values), sign * values, np.inf)
        self.order = [int(k) for k in np.argsort(keyed, kind="stable")]
        return self.order

    def pair_label(self, index: int) -> str:
        """Short description of a pair, e.g. ``pair 3: 0 - 4 (score 1.2)``."""
        cntr1, cntr2 = self.key(index)
        value = self.measures(index)[self.measure]
        flag = " [flagged]" if self.is_flagged(index) else ""
        return (
            f"pair {index}: {cntr1} - {cntr2} "
            f"({MEASURES[self.measure]} {value:.4g}){flag}"
        )

    def table_rows(self) -> list[tuple[str, int]]:
        """``(label, index)`` of every pair in ranked order."""
        return [(self.pair_label(k), k) for k in self.order]

    # ------------------------------------------------------------------
    # Selection
    # ------------------------------------------------------------------

    def select(self, index: int) -> int:
        """Select a pair by its index in the overlap table."""
        if not 0 <= int(index) < len(self.ws.overlaps):
            raise InputError(f"no pair {index}")
        self.selected = int(index)
        return self.selected

    def step(self, delta: int) -> int:
        """Select the next (``+1``) or previous (``-1``) pair in ranked order."""
        if not self.order:
            raise InputError("no pairs")
        pos = self.order.index(self.selected) if self.selected in self.order else -1
        return self.select(self.order[(pos + delta) % len(self.order)])

    # ------------------------------------------------------------------
    # Pair arrays
    # ------------------------------------------------------------------

    def pair_view(self, index: int | None = None) -> PairView:
        """The arrays of a pair (default: the selected one); small LRU cache."""
        index = self.selected if index is None else int(index)
        if index in self._cache:
            self._cache.move_to_end(index)
            return self._cache[index]
        view = self._load_pair(index)
        self._cache[index] = view
        while len(self._cache) > _CACHE:
            self._cache.popitem(last=False)
        return view

    def _image_box(self, cntr: int, name: str, bounds) -> np.ndarray:
        (j0, j1), (i0, i1) = bounds
        ioff, joff = self.ws.image_offset(cntr)
        local = ((j0 - joff, j1 - joff), (i0 - ioff, i1 - ioff))
        return io.read_image_box(self.ws.image_path(name), local)[0]

    def _load_pair(self, index: int) -> PairView:
        ov = self.ws.overlaps[index]
        fit = self.fit(index)
        path = self.ws.diff_path(ov)
        if not os.path.exists(path):
            return self._empty(
                index, self.ws.failures.get(self.key(index), f"{path}: not found")
            )
        diff, crpix = read_difference_file(path)
        ioff, joff = template_offset(self.ws.template_crpix, crpix)
        ny, nx = diff.shape
        bounds = ((joff, joff + ny), (ioff, ioff + nx))
        plus = self._image_box(ov.cntr1, ov.plus, bounds)
        minus = self._image_box(ov.cntr2, ov.minus, bounds)
        if fit is not None:
            res = fit_residual((diff, crpix), fit)
            residual, clipped = res.residual, res.clipped
        else:
            residual, clipped = np.full(diff.shape, np.nan), np.zeros(diff.shape, bool)
        return PairView(
            index,
            plus,
            minus,
            diff,
            residual,
            clipped,
            bounds,
            fit,
            self.ws.failures.get(self.key(index), ""),
        )

    def _empty(self, index: int, error: str) -> PairView:
        box = self.ws.boxes[index] or ((0, 1), (0, 1))
        shape = (box[0][1] - box[0][0], box[1][1] - box[1][0])
        blank = np.full(shape, np.nan)
        return PairView(
            index, blank, blank, blank, blank, np.zeros(shape, bool), box, None, error
        )

    # ------------------------------------------------------------------
    # Stretch
    # ------------------------------------------------------------------

    def set_stretch(self, **changes) -> Stretch:
        """
        Change the stretch; validated on the selected difference first.

        Raises
        ------
        diffview.InputError
            An unknown mode or an invalid range string; the stretch is kept.
        """
        new = replace(self.stretch, **changes)
        if new.mode not in STRETCH_MODES:
            raise InputError(f"unknown stretch mode {new.mode!r}")
        data = self.pair_view().difference if self.selected is not None else None
        if data is None or not np.isfinite(data).any():
            data = np.arange(4.0).reshape(2, 2)
        compute_stretch(data, vmin=new.vmin, vmax=new.vmax, mode=new.mode)
        self.stretch = new
        return new

    # ------------------------------------------------------------------
    # Readout and picking
    # ------------------------------------------------------------------

    def value_at(self, panel: str, x: float, y: float) -> float:
        """Value of ``panel`` of the selected pair at template pixel (x, y)."""
        view = self.pair_view()
        (j0, j1), (i0, i1) = view.bounds
        i, j = int(round(x)) - i0, int(round(y)) - j0
        arr = view.panel(panel)
        if 0 <= j < arr.shape[0] and 0 <= i < arr.shape[1]:
            return float(arr[j, i])
        return math.nan

    def readout(self, panel: str, x: float, y: float) -> str:
        """The readout text for template pixel (x, y) of a panel."""
        if panel not in _PANELS:
            raise InputError(f"unknown panel {panel!r}")
        xi, yi = int(round(x)), int(round(y))
        ra, dec = self.ws.wcs.pixel_to_world_values(xi, yi)
        return format_readout(
            panel, xi, yi, float(ra), float(dec), self.value_at(panel, xi, yi)
        )

    def pick(self, x: float, y: float) -> int | None:
        """
        The pair whose overlap box holds template pixel (x, y).

        The smallest box wins where several hold the point; None if no box.
        """
        best, best_area = None, math.inf
        for k, box in enumerate(self.ws.boxes):
            if box is None:
                continue
            (j0, j1), (i0, i1) = box
            if i0 - 0.5 <= x < i1 - 0.5 and j0 - 0.5 <= y < j1 - 0.5:
                area = (j1 - j0) * (i1 - i0)
                if area < best_area:
                    best, best_area = k, area
        return best

    # ------------------------------------------------------------------
    # Outlines
    # ------------------------------------------------------------------

    def outlines_by_image(self) -> list[list[np.ndarray]]:
        """Outline runs of each image (table order), template pixel x, y."""
        if self._outlines is None:
            header = self.ws.template
            orient = orientation(header)
            self._outlines = []
            for fp in footprints_from_table(self.ws.images):
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
        """The two images' outlines and the overlap box of a pair."""
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
        """``(index, outline)`` of every overlap box."""
        return [
            (k, box_outline(b)) for k, b in enumerate(self.ws.boxes) if b is not None
        ]

    # ------------------------------------------------------------------
    # Flags, re-solve, export
    # ------------------------------------------------------------------

    def is_flagged(self, index: int) -> bool:
        """Whether a pair is flagged, directly or through one of its images."""
        c1, c2 = self.key(index)
        return (
            (c1, c2) in self.flagged_pairs
            or c1 in self.flagged_images
            or c2 in self.flagged_images
        )

    def flag_pair(self, index: int | None = None, reason: str = "bad pair") -> None:
        """Flag a pair (default: the selected one) as bad."""
        index = self.selected if index is None else index
        self.flagged_pairs[self.key(index)] = reason

    def flag_image(self, cntr: int, reason: str = "bad image") -> None:
        """Flag an image as bad (all its pairs are left out of the solve)."""
        if self._image_row(int(cntr)) is None:
            raise InputError(f"no image {cntr}")
        self.flagged_images[int(cntr)] = reason

    def unflag(self, item) -> None:
        """Remove a flag: ``('pair', (c1, c2))`` or ``('image', cntr)``."""
        kind, key = item
        table = self.flagged_pairs if kind == "pair" else self.flagged_images
        table.pop(tuple(key) if kind == "pair" else int(key), None)

    def flags(self) -> list[tuple[str, object, str]]:
        """Every flag as ``(kind, key, reason)``."""
        return [("pair", k, r) for k, r in self.flagged_pairs.items()] + [
            ("image", k, r) for k, r in self.flagged_images.items()
        ]

    def resolve(self, method: str = "direct") -> list:
        """
        Solve the background model again without the flagged pairs and images.

        Parameters
        ----------
        method : {'direct', 'montage'}
            `diffview.bgmodel.solve_direct` or `solve_montage`.

        Returns
        -------
        list of Correction
            The new corrections (also stored in ``corrections``).
        """
        fits = as_fits_list(self.ws)
        opts = {
            "exclude_pairs": list(self.flagged_pairs),
            "exclude_images": list(self.flagged_images),
        }
        if method == "direct":
            self.corrections = solve_direct(self.ws.geometry, fits, **opts)
        elif method == "montage":
            self.corrections = solve_montage(self.ws.geometry, fits, **opts)
        else:
            raise InputError(f"unknown method {method!r}; use 'direct' or 'montage'")
        self._assess()
        self.ranking()
        return self.corrections

    def residual_table(self) -> Table:
        """
        Each overlap's fitted level before and after the corrections.

        Columns ``plus minus flagged raw before after``: the fit's level at
        its box centre, uncorrected (``raw``), after the first corrections
        (``before``) and after the current ones (``after``).
        """
        fits = as_fits_list(self.ws)
        before = predicted_residuals(fits, self.baseline)
        after = predicted_residuals(fits, self.corrections)
        rows = {
            "plus": [f.plus for f in fits],
            "minus": [f.minus for f in fits],
            "flagged": [self._flagged_key(f.plus, f.minus) for f in fits],
            "raw": [_level(f) for f in fits],
            "before": [_level(f) for f in before],
            "after": [_level(f) for f in after],
        }
        return Table(rows)

    def _flagged_key(self, c1, c2) -> bool:
        return (
            (c1, c2) in self.flagged_pairs
            or c1 in self.flagged_images
            or c2 in self.flagged_images
        )

    def export(self, folder) -> dict:
        """
        Write the decision as Montage-readable tables.

        Files: ``fits.tbl`` (the fits not flagged, for mBgModel),
        ``corrections.tbl`` (the current corrections, for mBgExec) and
        ``flags.tbl`` (``kind plus minus reason``).

        Returns
        -------
        dict
            ``name -> path`` of the files written.
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        kept = [
            f for f in as_fits_list(self.ws) if not self._flagged_key(f.plus, f.minus)
        ]
        paths = {
            name: folder / f"{name}.tbl" for name in ("fits", "corrections", "flags")
        }
        io.write_fits_table(kept, paths["fits"])
        io.write_corrections_table(self.corrections, paths["corrections"])
        self._write_flags(paths["flags"])
        return {k: str(v) for k, v in paths.items()}

    def _write_flags(self, path) -> None:
        rows = []
        for kind, key, reason in self.flags():
            plus, minus = key if kind == "pair" else (key, -1)
            rows.append((kind, int(plus), int(minus), reason.replace("|", "/")))
        names = ("kind", "plus", "minus", "reason")
        columns = {n: [r[k] for r in rows] for k, n in enumerate(names)}
        io.write_table(columns, path, types=bool(rows))
